/**
 * Retry loops inside the kafkajs adapter, on fakes of kafkajs's cluster: they retry what
 * src/kafka/transport/kafkajs-errors.ts calls retriable, with the budgets of src/util/retry.ts, and
 * stop when they must. Counts of attempts are asserted, never times.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- kafkajs internals have no typings */
import { KafkaServiceError } from '../../src/kafka/adapter';
import { commitOffsetsDirect, GROUP_COMMIT_RETRY } from '../../src/kafka/client/group-commit';
import { loadKafkajsModule } from '../../src/kafka/transport/kafkajs';
import { LeanProducer } from '../../src/kafka/client/lean-producer';

const { createErrorFromCode } = loadKafkajsModule('src/protocol/error') as { createErrorFromCode: (code: number) => Error & { type: string } };

describe('commitOffsetsDirect', () => {
  /** A coordinator that fails each commit with the next error code (0: accepted). */
  function coordinator(codes: number[]) {
    const calls: any[] = [];
    const cluster = {
      findGroupCoordinator: async () => ({
        offsetCommit: async (req: any) => {
          calls.push(req);
          const code = codes.shift() ?? 0;
          if (code !== 0) throw createErrorFromCode(code);
          return {};
        },
      }),
    };
    return { cluster, calls };
  }

  it('retries a coordinator that moved or is loading (kafkajs names them NOT_COORDINATOR_FOR_GROUP, GROUP_LOAD_IN_PROGRESS)', async () => {
    const { cluster, calls } = coordinator([16, 14, 0]);
    await commitOffsetsDirect(cluster, 'g', 't', [{ partition: 0, offset: 5n }]);
    expect(calls).toHaveLength(3);
    expect(calls[2]).toMatchObject({
      groupId: 'g',
      groupGenerationId: -1,
      memberId: '',
      topics: [{ topic: 't', partitions: [{ partition: 0, offset: '5' }] }],
    });
  });

  it('is refused at once for a group with members', async () => {
    const { cluster, calls } = coordinator([25]); // UNKNOWN_MEMBER_ID
    await expect(commitOffsetsDirect(cluster, 'g', 't', [{ partition: 0, offset: 5n }])).rejects.toMatchObject({ type: 'UNKNOWN_MEMBER_ID' });
    expect(calls).toHaveLength(1);
  });

  it('gives up after its attempt budget, waiting 200 ms doubling to 2 s', async () => {
    const { cluster, calls } = coordinator(Array.from({ length: 20 }, () => 16));
    const waits: number[] = [];
    const clock = { now: () => 0, random: () => 0.5, sleep: async (ms: number) => void waits.push(ms) };
    await expect(commitOffsetsDirect(cluster, 'g', 't', [{ partition: 0, offset: 5n }], clock)).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    expect(calls).toHaveLength(GROUP_COMMIT_RETRY.attempts!);
    expect(waits).toEqual([200, 400, 800, 1600, 2000]);
  });
});

describe('LeanProducer.close', () => {
  it('stops a send that waits to retry at once, and the send says the producer was closed', async () => {
    let sends = 0;
    const broker = {
      connectionPool: {
        async send() {
          sends++;
          throw createErrorFromCode(6); // NOT_LEADER_FOR_PARTITION: retried, the next wait is 250 ms and growing
        },
      },
      initProducerId: async () => ({ producerId: '1', producerEpoch: 0 }),
    };
    const cluster = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      refreshMetadata: async () => undefined,
      addTargetTopic: async () => undefined,
      findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1 }],
      findBroker: async () => broker,
      findControllerBroker: async () => broker,
      brokerPool: { versions: { 0: { minVersion: 3, maxVersion: 7 } } },
    };
    const producer = new LeanProducer(cluster, { producerId: 1n, producerEpoch: 0 }, 7, ['b1:9092'], 1000, 'kbak');
    const sending = producer.send('t', 0, [{ key: null, value: Buffer.from('v'), timestamp: 1n, headers: [] }], { compression: 'none' });
    while (sends < 3) await new Promise((r) => setTimeout(r, 5));
    await producer.close();
    const err = await sending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaServiceError);
    expect((err as KafkaServiceError).message).toBe('the producer writing to t/0 was closed');
    expect((err as KafkaServiceError).retriable).toBe(false);
    expect(sends).toBe(3); // no attempt after close
  });
});
