/**
 * An independent reader for checking what kbak wrote or read: kcat (librdkafka), which
 * shares no code with kbak or kafkajs.
 */
import { execFileSync } from 'node:child_process';
import { stackEnv } from './stack';

export interface KcatRecord {
  offset: bigint;
  timestamp: bigint;
  key: string | null;
  value: string | null;
  /** Headers in wire order as [key, value] pairs (values as text, null kept). */
  headers: Array<[string, string | null]>;
}

/** Every committed record of one partition, from the log start to the end, read by kcat. */
export function kcatRead(topic: string, partition: number): KcatRecord[] {
  const out = execFileSync(
    'kcat',
    ['-b', stackEnv().brokers.join(','), '-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-J', '-X', 'isolation.level=read_committed'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
  );
  return out
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => {
      const j = JSON.parse(l) as { offset: number; ts: number; key: string | null; payload: string | null; headers?: Array<string | null> };
      const headers: Array<[string, string | null]> = [];
      for (let i = 0; i + 1 < (j.headers?.length ?? 0); i += 2) headers.push([j.headers![i]!, j.headers![i + 1] ?? null]);
      return { offset: BigInt(j.offset), timestamp: BigInt(j.ts), key: j.key, value: j.payload, headers };
    });
}
