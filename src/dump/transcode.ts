/**
 * One Kafka record batch (its uncompressed records section) transcoded straight into
 * segment records (FORMAT.md), the dump's hot path. The bytes are exactly what decoding
 * each record into a BackupRecord (src/kafka/batch-decoder.ts) and encoding it with
 * SegmentWriter.append (src/segment/record-writer.ts, encodeRecordInto) would give, and the same
 * records are kept: those in [from, end) of the range, inside the time window. What differs
 * is the cost: fields are located in the fetched bytes and copied once into the writer's
 * block, with no object, no bigint and no await per record.
 *
 * Records the fast path cannot reproduce byte for byte go the old way, one object at a
 * time (`pendingRecord()`): a header key that is not valid UTF-8 (decoding turns it into
 * U+FFFD), offsets or timestamps beyond 2^53, anything malformed (the decoder then throws
 * its usual error), and records larger than a block. Offsets and timestamps are numbers
 * when they are safe integers; a safe integer compares exactly with Number(x) of any
 * bigint x, so the range bounds are compared as numbers too.
 *
 * Pure: no I/O.
 */
import { BatchRecords, type BatchHeader } from '../kafka/protocol/batch-decoder';
import { inWindow, type TimeWindow } from '../model/window';
import { framedSchemaId, framedSchemaIdAt } from '../schema/framing';
import { HeaderKeyCheck } from '../segment/header-keys';
import { HEADER_OVERHEAD, RECORD_MIN_SIZE } from '../segment/layout';
import { highHalf, lowHalf, putField, putRecordHead, putU32 } from '../segment/record-writer';
import { TimestampType, type BackupRecord } from '../segment/record';
import type { SegmentRecordSource } from '../segment/writer';

/** Where the IDs of Confluent-framed keys and values go (SchemaCollector). */
export interface SchemaIdObserver {
  observeId(id: number): void;
}

/** Varints longer than this may not be exact as numbers (7 × 7 = 49 bits): the object path decodes them. */
const MAX_FAST_VARINT_BYTES = 7;
/**
 * Header keys must be valid UTF-8 for the fast path (the decoder turns a bad one into
 * U+FFFD). One check for every batch: its memory of keys seen valid outlives the batch.
 */
const headerKeys = new HeaderKeyCheck();

/** Number(x) when x is a safe integer, NaN otherwise. */
function safeNumber(x: bigint): number {
  const n = Number(x);
  return Number.isSafeInteger(n) ? n : NaN;
}

export class BatchTranscoder implements SegmentRecordSource {
  // The pending record (SegmentRecordSource).
  pending = false;
  fast = false;
  size = 0;
  offset = 0;
  timestamp = 0;

  private readonly buf: Buffer;
  private readonly count: number;
  private readonly tsType: TimestampType;
  /** NaN when the batch's offsets or timestamps are not all safe: every record takes the object path. */
  private readonly baseOffset: number;
  private readonly baseTimestamp: number;
  /** LogAppendTime: every record's timestamp (NaN for CreateTime). */
  private readonly appendTime: number;
  private readonly logAppend: boolean;
  private readonly endN: number;
  private readonly sinceMs: number;
  private readonly untilMs: number;

  /** Index and byte position of the next record to look at. */
  private i = 0;
  private pos = 0;
  /** Read cursor of the varint reader. */
  private p = 0;
  private done = false;
  /**
   * Records below the next offset are skipped (a batch can start before the fetch offset,
   * and every record in range moves it on). Exact in `nextB` when set, else in `nextN`.
   */
  private nextN: number;
  private nextB: bigint | null;

  // Where the pending record's fields are (fast path), and where it starts (object path).
  private recIndex = 0;
  private recPos = 0;
  private keyPos = 0;
  private keyLen = -1;
  private valuePos = 0;
  private valueLen = -1;
  private headerCount = 0;
  /** Per header: key position, key length, value position, value length (-1: null). */
  private headers = new Int32Array(32);
  private object: BackupRecord | null = null;
  private objectError: { thrown: unknown } | null = null;
  private decoder: BatchRecords | null = null;

  constructor(
    private readonly header: BatchHeader,
    records: Buffer,
    from: bigint,
    private readonly end: bigint,
    private readonly window: TimeWindow,
    private readonly schemas: SchemaIdObserver,
  ) {
    this.buf = records;
    this.count = header.recordCount;
    this.tsType = header.timestampType;
    this.logAppend = header.timestampType === TimestampType.LogAppendTime;
    // With |delta| < 2^49 a base below 2^53 - 2^49 keeps every sum exact; isSafeInteger checks each.
    this.baseOffset = safeNumber(header.baseOffset);
    this.baseTimestamp = safeNumber(header.baseTimestamp);
    this.appendTime = this.logAppend ? safeNumber(header.maxTimestamp) : NaN;
    this.endN = Number(end);
    this.sinceMs = window.since ? window.since.getTime() : -Infinity;
    this.untilMs = window.until ? window.until.getTime() : Infinity;
    this.nextN = Number(from);
    this.nextB = from;
  }

  /** One past the last record in range that was looked at: where the partition's position moves. */
  get nextOffset(): bigint {
    return this.nextB ?? BigInt(this.nextN);
  }

  /** Moves to the next record that belongs in the segment; false when the batch has none left. */
  advance(): boolean {
    this.pending = false;
    this.fast = false;
    this.object = null;
    this.objectError = null;
    while (!this.done && this.i < this.count) {
      this.recIndex = this.i;
      this.recPos = this.pos;
      const r = this.parse();
      if (r === 0) {
        if (this.takeObject()) return true;
        continue;
      }
      // Parsed: this.offset and this.timestamp are safe integers.
      const off = this.offset;
      if (off < this.nextN) continue; // exact: see the module comment
      if (off >= this.endN) {
        this.done = true;
        return false;
      }
      this.nextN = off + 1;
      this.nextB = null;
      const ts = this.timestamp;
      if (ts < this.sinceMs || ts >= this.untilMs) continue;
      this.observe(this.keyPos, this.keyLen);
      this.observe(this.valuePos, this.valueLen);
      this.pending = true;
      this.fast = true;
      return true;
    }
    return false;
  }

  /** The pending record as an object, for the writer's own append (throws what the decoder threw). */
  pendingRecord(): BackupRecord {
    if (this.objectError !== null) throw this.objectError.thrown;
    if (this.object !== null) return this.object;
    return this.decodeAt(this.recIndex, this.recPos);
  }

  /** Writes the pending (fast) record's `size` bytes into `b` at `p`, as encodeRecordInto would (record-writer.ts). */
  writePending(b: Buffer, p: number): void {
    const src = this.buf;
    const { offset, timestamp } = this;
    let q = putRecordHead(b, p, this.size, highHalf(offset), lowHalf(offset), highHalf(timestamp), lowHalf(timestamp), this.tsType);
    q = putField(b, q, src, this.keyPos, this.keyLen);
    q = putField(b, q, src, this.valuePos, this.valueLen);
    const n = this.headerCount;
    q = putU32(b, q, n);
    const h = this.headers;
    for (let j = 0; j < n * 4; j += 4) {
      q = putField(b, q, src, h[j]!, h[j + 1]!);
      q = putField(b, q, src, h[j + 2]!, h[j + 3]!);
    }
  }

  private observe(start: number, len: number): void {
    if (len < 0) return;
    const id = framedSchemaIdAt(this.buf, start, len);
    if (id !== null) this.schemas.observeId(id);
  }

  /** The record at recPos decoded by the batch decoder, filtered the same way; false when it is skipped. */
  private takeObject(): boolean {
    let r: BackupRecord | null;
    try {
      r = this.decodeAt(this.recIndex, this.recPos);
    } catch (e) {
      // Raised when the writer asks for it, after the records before it are written.
      this.objectError = { thrown: e };
      this.done = true;
      this.pending = true;
      return true;
    }
    this.i = this.recIndex + 1;
    this.pos = this.decoder!.position;
    if (r.offset < this.nextOffset) return false;
    if (r.offset >= this.end) {
      this.done = true;
      return false;
    }
    this.nextB = r.offset + 1n;
    this.nextN = Number(this.nextB);
    if (!inWindow(r.timestamp, this.window)) return false;
    for (const payload of [r.key, r.value]) {
      const id = framedSchemaId(payload);
      if (id !== null) this.schemas.observeId(id);
    }
    this.object = r;
    this.pending = true;
    return true;
  }

  private decodeAt(index: number, pos: number): BackupRecord {
    this.decoder ??= new BatchRecords(this.header, this.buf);
    this.decoder.seek(index, pos);
    return this.decoder.next()!;
  }

  /**
   * Locates the fields of the record at `pos` and moves past it. 1: parsed, fast path;
   * 0: the object path decides (malformed, unsafe numbers or a key that is not valid UTF-8).
   */
  private parse(): number {
    const buf = this.buf;
    this.p = this.pos;
    const len = this.varint(buf.length);
    if (!(len >= 0)) return 0;
    const recEnd = this.p + len;
    if (recEnd > buf.length) return 0;
    this.p++; // record attributes (unused)
    const tsDelta = this.varint(recEnd);
    const offsetDelta = this.varint(recEnd);
    if (Number.isNaN(tsDelta) || Number.isNaN(offsetDelta)) return 0;
    let size = RECORD_MIN_SIZE;
    // Key and value: a negative length is null.
    this.keyLen = this.varint(recEnd);
    if (Number.isNaN(this.keyLen)) return 0;
    this.keyPos = this.p;
    if (this.keyLen >= 0) {
      if ((this.p += this.keyLen) > recEnd) return 0;
      size += this.keyLen;
    } else this.keyLen = -1;
    this.valueLen = this.varint(recEnd);
    if (Number.isNaN(this.valueLen)) return 0;
    this.valuePos = this.p;
    if (this.valueLen >= 0) {
      if ((this.p += this.valueLen) > recEnd) return 0;
      size += this.valueLen;
    } else this.valueLen = -1;
    let count = this.varint(recEnd);
    if (Number.isNaN(count)) return 0;
    if (count < 0) count = 0;
    // Each header takes at least two bytes: a larger count is malformed.
    if (count * 2 > recEnd - this.p) return 0;
    if (count * 4 > this.headers.length) this.headers = new Int32Array(count * 8);
    const h = this.headers;
    for (let j = 0; j < count * 4; j += 4) {
      const kl = this.varint(recEnd);
      if (!(kl >= 0)) return 0; // a null key is an error the decoder reports
      const kp = this.p;
      if ((this.p += kl) > recEnd) return 0;
      if (!headerKeys.valid(buf, kp, kl, j >> 2)) return 0;
      let vl = this.varint(recEnd);
      if (Number.isNaN(vl)) return 0;
      const vp = this.p;
      if (vl >= 0) {
        if ((this.p += vl) > recEnd) return 0;
        size += vl;
      } else vl = -1;
      size += HEADER_OVERHEAD + kl;
      h[j] = kp;
      h[j + 1] = kl;
      h[j + 2] = vp;
      h[j + 3] = vl;
    }
    const offset = this.baseOffset + offsetDelta;
    const timestamp = this.logAppend ? this.appendTime : this.baseTimestamp + tsDelta;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(timestamp)) return 0;
    this.headerCount = count;
    this.size = size;
    this.offset = offset;
    this.timestamp = timestamp;
    this.i++;
    this.pos = recEnd; // bytes after the last field are ignored, as the decoder does
    return 1;
  }

  /** Zigzag varint at `p`, exact (NaN when longer than 7 bytes or past `end`). */
  private varint(end: number): number {
    const buf = this.buf;
    let raw = 0;
    let mul = 1;
    for (let k = 0; k < MAX_FAST_VARINT_BYTES; k++) {
      if (this.p >= end) return NaN;
      const b = buf[this.p++]!;
      raw += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      mul *= 128;
    }
    return NaN;
  }
}
