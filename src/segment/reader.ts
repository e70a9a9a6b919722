/**
 * Streaming segment reader (FORMAT.md, "Segment files"). Buffers at most one block of up to
 * 4 MiB, or one record of a larger stored block, plus one source chunk; source chunks may
 * be split anywhere, including inside headers. Cost is linear in the input.
 *
 * Records of a block up to 4 MiB are yielded only after that block's CRC and framing check
 * out (larger stored blocks: record by record, CRC at the block's end), but
 * the whole-file SHA-256 and record count can only be checked after the last block: a
 * consumer must treat the segment as bad if the generator throws at any point.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { IntegrityError, UsageError } from '../errors';
import {
  BLOCK_HEADER_SIZE,
  type BlockContext,
  Codec,
  decodeRecordAt,
  decodeRecords,
  FILE_HEADER_SIZE,
  MAX_ZSTD_RAW_BYTES,
  parseBlockHeader,
  parseFileHeader,
} from './format';
import type { BackupRecord } from './record';
import { recordLengthProblem, SegmentRecordWalker } from './record-walker';
import { decompressBlock, ZstdFrameError } from './zstd';

/**
 * Stored blocks up to this size are buffered whole (their records handed out after the CRC
 * check, like zstd blocks, which never exceed it); larger ones are streamed record by record.
 */
const STREAM_STORED_ABOVE = MAX_ZSTD_RAW_BYTES;

export interface ReadSegmentOptions {
  /** Segment name for error messages (file or object key). */
  name: string;
  /** Hex SHA-256 of the whole file, e.g. from the manifest. */
  expectedSha256?: string;
  expectedRecords?: number;
  /**
   * Raw (uncompressed) bytes the segment's blocks may declare in all, e.g. the manifest's
   * `rawBytes`. A block that would take the total past it is refused before it is
   * decompressed or buffered, so the work of reading a segment is bounded by what its
   * manifest entry declares, whatever its zstd frames expand to.
   */
  expectedRawBytes?: number;
  /**
   * Hand out keys, values and header values as views into the block they came from instead
   * of copies. Only for a consumer that drops each record before it asks for the next block
   * (a kept view pins its whole block, up to 4 MiB).
   */
  views?: boolean;
}

export interface SegmentReadSummary {
  records: number;
  blocks: number;
  /** File size in bytes. */
  bytes: number;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
}

/**
 * FIFO of byte chunks that hands out exact-length slices, copying only when a slice spans
 * chunks. Consumed chunks are dropped by index (compacted now and then), so a source that
 * delivers many tiny chunks costs linear time, not quadratic. A consumed chunk's slot is
 * cleared at once: the array is compacted only every 64 chunks, and holding on to 64
 * consumed 1 MiB read chunks per partition was most of a restore's memory.
 */
export class ByteQueue {
  private chunks: Array<Buffer | undefined> = [];
  private first = 0;
  private head = 0;
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** The next n bytes without consuming them. */
  peek(n: number): Buffer {
    return this.copyOut(n, false);
  }

  take(n: number): Buffer {
    return this.copyOut(n, true);
  }

  /**
   * Like take, but bytes that span chunks are copied into a scratch buffer that the next
   * takeTransient call overwrites: for a caller done with them before it takes more.
   */
  takeTransient(n: number): Buffer {
    return this.copyOut(n, true, true);
  }

  private scratch: Buffer | undefined;

  private copyOut(n: number, consume: boolean, transient = false): Buffer {
    if (n > this.length) throw new Error(`ByteQueue: ${n} bytes asked with ${this.length} buffered`);
    const c0 = this.chunks[this.first];
    if (c0 !== undefined && c0.length - this.head >= n) {
      const out = c0.subarray(this.head, this.head + n);
      if (consume) this.advance(n);
      return out;
    }
    let out: Buffer;
    if (transient) {
      if (this.scratch === undefined || this.scratch.length < n) this.scratch = Buffer.allocUnsafe(n);
      out = this.scratch.subarray(0, n);
    } else {
      out = Buffer.allocUnsafe(n);
    }
    let filled = 0;
    let ci = this.first;
    let h = this.head;
    while (filled < n) {
      const c = this.chunks[ci] as Buffer;
      const k = Math.min(n - filled, c.length - h);
      c.copy(out, filled, h, h + k);
      filled += k;
      h += k;
      if (h === c.length) {
        ci++;
        h = 0;
      }
    }
    if (consume) this.advance(n);
    return out;
  }

  private advance(n: number): void {
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[this.first] as Buffer;
      const k = Math.min(n, c.length - this.head);
      this.head += k;
      n -= k;
      if (this.head === c.length) {
        this.chunks[this.first] = undefined;
        this.first++;
        this.head = 0;
      }
    }
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}

function toBuffer(c: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

async function decompress(payload: Buffer, rawLength: number, ctx: BlockContext): Promise<Buffer> {
  const where = `segment ${ctx.name}: block ${ctx.blockIndex} at byte ${ctx.position}: zstd payload at byte ${ctx.position + BLOCK_HEADER_SIZE}`;
  for (let attempt = 0; ; attempt++) {
    try {
      return await decompressBlock(payload, rawLength);
    } catch (e) {
      if (e instanceof ZstdFrameError) throw new IntegrityError(`${where}: ${e.message}`);
      // A zstd-codec abort discards the instance; one retry runs on a fresh one.
      if (attempt >= 1) throw e;
    }
  }
}

/**
 * The segment's records, one at a time (see readSegmentBlocks for the checks and their
 * timing).
 */
export async function* readSegment(
  source: AsyncIterable<Buffer | Uint8Array>,
  opts: ReadSegmentOptions,
): AsyncGenerator<BackupRecord, SegmentReadSummary, undefined> {
  const blocks = readSegmentBlocks(source, opts);
  let finished = false;
  try {
    for (;;) {
      const next = await blocks.next();
      if (next.done) {
        finished = true;
        return next.value;
      }
      const recs: Array<BackupRecord | undefined> = next.value;
      // Index, never shift() (quadratic); clear each slot so a handed-out record is not pinned.
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i] as BackupRecord;
        recs[i] = undefined;
        yield r;
      }
    }
  } finally {
    if (!finished) await blocks.return(undefined as never);
  }
}

/**
 * One checked block body as it is in the segment: its CRC-32 matched (a streamed large
 * stored block: one record at a time, CRC checked after its last record), nothing decoded.
 */
interface CheckedBody {
  body: Buffer;
  count: number;
  ctx: BlockContext;
  /** Raw body position of body[0] and index of its first record (non-zero for a streamed record). */
  basePos: number;
  firstIndex: number;
  streamed: boolean;
}

/**
 * The file header, block headers, CRCs, record count and SHA-256 of a segment, with each
 * block body handed out once its CRC checked out. The records inside are the caller's to
 * decode and check (readSegmentBlocks, readSegmentRawBlocks).
 */
async function* checkedBodies(
  source: AsyncIterable<Buffer | Uint8Array>,
  opts: ReadSegmentOptions,
): AsyncGenerator<CheckedBody, SegmentReadSummary, undefined> {
  const name = opts.name;
  checkExpectedSha256(opts);
  const hash = createHash('sha256');
  const it = source[Symbol.asyncIterator]();
  const q = new ByteQueue();
  let done = false;
  let bytesIn = 0;

  const fill = async (n: number): Promise<boolean> => {
    while (q.length < n && !done) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      const b = toBuffer(r.value);
      hash.update(b);
      bytesIn += b.length;
      q.push(b);
    }
    return q.length >= n;
  };

  try {
    await fill(FILE_HEADER_SIZE);
    parseFileHeader(q.take(Math.min(FILE_HEADER_SIZE, q.length)), name);
    let pos = FILE_HEADER_SIZE;
    let blockIndex = 0;
    let records = 0;
    let rawTotal = 0;

    while (await fill(1)) {
      const ctx: BlockContext = { name, blockIndex, position: pos };
      if (!(await fill(BLOCK_HEADER_SIZE))) {
        throw new IntegrityError(
          `segment ${name}: block ${blockIndex} at byte ${pos}: truncated block header or trailing garbage (${q.length} bytes left, a block header is ${BLOCK_HEADER_SIZE})`,
        );
      }
      const h = parseBlockHeader(q.take(BLOCK_HEADER_SIZE), ctx);
      rawTotal += h.rawLength;
      if (opts.expectedRawBytes !== undefined && rawTotal > opts.expectedRawBytes) {
        throw new IntegrityError(
          `segment ${name}: block ${blockIndex} at byte ${pos}: the blocks declare more than the ${opts.expectedRawBytes} raw bytes its manifest entry says (${rawTotal} so far)`,
        );
      }
      if (h.codec === Codec.Stored && h.storedLength > STREAM_STORED_ABOVE) {
        // A large stored block (a record bigger than any codec-1 block, or a crafted block of
        // many tiny records) is read one record at a time: memory is one record, not the
        // block. Its CRC can only be checked at its end, after its records were handed out;
        // consumers already wait for the whole-file SHA-256 before trusting any record.
        let crc = 0;
        let used = 0;
        for (let i = 0; i < h.recordCount; i++) {
          const where = `segment ${name}: block ${blockIndex} at byte ${pos}: record ${i} at raw body byte ${used}`;
          if (used === h.storedLength) {
            throw new IntegrityError(`segment ${name}: block ${blockIndex} at byte ${pos}: block body holds ${i} records, block header says ${h.recordCount}`);
          }
          if (!(await fill(4))) throw truncatedPayload(ctx, used + q.length, h.storedLength);
          const len = q.peek(4).readUInt32BE(0);
          const problem = recordLengthProblem(len, h.storedLength - used - 4);
          if (problem !== null) throw new IntegrityError(`${where}: ${problem}`);
          if (!(await fill(4 + len))) throw truncatedPayload(ctx, used + q.length, h.storedLength);
          const buf = q.take(4 + len);
          crc = crc32(buf, crc);
          yield { body: buf, count: 1, ctx, basePos: used, firstIndex: i, streamed: true };
          used += buf.length;
          records++;
        }
        if (used !== h.storedLength) {
          throw new IntegrityError(
            `segment ${name}: block ${blockIndex} at byte ${pos}: record ${h.recordCount} at raw body byte ${used}: more records than the block header's count ${h.recordCount}`,
          );
        }
        checkCrc(crc >>> 0, h.crc32, ctx);
      } else {
        if (!(await fill(h.storedLength))) throw truncatedPayload(ctx, q.length, h.storedLength);
        // A zstd payload is dead once decompressed, before the next take: no fresh buffer for it.
        const payload = h.codec === Codec.Zstd ? q.takeTransient(h.storedLength) : q.take(h.storedLength);
        const body = h.codec === Codec.Zstd ? await decompress(payload, h.rawLength, ctx) : payload;
        checkCrc(crc32(body) >>> 0, h.crc32, ctx);
        yield { body, count: h.recordCount, ctx, basePos: 0, firstIndex: 0, streamed: false };
        records += h.recordCount;
      }
      pos += BLOCK_HEADER_SIZE + h.storedLength;
      blockIndex++;
    }

    const sha256 = hash.digest('hex');
    if (opts.expectedRecords !== undefined && records !== opts.expectedRecords) {
      throw new IntegrityError(`segment ${name}: holds ${records} records in ${blockIndex} blocks (${bytesIn} bytes), expected ${opts.expectedRecords}`);
    }
    if (opts.expectedSha256 !== undefined && sha256 !== opts.expectedSha256.toLowerCase()) throw sha256Mismatch(name, bytesIn, sha256, opts.expectedSha256);
    return { records, blocks: blockIndex, bytes: bytesIn, sha256 };
  } finally {
    if (!done) await it.return?.();
  }
}

function checkExpectedSha256(opts: ReadSegmentOptions): void {
  if (opts.expectedSha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.expectedSha256)) {
    throw new UsageError(`segment ${opts.name}: expected SHA-256 ${JSON.stringify(opts.expectedSha256)} is not 64 hex digits`);
  }
}

function sha256Mismatch(name: string, bytes: number, got: string, want: string): IntegrityError {
  return new IntegrityError(`segment ${name}: SHA-256 mismatch over ${bytes} bytes (got ${got}, expected ${want.toLowerCase()})`);
}

/**
 * One streaming pass over a whole segment that only hashes it and compares the SHA-256 with
 * `opts.expectedSha256`: memory is one source chunk, whatever the segment's size. For a
 * consumer that must not see a record of a segment before the segment verifies (FORMAT.md,
 * "Verifying a segment") and reads it again afterwards.
 */
export async function checkSegmentSha256(source: AsyncIterable<Buffer | Uint8Array>, opts: ReadSegmentOptions): Promise<void> {
  checkExpectedSha256(opts);
  if (opts.expectedSha256 === undefined) return;
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of source) {
    hash.update(c);
    bytes += c.length;
  }
  const got = hash.digest('hex');
  if (got !== opts.expectedSha256.toLowerCase()) throw sha256Mismatch(opts.name, bytes, got, opts.expectedSha256);
}

/** The decoded records of a checked body (all of them: a body with fewer or more is corrupt). */
function decodeBody(b: CheckedBody, views: boolean): BackupRecord[] {
  return b.streamed ? [decodeRecordAt(b.body, 0, b.body.length, b.firstIndex, b.ctx, b.basePos, views).record] : decodeRecords(b.body, b.count, b.ctx, views);
}

/** Strictly increasing offsets, across blocks: `last` is the previous record's offset. */
function checkOrder(recs: readonly BackupRecord[], b: CheckedBody, last: bigint | null): bigint | null {
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    if (last !== null && r.offset <= last) {
      throw new IntegrityError(
        `segment ${b.ctx.name}: block ${b.ctx.blockIndex} at byte ${b.ctx.position}: record ${b.firstIndex + i} has offset ${r.offset}, not greater than the previous offset ${last}`,
      );
    }
    last = r.offset;
  }
  return last;
}

/**
 * The segment's records a block at a time (a streamed large stored block: one record at a
 * time), in order: one await per block instead of two async-generator hops per record, for
 * consumers that go through many records (restore).
 */
export async function* readSegmentBlocks(
  source: AsyncIterable<Buffer | Uint8Array>,
  opts: ReadSegmentOptions,
): AsyncGenerator<BackupRecord[], SegmentReadSummary, undefined> {
  let last: bigint | null = null;
  return yield* eachBody(checkedBodies(source, opts), (b) => {
    const recs = decodeBody(b, opts.views === true);
    last = checkOrder(recs, b, last);
    return recs;
  });
}

/**
 * `step` applied to each checked block body, in order; the summary is returned at the end,
 * and a consumer that stops early closes the file reader underneath.
 */
async function* eachBody<T>(
  bodies: AsyncGenerator<CheckedBody, SegmentReadSummary, undefined>,
  step: (b: CheckedBody) => T,
): AsyncGenerator<T, SegmentReadSummary, undefined> {
  let finished = false;
  try {
    for (;;) {
      const next = await bodies.next();
      if (next.done) {
        finished = true;
        return next.value;
      }
      yield step(next.value);
    }
  } finally {
    if (!finished) await bodies.return(undefined as never);
  }
}

/**
 * A block's records as they are stored (FORMAT.md, "Records"), for a consumer that
 * re-encodes them without decoding each into an object (restore's transcoder). The CRC,
 * the record framing (lengths add up to the body, `count` records) and the offset order
 * are checked; the inside of each record (key, value, headers) is the consumer's to check.
 */
export interface RawBlock {
  body: Buffer;
  count: number;
  firstOffset: bigint;
  lastOffset: bigint;
  ctx: BlockContext;
  /** Raw body position of body[0] and block index of its first record, for error messages. */
  basePos: number;
  firstIndex: number;
}

/** Offset order as (high, low) 32-bit halves, so no BigInt per record. */
interface OffsetMark {
  hi: number;
  lo: number;
}

/** Frames the records of raw blocks (readSegmentRawBlocks): synchronous, so one serves every reader. */
const framer = new SegmentRecordWalker();

/**
 * Walks record lengths and offsets only. Anything out of place is handed to the decoding
 * path, which throws the precise error (the first record that breaks a rule, framing or not).
 */
function walkFraming(b: CheckedBody, prev: OffsetMark | null, last: bigint | null): OffsetMark {
  const body = b.body;
  const w = framer;
  let p = 0;
  let hi = prev?.hi ?? -1;
  let lo = prev?.lo ?? 0;
  let ok = true;
  for (let i = 0; i < b.count && ok; i++) {
    if (!w.frame(body, p, body.length)) {
      ok = false;
      break;
    }
    const h = w.offsetHigh;
    const l = w.offsetLow >>> 0;
    // A negative offset, or one not above the previous record's.
    if (h < 0 || h < hi || (h === hi && l <= lo)) ok = false;
    hi = h;
    lo = l;
    p = w.next;
  }
  if (!ok || p !== body.length) {
    checkOrder(decodeBody(b, true), b, last);
    throw new IntegrityError(`segment ${b.ctx.name}: block ${b.ctx.blockIndex} at byte ${b.ctx.position}: record framing does not add up`);
  }
  return { hi, lo };
}

const offsetAt = (body: Buffer, p: number): bigint => body.readBigInt64BE(p + 4);

/** The segment's blocks undecoded (see RawBlock), with the same checks and their timing as readSegmentBlocks. */
export async function* readSegmentRawBlocks(
  source: AsyncIterable<Buffer | Uint8Array>,
  opts: ReadSegmentOptions,
): AsyncGenerator<RawBlock, SegmentReadSummary, undefined> {
  let prev: OffsetMark | null = null;
  let last: bigint | null = null;
  return yield* eachBody(checkedBodies(source, opts), (b): RawBlock => {
    prev = walkFraming(b, prev, last);
    const lastOffset = (BigInt(prev.hi) << 32n) + BigInt(prev.lo);
    last = lastOffset;
    return { body: b.body, count: b.count, firstOffset: offsetAt(b.body, 0), lastOffset, ctx: b.ctx, basePos: b.basePos, firstIndex: b.firstIndex };
  });
}

function truncatedPayload(ctx: BlockContext, have: number, want: number): IntegrityError {
  return new IntegrityError(`segment ${ctx.name}: block ${ctx.blockIndex} at byte ${ctx.position}: truncated payload (${have} of ${want} bytes)`);
}

function checkCrc(got: number, want: number, ctx: BlockContext): void {
  if (got !== want) {
    throw new IntegrityError(
      `segment ${ctx.name}: block ${ctx.blockIndex} at byte ${ctx.position}: CRC-32 mismatch (header ${hex32(want)}, body ${hex32(got)})`,
    );
  }
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Reads a whole in-memory segment. */
export async function readSegmentBuffer(buf: Buffer | Uint8Array, opts: ReadSegmentOptions): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  // readSegment reads a stream: here one of a single chunk, which needs nothing awaited.
  // eslint-disable-next-line @typescript-eslint/require-await
  async function* one(): AsyncGenerator<Buffer | Uint8Array> {
    yield buf;
  }
  for await (const r of readSegment(one(), opts)) out.push(r);
  return out;
}
