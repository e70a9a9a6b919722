/**
 * The write phase shared by lane restores and recovery: every target partition written by a
 * pool of workers (one producer each) under one memory budget, with progress per target
 * topic, and afterwards the check that each partition ends where kbak's writes put it (else
 * another producer wrote into it, and translated group offsets would name other records).
 */
import type { KafkaAdapter, RecordProducer } from '../kafka/adapter';
import { ByteBudget } from '../util/byte-budget';
import { runWorkers } from '../util/run-workers';
import { withRetry } from '../lane/kafka-ops';
import { writePartition, type PartitionJob, type PartitionResult, type WriteOptions } from './write-partition';

/**
 * Record batches (encoded records, before compression) between their encoding and the
 * broker's acknowledgement, across all partitions. Besides these, each partition in flight
 * (--concurrency) holds one segment block being read and one batch being built.
 */
export const RESTORE_BUDGET_BYTES = 16 * 1024 * 1024;

export interface LaneTopicProgress {
  topic: string;
  records: number;
  bytes: number;
  processed: number;
  total: number;
  /** False when `total` is an upper bound (a time window cuts through a segment). */
  totalExact?: boolean;
}

/** Writes every job; `progress` (by target topic) is counted up as records go. */
export async function writeJobs(
  jobs: readonly PartitionJob[],
  producers: readonly RecordProducer[],
  opts: Omit<WriteOptions, 'producer' | 'budget' | 'onProgress'>,
  progress: ReadonlyMap<string, LaneTopicProgress>,
): Promise<Map<PartitionJob, PartitionResult>> {
  const results = new Map<PartitionJob, PartitionResult>();
  // One memory budget for every partition's batches in flight, however many partitions there are.
  const budget = new ByteBudget(RESTORE_BUDGET_BYTES);
  await runWorkers([...jobs], producers.length, async (job, worker) => {
    const prog = progress.get(job.laneTopic)!;
    const result = await writePartition(job, {
      ...opts,
      producer: producers[worker]!,
      budget,
      onProgress: (processed, written, bytes) => {
        prog.processed += processed;
        prog.records += written;
        prog.bytes += bytes;
      },
    });
    results.set(job, result);
  });
  return results;
}

/** The first partition of `topic` that does not end where its job's writes put it, or null. */
export async function movedEnd(
  kafka: KafkaAdapter,
  topic: string,
  jobs: readonly PartitionJob[],
  results: ReadonlyMap<PartitionJob, PartitionResult>,
): Promise<{ partition: number; expected: bigint; actual: bigint | undefined } | null> {
  const now = await withRetry(() => kafka.listOffsets(topic));
  for (const job of jobs.filter((j) => j.laneTopic === topic)) {
    const expected = results.get(job)!.laneEnd;
    const actual = now.find((o) => o.partition === job.partition)?.high;
    if (actual !== expected) return { partition: job.partition, expected, actual };
  }
  return null;
}
