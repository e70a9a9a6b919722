/**
 * How many bytes each planned partition will take, for balancing a sharded dump's shards by
 * bytes rather than by partition count. Where the cluster says (DescribeLogDirs: the principal
 * may describe the cluster), a partition's bytes on disk, scaled to the part of its log the dump
 * reads. Else offsets × a sampled record size: per topic, the newest records (at most
 * SAMPLE_RECORDS) of its longest partition are read and their keys, values and headers
 * measured. Topics differ (100 B events next to 10 KiB documents); partitions of one topic
 * rarely do by record size, only by count, which the offsets give exactly.
 */
import type { KafkaAdapter, RangeTarget } from '../kafka/adapter';
import { partitionKey } from '../model/partition-key';

/** Records read per topic for the sample: one fetch, milliseconds. */
export const SAMPLE_RECORDS = 200;
/** Per record besides key, value and headers: offset delta, timestamp delta, lengths (Kafka's own overhead). */
const RECORD_OVERHEAD = 16;

export interface EstimateTarget {
  topic: string;
  partition: number;
  /** What the shard will read: [start, end). */
  start: bigint;
  end: bigint;
  /** Where the partition's log starts (its bytes on disk cover [logStart, end)). */
  logStart: bigint;
}

export interface Estimate {
  /** Estimated bytes per partitionKey(topic, partition). */
  bytes: Map<string, number>;
  /** Where they came from: the brokers' log dirs, a sample of records, or both (some topics each). */
  source: 'log-dirs' | 'sampled' | 'mixed';
}

export async function estimatePartitionBytes(kafka: KafkaAdapter, targets: readonly EstimateTarget[], stallTimeoutMs: number): Promise<Estimate> {
  const out = new Map<string, number>();
  const sizes = targets.length > 0 ? await kafka.partitionSizes([...new Set(targets.map((t) => t.topic))]) : null;
  const rest: EstimateTarget[] = [];
  for (const t of targets) {
    const size = sizes?.get(partitionKey(t.topic, t.partition));
    if (size === undefined) rest.push(t);
    else {
      // The bytes on disk cover the whole log: scale them to the offsets this dump reads.
      const all = t.end - t.logStart;
      out.set(partitionKey(t.topic, t.partition), all > 0n ? Math.round((Number(size) * Number(t.end - t.start)) / Number(all)) : 0);
    }
  }
  for (const [k, v] of await sampledBytes(kafka, rest, stallTimeoutMs)) out.set(k, v);
  return { bytes: out, source: rest.length === 0 ? 'log-dirs' : rest.length === targets.length ? 'sampled' : 'mixed' };
}

/** Offsets × a sampled record size per topic, for partitions the log dirs do not give. */
async function sampledBytes(kafka: KafkaAdapter, targets: readonly EstimateTarget[], stallTimeoutMs: number): Promise<Map<string, number>> {
  const longest = new Map<string, EstimateTarget>();
  for (const t of targets) {
    const cur = longest.get(t.topic);
    if (t.end > t.start && (!cur || t.end - t.start > cur.end - cur.start)) longest.set(t.topic, t);
  }
  const samples: RangeTarget[] = [...longest.values()].map((t) => {
    const from = t.end - BigInt(SAMPLE_RECORDS);
    return { topic: t.topic, partition: t.partition, start: from > t.start ? from : t.start, end: t.end };
  });
  const measured = new Map<string, { bytes: number; first: bigint | null; last: bigint }>();
  if (samples.length > 0) {
    await kafka.readRanges(
      samples,
      { concurrency: 8, stallTimeoutMs },
      {
        onRecord: (target, r) => {
          let m = measured.get(target.topic);
          if (!m) measured.set(target.topic, (m = { bytes: 0, first: null, last: 0n }));
          m.bytes += RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
          for (const h of r.headers) m.bytes += h.key.length + (h.value?.length ?? 0) + 2;
          m.first ??= r.offset;
          m.last = r.offset;
          return Promise.resolve();
        },
        onPartitionDone: () => Promise.resolve(),
      },
    );
  }
  const out = new Map<string, number>();
  for (const t of targets) {
    const m = measured.get(t.topic);
    // Offsets, not records: gaps (compaction, transaction markers) make a record stand for more offsets.
    const perOffset = m && m.first !== null ? m.bytes / Number(m.last - m.first + 1n) : 0;
    out.set(partitionKey(t.topic, t.partition), Math.round(Number(t.end - t.start) * perOffset));
  }
  return out;
}
