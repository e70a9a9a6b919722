/**
 * Restores one partition: backup records → filters → schema-ID rewrite → lane partition
 * with the same number, in order, with timestamp, key, value and headers as they were
 * (where they land, and resume: lane-position.ts).
 *
 * One loop over the partition's segment blocks into one batch sink (batch-sink.ts). A block
 * is transcoded straight into the batch (record-transcoder.ts, which also rewrites schema
 * IDs and adds the lane header and baggage) when every record of the partition goes to the
 * lane; it is decoded into records, filtered and rewritten one by one where that cannot be
 * done: time windows and --max-records-per-partition (every block), the records a resume
 * compares with the lane, and the blocks a group's committed offset falls in. With an end
 * offset (recover --at) only the records below it are written: the block that straddles it
 * goes record by record, and nothing after it is read.
 */
import type { Backup } from '../backup/catalog';
import { UnmaskableRecordError } from '../errors';
import type { RecordMasker } from '../mask/record-mask';
import type { RecordProducer } from '../kafka/adapter';
import type { CodecName } from '../kafka/protocol/codecs';
import { inWindow, type TimeWindow } from '../model/window';
import { decodeRecordAt } from '../segment/format';
import type { RawBlock } from '../segment/reader';
import type { BackupRecord } from '../segment/record';
import type { ByteBudget } from '../util/byte-budget';
import { BatchSink } from './batch-sink';
import { recordBytes, toLaneRecord, type RewriteOptions } from './lane-record';
import { LanePosition, type LanePartition } from './lane-position';
import { skipForMax } from './plan';

export { recordBytes, sameRecord, toLaneRecord, type LaneRecord, type RewriteOptions } from './lane-record';
export type { LaneStart } from './lane-position';

export interface PartitionJob extends LanePartition {
  compression: CodecName;
  /**
   * Exclusive source end offset (`kbak recover --at`: the first offset at or after the point
   * in time): only records below it are written, and a group's committed offset at or beyond
   * it lands on the lane partition's end. Absent: every record of the backup.
   */
  endOffset?: bigint;
}

export interface PartitionResult {
  written: number;
  skippedExisting: number;
  bytes: number;
  idsRewritten: number;
  /** Records whose baggage header --lane-baggage left alone (not valid W3C baggage, or over its limits). */
  baggageLeftAlone: number;
  laneEnd: bigint;
  groupOffsets: Map<string, bigint>;
  /** Masked restore: records left out by the policy's sample. */
  sampledOut: number;
  /** Masked restore with --on-undecodable drop: records that could not be masked, left out. */
  undecodableDropped: number;
}

export interface WriteOptions {
  backup: Backup;
  producer: RecordProducer;
  window: TimeWindow;
  maxRecordsPerPartition: number | null;
  rewrite: Omit<RewriteOptions, 'laneTopic'>;
  /** Bound on one produce request: record count and bytes (below the default max.message.bytes). */
  batchRecords?: number;
  batchBytes?: number;
  /** Bytes of record batches between encoding and acknowledgement, shared by all partitions. */
  budget?: ByteBudget;
  onProgress?(processed: number, written: number, bytes: number): void;
  /**
   * Records of partitions read whole are transcoded from segment blocks into record sets
   * sent with sendPlaced (the fast path). false sends them as record objects instead, the
   * path the fast one is tested against byte for byte. Default true.
   */
  transcode?: boolean;
  /**
   * A masked restore (--policy): the masker of each source topic the policy changes. Their
   * records go one by one (never transcoded whole) through the masker before the schema-ID
   * rewrite.
   */
  masks?: ReadonlyMap<string, RecordMasker>;
  /** What a record that cannot be masked does: stop the restore (default) or be left out and counted. */
  onUndecodable?: 'stop' | 'drop';
}

/**
 * Batches sent to a producer's partition and not yet acknowledged while the next is built, at
 * most. The lean producer takes up to five (ProducePipeline: Kafka's idempotence allows five);
 * restore uses one, chosen by measurement (200 000 x 1 KiB records, 6 partitions, lz4,
 * --concurrency 4, runs alternating on the shared 2-core machine; the commit that set it has
 * the figures): two, three and five were at best about 10 % faster than one and often not at
 * all (the two cores, not the wait for acknowledgements, are the limit), while every batch in
 * flight holds its ~0.5 MiB builder and a compressed copy in the worker: peak RSS, up to
 * 247 MiB with one, went past the 256 MiB limit in 2 of 39 runs with two (266 MiB) and up to
 * 292 MiB with five. More pays once a batch in flight costs less memory.
 */
export const PRODUCER_IN_FLIGHT = 1;

/**
 * How many sends `producer` takes on one partition before the first is acknowledged, at most
 * `cap`: the lean producer says so (`maxInFlight`); a RecordProducer that does not (the
 * in-memory one) takes one at a time.
 */
export function producerWindow(producer: RecordProducer, cap = PRODUCER_IN_FLIGHT): number {
  const n = producer.maxInFlight;
  return n !== undefined && Number.isInteger(n) && n >= 1 ? Math.min(n, cap) : 1;
}

const hasWindow = (w: TimeWindow): boolean => w.since !== null || w.until !== null;

/** The oldest records in the window (and below the end offset) that --max-records-per-partition leaves out. */
async function oldestToSkip(job: PartitionJob, opts: WriteOptions): Promise<number> {
  if (opts.maxRecordsPerPartition === null) return 0;
  const { backup, window } = opts;
  let inWindowTotal = 0;
  if (hasWindow(window) || job.endOffset !== undefined) {
    for await (const r of backup.records(job.sourceTopic, job.partition)) {
      if (job.endOffset !== undefined && r.offset >= job.endOffset) break;
      if (inWindow(r.timestamp, window)) inWindowTotal++;
    }
  } else inWindowTotal = backup.partition(job.sourceTopic, job.partition).records;
  return skipForMax(inWindowTotal, opts.maxRecordsPerPartition);
}

/**
 * With an end offset: the offset after whose block nothing more is read, or -1n when no
 * record lies below the end. Reading stops there rather than at the first record at or
 * beyond the end, so the segment after an end that falls between segments is never opened.
 */
function lastToRead(job: PartitionJob, opts: WriteOptions): bigint | null {
  const end = job.endOffset;
  if (end === undefined) return null;
  let last = -1n;
  for (const seg of opts.backup.partition(job.sourceTopic, job.partition).segments) {
    if (BigInt(seg.firstOffset) >= end) break;
    const segLast = BigInt(seg.lastOffset);
    last = segLast < end ? segLast : end - 1n;
  }
  return last;
}

/** The records of a raw block as objects (views into the block), for the per-record path. */
function decodeRaw(b: RawBlock): BackupRecord[] {
  const out: BackupRecord[] = [];
  let p = 0;
  for (let i = 0; i < b.count; i++) {
    const { record, next } = decodeRecordAt(b.body, p, b.body.length, b.firstIndex + i, b.ctx, b.basePos, true);
    out.push(record);
    p = next;
  }
  return out;
}

export async function writePartition(job: PartitionJob, opts: WriteOptions): Promise<PartitionResult> {
  const { backup, window } = opts;
  const rw: RewriteOptions = { ...opts.rewrite, laneTopic: job.laneTopic };
  const skip = await oldestToSkip(job, opts);
  const lane = new LanePosition(job);
  const masker = opts.masks?.get(job.sourceTopic) ?? null;
  // Blocks are transcoded whole: only when no record of them is filtered out or masked.
  const transcodable = !hasWindow(window) && skip === 0 && opts.transcode !== false && masker === null;
  const sink = BatchSink.open(
    opts.producer,
    {
      topic: job.laneTopic,
      partition: job.partition,
      compression: job.compression,
      maxRecords: opts.batchRecords ?? 500,
      maxBytes: opts.batchBytes ?? 512 * 1024,
      budget: opts.budget,
      inFlight: producerWindow(opts.producer),
    },
    // A masked partition goes record by record, into record sets encoded in place all the same
    // (appendRecord: no second encoding by the producer, and no record objects held per batch).
    transcodable || (masker !== null && opts.transcode !== false) ? rw : null,
  );
  const counts = { written: 0, bytes: 0, idsRewritten: 0, baggageLeftAlone: 0, sampledOut: 0, undecodableDropped: 0 };
  let inWin = 0;

  const endOffset = job.endOffset;
  const stopAfter = lastToRead(job, opts);
  for await (const blk of stopAfter === -1n ? [] : backup.rawBlocks(job.sourceTopic, job.partition)) {
    // A block that straddles the end is never transcoded whole: its records go one by one.
    if (transcodable && sink.transcodes && (endOffset === undefined || blk.lastOffset < endOffset) && !lane.needsRecords(blk.lastOffset)) {
      let n = 0;
      await sink.transcodeBlock(blk, (r) => {
        n += r.records;
        counts.idsRewritten += r.rewritten;
        counts.bytes += r.bytes;
        counts.written += r.records;
        counts.baggageLeftAlone += r.baggageLeftAlone;
        if (r.records > 0) opts.onProgress?.(r.records, r.records, r.bytes);
      });
      lane.writtenBlock(blk.lastOffset, n);
      if (stopAfter !== null && blk.lastOffset >= stopAfter) break;
      continue;
    }
    for (const r of decodeRaw(blk)) {
      if (endOffset !== undefined && r.offset >= endOffset) break;
      if (!inWindow(r.timestamp, window)) continue;
      if (inWin++ < skip) continue;
      let source = r;
      if (masker !== null) {
        const m = masker.apply(r);
        if (m.kind !== 'write') {
          // Left out: the lane's offsets close up, and a group committed here lands on the next written record.
          if (m.kind === 'sampled-out') counts.sampledOut++;
          else if (opts.onUndecodable === 'drop') counts.undecodableDropped++;
          else throw new UnmaskableRecordError(job.sourceTopic, job.partition, r.offset, m.reason);
          opts.onProgress?.(1, 0, 0);
          continue;
        }
        source = m.record;
      }
      lane.observe(r.offset);
      const lr = toLaneRecord(source, rw);
      if (lane.alreadyWritten(lr, r.offset)) {
        opts.onProgress?.(1, 0, 0);
        continue;
      }
      const size = recordBytes(lr);
      await sink.add(lr, size);
      counts.idsRewritten += lr.rewritten;
      if (lr.baggage === 'invalid') counts.baggageLeftAlone++;
      counts.bytes += size;
      counts.written++;
      lane.written(1);
      opts.onProgress?.(1, 1, size);
    }
    if (stopAfter !== null && blk.lastOffset >= stopAfter) break;
  }
  await sink.close();
  const end = lane.finish();
  return {
    written: counts.written,
    skippedExisting: end.skippedExisting,
    bytes: counts.bytes,
    idsRewritten: counts.idsRewritten,
    baggageLeftAlone: counts.baggageLeftAlone,
    laneEnd: end.laneEnd,
    groupOffsets: end.groupOffsets,
    sampledOut: counts.sampledOut,
    undecodableDropped: counts.undecodableDropped,
  };
}
