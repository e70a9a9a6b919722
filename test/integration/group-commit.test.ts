/**
 * Seeding consumer group offsets with one generation-less OffsetCommit per group
 * (src/kafka/client/group-commit.ts) against the real broker: offsets read back with the stock
 * kafkajs admin (not kbak's copy), and a group with a live member is refused by the broker.
 */
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { loadSettings } from '../../src/config/settings';
import { openKafka, type KafkaAdapter } from '../../src/kafka';
import { KafkaServiceError } from '../../src/kafka/adapter';
import { silentLogger } from '../../src/output/logger';
import { stackEnv, uniqueName } from '../support/stack';

const stock = new Kafka({ clientId: 'kbak-group-commit-test', brokers: stackEnv().brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
let admin: Admin;
let adapter: KafkaAdapter;
const topic = uniqueName('gc');

beforeAll(async () => {
  admin = stock.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
  const producer = stock.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `v${i}` })) });
  await producer.disconnect();
  adapter = openKafka(loadSettings({}, stackEnv().env).kafka, silentLogger());
});

afterAll(async () => {
  await adapter.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

async function committed(groupId: string): Promise<Map<number, string>> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(t!.partitions.map((p) => [p.partition, p.offset]));
}

describe('commitGroupOffsets', () => {
  it('commits many groups directly, without joining them', async () => {
    const groups = Array.from({ length: 12 }, (_, i) => ({ id: uniqueName(`g${i}`), base: BigInt(i) }));
    await Promise.all(
      groups.map((g) =>
        adapter.commitGroupOffsets(
          g.id,
          topic,
          [0, 1, 2].map((p) => ({ partition: p, offset: g.base + BigInt(p) })),
        ),
      ),
    );
    for (const g of groups) {
      expect(await committed(g.id)).toEqual(new Map([0, 1, 2].map((p) => [p, (g.base + BigInt(p)).toString()])));
    }
    // No member ever joined: the groups are Empty, not left behind by a consumer.
    const described = await admin.describeGroups(groups.map((g) => g.id));
    expect(described.groups.map((g) => [g.state, g.members.length])).toEqual(groups.map(() => ['Empty', 0]));
    // A second commit overwrites the first.
    await adapter.commitGroupOffsets(groups[0]!.id, topic, [{ partition: 1, offset: 7n }]);
    expect((await committed(groups[0]!.id)).get(1)).toBe('7');
    await admin.deleteGroups(groups.map((g) => g.id));
  });

  it('is refused for a group with a running member, leaving its offsets alone', async () => {
    const groupId = uniqueName('live');
    const consumer: Consumer = stock.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    try {
      const deadline = Date.now() + 30_000;
      while ((await admin.describeGroups([groupId])).groups[0]?.state !== 'Stable' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const err = await adapter.commitGroupOffsets(groupId, topic, [{ partition: 0, offset: 5n }]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KafkaServiceError);
      expect((err as KafkaServiceError).message).toContain(groupId);
      expect(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']).toContain((err as KafkaServiceError).kafkaCode);
      expect((await committed(groupId)).get(0)).toBe('-1');
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  });
});
