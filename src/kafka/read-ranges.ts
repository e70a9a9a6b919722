/**
 * Reads offset ranges [start, end) of many partitions with one kafkajs consumer and stops
 * each partition at its end, by offset, even while producers keep writing.
 *
 * kafkajs has no assign(): reading needs a consumer group. kbak uses a throw-away group,
 * never commits, seeks each partition to its start; KafkajsAdapter deletes the group
 * afterwards so nothing is left behind on the source cluster.
 *
 * The end is reached by offset, not by count: compaction, transaction markers and aborted
 * records leave gaps. kafkajs reports each batch's last offset including filtered control
 * and aborted records (END_BATCH_PROCESS for batches that are empty after filtering), so a
 * partition is complete once a batch reaches end-1.
 */
import type { Kafka, KafkaMessage, Consumer } from './kafkajs';
import type { RangeHandlers, RangeTarget } from './adapter';
import type { WireHeader } from './wire-patch';
import { partitionKey } from '../model/partition-key';
import { ServiceError } from '../errors';
import { TimestampType, type BackupRecord } from '../segment/record';
import type { Logger } from '../output/logger';

export interface ReadOptions {
  groupId: string;
  concurrency: number;
  /** Fail when no partition makes progress for this long. */
  stallTimeoutMs: number;
  logger: Logger;
}

export function toBackupRecord(m: KafkaMessage): BackupRecord {
  const wire = (m as unknown as { headerList?: WireHeader[] }).headerList;
  const ctx = (m as unknown as { batchContext?: { timestampType?: number } }).batchContext;
  const tt = ctx?.timestampType === 0 ? TimestampType.CreateTime : ctx?.timestampType === 1 ? TimestampType.LogAppendTime : TimestampType.Unknown;
  return {
    offset: BigInt(m.offset),
    timestamp: BigInt(m.timestamp),
    timestampType: tt,
    key: m.key ?? null,
    value: m.value ?? null,
    headers: (wire ?? []).map((h) => ({ key: h.key, value: h.value })),
  };
}

interface PartitionState {
  target: RangeTarget;
  next: bigint;
  done: boolean;
}

export async function readRanges(kafka: Kafka, targets: RangeTarget[], opts: ReadOptions, handlers: RangeHandlers): Promise<void> {
  const states = new Map<string, PartitionState>();
  for (const t of targets) states.set(partitionKey(t.topic, t.partition), { target: t, next: t.start, done: false });

  let remaining = 0;
  let settle!: (err?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (err?: unknown) => (err ? reject(err) : resolve());
  });
  let failed = false;
  const fail = (err: unknown): void => {
    if (!failed) {
      failed = true;
      settle(err);
    }
  };

  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    maxWaitTimeInMs: 500,
    // kbak is the group's only member: no rebalance delay to wait for.
    sessionTimeout: 30000,
    retry: { retries: 5 },
  });

  const markDone = async (st: PartitionState): Promise<void> => {
    if (st.done) return;
    st.done = true;
    consumer.pause([{ topic: st.target.topic, partitions: [st.target.partition] }]);
    await handlers.onPartitionDone(st.target);
    remaining--;
    if (remaining === 0) settle();
  };

  let lastProgress = Date.now();
  const reachedBatchEnd = async (st: PartitionState, lastOffset: bigint): Promise<void> => {
    // Skipped (filtered) offsets still move the position forward.
    if (lastOffset + 1n > st.next) st.next = lastOffset + 1n;
    handlers.onPosition?.(st.target, st.next > st.target.end ? st.target.end : st.next);
    lastProgress = Date.now();
    if (st.next >= st.target.end) await markDone(st);
  };

  const topics = [...new Set(targets.map((t) => t.topic))];
  const active = [...states.values()].filter((s) => s.target.start < s.target.end);
  remaining = active.length;
  for (const s of states.values()) if (s.target.start >= s.target.end) s.done = true;
  // Empty ranges are complete without reading.
  for (const s of states.values()) if (s.done) await handlers.onPartitionDone(s.target);
  if (remaining === 0) return;

  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { topic, partition, batchSize, lastOffset } = e.payload as { topic: string; partition: number; batchSize: number; lastOffset: string };
    // Only batches emptied by filtering need this path; others are handled in eachBatch.
    if (batchSize !== 0) return;
    const st = states.get(partitionKey(topic, partition));
    if (!st || st.done) return;
    reachedBatchEnd(st, BigInt(lastOffset)).catch(fail);
  });
  consumer.on(consumer.events.CRASH, (e) => {
    const { error, restart } = e.payload as { error: Error; restart: boolean };
    if (!restart) fail(new ServiceError('kafka', `reading from Kafka failed: ${error.message}`, undefined, { cause: error }));
  });

  const stallTimer = setInterval(() => {
    if (Date.now() - lastProgress > opts.stallTimeoutMs) {
      const stuck = [...states.values()].filter((s) => !s.done).map((s) => `${s.target.topic}/${s.target.partition}@${s.next}<${s.target.end}`);
      fail(new ServiceError('kafka', `no progress for ${Math.round(opts.stallTimeoutMs / 1000)}s on ${stuck.slice(0, 5).join(', ')}`, 'the data may have been deleted by retention during the dump; retry, or raise the stall timeout', { options: ['stallTimeoutMs'] }));
    }
  }, 1000);

  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    // run() creates the group object synchronously, so the seeks below precede the first fetch.
    const running = consumer.run({
      autoCommit: false,
      // kafkajs moves its fetch position to the batch's last offset after eachBatch returns.
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: Math.max(1, opts.concurrency),
      eachBatch: async ({ batch, heartbeat }) => {
        const st = states.get(partitionKey(batch.topic, batch.partition));
        if (!st || st.done || failed) return;
        try {
          for (const m of batch.messages) {
            const off = BigInt(m.offset);
            if (off < st.next) continue; // before the start, or delivered again after a seek
            if (off >= st.target.end) break;
            await handlers.onRecord(st.target, toBackupRecord(m));
            st.next = off + 1n;
          }
          await reachedBatchEnd(st, BigInt(batch.lastOffset()));
          await heartbeat();
        } catch (err) {
          fail(err);
        }
      },
    });
    for (const s of states.values()) {
      if (s.done) consumer.pause([{ topic: s.target.topic, partitions: [s.target.partition] }]);
      else consumer.seek({ topic: s.target.topic, partition: s.target.partition, offset: s.target.start.toString() });
    }
    // Unselected partitions of the subscribed topics must not be read at all.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      for (const t of meta.topics) {
        const idle = t.partitions.map((p) => p.partitionId).filter((p) => !states.has(partitionKey(t.name, p)));
        if (idle.length > 0) consumer.pause([{ topic: t.name, partitions: idle }]);
      }
    } finally {
      await admin.disconnect();
    }
    await running;
    await finished;
  } finally {
    clearInterval(stallTimer);
    await consumer.disconnect().catch(() => undefined);
  }
}
