/**
 * Integration tests run against the real local stack (scripts/stack/up.sh). Connection
 * settings come from the environment, or from .stack/env written by `npm run stack:up`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin } from './kafkajs-copy';

export interface StackEnv {
  brokers: string[];
  registryUrl: string;
  s3Endpoint: string;
  s3Bucket: string;
  env: Record<string, string | undefined>;
}

let cached: StackEnv | null = null;

/** The primary stack's folder: KBAK_STACK_DIR, absolute (CI sets it) or relative to the repository. */
export function stackDir(): string {
  return resolve(__dirname, '..', '..', process.env.KBAK_STACK_DIR ?? '.stack');
}

/** The KEY=VALUE lines of a stack's env file (written by scripts/stack/up.sh); {} when there is none. */
export function readStackEnvFile(dir: string): Record<string, string> {
  const envFile = join(dir, 'env');
  const fromFile: Record<string, string> = {};
  if (existsSync(envFile)) {
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) fromFile[m[1]!] = m[2]!.replace(/^"|"$/g, '');
    }
  }
  return fromFile;
}

/** A stack's endpoints from its settings (an env file's, maybe overlaid with the process's). */
export function stackEnvOf(env: Record<string, string | undefined>): StackEnv {
  if (!env.KBAK_BROKERS) throw new Error('integration tests need the local stack: run `npm run stack:up` (or `npm test`, which starts it)');
  return {
    brokers: env.KBAK_BROKERS.split(','),
    registryUrl: env.KBAK_SCHEMA_REGISTRY_URL ?? '',
    s3Endpoint: env.KBAK_S3_ENDPOINT ?? '',
    s3Bucket: env.KBAK_S3_BUCKET ?? 'kbak',
    env,
  };
}

export function stackEnv(): StackEnv {
  if (cached) return cached;
  const env = { ...readStackEnvFile(stackDir()), ...process.env };
  const stack = stackEnvOf(env);
  // The AWS SDK reads credentials from process.env: make the stack's visible to it.
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) if (!process.env[k] && env[k]) process.env[k] = env[k];
  cached = stack;
  return cached;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testKafka(clientId = 'kbak-test'): Kafka {
  return new Kafka({ clientId, brokers: stackEnv().brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

/**
 * Transaction markers are written after commit()/abort() return, so the last stable offset
 * (what read_committed ListOffsets answers) lags for a moment. Returns the last value seen.
 */
export async function waitForLastStable(admin: Admin, topic: string, partition: number, expected: string, timeoutMs = 15_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const high = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)?.high;
    if (high === expected || Date.now() > deadline) return high;
    await new Promise((r) => setTimeout(r, 100));
  }
}
