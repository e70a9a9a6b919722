/**
 * Reads a topic with kcat (librdkafka), a client that shares no code with kbak or kafkajs,
 * so tests can check what kbak wrote without trusting kbak's own reading of Kafka.
 */
import { spawnSync } from 'node:child_process';
import { stackEnv } from './stack';

export interface KcatRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: string[];
}

/** Every record of the topic (read_committed), per partition in offset order. */
export function readTopicWithKcat(topic: string): Map<number, KcatRecord[]> {
  const r = spawnSync(
    'kcat',
    ['-C', '-b', stackEnv().brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-J', '-X', 'isolation.level=read_committed'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`kcat failed on ${topic}: ${r.stderr}`);
  const out = new Map<number, KcatRecord[]>();
  for (const line of r.stdout.split('\n')) {
    if (line.trim().length === 0) continue;
    const j = JSON.parse(line) as { partition: number; offset: number; key: string | null; payload: string | null; headers?: string[] | null };
    const list = out.get(j.partition) ?? [];
    list.push({ partition: j.partition, offset: j.offset, key: j.key, value: j.payload, headers: j.headers ?? [] });
    out.set(j.partition, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.offset - b.offset);
  return out;
}
