/**
 * The one walker over segment records (FORMAT.md, "Records"): every reader of a record's
 * bytes goes through it, whether it builds objects (decodeRecordAt), checks records in place
 * (scanRecordAt: verify, cat), walks the framing only (reader.ts, restore's raw blocks) or
 * copies the fields straight into a Kafka record set (restore's transcoder).
 *
 * A walk allocates nothing: the fields of the last record walked are the walker's own
 * properties, header positions go into an Int32Array it keeps (grown, never per record),
 * and a record that breaks a rule is reported as a code, a position and a value; only
 * `error()` builds the message, naming the first rule broken, in the order FORMAT.md lists
 * the fields. Offsets and timestamps are kept as 32-bit halves so the fast paths need no
 * BigInt; `offset()` and `timestamp()` give the exact values.
 */
import { IntegrityError } from '../errors';
import { isTimestampType, TimestampType } from './record';
import { HeaderKeyCheck } from './header-keys';
import { blockWhere, HEADER_OVERHEAD, OFFSET_AT, RECORD_MIN_SIZE, TIMESTAMP_AT, type BlockContext } from './layout';

/** What was wrong with the last record walked (0: nothing). */
const enum Fault {
  None,
  TruncatedLength,
  /** The length prefix breaks the framing rule (recordLengthProblem). */
  Length,
  NegativeOffset,
  UnknownTimestampType,
  /** A field (or its length) runs past the record end: `value` bytes needed. */
  RunsPast,
  /** A length below -1: `value` is the length. */
  NegativeLength,
  HeaderCount,
  KeyNotUtf8,
  UnusedBytes,
}

/** Which field a RunsPast or NegativeLength fault is about. */
const enum Field {
  Key,
  Value,
  HeaderCount,
  HeaderKey,
  HeaderValue,
}

/** Header positions a walker keeps room for between records: 64 KiB. */
const KEPT_HEADERS = 4096;

/**
 * Why a record whose length prefix says `len` does not fit the `room` bytes after the
 * prefix, or null when it does: the framing rule, shared with the reader that streams a
 * large block record by record and sees one length prefix at a time.
 */
export function recordLengthProblem(len: number, room: number): string | null {
  if (len < RECORD_MIN_SIZE - 4) return `record length ${len} is smaller than the minimum ${RECORD_MIN_SIZE - 4}`;
  if (len > room) return `record length ${len} runs past the end of the block body`;
  return null;
}

export class SegmentRecordWalker {
  /** Position of the record's length prefix, and the position after the record. */
  start = 0;
  next = 0;
  /**
   * The offset and timestamp as their high and low 32 bits, each as a signed int32 (`>>> 0`
   * gives the unsigned low half): small integers, which V8 stores without allocating.
   */
  offsetHigh = 0;
  offsetLow = 0;
  timestampHigh = 0;
  timestampLow = 0;
  timestampType: TimestampType = TimestampType.CreateTime;
  /** Key and value position and length (-1: null). Set by walk, not by frame. */
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  headerCount = 0;
  /** Position of the first header (its key length). */
  headersStart = 0;
  /**
   * With `keepHeaders`: per header, key position, key length, value position and value
   * length (-1: null). Four ints (16 bytes) per header, each of which takes at least 8
   * record bytes: at most twice the record.
   */
  headers = new Int32Array(64);
  /** The array `headers` returns to after a record with more than KEPT_HEADERS headers. */
  private kept = this.headers;

  private fault: Fault = Fault.None;
  private faultPos = 0;
  private faultValue = 0;
  /** Bytes after the length prefix up to the limit, for a Length fault. */
  private faultRoom = 0;
  /** The length field() read last. */
  private fieldLength = 0;
  private faultField: Field = Field.Key;
  private faultOfLength = false;
  private faultIndex = 0;
  private faultOffset = 0n;
  private readonly keys = new HeaderKeyCheck();

  /**
   * Checks the framing of the record at `p` that must end by `limit` (its length prefix)
   * and reads its offset; false (see error()) when the length does not fit.
   */
  frame(buf: Buffer, p: number, limit: number): boolean {
    this.start = p;
    if (limit - p < 4) return this.fail(Fault.TruncatedLength, p);
    const len = buf.readUInt32BE(p);
    const end = p + 4 + len;
    if (len < RECORD_MIN_SIZE - 4 || end > limit) {
      this.faultRoom = limit - p - 4;
      return this.fail(Fault.Length, p, len);
    }
    this.next = end;
    // Inside the record: the minimum length covers offset, timestamp, type and three lengths.
    this.offsetHigh = buf.readInt32BE(p + OFFSET_AT);
    this.offsetLow = buf.readInt32BE(p + OFFSET_AT + 4);
    return true;
  }

  /**
   * Makes every check of FORMAT.md "Records" on the record at `p` that must end by `limit`
   * and sets the fields; false (see error()) at the first rule it breaks. `keepHeaders`
   * fills `headers` too.
   */
  walk(buf: Buffer, p: number, limit: number, keepHeaders = false): boolean {
    if (!this.frame(buf, p, limit)) return false;
    const end = this.next;
    let q = p + OFFSET_AT;
    if (this.offsetHigh < 0) return this.fail(Fault.NegativeOffset, q);
    q = p + TIMESTAMP_AT;
    this.timestampHigh = buf.readInt32BE(q);
    this.timestampLow = buf.readInt32BE(q + 4);
    q += 8;
    const type = buf[q]!;
    if (!isTimestampType(type)) {
      return this.fail(Fault.UnknownTimestampType, q, type);
    }
    this.timestampType = type;
    q += 1;
    // Key and value: an i32 length (-1: null), then the bytes.
    this.keyStart = q + 4;
    q = this.field(buf, q, end, Field.Key, 0);
    if (q < 0) return false;
    this.keyLength = this.fieldLength;
    this.valueStart = q + 4;
    q = this.field(buf, q, end, Field.Value, 0);
    if (q < 0) return false;
    this.valueLength = this.fieldLength;
    if (end - q < 4) {
      this.runsPast(q, 4, Field.HeaderCount, false, 0);
      return false;
    }
    const count = buf.readUInt32BE(q);
    q += 4;
    // Each header needs at least 8 bytes: checked before looping on a corrupt count.
    if (count * HEADER_OVERHEAD > end - q) return this.fail(Fault.HeaderCount, q - 4, count);
    this.headerCount = count;
    this.headersStart = q;
    if (keepHeaders) this.roomForHeaders(count);
    const h = this.headers;
    for (let i = 0; i < count; i++) {
      if (end - q < 4) {
        this.runsPast(q, 4, Field.HeaderKey, true, i);
        return false;
      }
      const kl = buf.readUInt32BE(q);
      q += 4;
      if (end - q < kl) {
        this.runsPast(q, kl, Field.HeaderKey, false, i);
        return false;
      }
      if (!this.keys.valid(buf, q, kl, i)) {
        this.faultIndex = i;
        return this.fail(Fault.KeyNotUtf8, q);
      }
      if (keepHeaders) {
        h[i * 4] = q;
        h[i * 4 + 1] = kl;
      }
      q += kl;
      const vs = q + 4;
      q = this.field(buf, q, end, Field.HeaderValue, i);
      if (q < 0) return false;
      if (keepHeaders) {
        h[i * 4 + 2] = vs;
        h[i * 4 + 3] = this.fieldLength;
      }
    }
    if (q !== end) return this.fail(Fault.UnusedBytes, q, end - q);
    return true;
  }

  /**
   * Points `headers` at an array with room for `count` headers: the kept one, grown up to
   * KEPT_HEADERS; above that one of the record's own, dropped with the record (a walker that
   * lives as long as the process must not keep the positions of its largest record).
   */
  private roomForHeaders(count: number): void {
    if (count * 4 <= this.kept.length) {
      this.headers = this.kept;
      return;
    }
    const room = new Int32Array(count * 4);
    if (count <= KEPT_HEADERS) this.kept = room;
    this.headers = room;
  }

  /**
   * The length-prefixed field at `q` (an i32 length, -1: null, then the bytes) that must end
   * by `end`: its length goes to fieldLength; returns the position after it, or -1 when it
   * breaks a rule.
   */
  private field(buf: Buffer, q: number, end: number, field: Field, index: number): number {
    if (end - q < 4) {
      this.runsPast(q, 4, field, true, index);
      return -1;
    }
    const n = buf.readInt32BE(q);
    if (n < -1) {
      this.negative(q, n, field, index);
      return -1;
    }
    q += 4;
    if (n > 0) {
      if (end - q < n) {
        this.runsPast(q, n, field, false, index);
        return -1;
      }
      q += n;
    }
    this.fieldLength = n;
    return q;
  }

  /** The exact offset of the record walked last (framed or walked). */
  offset(): bigint {
    return (BigInt(this.offsetHigh) << 32n) + BigInt(this.offsetLow >>> 0);
  }

  /** The exact timestamp of the record walked last (walked). */
  timestamp(): bigint {
    return (BigInt(this.timestampHigh) << 32n) + BigInt(this.timestampLow >>> 0);
  }

  /**
   * The error for the record whose frame or walk returned false: record `index` of the
   * block `ctx`, whose raw body byte `basePos` is buf[0] (a reader may hand over one record
   * of a block at a time), and the first rule it breaks.
   */
  error(ctx: BlockContext, index: number, basePos = 0): IntegrityError {
    return new IntegrityError(`${blockWhere(ctx)}: record ${index} at raw body byte ${basePos + this.faultPos}: ${this.problem()}`);
  }

  private problem(): string {
    const v = this.faultValue;
    switch (this.fault) {
      case Fault.TruncatedLength:
        return 'truncated record length';
      case Fault.Length:
        return recordLengthProblem(v, this.faultRoom)!;
      case Fault.NegativeOffset:
        return `negative offset ${this.faultOffset}`;
      case Fault.UnknownTimestampType:
        return `unknown timestamp type ${v}`;
      case Fault.RunsPast:
        return `${this.fieldName()}${this.faultOfLength ? ' length' : ''} (${v} bytes) runs past the record end`;
      case Fault.NegativeLength:
        return `${this.fieldName()} length ${v} is negative`;
      case Fault.HeaderCount:
        return `header count ${v} does not fit in the record`;
      case Fault.KeyNotUtf8:
        return `header ${this.faultIndex} key is not valid UTF-8`;
      case Fault.UnusedBytes:
        return `${v} unused bytes at the end of the record`;
      default:
        return 'no problem found';
    }
  }

  private fieldName(): string {
    switch (this.faultField) {
      case Field.Key:
        return 'key';
      case Field.Value:
        return 'value';
      case Field.HeaderCount:
        return 'header count';
      case Field.HeaderKey:
        return `header ${this.faultIndex} key`;
      default:
        return `header ${this.faultIndex} value`;
    }
  }

  private fail(fault: Fault, pos: number, value = 0): false {
    this.fault = fault;
    this.faultPos = pos;
    this.faultValue = value;
    if (fault === Fault.NegativeOffset) this.faultOffset = this.offset();
    return false;
  }

  /** Notes that a field (or its length) runs past the record end. */
  private runsPast(pos: number, n: number, field: Field, ofLength: boolean, index: number): void {
    this.faultField = field;
    this.faultOfLength = ofLength;
    this.faultIndex = index;
    this.fail(Fault.RunsPast, pos, n);
  }

  /** Notes that a field's length is below -1. */
  private negative(pos: number, n: number, field: Field, index: number): void {
    this.faultField = field;
    this.faultIndex = index;
    this.fail(Fault.NegativeLength, pos, n);
  }
}

/**
 * Calls `each` with the key and value position and length (-1: null value) of every header
 * of a record the walker checked (`headersStart`, `headerCount` of its walk), in order;
 * nothing is allocated per header, so a record of millions of headers costs its own bytes.
 */
export function eachHeader(
  buf: Buffer,
  r: { headersStart: number; headerCount: number },
  each: (keyStart: number, keyLength: number, valueStart: number, valueLength: number) => void,
): void {
  let q = r.headersStart;
  for (let i = 0; i < r.headerCount; i++) {
    const kl = buf.readUInt32BE(q);
    const vl = buf.readInt32BE(q + 4 + kl);
    each(q + 4, kl, q + 8 + kl, vl);
    q += 8 + kl + Math.max(vl, 0);
  }
}
