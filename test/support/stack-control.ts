/**
 * Stops and starts the stack's broker from a test (outage tests), with the ports and version
 * the running stack was started with (from .stack/env), through the stack's own scripts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { stackEnv } from './stack';

const KAFKA_SH = join(__dirname, '..', '..', 'scripts', 'stack', 'kafka.sh');

function kafkaSh(action: 'stop' | 'start' | 'wait'): Promise<void> {
  const e = stackEnv().env;
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of ['KAFKA_VERSION', 'KAFKA_PORT', 'KAFKA_CONTROLLER_PORT', 'KAFKA_SECURE_PORT', 'KAFKA_MTLS_PORT']) if (e[k]) env[k] = e[k];
  if (!env.KAFKA_PORT || !env.KAFKA_CONTROLLER_PORT) throw new Error('.stack/env has no KAFKA_PORT/KAFKA_CONTROLLER_PORT: rerun scripts/stack/up.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SH, action], { env: env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kafka.sh ${action} failed (${code}): ${err}`))));
  });
}

export const stopKafka = (): Promise<void> => kafkaSh('stop');

export async function startKafka(): Promise<void> {
  await kafkaSh('start');
  await kafkaSh('wait');
}
