/**
 * Segment file format v1: constants and pure encoders/decoders (no I/O, no zstd).
 * FORMAT.md at the repository root is the normative description; keep them in sync.
 */
import { isUtf8 } from 'node:buffer';
import { IntegrityError, UnsupportedDataError } from '../errors';
import { BackupRecord, RecordHeader, TimestampType } from './record';

/** "KBAKSEG" followed by one 0x00 byte. */
export const MAGIC: Buffer = Buffer.from('KBAKSEG\0', 'latin1');
export const FORMAT_VERSION = 1;
export const FILE_HEADER_SIZE = 16;
export const BLOCK_HEADER_SIZE = 20;

export enum Codec {
  Stored = 0,
  Zstd = 1,
}

export const DEFAULT_BLOCK_BYTES = 1024 * 1024;

/**
 * Largest raw body a codec-1 block may have. zstd-codec runs in a fixed 16 MiB
 * Emscripten heap and aborts the process-wide module on OOM; a single-shot decode needs
 * the frame plus the output in that heap (measured limit ~5.4 MiB for incompressible
 * data), so 4 MiB leaves a margin for any conforming frame.
 */
export const MAX_ZSTD_RAW_BYTES = 4 * 1024 * 1024;

/**
 * Largest raw body of any block (and so the largest encoded record). Lets a reader refuse
 * a corrupt length before buffering, and keeps every block inside one Node Buffer.
 */
export const MAX_BLOCK_RAW_BYTES = 1024 * 1024 * 1024;

/** Bytes of an encoded record with null key, null value and no headers, length prefix included. */
export const RECORD_MIN_SIZE = 4 + 8 + 8 + 1 + 4 + 4 + 4;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U32_MAX = 0xffffffff;

// With the u flag a surrogate pair is one code point, so this only matches unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export interface BlockHeader {
  codec: Codec;
  /** Bytes of the uncompressed block body. */
  rawLength: number;
  /** Bytes that follow the block header for this block. */
  storedLength: number;
  recordCount: number;
  /** CRC-32 (zlib/gzip) of the raw body, as an unsigned number. */
  crc32: number;
}

/** Where in a segment something is, for error messages. */
export interface BlockContext {
  /** Segment (file) name. */
  name: string;
  /** 0-based block index. */
  blockIndex: number;
  /** File byte position of the block header. */
  position: number;
}

function at(ctx: BlockContext): string {
  return `segment ${ctx.name}: block ${ctx.blockIndex} at byte ${ctx.position}`;
}

// ---------------------------------------------------------------- file header

export function encodeFileHeader(): Buffer {
  const b = Buffer.alloc(FILE_HEADER_SIZE);
  MAGIC.copy(b, 0);
  b.writeUInt16BE(FORMAT_VERSION, 8);
  return b;
}

/** Validates magic and version. Reserved bytes are ignored, so a later minor use of them stays readable. */
export function parseFileHeader(buf: Buffer, name: string): { version: number } {
  if (buf.length < FILE_HEADER_SIZE) {
    throw new IntegrityError(`segment ${name}: truncated file header at byte 0 (${buf.length} of ${FILE_HEADER_SIZE} bytes)`);
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new IntegrityError(
      `segment ${name}: bad magic at byte 0 (got ${buf.subarray(0, MAGIC.length).toString('hex')}, expected ${MAGIC.toString('hex')}): not a kbak segment`,
    );
  }
  const version = buf.readUInt16BE(8);
  if (version !== FORMAT_VERSION) {
    throw new IntegrityError(
      `segment ${name}: unsupported format version ${version} at byte 8 (this kbak reads version ${FORMAT_VERSION})`,
      'upgrade kbak to read this backup',
    );
  }
  return { version };
}

// ---------------------------------------------------------------- block header

export function encodeBlockHeader(h: BlockHeader): Buffer {
  const b = Buffer.alloc(BLOCK_HEADER_SIZE);
  b.writeUInt8(h.codec, 0);
  b.writeUInt32BE(h.rawLength, 4);
  b.writeUInt32BE(h.storedLength, 8);
  b.writeUInt32BE(h.recordCount, 12);
  b.writeUInt32BE(h.crc32 >>> 0, 16);
  return b;
}

/**
 * Parses and checks a block header for consistency, so a reader never buffers or
 * decompresses on the word of a corrupt length. Reserved bytes are ignored.
 */
export function parseBlockHeader(buf: Buffer, ctx: BlockContext): BlockHeader {
  if (buf.length < BLOCK_HEADER_SIZE) {
    throw new IntegrityError(`${at(ctx)}: truncated block header (${buf.length} of ${BLOCK_HEADER_SIZE} bytes)`);
  }
  const codec = buf.readUInt8(0);
  const rawLength = buf.readUInt32BE(4);
  const storedLength = buf.readUInt32BE(8);
  const recordCount = buf.readUInt32BE(12);
  const crc32 = buf.readUInt32BE(16);
  if (codec !== Codec.Stored && codec !== Codec.Zstd) {
    throw new IntegrityError(`${at(ctx)}: unknown codec ${codec}`);
  }
  if (recordCount === 0) {
    throw new IntegrityError(`${at(ctx)}: record count is 0 (a block holds at least one record)`);
  }
  if (rawLength > MAX_BLOCK_RAW_BYTES) {
    throw new IntegrityError(`${at(ctx)}: raw length ${rawLength} exceeds the limit ${MAX_BLOCK_RAW_BYTES}`);
  }
  if (rawLength < recordCount * RECORD_MIN_SIZE) {
    throw new IntegrityError(`${at(ctx)}: raw length ${rawLength} is too small for ${recordCount} records (at least ${RECORD_MIN_SIZE} bytes each)`);
  }
  if (codec === Codec.Stored && storedLength !== rawLength) {
    throw new IntegrityError(`${at(ctx)}: stored block has stored length ${storedLength} != raw length ${rawLength}`);
  }
  if (codec === Codec.Zstd) {
    if (rawLength > MAX_ZSTD_RAW_BYTES) {
      throw new IntegrityError(`${at(ctx)}: zstd block raw length ${rawLength} exceeds the limit ${MAX_ZSTD_RAW_BYTES}`);
    }
    if (storedLength >= rawLength) {
      throw new IntegrityError(`${at(ctx)}: zstd block stored length ${storedLength} is not smaller than raw length ${rawLength}`);
    }
  }
  return { codec, rawLength, storedLength, recordCount, crc32 };
}

// ---------------------------------------------------------------- records

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
  for (const h of r.headers) n += 4 + Buffer.byteLength(h.key, 'utf8') + 4 + bytesLen(h.value);
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
    size += 8 + k + bytesLen(h.value);
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
  p = b.writeUInt32BE(size - 4, p);
  p = b.writeBigInt64BE(r.offset, p);
  p = b.writeBigInt64BE(r.timestamp, p);
  p = b.writeUInt8(r.timestampType, p);
  p = writeBytes(b, p, r.key);
  p = writeBytes(b, p, r.value);
  p = b.writeUInt32BE(r.headers.length, p);
  for (const h of r.headers) {
    const n = b.write(h.key, p + 4, 'utf8');
    p = b.writeUInt32BE(n, p) + n;
    p = writeBytes(b, p, h.value);
  }
  if (p - start !== size) throw new Error(`encodeRecord: wrote ${p - start} bytes, computed ${size}`);
  return p;
}

function writeBytes(b: Buffer, p: number, v: Buffer | null): number {
  if (v === null) return b.writeInt32BE(-1, p);
  p = b.writeInt32BE(v.length, p);
  b.set(v, p);
  return p + v.length;
}

/**
 * Where the fields of one record lie in its buffer, once scanRecordAt has made every check
 * of FORMAT.md "Records" on it. Lengths are -1 for null.
 */
export interface RecordLayout {
  offset: bigint;
  timestamp: bigint;
  timestampType: TimestampType;
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
  headerCount: number;
  /** Position of the first header (its key length). */
  headersStart: number;
  /** Position after the record. */
  next: number;
}

/** Whether buf[from, from + n) is UTF-8; an ASCII key (the usual) is checked without a view. */
function utf8At(buf: Buffer, from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) if (buf[i]! >= 0x80) return isUtf8(buf.subarray(from, from + n));
  return true;
}

/**
 * Checks the one record that starts at `p` in `buf` and must end by `limit`, and says where
 * its fields are, without building anything per header: what a reader that only needs
 * offsets (verify) or streams the headers out (cat) uses, so a legal record of millions of
 * headers costs no memory beyond its own bytes. `basePos` is the raw body position of
 * `buf[0]`, so error messages name raw body positions even when a reader hands over one
 * record at a time.
 */
export function scanRecordAt(buf: Buffer, p: number, limit: number, index: number, ctx: BlockContext, basePos = 0): RecordLayout {
  const fail = (what: string, pos: number): never => {
    throw new IntegrityError(`${at(ctx)}: record ${index} at raw body byte ${basePos + pos}: ${what}`);
  };
  if (limit - p < 4) fail('truncated record length', p);
  const len = buf.readUInt32BE(p);
  const start = p + 4;
  const end = start + len;
  if (len < RECORD_MIN_SIZE - 4) fail(`record length ${len} is smaller than the minimum ${RECORD_MIN_SIZE - 4}`, p);
  if (end > limit) fail(`record length ${len} runs past the end of the block body`, p);
  let q = start;
  const need = (n: number, what: string): void => {
    if (end - q < n) fail(`${what} (${n} bytes) runs past the record end`, q);
  };
  const offset = buf.readBigInt64BE(q);
  if (offset < 0n) fail(`negative offset ${offset}`, q);
  q += 8;
  const timestamp = buf.readBigInt64BE(q);
  q += 8;
  const tsType = buf.readUInt8(q);
  if (tsType !== TimestampType.CreateTime && tsType !== TimestampType.LogAppendTime && tsType !== TimestampType.Unknown) {
    fail(`unknown timestamp type ${tsType}`, q);
  }
  q += 1;
  /** A length-prefixed field: its length (-1: null), q moved past it. */
  const field = (what: string): number => {
    need(4, `${what} length`);
    const n = buf.readInt32BE(q);
    if (n < -1) fail(`${what} length ${n} is negative`, q);
    q += 4;
    if (n > 0) {
      need(n, what);
      q += n;
    }
    return n;
  };
  const keyLength = field('key');
  const keyStart = q - Math.max(keyLength, 0);
  const valueLength = field('value');
  const valueStart = q - Math.max(valueLength, 0);
  need(4, 'header count');
  const headerCount = buf.readUInt32BE(q);
  q += 4;
  // Each header needs at least 8 bytes: check before looping on a corrupt count.
  if (headerCount * 8 > end - q) fail(`header count ${headerCount} does not fit in the record`, q - 4);
  const headersStart = q;
  for (let i = 0; i < headerCount; i++) {
    need(4, `header ${i} key length`);
    const kl = buf.readUInt32BE(q);
    q += 4;
    need(kl, `header ${i} key`);
    if (!utf8At(buf, q, kl)) fail(`header ${i} key is not valid UTF-8`, q);
    q += kl;
    field(`header ${i} value`);
  }
  if (q !== end) fail(`${end - q} unused bytes at the end of the record`, q);
  return { offset, timestamp, timestampType: tsType as TimestampType, keyStart, keyLength, valueStart, valueLength, headerCount, headersStart, next: end };
}

/**
 * Calls `each` with the key and value position and length (-1: null value) of every header
 * of a record scanRecordAt checked, in order; nothing is allocated per header.
 */
export function eachHeader(buf: Buffer, r: RecordLayout, each: (keyStart: number, keyLength: number, valueStart: number, valueLength: number) => void): void {
  let q = r.headersStart;
  for (let i = 0; i < r.headerCount; i++) {
    const kl = buf.readUInt32BE(q);
    const vl = buf.readInt32BE(q + 4 + kl);
    each(q + 4, kl, q + 8 + kl, vl);
    q += 8 + kl + Math.max(vl, 0);
  }
}

/**
 * Decodes the one record that starts at `p` in `buf` and must end by `limit` (checked by
 * scanRecordAt, whose arguments these are). Values are copied out so a kept record does
 * not pin the whole block in memory, unless `views` is set: a consumer that is done with
 * each record before the next block (restore) gets views into `buf` and saves a copy (and
 * the garbage) of every key, value and header value. One object per header: readers of
 * records that may carry millions of headers use scanRecordAt instead.
 */
export function decodeRecordAt(
  buf: Buffer,
  p: number,
  limit: number,
  index: number,
  ctx: BlockContext,
  basePos = 0,
  views = false,
): { record: BackupRecord; next: number } {
  const r = scanRecordAt(buf, p, limit, index, ctx, basePos);
  const bytes = (start: number, n: number): Buffer | null =>
    n < 0 ? null : views ? buf.subarray(start, start + n) : Buffer.from(buf.subarray(start, start + n));
  const headers: RecordHeader[] = new Array<RecordHeader>(r.headerCount);
  let i = 0;
  // Keys are checked UTF-8 already; toString keeps a leading U+FEFF, as a key must.
  eachHeader(buf, r, (ks, kl, vs, vl) => void (headers[i++] = { key: buf.toString('utf8', ks, ks + kl), value: bytes(vs, vl) }));
  const record: BackupRecord = {
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    key: bytes(r.keyStart, r.keyLength),
    value: bytes(r.valueStart, r.valueLength),
    headers,
  };
  return { record, next: r.next };
}

/**
 * Decodes a raw block body that must hold exactly `expectedCount` records and nothing
 * else. Offsets are only checked for range here; ordering is the reader's job (it spans blocks).
 */
export function decodeRecords(body: Buffer, expectedCount: number, ctx: BlockContext, views = false): BackupRecord[] {
  const out: BackupRecord[] = [];
  let p = 0;
  while (p < body.length) {
    if (out.length >= expectedCount) {
      throw new IntegrityError(`${at(ctx)}: record ${out.length} at raw body byte ${p}: more records than the block header's count ${expectedCount}`);
    }
    const { record, next } = decodeRecordAt(body, p, body.length, out.length, ctx, 0, views);
    out.push(record);
    p = next;
  }
  if (out.length !== expectedCount) {
    throw new IntegrityError(`${at(ctx)}: block body holds ${out.length} records, block header says ${expectedCount}`);
  }
  return out;
}
