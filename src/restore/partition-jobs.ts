/**
 * One write job per target partition: where the restored records start in it, and, when an
 * interrupted run is resumed, its last record (compared with what the backup says must be
 * there before anything more is written: lane-position.ts). Shared by lane restores and by
 * recovery (src/recover), which differ in names and safety rules, not in how a partition is
 * written.
 */
import type { KafkaAdapter } from '../kafka/adapter';
import type { CodecName } from '../kafka/protocol/codecs';
import { partitionKey } from '../model/partition-key';
import type { PartitionOffsets } from '../model/offsets';
import type { CommittedOffset } from '../remap/offsets';
import type { BackupRecord } from '../segment/record';
import { ServiceError } from '../errors';
import type { PartitionJob } from './write-partition';

export interface JobTopic {
  source: string;
  target: string;
  compression: CodecName;
  partitions: ReadonlyArray<{ partition: number }>;
  /** The target topic may hold records of an interrupted run of this restore: check and continue after them. */
  resume: boolean;
}

/**
 * The jobs of `topics`, from where each target partition stands now (`offsets`, by target
 * topic) and the committed source offsets to translate (`committed`, by partitionKey of the
 * target topic and partition).
 */
export async function partitionJobs(
  kafka: KafkaAdapter,
  topics: readonly JobTopic[],
  offsets: ReadonlyMap<string, PartitionOffsets[]>,
  committed: ReadonlyMap<string, CommittedOffset[]>,
  concurrency: number,
): Promise<PartitionJob[]> {
  const jobs: PartitionJob[] = [];
  const needLast: Array<{ job: PartitionJob; high: bigint }> = [];
  for (const t of topics) {
    for (const p of t.partitions) {
      const o = offsets.get(t.target)?.find((x) => x.partition === p.partition);
      if (!o) throw new ServiceError('kafka', `topic ${t.target} has no partition ${p.partition}`);
      const resuming = t.resume && o.high > o.low;
      const starts = !resuming
        ? [{ laneStart: o.high, alreadyWritten: 0 }]
        : o.low === 0n
          ? [{ laneStart: 0n, alreadyWritten: Number(o.high) }]
          : [
              { laneStart: o.low, alreadyWritten: Number(o.high - o.low) },
              { laneStart: 0n, alreadyWritten: Number(o.high) },
            ];
      const job: PartitionJob = {
        sourceTopic: t.source,
        laneTopic: t.target,
        partition: p.partition,
        compression: t.compression,
        starts,
        laneLast: null,
        committed: committed.get(partitionKey(t.target, p.partition)) ?? [],
      };
      jobs.push(job);
      if (resuming) needLast.push({ job, high: o.high });
    }
  }
  if (needLast.length > 0) {
    const last = await readLastRecords(
      kafka,
      needLast.map((n) => ({ topic: n.job.laneTopic, partition: n.job.partition, high: n.high })),
      concurrency,
    );
    for (const n of needLast) n.job.laneLast = last.get(partitionKey(n.job.laneTopic, n.job.partition)) ?? null;
  }
  return jobs;
}

/** The last record of each target partition. */
async function readLastRecords(
  kafka: KafkaAdapter,
  targets: Array<{ topic: string; partition: number; high: bigint }>,
  concurrency: number,
): Promise<Map<string, BackupRecord>> {
  const out = new Map<string, BackupRecord>();
  await kafka.readRanges(
    targets.map((t) => ({ topic: t.topic, partition: t.partition, start: t.high - 1n, end: t.high })),
    { concurrency, stallTimeoutMs: 60_000 },
    {
      onRecord: (target, record) => {
        out.set(partitionKey(target.topic, target.partition), record);
        return Promise.resolve();
      },
      onPartitionDone: () => Promise.resolve(),
    },
  );
  return out;
}
