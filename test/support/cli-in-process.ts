/**
 * Runs a kbak command inside the test process, as main() would (same program, same error
 * rendering and exit codes), capturing stdout pieces, lines and warnings: for unit tests
 * of command behaviour on crafted stores, without a build.
 */
import { CommanderError } from 'commander';
import pino from 'pino';
import { renderError } from '../../src/cli/errors';
import { buildProgram } from '../../src/cli/main';
import type { CommandEnv } from '../../src/cli/common';

export interface InProcessResult {
  code: number;
  /** stdout split into lines (without the line ends). */
  lines: string[];
  /** Each piece handed to stdout, as written. */
  pieces: string[];
  /** The error line (`kbak: …`) and warnings, as they reach stderr. */
  stderr: string[];
  /** What was written as bytes (`kbak cat -f`), all of it. */
  bytes: Buffer;
}

/**
 * `stdoutIsTTY`: run as if stdout were a terminal (`kbak cat -f` escapes then);
 * `stdoutDrained`: what the command awaits for a slow stdout reader.
 */
export async function runInProcess(args: string[], opts: { stdoutIsTTY?: boolean; stdoutDrained?: () => Promise<void> } = {}): Promise<InProcessResult> {
  const pieces: string[] = [];
  const bytes: Buffer[] = [];
  const stderr: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void stderr.push(s) });
  const env: CommandEnv = {
    env: {},
    isTTY: false,
    stdout: (line) => void pieces.push(`${line}\n`),
    write: (text) => void pieces.push(text),
    // A copy: the writer may reuse nothing, but a test must see what was written then.
    writeBytes: (b) => void bytes.push(Buffer.from(b)),
    stdoutIsTTY: opts.stdoutIsTTY ?? false,
    ...(opts.stdoutDrained ? { stdoutDrained: opts.stdoutDrained } : {}),
    logger: () => logger,
  };
  let code = 0;
  try {
    await buildProgram(env).parseAsync(['node', 'kbak', ...args]);
  } catch (err) {
    if (err instanceof CommanderError) code = err.exitCode === 0 ? 0 : 2;
    else {
      const r = renderError(err);
      stderr.push(`kbak: ${r.line}`);
      code = r.exitCode;
    }
  }
  const text = pieces.join('');
  return { code, lines: text.length === 0 ? [] : text.replace(/\n$/, '').split('\n'), pieces, stderr, bytes: Buffer.concat(bytes) };
}
