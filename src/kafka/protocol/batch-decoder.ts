/**
 * Kafka's record batch (magic v2) decoded straight into kbak records, without kafkajs's
 * per-record message objects: keys, values and header values are views (subarray) of the
 * fetched or decompressed bytes, never copies. The segment writer copies what it keeps
 * while it encodes, so a fetch response lives only as long as its records are handled.
 *
 * Layout (Kafka's DefaultRecordBatch): baseOffset int64, batchLength int32 (bytes after
 * this field), partitionLeaderEpoch int32, magic int8, crc uint32, attributes int16,
 * lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64, producerId int64,
 * producerEpoch int16, baseSequence int32, recordCount int32, then the records, compressed
 * as a whole when the codec bits say so; the records themselves are record.ts's, read
 * with wire.ts's reader.
 *
 * Pure: no I/O; decompression is done by the caller (codecs.ts) on `compressed` bodies.
 */
import { TimestampType, type BackupRecord, type RecordHeader } from '../../segment/record';
import { WireReader, type WireFail } from './wire';

/** Bytes before the records: the fixed batch header. */
export const BATCH_HEADER_BYTES = 61;
/** baseOffset + batchLength: the smallest prefix that tells a batch's size. */
export const LOG_OVERHEAD = 12;
const MAGIC_OFFSET = 16;

export class RecordBatchError extends Error {
  override readonly name = 'RecordBatchError';
}

export interface BatchHeader {
  baseOffset: bigint;
  /** baseOffset + lastOffsetDelta: the position moves past it even when no record is left. */
  lastOffset: bigint;
  magic: number;
  /** Low three bits of the attributes: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  codec: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  recordCount: number;
}

export interface RawBatch {
  header: BatchHeader;
  /** The records section as fetched (compressed when header.codec is not 0). */
  body: Buffer;
}

/**
 * Splits a partition's fetched `records` bytes into whole batches. A fetch may end inside
 * a batch (the broker cuts at the size limit); that partial tail is left out and fetched
 * again from its offset. Batches of the old message formats (magic 0 and 1) are refused:
 * Kafka 4 no longer reads or writes them, and Kafka 3 converts them only for old fetch
 * versions.
 */
export function splitBatches(records: Buffer): RawBatch[] {
  const out: RawBatch[] = [];
  let p = 0;
  while (records.length - p >= LOG_OVERHEAD) {
    const batchLength = records.readInt32BE(p + 8);
    const end = p + LOG_OVERHEAD + batchLength;
    if (end > records.length) break; // partial tail
    if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD) {
      // A legacy message set can be this short; a v2 batch cannot.
      const magic = records.length > p + MAGIC_OFFSET ? records.readInt8(p + MAGIC_OFFSET) : -1;
      throw new RecordBatchError(
        magic >= 0 && magic < 2
          ? legacyMessage(magic)
          : `record batch at offset ${records.readBigInt64BE(p)} is ${batchLength} bytes long, shorter than a batch header`,
      );
    }
    const magic = records.readInt8(p + MAGIC_OFFSET);
    if (magic !== 2)
      throw new RecordBatchError(
        magic === 0 || magic === 1 ? legacyMessage(magic) : `record batch at offset ${records.readBigInt64BE(p)} has unknown magic byte ${magic}`,
      );
    const baseOffset = records.readBigInt64BE(p);
    const attributes = records.readInt16BE(p + 21);
    const lastOffsetDelta = records.readInt32BE(p + 23);
    out.push({
      header: {
        baseOffset,
        lastOffset: baseOffset + BigInt(lastOffsetDelta),
        magic,
        codec: attributes & 0x07,
        timestampType: attributes & 0x08 ? TimestampType.LogAppendTime : TimestampType.CreateTime,
        isTransactional: (attributes & 0x10) !== 0,
        isControl: (attributes & 0x20) !== 0,
        baseTimestamp: records.readBigInt64BE(p + 27),
        maxTimestamp: records.readBigInt64BE(p + 35),
        producerId: records.readBigInt64BE(p + 43),
        recordCount: records.readInt32BE(p + 57),
      },
      body: records.subarray(p + BATCH_HEADER_BYTES, end),
    });
    p = end;
  }
  return out;
}

function legacyMessage(magic: number): string {
  return `the partition holds messages of the old format v${magic} (before Kafka 0.11), which kbak does not read; rewrite the topic with a current client`;
}

const KEY_CACHE_SIZE = 16;
const keyCache: Array<{ bytes: Buffer; text: string }> = [];

/** Faults of a record's fields, as RecordBatchErrors. */
const recordFault: WireFail = (fault) => new RecordBatchError(fault === 'malformed' ? 'malformed varint in a record' : 'record runs past the end of its batch');

/**
 * A header key: records of a topic repeat the same few keys, so the decoded strings are
 * kept and compared byte for byte instead of being decoded (and allocated) per record.
 */
function headerKey(r: WireReader): string | null {
  const n = r.varint();
  if (n < 0) return null;
  const buf = r.buf;
  const start = r.pos;
  r.need(n);
  r.pos = start + n;
  for (const k of keyCache) {
    if (k.bytes.length === n && buf.compare(k.bytes, 0, n, start, start + n) === 0) return k.text;
  }
  const text = buf.toString('utf8', start, start + n);
  if (n <= 64) {
    if (keyCache.length >= KEY_CACHE_SIZE) keyCache.shift();
    keyCache.push({ bytes: Buffer.from(buf.subarray(start, start + n)), text });
  }
  return text;
}

/**
 * The records of one batch (`records`: the uncompressed records section), decoded one at a
 * time on demand: a caller that awaits between records keeps only the current one alive,
 * so the young generation does not carry a whole batch of record objects through every
 * scavenge. Offsets and timestamps follow the batch: LogAppendTime batches give every
 * record the batch's max timestamp, as the broker means it.
 */
export class BatchRecords {
  /** Walks the records section record by record; `inner` reads one record's fields. */
  private readonly r: WireReader;
  private readonly inner: WireReader;
  private readonly logAppend: boolean;
  private i = 0;

  constructor(
    private readonly header: BatchHeader,
    private readonly records: Buffer,
  ) {
    this.r = new WireReader(records, 0, records.length, recordFault);
    this.inner = new WireReader(records, 0, records.length, recordFault);
    this.logAppend = header.timestampType === TimestampType.LogAppendTime;
  }

  /**
   * Continues at record `index`, which starts at byte `pos` of the records section: a
   * reader that walked the bytes itself (src/dump/transcode.ts) hands one record over.
   */
  seek(index: number, pos: number): void {
    this.i = index;
    this.r.pos = pos;
  }

  /** Byte position of the next record in the records section. */
  get position(): number {
    return this.r.pos;
  }

  /** The next record, or null after the last. */
  next(): BackupRecord | null {
    const { header, records, r, inner } = this;
    if (this.i >= header.recordCount) return null;
    const i = this.i++;
    const len = r.varint();
    const recEnd = r.pos + len;
    if (len < 0 || recEnd > records.length)
      throw new RecordBatchError(`record ${i} of the batch at offset ${header.baseOffset} runs past the end of the batch`);
    inner.end = recEnd;
    inner.pos = r.pos + 1; // record attributes (unused)
    const tsDelta = inner.varlong();
    const offsetDelta = inner.varint();
    const key = inner.bytes();
    const value = inner.bytes();
    const count = inner.varint();
    // Each header takes at least two bytes (key and value lengths): check before allocating
    // on a corrupt count (2^32 and more: RangeError; 3·10^7: a 240 MB array for a few bytes).
    if (count * 2 > inner.end - inner.pos) {
      throw new RecordBatchError(
        `record ${i} of the batch at offset ${header.baseOffset} claims ${count} headers, more than its ${recEnd - r.pos} bytes can hold`,
      );
    }
    const headers: RecordHeader[] = new Array<RecordHeader>(Math.max(0, count));
    for (let h = 0; h < count; h++) {
      const hk = headerKey(inner);
      if (hk === null) throw new RecordBatchError(`record ${i} of the batch at offset ${header.baseOffset} has a header with a null key`);
      headers[h] = { key: hk, value: inner.bytes() };
    }
    r.pos = recEnd;
    return {
      offset: header.baseOffset + BigInt(offsetDelta),
      timestamp: this.logAppend ? header.maxTimestamp : header.baseTimestamp + tsDelta,
      timestampType: header.timestampType,
      key,
      value,
      headers,
    };
  }
}

/** Decodes every record of one batch and hands each to `emit`, in order (see BatchRecords). */
export function decodeBatchRecords(header: BatchHeader, records: Buffer, emit: (r: BackupRecord) => void): void {
  const it = new BatchRecords(header, records);
  for (let rec = it.next(); rec !== null; rec = it.next()) emit(rec);
}

/** Control record types (the key's second int16). */
export const CONTROL_ABORT = 0;
export const CONTROL_COMMIT = 1;

/** The type of a control batch's marker (its one record's key), or -1 when it has none. */
export function controlType(records: Buffer, header: BatchHeader): number {
  let type = -1;
  if (header.recordCount < 1) return type;
  let first = true;
  decodeBatchRecords({ ...header, recordCount: 1 }, records, (rec) => {
    if (first && rec.key && rec.key.length >= 4) type = rec.key.readInt16BE(2);
    first = false;
  });
  return type;
}

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/**
 * Which batches of one fetch response to skip under read_committed, as Kafka's Java
 * consumer decides it: an aborted transaction starts at its first offset (from the fetch
 * response) and ends at its producer's ABORT marker. Feed batches in offset order.
 */
export class AbortFilter {
  private readonly pending: AbortedTransaction[];
  private readonly aborted = new Set<bigint>();

  constructor(aborted: readonly AbortedTransaction[]) {
    this.pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  }

  /** True when the (data) batch belongs to an aborted transaction. */
  skipData(h: BatchHeader): boolean {
    while (this.pending.length > 0 && this.pending[0]!.firstOffset <= h.lastOffset) this.aborted.add(this.pending.shift()!.producerId);
    return h.isTransactional && this.aborted.has(h.producerId);
  }

  /** A control batch: an ABORT marker ends its producer's aborted transaction. */
  control(h: BatchHeader, type: number): void {
    while (this.pending.length > 0 && this.pending[0]!.firstOffset <= h.lastOffset) this.aborted.add(this.pending.shift()!.producerId);
    if (type === CONTROL_ABORT) this.aborted.delete(h.producerId);
  }
}
