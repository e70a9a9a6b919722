/**
 * The Kafka operations lanes need, on the KafkaAdapter: retries of retriable errors with
 * backoff and a deadline, waiting for the leaders of new partitions, the target's effective
 * min.insync.replicas, deleting lane topics, the lane ledger topic (create, read, write),
 * and consumer-group checks and deletion with a result per group. Used by restore and by
 * the lane commands (lifecycle.ts).
 */
import { ServiceError } from '../errors';
import { claimKey, encodeClaim, encodeLedgerEntry, foldLedger, type LaneIntent, type LedgerEntry, type LedgerRead } from './ledger';
import { isRetriable, retry, type RetryPolicy } from '../util/retry';
import type { KafkaAdapter, RecordProducer, TopicSpec } from '../kafka/adapter';

/**
 * Kafka calls of the lane commands and restore: 200 ms doubling to 3 s, jittered by a
 * quarter, for up to a minute; only what the adapter marks retriable (a leader moving, a
 * coordinator loading), never an unreachable broker (reported after the client's own
 * connection retries) or a refusal.
 */
export const KAFKA_CALL_RETRY: RetryPolicy = { initialMs: 200, maxMs: 3000, jitter: 0.25, deadlineMs: 60_000 };

export interface RetryOptions {
  /** Give up this long after the first attempt (default 60 s). */
  deadlineMs?: number;
  /** Stops retrying (a wait ends at once) with the signal's reason. */
  signal?: AbortSignal;
}

/** Runs `fn`, retrying errors the adapter marks retriable by KAFKA_CALL_RETRY (the deadline can be changed). */
export function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  return retry(fn, { ...KAFKA_CALL_RETRY, deadlineMs: opts.deadlineMs ?? KAFKA_CALL_RETRY.deadlineMs }, { signal: opts.signal });
}

/**
 * Polling for new partitions' leaders: fast at first, as leaders of a new topic usually serve
 * within tens of milliseconds (a fixed 250 ms cost every restore a quarter second), then
 * backing off to half a second; for up to a minute by default.
 */
export const LEADERS_POLL: RetryPolicy = { initialMs: 20, maxMs: 500, deadlineMs: 60_000 };

/**
 * Waits until every partition of the topics has a leader that answers ListOffsets: right
 * after CreateTopics the controller knows the leaders before the broker serves them, and
 * a produce then fails with NOT_LEADER_OR_FOLLOWER (seen with 60+ partitions).
 */
export async function waitForLeaders(kafka: KafkaAdapter, topics: Array<{ name: string; partitions: number }>, timeoutMs = 60_000): Promise<void> {
  if (topics.length === 0) return;
  /** Null once every partition is served, else what is still missing. */
  const missing = async (): Promise<string | null> => {
    const meta = await kafka.describeTopics(topics.map((t) => t.name));
    const leaderless = topics.filter((t) => {
      const m = meta.find((x) => x.name === t.name);
      return !m || m.partitions.length !== t.partitions || m.partitions.some((p) => p.leader < 0);
    });
    if (leaderless.length > 0) return `${leaderless.map((t) => t.name).join(', ')} without leaders`;
    for (const t of topics) if ((await kafka.listOffsets(t.name)).length !== t.partitions) return 'not every partition answers ListOffsets yet';
    return null;
  };
  await retry(
    async () => {
      let last: string | null;
      try {
        last = await missing();
      } catch (err) {
        // A retriable failure of the cluster is one more reason to wait (the last one is reported).
        if (!isRetriable(err)) throw err;
        last = (err as Error).message;
      }
      if (last !== null)
        throw new ServiceError(
          'kafka',
          `lane topics have no leaders ${timeoutMs / 1000}s after creation: ${last}`,
          'check the broker logs; resume the restore',
        );
    },
    { ...LEADERS_POLL, deadlineMs: timeoutMs },
  );
}

/** The target's effective min.insync.replicas, null when it cannot be read (the lane keeps the source's own value). */
export async function targetMinInsyncReplicas(kafka: KafkaAdapter): Promise<number | null> {
  try {
    const v = await withRetry(() => kafka.brokerConfig('min.insync.replicas'));
    return v === null ? null : Number(v);
  } catch {
    return null;
  }
}

/**
 * Deletes exactly the given lane topics and waits until the cluster no longer lists them,
 * so that recreating them cannot race with the deletion.
 */
export async function deleteLaneTopics(kafka: KafkaAdapter, topics: string[], timeoutMs = 60_000): Promise<void> {
  await kafka.deleteTopics(topics, timeoutMs);
}

// ---- the ledger topic ---------------------------------------------------------------

/** Creates the compacted ledger topic when it is missing (one partition: one ordered history). */
/** The ledger topic as kbak creates it: one compacted partition, kept forever. */
export function ledgerTopicSpec(topic: string, brokers: number): TopicSpec {
  return {
    topic,
    partitions: 1,
    replicationFactor: Math.min(3, Math.max(1, brokers)),
    configs: { 'cleanup.policy': 'compact', 'retention.ms': '-1', 'min.compaction.lag.ms': '0' },
  };
}

export async function ensureLedgerTopic(kafka: KafkaAdapter, topic: string): Promise<void> {
  if ((await withRetry(() => kafka.listTopics())).includes(topic)) return;
  const { brokers } = await withRetry(() => kafka.cluster());
  try {
    await withRetry(() => kafka.createTopics([ledgerTopicSpec(topic, brokers)]));
  } catch (err) {
    // Another kbak run created it at the same moment.
    if ((err as { kafkaCode?: string }).kafkaCode !== 'TOPIC_ALREADY_EXISTS' && !/already exists/i.test((err as Error).message)) throw err;
  }
  await waitForLeaders(kafka, [{ name: topic, partitions: 1 }]);
}

/** Reads the whole ledger (every partition, start to end) and folds it; an absent ledger topic is an empty ledger. */
export async function readLedger(kafka: KafkaAdapter, topic: string): Promise<LedgerRead> {
  return foldLedger(await readWholeTopic(kafka, topic));
}

export interface TopicRecord {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Every record of a small topic (a ledger: kbak's lanes, its recoveries), in partition and
 * offset order; an absent topic has none.
 */
export async function readWholeTopic(kafka: KafkaAdapter, topic: string): Promise<TopicRecord[]> {
  if (!(await withRetry(() => kafka.listTopics())).includes(topic)) return [];
  const offsets = await withRetry(() => kafka.listOffsets(topic));
  const ranges = offsets.filter((o) => o.high > o.low).map((o) => ({ topic, partition: o.partition, start: o.low, end: o.high }));
  const records: TopicRecord[] = [];
  if (ranges.length > 0) {
    await kafka.readRanges(
      ranges,
      { concurrency: 1, stallTimeoutMs: 60_000 },
      {
        onRecord: (target, r) => {
          records.push({ partition: target.partition, offset: r.offset, key: r.key, value: r.value });
          return Promise.resolve();
        },
        onPartitionDone: () => Promise.resolve(),
      },
    );
  }
  return records.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}

/** Writes a lane's ledger record, acknowledged by every in-sync replica. */
export async function writeLedgerEntry(producer: RecordProducer, topic: string, entry: LedgerEntry): Promise<void> {
  const { key, value } = encodeLedgerEntry(entry);
  await withRetry(() => producer.send(topic, 0, [{ key, value, timestamp: BigInt(Date.now()), headers: [] }], { compression: 'none' }));
}

/** Writes a run's claim on a lane (claim.ts): its own key, so that it never overwrites the lane's entry. */
export async function writeClaim(producer: RecordProducer, topic: string, lane: string, intent: LaneIntent): Promise<void> {
  const { key, value } = encodeClaim(lane, intent);
  await withRetry(() => producer.send(topic, 0, [{ key, value, timestamp: BigInt(Date.now()), headers: [] }], { compression: 'none' }));
}

/** Withdraws a run's claim (a tombstone on its claim key). */
export async function withdrawClaim(producer: RecordProducer, topic: string, lane: string, intentId: string): Promise<void> {
  await withRetry(() =>
    producer.send(topic, 0, [{ key: Buffer.from(claimKey(lane, intentId), 'utf8'), value: null, timestamp: BigInt(Date.now()), headers: [] }], {
      compression: 'none',
    }),
  );
}

/** Removes a lane from the ledger (a tombstone; compaction drops the key). */
export async function deleteLedgerEntry(producer: RecordProducer, topic: string, lane: string): Promise<void> {
  await withRetry(() =>
    producer.send(topic, 0, [{ key: Buffer.from(lane, 'utf8'), value: null, timestamp: BigInt(Date.now()), headers: [] }], { compression: 'none' }),
  );
}

// ---- consumer groups ----------------------------------------------------------------

/** Which of the groups exist on the cluster. */
export async function existingGroups(kafka: KafkaAdapter, groupIds: readonly string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set();
  const all = new Set((await withRetry(() => kafka.listGroups())).map((g) => g.groupId));
  return new Set(groupIds.filter((g) => all.has(g)));
}

/** Deletes groups one by one; returns the ones that could not be deleted with the reason. */
export async function deleteGroups(kafka: KafkaAdapter, groupIds: readonly string[]): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  for (const g of groupIds) {
    try {
      await withRetry(() => kafka.deleteGroups([g]));
    } catch (err) {
      if (/GROUP_ID_NOT_FOUND|does not exist/i.test(`${(err as { kafkaCode?: string }).kafkaCode} ${(err as Error).message}`)) continue;
      failed.set(g, (err as { kafkaCode?: string }).kafkaCode ?? (err as Error).message);
    }
  }
  return failed;
}
