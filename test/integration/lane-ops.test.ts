/**
 * The lane Kafka operations against the real broker: topic IDs read on the wire compared
 * with Kafka's own TopicCommand, leaders of a many-partition topic, the ledger round trip.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadSettings } from '../../src/config/settings';
import { openKafka, type KafkaAdapter } from '../../src/kafka';
import { ensureLedgerTopic, readLedger, waitForLeaders, writeLedgerEntry, deleteLedgerEntry } from '../../src/lane/kafka-ops';
import type { Admin } from '../support/kafkajs-copy';
import type { LedgerEntry } from '../../src/lane/ledger';
import { silentLogger } from '../../src/output/logger';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const kafka = testKafka('kbak-lane-ops-test');
let admin: Admin;
let adapter: KafkaAdapter;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  adapter = openKafka(loadSettings({}, stackEnv().env).kafka, silentLogger());
});
afterAll(async () => {
  await admin.disconnect();
  await adapter.close();
});

it("reads topic IDs that match Kafka's own TopicCommand, and partition leaders of a new 120-partition topic", async () => {
  const topic = uniqueName('ids');
  await admin.createTopics({ topics: [{ topic, numPartitions: 120, replicationFactor: 1 }] });
  await waitForLeaders(adapter, [{ name: topic, partitions: 120 }]);
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  expect(meta.topics[0]!.partitions.every((p) => p.leader >= 0)).toBe(true);
  const ids = await adapter.topicIds([topic, uniqueName('absent')]);
  expect([...ids.keys()]).toEqual([topic]);
  const tool = spawnSync(
    'bash',
    [
      join(__dirname, '..', '..', 'scripts', 'stack', 'kafka-tool.sh'),
      'org.apache.kafka.tools.TopicCommand',
      '--bootstrap-server',
      stackEnv().brokers[0]!,
      '--describe',
      '--topic',
      topic,
    ],
    { encoding: 'utf8' },
  );
  const m = /TopicId:\s*(\S+)/.exec(tool.stdout);
  expect(m?.[1]).toBe(ids.get(topic));
  // Through the adapter: a kafkajs admin that described a topic fails every later metadata
  // refresh once someone else deletes it (UNKNOWN_TOPIC_OR_PARTITION).
  await adapter.deleteTopics([topic], 60_000);
});

it('writes, reads back and tombstones ledger entries', async () => {
  const ledger = uniqueName('ledger');
  await ensureLedgerTopic(adapter, ledger);
  await ensureLedgerTopic(adapter, ledger); // idempotent
  const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: ledger, configNames: ['cleanup.policy'] }] });
  expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('compact');
  const entry = (lane: string, state: LedgerEntry['state']): LedgerEntry => ({
    format: 2,
    lane,
    origin: { cluster: 'c', backupId: '20261125T120000000Z', location: null, lane: null, policy: null },
    failure: null,
    intent: null,
    leases: [],
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    kbakVersion: '0.1.0',
    ttlMs: null,
    expiresAt: null,
    state,
    templates: { topic: '{lane}.{topic}', subject: '{lane}.{subject}', group: '{lane}.{group}' },
    topics: [],
    subjects: [],
    groups: [],
  });
  const producer = await adapter.producer();
  try {
    await writeLedgerEntry(producer, ledger, entry('la', 'restoring'));
    await writeLedgerEntry(producer, ledger, entry('lb', 'ready'));
    await writeLedgerEntry(producer, ledger, entry('la', 'ready'));
    await producer.send(ledger, 0, [{ key: Buffer.from('forged'), value: Buffer.from('{"lane":"forged"}'), timestamp: BigInt(Date.now()), headers: [] }], {
      compression: 'none',
    });
    await deleteLedgerEntry(producer, ledger, 'lb');
  } finally {
    await producer.close();
  }
  const read = await readLedger(adapter, ledger);
  expect([...read.entries.keys()]).toEqual(['la']);
  expect(read.entries.get('la')!.state).toBe('ready');
  expect(read.invalid).toEqual([{ key: 'forged', reason: expect.stringContaining('ledger record "forged" is invalid') }]);
  expect((await readLedger(adapter, uniqueName('nope'))).entries.size).toBe(0);
  await admin.deleteTopics({ topics: [ledger] });
});
