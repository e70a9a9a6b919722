/**
 * Streaming segment reader (FORMAT.md, "Segment files"). Buffers at most one block plus one
 * source chunk; source chunks may be split anywhere, including inside headers.
 *
 * Records of a block are yielded only after that block's CRC and framing check out, but
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
  decodeRecords,
  FILE_HEADER_SIZE,
  parseBlockHeader,
  parseFileHeader,
} from './format';
import type { BackupRecord } from './record';
import { decompressBlock, ZstdFrameError } from './zstd';

export interface ReadSegmentOptions {
  /** Segment name for error messages (file or object key). */
  name: string;
  /** Hex SHA-256 of the whole file, e.g. from the manifest. */
  expectedSha256?: string;
  expectedRecords?: number;
}

export interface SegmentReadSummary {
  records: number;
  blocks: number;
  /** File size in bytes. */
  bytes: number;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
}

/** FIFO of byte chunks that hands out exact-length slices, copying only when a slice spans chunks. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  take(n: number): Buffer {
    if (n > this.length) throw new Error(`ByteQueue.take(${n}) with ${this.length} buffered`);
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(n - filled, c.length - this.head);
      c.copy(out, filled, this.head, this.head + k);
      filled += k;
      this.advance(k);
    }
    return out;
  }

  private advance(n: number): void {
    this.head += n;
    this.length -= n;
    const c = this.chunks[0];
    if (c !== undefined && this.head === c.length) {
      this.chunks.shift();
      this.head = 0;
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

export async function* readSegment(
  source: AsyncIterable<Buffer | Uint8Array>,
  opts: ReadSegmentOptions,
): AsyncGenerator<BackupRecord, SegmentReadSummary, undefined> {
  const name = opts.name;
  if (opts.expectedSha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.expectedSha256)) {
    throw new UsageError(`segment ${name}: expected SHA-256 ${JSON.stringify(opts.expectedSha256)} is not 64 hex digits`);
  }
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
    let lastOffset: bigint | null = null;

    while (await fill(1)) {
      const ctx: BlockContext = { name, blockIndex, position: pos };
      if (!(await fill(BLOCK_HEADER_SIZE))) {
        throw new IntegrityError(
          `segment ${name}: block ${blockIndex} at byte ${pos}: truncated block header or trailing garbage (${q.length} bytes left, a block header is ${BLOCK_HEADER_SIZE})`,
        );
      }
      const h = parseBlockHeader(q.take(BLOCK_HEADER_SIZE), ctx);
      if (!(await fill(h.storedLength))) {
        throw new IntegrityError(
          `segment ${name}: block ${blockIndex} at byte ${pos}: truncated payload (${q.length} of ${h.storedLength} bytes)`,
        );
      }
      const payload = q.take(h.storedLength);
      const body = h.codec === Codec.Zstd ? await decompress(payload, h.rawLength, ctx) : payload;
      const crc = crc32(body) >>> 0;
      if (crc !== h.crc32) {
        throw new IntegrityError(
          `segment ${name}: block ${blockIndex} at byte ${pos}: CRC-32 mismatch (header ${hex32(h.crc32)}, body ${hex32(crc)})`,
        );
      }
      const recs = decodeRecords(body, h.recordCount, ctx);
      for (const [i, r] of recs.entries()) {
        if (lastOffset !== null && r.offset <= lastOffset) {
          throw new IntegrityError(
            `segment ${name}: block ${blockIndex} at byte ${pos}: record ${i} has offset ${r.offset}, not greater than the previous offset ${lastOffset}`,
          );
        }
        lastOffset = r.offset;
      }
      pos += BLOCK_HEADER_SIZE + h.storedLength;
      blockIndex++;
      records += recs.length;
      // Drop this block's records from the generator frame as they are handed out.
      while (recs.length > 0) yield recs.shift() as BackupRecord;
    }

    const sha256 = hash.digest('hex');
    if (opts.expectedRecords !== undefined && records !== opts.expectedRecords) {
      throw new IntegrityError(
        `segment ${name}: holds ${records} records in ${blockIndex} blocks (${bytesIn} bytes), expected ${opts.expectedRecords}`,
      );
    }
    if (opts.expectedSha256 !== undefined && sha256 !== opts.expectedSha256.toLowerCase()) {
      throw new IntegrityError(
        `segment ${name}: SHA-256 mismatch over ${bytesIn} bytes (got ${sha256}, expected ${opts.expectedSha256.toLowerCase()})`,
      );
    }
    return { records, blocks: blockIndex, bytes: bytesIn, sha256 };
  } finally {
    if (!done) await it.return?.();
  }
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Reads a whole in-memory segment. */
export async function readSegmentBuffer(buf: Buffer | Uint8Array, opts: ReadSegmentOptions): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  async function* one(): AsyncGenerator<Buffer | Uint8Array> {
    yield buf;
  }
  for await (const r of readSegment(one(), opts)) out.push(r);
  return out;
}
