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

/** kcat's arguments for every committed record of one partition, from the log start to the end. */
const partitionArgs = (topic: string, partition: number): string[] => [
  '-b',
  stackEnv().brokers.join(','),
  '-C',
  '-t',
  topic,
  '-p',
  String(partition),
  '-o',
  'beginning',
  '-e',
  '-q',
  '-X',
  'isolation.level=read_committed',
];

/** Every committed record of one partition, from the log start to the end, read by kcat. */
export function kcatRead(topic: string, partition: number): KcatRecord[] {
  const out = execFileSync('kcat', [...partitionArgs(topic, partition), '-J'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
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

/** A record as kcat reads it, keys and values byte for byte (header values as UTF-8 text). */
export interface KcatBytesRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

/**
 * kcatRead with keys and values byte for byte: kcat's JSON carries them as text, so they are
 * read again in a length-framed format (`%K`/`%S` are -1 for null).
 */
export function kcatReadBytes(topic: string, partition: number): KcatBytesRecord[] {
  const json = kcatRead(topic, partition);
  const raw = execFileSync('kcat', [...partitionArgs(topic, partition), '-f', '%o %K %S\n%k%s\n'], { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
  let p = 0;
  const out = json.map((j): KcatBytesRecord => {
    const eol = raw.indexOf(0x0a, p);
    const [offset, keyLen, valueLen] = raw.toString('utf8', p, eol).split(' ').map(Number) as [number, number, number];
    if (BigInt(offset) !== j.offset) throw new Error(`kcat read ${topic}/${partition} twice and got offset ${offset}, then ${j.offset}`);
    p = eol + 1;
    const key = keyLen < 0 ? null : Buffer.from(raw.subarray(p, p + keyLen));
    p += Math.max(0, keyLen);
    const value = valueLen < 0 ? null : Buffer.from(raw.subarray(p, p + valueLen));
    p += Math.max(0, valueLen) + 1;
    return {
      offset: j.offset,
      timestamp: j.timestamp,
      key,
      value,
      headers: j.headers.map(([k, v]) => ({ key: k, value: v === null ? null : Buffer.from(v, 'utf8') })),
    };
  });
  if (p !== raw.length) throw new Error(`kcat read ${topic}/${partition} twice and got more records the second time`);
  return out;
}

/** One record of a whole-topic read (readTopicWithKcat). */
export interface KcatTopicRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  /** kcat's flat header list: key, value, key, value, … */
  headers: Array<string | null>;
}

/** Every committed record of the topic, per partition in offset order, in one kcat run. */
export function readTopicWithKcat(topic: string): Map<number, KcatTopicRecord[]> {
  const out = new Map<number, KcatTopicRecord[]>();
  const text = execFileSync(
    'kcat',
    ['-C', '-b', stackEnv().brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-J', '-X', 'isolation.level=read_committed'],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60_000,
    },
  );
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    const j = JSON.parse(line) as { partition: number; offset: number; key: string | null; payload: string | null; headers?: Array<string | null> | null };
    const list = out.get(j.partition) ?? [];
    list.push({ partition: j.partition, offset: j.offset, key: j.key, value: j.payload, headers: j.headers ?? [] });
    out.set(j.partition, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.offset - b.offset);
  return out;
}

/**
 * The broker's answer to ListOffsets by timestamp, asked by kcat (`-Q`, librdkafka's
 * offsetsForTimes): the first offset of the partition whose timestamp is at or after
 * `timestampMs`, or null when there is none (the broker answers -1, or the log end).
 */
export function kcatOffsetForTime(topic: string, partition: number, timestampMs: bigint): bigint | null {
  const out = execFileSync('kcat', ['-b', stackEnv().brokers.join(','), '-Q', '-t', `${topic}:${partition}:${timestampMs}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const m = / \[(\d+)\]\s+offset\s+(-?\d+)/.exec(out);
  if (!m || Number(m[1]) !== partition) throw new Error(`kcat -Q answered ${JSON.stringify(out)}`);
  const offset = BigInt(m[2]!);
  return offset < 0n ? null : offset;
}
