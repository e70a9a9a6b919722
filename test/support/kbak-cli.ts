/** Runs the built CLI (dist/) as a user would; `npm test` builds first. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { stackEnv } from './stack';

export const KBAK_BIN = join(__dirname, '..', '..', 'bin', 'kbak.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startKbak(args: string[], extraEnv: Record<string, string | undefined> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const env: Record<string, string | undefined> = { ...process.env, ...stackEnv().env, KBAK_LOG_LEVEL: 'warn', ...extraEnv };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, [KBAK_BIN, ...args], { env: env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runKbak(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<CliResult> {
  return startKbak(args, extraEnv).done;
}
