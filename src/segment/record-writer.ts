/**
 * The one writer of segment records (FORMAT.md, "Records"): the field primitives below lay
 * a record out, and both writers of records use them: `encodeRecordInto` for a record
 * object (SegmentWriter.append), and the dump's batch transcoder (src/dump/transcode.ts) for
 * records whose fields it located in a fetched Kafka batch, with no object per record. The
 * two are tested byte for byte against each other (test/unit/transcode.test.ts).
 */
import { UnsupportedDataError } from '../errors';
import { HEADER_OVERHEAD, KEY_LENGTH_AT, MAX_BLOCK_RAW_BYTES, RECORD_MIN_SIZE } from './layout';
import { TimestampType, type BackupRecord } from './record';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U32_MAX = 0xffffffff;
const TWO_32 = 4294967296;
/** Field copies shorter than this are a byte loop: cheaper than a call into Buffer.copy. */
const SHORT_COPY = 16;

// With the u flag a surrogate pair is one code point, so this only matches unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

// ---------------------------------------------------------------- field primitives

/** A u32 (or an i32's bits) big-endian at `p`; returns the position after it. */
export function putU32(b: Buffer, p: number, v: number): number {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
  return p + 4;
}

/**
 * The high 32 bits of a safe integer, as a signed int32. With lowHalf, how the dump's fast
 * path hands a 64-bit offset or timestamp to putRecordHead: halves are small integers, which
 * V8 passes and stores without allocating (a double argument can cost a heap number).
 */
export function highHalf(v: number): number {
  return Math.floor(v / TWO_32);
}

/** The low 32 bits of a safe integer, as a signed int32 (the same bits as the unsigned value). */
export function lowHalf(v: number): number {
  return (v - Math.floor(v / TWO_32) * TWO_32) | 0;
}

/** The high and low halves of a bigint in the signed 64-bit range, as signed int32s. */
function bigHigh(v: bigint): number {
  return Number(v >> 32n);
}
function bigLow(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/**
 * The fixed head of a record of `size` bytes (length prefix included): the length, offset,
 * timestamp and timestamp type, the 64-bit values given as their high and low 32 bits
 * (int32 bit patterns). Returns the position of the key's length.
 */
export function putRecordHead(
  b: Buffer,
  p: number,
  size: number,
  offsetHigh: number,
  offsetLow: number,
  timestampHigh: number,
  timestampLow: number,
  type: TimestampType,
): number {
  putU32(b, p, size - 4);
  putU32(b, p + 4, offsetHigh);
  putU32(b, p + 8, offsetLow);
  putU32(b, p + 12, timestampHigh);
  putU32(b, p + 16, timestampLow);
  b[p + 20] = type;
  return p + KEY_LENGTH_AT;
}

/**
 * A length-prefixed byte field: src[start, start + len) with its i32 length, or the length
 * -1 alone when `len` is -1 (null). Returns the position after it.
 */
export function putField(b: Buffer, p: number, src: Buffer | null, start: number, len: number): number {
  if (len < 0 || src === null) return putU32(b, p, U32_MAX);
  p = putU32(b, p, len);
  if (len < SHORT_COPY) {
    for (let k = 0; k < len; k++) b[p + k] = src[start + k]!;
  } else {
    src.copy(b, p, start, start + len);
  }
  return p + len;
}

/** A header key given as a string: its UTF-8 bytes with their u32 length. */
function putKeyString(b: Buffer, p: number, key: string): number {
  const n = b.write(key, p + 4, 'utf8');
  return putU32(b, p, n) + n;
}

// ---------------------------------------------------------------- record objects

function checkI64(v: bigint, what: string): void {
  if (typeof v !== 'bigint' || v < I64_MIN || v > I64_MAX) {
    throw new UnsupportedDataError(`record ${what} ${String(v)} is not a signed 64-bit integer`);
  }
}

function bytesLen(b: Buffer | null): number {
  return b === null ? 0 : b.length;
}

/**
 * Header keys already checked (well-formed Unicode) with their UTF-8 length: a topic's
 * records repeat the same few keys, so the check and the length are computed once per key
 * instead of per record. Bounded: cleared when full.
 */
const KEY_INFO_LIMIT = 1024;
const keyInfo = new Map<string, number>();

/** UTF-8 length of a header key, or -1 when it is not a well-formed string. */
function headerKeyBytes(key: string): number {
  const known = keyInfo.get(key);
  if (known !== undefined) return known;
  // A lone surrogate would be written as U+FFFD and read back differently.
  if (typeof key !== 'string' || LONE_SURROGATE.test(key)) return -1;
  const n = Buffer.byteLength(key, 'utf8');
  if (keyInfo.size >= KEY_INFO_LIMIT) keyInfo.clear();
  keyInfo.set(key, n);
  return n;
}

/** Exact encoded size of a record, 4-byte length prefix included. */
export function encodedRecordSize(r: BackupRecord): number {
  let n = RECORD_MIN_SIZE + bytesLen(r.key) + bytesLen(r.value);
  for (const h of r.headers) n += HEADER_OVERHEAD + Buffer.byteLength(h.key, 'utf8') + bytesLen(h.value);
  return n;
}

function validateRecord(r: BackupRecord): void {
  checkI64(r.offset, 'offset');
  if (r.offset < 0n) throw new UnsupportedDataError(`record offset ${r.offset} is negative`);
  checkI64(r.timestamp, `timestamp (offset ${r.offset})`);
  if (r.timestampType !== TimestampType.CreateTime && r.timestampType !== TimestampType.LogAppendTime && r.timestampType !== TimestampType.Unknown) {
    throw new UnsupportedDataError(`record at offset ${r.offset}: unknown timestamp type ${String(r.timestampType)}`);
  }
  if (r.headers.length > U32_MAX) throw new UnsupportedDataError(`record at offset ${r.offset}: too many headers`);
}

/** Encodes one record, 4-byte length prefix included. Throws UnsupportedDataError on an unrepresentable record. */
export function encodeRecord(r: BackupRecord): Buffer {
  const size = checkedRecordSize(r);
  const b = Buffer.allocUnsafe(size);
  encodeRecordInto(r, b, 0, size);
  return b;
}

/** Validates a record and returns its encoded size (see encodeRecord). */
export function checkedRecordSize(r: BackupRecord): number {
  validateRecord(r);
  let size = RECORD_MIN_SIZE + bytesLen(r.key) + bytesLen(r.value);
  for (const h of r.headers) {
    const k = headerKeyBytes(h.key);
    if (k < 0) throw new UnsupportedDataError(`record at offset ${r.offset}: header key ${JSON.stringify(h.key)} is not well-formed Unicode`);
    size += HEADER_OVERHEAD + k + bytesLen(h.value);
  }
  if (size > MAX_BLOCK_RAW_BYTES) {
    throw new UnsupportedDataError(`record at offset ${r.offset} encodes to ${size} bytes, more than the limit ${MAX_BLOCK_RAW_BYTES}`);
  }
  return size;
}

/**
 * Writes a record checked by checkedRecordSize (whose result is `size`) into `b` at `p`,
 * so a writer can fill one block buffer without a buffer per record. Returns the end.
 */
export function encodeRecordInto(r: BackupRecord, b: Buffer, p: number, size: number): number {
  const start = p;
  p = putRecordHead(b, p, size, bigHigh(r.offset), bigLow(r.offset), bigHigh(r.timestamp), bigLow(r.timestamp), r.timestampType);
  p = putField(b, p, r.key, 0, r.key === null ? -1 : r.key.length);
  p = putField(b, p, r.value, 0, r.value === null ? -1 : r.value.length);
  p = putU32(b, p, r.headers.length);
  for (const h of r.headers) {
    p = putKeyString(b, p, h.key);
    p = putField(b, p, h.value, 0, h.value === null ? -1 : h.value.length);
  }
  if (p - start !== size) throw new Error(`encodeRecord: wrote ${p - start} bytes, computed ${size}`);
  return p;
}
