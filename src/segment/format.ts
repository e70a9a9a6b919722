/**
 * Segment file format v1: constants and pure encoders/decoders (no I/O, no zstd).
 * FORMAT.md at the repository root is the normative description; keep them in sync.
 */
import { IntegrityError } from '../errors';
import { blockWhere as at, MAX_BLOCK_RAW_BYTES, OFFSET_AT, RECORD_MIN_SIZE, TIMESTAMP_AT, type BlockContext } from './layout';
import { SegmentRecordWalker } from './record-walker';
import type { BackupRecord, RecordHeader, TimestampType } from './record';

export { MAX_BLOCK_RAW_BYTES, RECORD_MIN_SIZE, type BlockContext } from './layout';
export { eachHeader } from './record-walker';
export { checkedRecordSize, encodedRecordSize, encodeRecord, encodeRecordInto } from './record-writer';

/** "KBAKSEG" followed by one 0x00 byte. */
export const MAGIC: Buffer = Buffer.from('KBAKSEG\0', 'latin1');
export const FORMAT_VERSION = 1;
export const FILE_HEADER_SIZE = 16;
export const BLOCK_HEADER_SIZE = 20;

export enum Codec {
  Stored = 0,
  Zstd = 1,
}

const isCodec = (n: number): n is Codec => n === (Codec.Stored as number) || n === (Codec.Zstd as number);

export const DEFAULT_BLOCK_BYTES = 1024 * 1024;

/**
 * Largest raw body a codec-1 block may have. zstd-codec runs in a fixed 16 MiB
 * Emscripten heap and aborts the process-wide module on OOM; a single-shot decode needs
 * the frame plus the output in that heap (measured limit ~5.4 MiB for incompressible
 * data), so 4 MiB leaves a margin for any conforming frame.
 */
export const MAX_ZSTD_RAW_BYTES = 4 * 1024 * 1024;

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
  if (!isCodec(codec)) {
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

/**
 * The walker behind scanRecordAt, decodeRecordAt and decodeRecords. Walks are synchronous
 * and nothing of one outlives the call, so one walker serves every caller.
 */
const walker = new SegmentRecordWalker();

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

/**
 * Checks the one record that starts at `p` in `buf` and must end by `limit`, and says where
 * its fields are, without building anything per header: what a reader that only needs
 * offsets (verify) or streams the headers out (cat) uses, so a legal record of millions of
 * headers costs no memory beyond its own bytes. `basePos` is the raw body position of
 * `buf[0]`, so error messages name raw body positions even when a reader hands over one
 * record at a time.
 */
export function scanRecordAt(buf: Buffer, p: number, limit: number, index: number, ctx: BlockContext, basePos = 0): RecordLayout {
  const w = walker;
  if (!w.walk(buf, p, limit)) throw w.error(ctx, index, basePos);
  return {
    offset: buf.readBigInt64BE(p + OFFSET_AT),
    timestamp: buf.readBigInt64BE(p + TIMESTAMP_AT),
    timestampType: w.timestampType,
    keyStart: w.keyStart,
    keyLength: w.keyLength,
    valueStart: w.valueStart,
    valueLength: w.valueLength,
    headerCount: w.headerCount,
    headersStart: w.headersStart,
    next: w.next,
  };
}

/**
 * Decodes the one record that starts at `p` in `buf` and must end by `limit` (checked as
 * scanRecordAt checks it, whose arguments these are). Values are copied out so a kept
 * record does not pin the whole block in memory, unless `views` is set: a consumer that is
 * done with each record before the next block (restore) gets views into `buf` and saves a
 * copy (and the garbage) of every key, value and header value. One object per header:
 * readers of records that may carry millions of headers use scanRecordAt instead.
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
  const w = walker;
  if (!w.walk(buf, p, limit, true)) throw w.error(ctx, index, basePos);
  const n = w.headerCount;
  const h = w.headers;
  const headers: RecordHeader[] = new Array<RecordHeader>(n);
  // Keys are checked UTF-8 already; toString keeps a leading U+FEFF, as a key must.
  for (let i = 0; i < n; i++) {
    const ks = h[i * 4]!;
    headers[i] = { key: buf.toString('utf8', ks, ks + h[i * 4 + 1]!), value: bytesAt(buf, h[i * 4 + 2]!, h[i * 4 + 3]!, views) };
  }
  const record: BackupRecord = {
    offset: buf.readBigInt64BE(p + OFFSET_AT),
    timestamp: buf.readBigInt64BE(p + TIMESTAMP_AT),
    timestampType: w.timestampType,
    key: bytesAt(buf, w.keyStart, w.keyLength, views),
    value: bytesAt(buf, w.valueStart, w.valueLength, views),
    headers,
  };
  return { record, next: w.next };
}

/** A field's bytes (null for length -1): a view into `buf`, or a copy of its own. */
function bytesAt(buf: Buffer, start: number, n: number, view: boolean): Buffer | null {
  if (n < 0) return null;
  const v = buf.subarray(start, start + n);
  return view ? v : Buffer.from(v);
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
