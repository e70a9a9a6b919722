/**
 * KafkaAdapter.partitionSizes (DescribeLogDirs v1, src/kafka/client/log-dir-sizes.ts) against
 * the stack's broker, checked with what does not share kbak's code: Kafka's own LogDirsCommand
 * (kafka-log-dirs.sh, the Java admin client) and the sizes of the partitions' segment files
 * in the log directory that command names. Records go in with the kafkajs producer.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../../src/config/settings';
import { openKafka, type KafkaAdapter } from '../../src/kafka';
import { describeLogDirs } from '../../src/kafka/client/log-dir-sizes';
import { createKafka } from '../../src/kafka/transport/client';
import { partitionKey } from '../../src/model/partition-key';
import { silentLogger } from '../../src/output/logger';
import { clusterDeny } from '../support/acl-binding';
import type { Admin } from '../support/kafkajs-copy';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const settingsFor = (env: Record<string, string | undefined>) => loadSettings({}, { ...stackEnv().env, ...env }).kafka;
/** The stack's ordinary SCRAM principal on the secured listener (no super user). */
const appUser = (): Record<string, string | undefined> => {
  const env = stackEnv().env;
  if (!env.KBAK_SECURE_APP_USERNAME) throw new Error('KBAK_SECURE_APP_USERNAME is missing from .stack/env: restart the stack with scripts/stack/up.sh');
  return {
    KBAK_BROKERS: env.KBAK_SECURE_BROKERS,
    KBAK_TLS: 'true',
    KBAK_TLS_CA: env.KBAK_SECURE_TLS_CA,
    KBAK_SASL_MECHANISM: 'scram-sha-512',
    KBAK_SASL_USERNAME: env.KBAK_SECURE_APP_USERNAME,
    KBAK_SASL_PASSWORD: env.KBAK_SECURE_APP_PASSWORD,
  };
};

/** What Kafka's LogDirsCommand (org.apache.kafka.tools, kafka-tools 4.x) reports for the topic: sizes by partitionKey, and the log dirs. */
function logDirsCommand(topic: string): { sizes: Map<string, bigint>; logDirs: string[] } {
  const r = spawnSync(
    'bash',
    [
      join(ROOT, 'scripts/stack/kafka-tool.sh'),
      'org.apache.kafka.tools.LogDirsCommand',
      '--bootstrap-server',
      stackEnv().brokers.join(','),
      '--describe',
      '--topic-list',
      topic,
    ],
    { encoding: 'utf8', env: { ...process.env, ...stackEnv().env } },
  );
  if (r.status !== 0) throw new Error(`LogDirsCommand exited ${r.status}: ${r.stderr}`);
  // Two progress lines, then one line of JSON: {"brokers":[{"broker":1,"logDirs":[{"logDir":..,"error":null,"partitions":[{"partition":"t-0","size":N,..}]}]}]}
  const json = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!json) throw new Error(`no JSON in LogDirsCommand's output: ${r.stdout}`);
  const parsed = JSON.parse(json) as {
    brokers: Array<{ logDirs: Array<{ logDir: string; partitions: Array<{ partition: string; size: number; isFuture: boolean }> }> }>;
  };
  const sizes = new Map<string, bigint>();
  const logDirs: string[] = [];
  for (const b of parsed.brokers)
    for (const d of b.logDirs) {
      logDirs.push(d.logDir);
      for (const p of d.partitions) {
        if (p.isFuture) continue;
        const at = p.partition.lastIndexOf('-');
        sizes.set(partitionKey(p.partition.slice(0, at), Number(p.partition.slice(at + 1))), BigInt(p.size));
      }
    }
  return { sizes, logDirs };
}

/** The bytes of a partition's segment files (`*.log`; indexes are not part of a log's size) in a log dir. */
function segmentFileBytes(logDir: string, topic: string, partition: number): bigint {
  const dir = join(logDir, `${topic}-${partition}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((sum, f) => sum + BigInt(statSync(join(dir, f)).size), 0n);
}

describe('partition sizes from DescribeLogDirs v1', () => {
  const kafka = testKafka('kbak-log-dir-sizes');
  const admin: Admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const topic = uniqueName('log-dir-sizes');
  /** Records per partition (sent 50 a batch) and the payload bytes each partition got. */
  const counts = [400, 40, 1200];
  const payload: bigint[] = [0n, 0n, 0n];
  let adapter: KafkaAdapter;

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    for (const [partition, count] of counts.entries()) {
      for (let sent = 0; sent < count; sent += 50) {
        const messages = Array.from({ length: Math.min(50, count - sent) }, (_, i) => {
          const key = Buffer.from(`k-${partition}-${sent + i}`);
          const value = Buffer.alloc(100 + ((sent + i) % 7) * 13, partition + 1);
          payload[partition]! += BigInt(key.length + value.length);
          return { partition, key, value };
        });
        await producer.send({ topic, acks: -1, messages });
      }
    }
    adapter = openKafka(settingsFor({}), silentLogger());
  });
  afterAll(async () => {
    await adapter.close();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("match Kafka's LogDirsCommand and the partitions' segment files, byte for byte; more than the payload, less than payload + 100 bytes a record", async () => {
    const sizes = await adapter.partitionSizes([topic]);
    const java = logDirsCommand(topic);
    expect(sizes).toEqual(java.sizes);
    expect(java.logDirs).toHaveLength(1);
    for (const [p, count] of counts.entries()) {
      const size = sizes!.get(partitionKey(topic, p))!;
      expect(size).toBe(segmentFileBytes(java.logDirs[0]!, topic, p));
      expect(size).toBeGreaterThan(payload[p]!);
      expect(size).toBeLessThan(payload[p]! + BigInt(count) * 100n);
    }
  });

  it("gives the ordinary SCRAM principal the same sizes, and null once it may not describe the cluster: v1's answer is then no log dirs at all", async () => {
    const app = openKafka(settingsFor(appUser()), silentLogger());
    try {
      expect(await app.partitionSizes([topic])).toEqual(await adapter.partitionSizes([topic]));
    } finally {
      await app.close();
    }
    const deny = clusterDeny(stackEnv().env.KBAK_SECURE_APP_USERNAME!, 'DESCRIBE');
    await admin.createAcls({ acl: [deny] });
    const hidden = openKafka(settingsFor(appUser()), silentLogger());
    try {
      expect(await hidden.partitionSizes([topic])).toBeNull();
      // The broker's own answer, read without the adapter's interpretation.
      const raw = await describeLogDirs(createKafka(settingsFor(appUser()), silentLogger()), [{ topic, partitions: [0, 1, 2] }]);
      expect(raw).not.toBeNull();
      expect([...raw!.values()].map((r) => r.results)).toEqual([[]]);
    } finally {
      await hidden.close();
      await admin.deleteAcls({ filters: [deny] });
    }
  });
});
