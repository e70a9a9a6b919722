/**
 * Restores one partition: backup records → filters → schema-ID rewrite → lane partition
 * with the same number, in order, with timestamp, key, value and headers as they were.
 *
 * The i-th restored record (in filtered backup order) lands at lane offset L0 + i: the
 * lane partition started empty at L0 and kbak is its only writer (no transactions, so no
 * markers). Resume relies on exactly that: the lane's end offset says how many records
 * are already there, whether or not their batch was acknowledged before a crash.
 */
import type { Backup } from '../backup/catalog';
import type { TimeWindow } from '../model/window';
import { inWindow } from '../model/window';
import { SafetyError } from '../errors';
import type { ProduceRecord, ProducerOptions, RecordProducer } from '../kafka/adapter';
import type { PlacedRecordSet } from '../kafka/record-batch';
import type { RawBlock } from '../segment/reader';
import { decodeRecordAt } from '../segment/format';
import { RecordSetBuilder } from './record-transcoder';
import { compressWorkerAvailable } from '../kafka/compress-worker';
import type { CodecName } from '../kafka/codecs';
import { OffsetTranslator, type CommittedOffset } from '../remap/offsets';
import type { BackupRecord } from '../segment/record';
import { skipForMax } from './plan';
import { recordBytes, sameRecord, toLaneRecord, type LaneRecord, type RewriteOptions } from './lane-record';

export { recordBytes, sameRecord, toLaneRecord, type LaneRecord, type RewriteOptions } from './lane-record';
import type { ByteBudget } from '../util/byte-budget';

/** One hypothesis about where the restore started in the lane partition (see writePartition). */
export interface LaneStart {
  /** Lane offset of the first restored record. */
  laneStart: bigint;
  /** Records already in the lane partition (resume); they are observed, not written again. */
  alreadyWritten: number;
}

export interface PartitionJob {
  sourceTopic: string;
  laneTopic: string;
  partition: number;
  compression: CodecName;
  /**
   * Usually one. On --resume with a log start offset above 0 there are two: the restore
   * began at the log start (an existing empty topic was reused), or at 0 (kbak created the
   * topic and retention has since removed old records). The first whose record at
   * end-1 matches wins; the order is the preference.
   */
  starts: LaneStart[];
  /** The lane partition's last record when anything was already written, to check it is ours. */
  laneLast: BackupRecord | null;
  committed: CommittedOffset[];
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
}

const hasWindow = (w: TimeWindow): boolean => w.since !== null || w.until !== null;

/** Records in the window, to know how many of the oldest to skip for --max-records-per-partition. */
async function countInWindow(backup: Backup, topic: string, partition: number, window: TimeWindow): Promise<number> {
  let n = 0;
  for await (const r of backup.records(topic, partition)) if (inWindow(r.timestamp, window)) n++;
  return n;
}

/** A producer that also sends record sets the transcoder encoded (LeanProducer). */
interface PlacedProducer {
  headroom(topic: string): number;
  sendPlaced(topic: string, partition: number, set: PlacedRecordSet, opts: ProducerOptions): Promise<boolean>;
}

const asPlacedProducer = (p: RecordProducer): PlacedProducer | null =>
  typeof (p as Partial<PlacedProducer>).sendPlaced === 'function' ? (p as unknown as PlacedProducer) : null;

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
  const { backup, producer, window } = opts;
  const batchRecords = opts.batchRecords ?? 500;
  const batchBytes = opts.batchBytes ?? 512 * 1024;
  const rw: RewriteOptions = { ...opts.rewrite, laneTopic: job.laneTopic };

  let skip = 0;
  if (opts.maxRecordsPerPartition !== null) {
    const total = hasWindow(window)
      ? await countInWindow(backup, job.sourceTopic, job.partition, window)
      : backup.partition(job.sourceTopic, job.partition).records;
    skip = skipForMax(total, opts.maxRecordsPerPartition);
  }

  let candidates = job.starts.map((c) => ({ ...c, translator: new OffsetTranslator(job.committed) }));
  if (candidates.length === 0) throw new Error('writePartition needs at least one lane start');
  let index = 0; // restored records seen so far (= lane offset - laneStart)
  let written = 0;
  let bytes = 0;
  let idsRewritten = 0;
  let baggageLeftAlone = 0;

  const refuse = (detail: string): SafetyError =>
    new SafetyError(
      `cannot resume ${job.laneTopic}/${job.partition}: ${detail}`,
      'something else wrote into the lane topic, or the backup, filters or lane header differ from the interrupted restore; replace the lane topics instead',
      { options: ['mode=replace'] },
    );

  let inWin = 0;
  // Until this index, some hypothesis still has a last already-written record to check.
  const checkUntil = Math.max(...candidates.map((c) => c.alreadyWritten));
  /** The lane form of a backup record to write next, or null when it is filtered out or already written. */
  const admit = (r: BackupRecord): LaneRecord | null => {
    if (!inWindow(r.timestamp, window)) return null;
    if (inWin++ < skip) return null;
    for (const c of candidates) c.translator.observe(r.offset, c.laneStart + BigInt(index));
    const lr = toLaneRecord(r, rw);
    if (index < checkUntil) {
      // Check every hypothesis whose last already-written record this is.
      candidates = candidates.filter((c) => index !== c.alreadyWritten - 1 || (job.laneLast !== null && sameRecord(lr, job.laneLast)));
      if (candidates.length === 0)
        throw refuse(`its last record is not the matching record of backup ${job.sourceTopic}/${job.partition} (source offset ${r.offset})`);
      const chosen = candidates[0]!;
      if (index < chosen.alreadyWritten) {
        index++;
        opts.onProgress?.(1, 0, 0);
        return null;
      }
      // The preferred hypothesis is verified: from here on only it counts.
      if (candidates.length > 1) candidates = [chosen];
    } else if (candidates.length > 1) candidates = [candidates[0]!];
    return lr;
  };
  const counted = (lr: LaneRecord, size: number): void => {
    idsRewritten += lr.rewritten;
    if (lr.baggage === 'invalid') baggageLeftAlone++;
    bytes += size;
    written++;
    index++;
    opts.onProgress?.(1, 1, size);
  };

  const placed = asPlacedProducer(producer);
  // The transcoder (record-transcoder.ts) writes records straight from the segment blocks
  // into the batch; the per-record object path stays for what it does not do: lane headers,
  // baggage, time windows and --max-records-per-partition (and producers without sendPlaced).
  if (placed !== null && rw.laneHeader === null && !rw.laneBaggage && !hasWindow(window) && skip === 0) {
    const limits = { maxRecords: batchRecords, maxBytes: batchBytes };
    const headroom = placed.headroom(job.laneTopic);
    // Room for a full batch of 1 KiB records without growing; a bigger record grows the buffer.
    const capacity = batchBytes + batchRecords * 64 + 4096;
    // Two sets: one in flight while the next is built.
    // Shared memory when a worker thread compresses the sets (compress-worker.ts).
    const alloc = job.compression !== 'none' && compressWorkerAvailable() ? (n: number): Buffer => Buffer.from(new SharedArrayBuffer(n)) : undefined;
    const builders = [new RecordSetBuilder(headroom, capacity, rw, alloc), new RecordSetBuilder(headroom, capacity, rw, alloc)] as const;
    let cur = 0;
    let pending: Promise<boolean> | null = null;
    const flush = async (): Promise<void> => {
      const reusable = pending ? await pending : true;
      pending = null;
      const other = builders[1 - cur]!;
      other.reset(!reusable);
      const b = builders[cur]!;
      if (b.count === 0) return;
      const set = b.placed();
      const size = b.size;
      const send = (): Promise<boolean> => placed.sendPlaced(job.laneTopic, job.partition, set, { compression: job.compression });
      pending = opts.budget ? opts.budget.with(size, send) : send();
      pending.catch(() => undefined);
      cur = 1 - cur;
    };
    for await (const blk of backup.rawBlocks(job.sourceTopic, job.partition)) {
      // Per record where a record must be compared (resume) or a group's committed offset falls in the block.
      const perRecord =
        index < checkUntil ||
        candidates.some((c) => {
          const n = c.translator.nextPending();
          return n !== null && n <= blk.lastOffset;
        });
      if (perRecord) {
        for (const r of decodeRaw(blk)) {
          const lr = admit(r);
          if (lr === null) continue;
          const size = recordBytes(lr);
          const b = builders[cur]!;
          if (b.count > 0 && (b.count >= batchRecords || b.size + size > batchBytes)) await flush();
          builders[cur]!.appendRecord(lr);
          counted(lr, size);
        }
        continue;
      }
      if (candidates.length > 1) candidates = [candidates[0]!];
      const body = blk.body;
      let p = 0;
      let recIndex = blk.firstIndex;
      const firstLane = index;
      while (p < body.length) {
        const r = builders[cur]!.transcode(body, p, body.length, recIndex, blk.ctx, blk.basePos, limits);
        p = r.next;
        recIndex += r.records;
        idsRewritten += r.rewritten;
        bytes += r.bytes;
        written += r.records;
        index += r.records;
        if (r.records > 0) opts.onProgress?.(r.records, r.records, r.bytes);
        if (r.full) await flush();
      }
      // No committed offset lies in this block: its last record is all the translator needs.
      if (index > firstLane) for (const c of candidates) c.translator.observe(blk.lastOffset, c.laneStart + BigInt(index - 1));
    }
    await flush();
    await flush();
  } else {
    let batch: ProduceRecord[] = [];
    let batchSize = 0;
    let pending: Promise<unknown> | null = null;
    const flush = async (): Promise<void> => {
      if (pending) await pending;
      pending = null;
      if (batch.length === 0) return;
      const messages = batch;
      const size = batchSize;
      batch = [];
      batchSize = 0;
      // The next batch is built while this one is in flight; at most two are in memory.
      const send = (): Promise<void> => producer.send(job.laneTopic, job.partition, messages, { compression: job.compression });
      pending = opts.budget ? opts.budget.with(size, send) : send();
      pending.catch(() => undefined);
    };
    // A block at a time, its records as views into the decoded block, not copies: each record
    // is encoded into its batch (and dropped) before the reader moves more than a batch ahead.
    for await (const block of backup.recordBlocks(job.sourceTopic, job.partition, undefined, { views: true })) {
      for (const r of block) {
        const lr = admit(r);
        if (lr === null) continue;
        const size = recordBytes(lr);
        if (batch.length > 0 && (batch.length >= batchRecords || batchSize + size > batchBytes)) await flush();
        batch.push(lr);
        batchSize += size;
        counted(lr, size);
      }
    }
    await flush();
    await flush();
  }

  candidates = candidates.filter((c) => c.alreadyWritten <= index);
  const chosen = candidates[0];
  if (!chosen) throw refuse(`it holds more records than the restore writes (${index})`);
  const laneEnd = chosen.laneStart + BigInt(index);
  return { written, skippedExisting: chosen.alreadyWritten, bytes, idsRewritten, baggageLeftAlone, laneEnd, groupOffsets: chosen.translator.finish(laneEnd) };
}
