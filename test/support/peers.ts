/**
 * Programs other than kbak that read and write Kafka, used as independent oracles:
 * kcat (librdkafka), Kafka's own Java tools, and the broker's log-segment dumper.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { stackEnv } from './stack';

const ROOT = join(__dirname, '..', '..');

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, ...stackEnv().env } });
  if (r.error) throw new Error(`${cmd} failed to start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Produces `key:value` lines with kcat into one partition, compressed with `codec`. */
export function kcatProduce(topic: string, partition: number, lines: string[], opts: { codec: string; headers?: Record<string, string> }): void {
  const args = ['-b', stackEnv().brokers.join(','), '-P', '-t', topic, '-p', String(partition), '-z', opts.codec, '-K', ':', '-X', 'linger.ms=50'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  run('kcat', args, lines.join('\n') + '\n');
}

export interface PeerRecord {
  partition: number;
  offset: number;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: string;
}

/**
 * Every record of a topic as kcat (librdkafka) reads it, ordered by partition then offset.
 * Keys and values must be text without tabs or newlines (the tests' records are).
 */
export function kcatConsume(topic: string): PeerRecord[] {
  const out = run('kcat', ['-b', stackEnv().brokers.join(','), '-C', '-t', topic, '-e', '-q', '-f', '%p\t%o\t%T\t%K\t%k\t%S\t%s\t%h\n']);
  const records = out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [p, o, ts, klen, k, vlen, v, h] = l.split('\t');
      return {
        partition: Number(p),
        offset: Number(o),
        timestamp: ts!,
        key: klen === '-1' ? null : k!,
        value: vlen === '-1' ? null : v!,
        headers: h ?? '',
      };
    });
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Kafka's Java producer (ProducerPerformance) writing `records` records with `codec`. */
export function javaProduce(topic: string, records: number, codec: string): void {
  run('bash', [
    join(ROOT, 'scripts/stack/kafka-tool.sh'),
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    '200',
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${stackEnv().brokers.join(',')}`,
    `compression.type=${codec}`,
    'linger.ms=20',
    'batch.size=16384',
  ]);
}

/** A topic's ID as Kafka's own TopicCommand (kafka-topics --describe) prints it. */
export function javaTopicId(topic: string): string {
  const out = run('bash', [
    join(ROOT, 'scripts/stack/kafka-tool.sh'),
    'org.apache.kafka.tools.TopicCommand',
    '--bootstrap-server',
    stackEnv().brokers.join(','),
    '--describe',
    '--topic',
    topic,
  ]);
  const m = /TopicId: ([A-Za-z0-9_-]+)/.exec(out);
  if (!m) throw new Error(`no TopicId in TopicCommand's output: ${out}`);
  return m[1]!;
}

/**
 * The codec of every record batch stored for a partition, as the broker's own segment
 * dumper reads the log files (Kafka 4.x keeps DumpLogSegments in kafka-tools).
 */
export function storedCodecs(topic: string, partitions: number[]): string[] {
  const env = stackEnv().env;
  const version = env.KAFKA_VERSION ?? '4.4.0';
  const dataDir = join(resolve(ROOT, env.KBAK_STACK_DIR ?? '.stack'), `kafka-${version}`, 'data');
  const files = partitions.map((p) => join(dataDir, `${topic}-${p}`, '00000000000000000000.log'));
  const main = Number(version.split('.')[0]) >= 4 ? 'org.apache.kafka.tools.DumpLogSegments' : 'kafka.tools.DumpLogSegments';
  const out = run('bash', [join(ROOT, 'scripts/stack/kafka-tool.sh'), main, '--files', files.join(',')]);
  return [...out.matchAll(/compresscodec: (\w+)/g)].map((m) => m[1]!.toLowerCase());
}
