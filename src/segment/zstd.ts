/**
 * zstd via zstd-codec (Emscripten/wasm, fixed 16 MiB heap that cannot grow).
 *
 * On heap exhaustion the module calls abort(): it prints "OOM" and throws a string, and
 * the instance's allocator may be left inconsistent. So callers must stay under
 * zstdInputLimit(level); if an abort happens anyway, the instance is discarded and the
 * next getZstd() builds a fresh one.
 *
 * Limits measured with zstd-codec 0.1.5 on Node 20 (largest input that compresses in a
 * fresh instance, 16 KiB resolution; same for random and repetitive data):
 *   level 1: 5.20 MiB, 2: 5.11, 3: 4.86, 4-5: 4.23, 6-7: 3.73, 8: 3.23, 9: 2.23, 10+: 0.50.
 * Decompressing an incompressible frame (worst case: frame ~ output) works up to 5.4 MiB.
 * The table below keeps >= ~0.5 MiB headroom against heap fragmentation; a 400-round
 * mixed-size stress run at these limits did not abort.
 */
import { ZstdCodec, type ZstdSimple } from 'zstd-codec';
import { UsageError } from '../errors';
import { MAX_ZSTD_RAW_BYTES } from './format';
import { nativeZstd } from '../util/native-zstd';

const MiB = 1024 * 1024;
const INPUT_LIMITS: ReadonlyArray<number> = [/* 0 unused */ 0, 4 * MiB, 4 * MiB, 4 * MiB, 3.5 * MiB, 3.5 * MiB, 3 * MiB, 3 * MiB, 2.5 * MiB, 1.75 * MiB];
export const MIN_LEVEL = 1;
export const MAX_LEVEL = 9;
export const DEFAULT_LEVEL = 3;

/** Largest raw input `compress` accepts at `level` (never more than the format's codec-1 limit). */
export function zstdInputLimit(level: number): number {
  if (!Number.isInteger(level) || level < MIN_LEVEL || level > MAX_LEVEL) {
    throw new UsageError(
      `zstd level ${level} is not supported (use an integer from ${MIN_LEVEL} to ${MAX_LEVEL}; higher levels need more memory than zstd-codec's 16 MiB heap allows)`,
    );
  }
  return Math.min(INPUT_LIMITS[level] ?? 0, MAX_ZSTD_RAW_BYTES);
}

/** A zstd frame that is malformed or does not fit the segment format's rules. Callers add context. */
export class ZstdFrameError extends Error {
  override readonly name = 'ZstdFrameError';
}

/** Frame header fields that matter to the format (RFC 8878 section 3.1.1). */
export interface FrameHeaderInfo {
  contentSize: number | null;
  dictionaryId: number;
  hasChecksum: boolean;
  /** Bytes of the frame header (magic included): where the first block header starts. */
  headerBytes: number;
}

const FRAME_MAGIC = 0xfd2fb528;

/** Parses a zstd frame header; throws ZstdFrameError if it is not a zstd frame header. */
export function parseFrameHeader(frame: Uint8Array): FrameHeaderInfo {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < 5 || b.readUInt32LE(0) !== FRAME_MAGIC) {
    throw new ZstdFrameError(`not a zstd frame (magic ${b.subarray(0, 4).toString('hex')})`);
  }
  const fhd = b.readUInt8(4);
  if (fhd & 0x08) throw new ZstdFrameError('zstd frame header reserved bit is set');
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const hasChecksum = (fhd & 0x04) !== 0;
  const didSize = [0, 1, 2, 4][fhd & 0x03] ?? 0;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag] ?? 0;
  let p = 5 + (singleSegment ? 0 : 1);
  if (b.length < p + didSize + fcsSize) throw new ZstdFrameError('truncated zstd frame header');
  const dictionaryId = didSize === 0 ? 0 : b.readUIntLE(p, didSize);
  p += didSize;
  let contentSize: number | null = null;
  if (fcsSize === 1) contentSize = b.readUInt8(p);
  else if (fcsSize === 2) contentSize = b.readUInt16LE(p) + 256;
  else if (fcsSize === 4) contentSize = b.readUInt32LE(p);
  else if (fcsSize === 8) {
    const v = b.readBigUInt64LE(p);
    contentSize = v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  return { contentSize, dictionaryId, hasChecksum, headerBytes: p + fcsSize };
}

/**
 * Where the frame that starts at frame[0] ends, from its block headers alone (RFC 8878
 * 3.1.1.2: 3 bytes each, last-block flag, type, size; a raw or compressed block carries
 * `size` bytes, an RLE block one), plus the optional 4-byte checksum. Nothing is decoded,
 * so it costs one step per block. The format allows no other bytes after the frame: a
 * skippable frame, a second frame or stray bytes are refused here, before decompressing.
 */
export function checkSingleFrame(frame: Uint8Array, info: FrameHeaderInfo): void {
  let p = info.headerBytes;
  for (;;) {
    if (frame.length - p < 3) throw new ZstdFrameError(`zstd frame is truncated: its block header at byte ${p} runs past the payload`);
    const h = frame[p]! | (frame[p + 1]! << 8) | (frame[p + 2]! << 16);
    const type = (h >> 1) & 3;
    if (type === 3) throw new ZstdFrameError(`zstd frame is corrupt: its block at byte ${p} has the reserved block type 3`);
    const size = 3 + (type === 1 ? 1 : h >>> 3);
    if (size > frame.length - p) throw new ZstdFrameError(`zstd frame is truncated: its block at byte ${p} runs past the payload`);
    p += size;
    if (h & 1) break;
  }
  if (info.hasChecksum) p += 4;
  if (p > frame.length) throw new ZstdFrameError('zstd frame is truncated: its content checksum runs past the payload');
  if (p < frame.length) {
    const skippable = frame.length - p >= 4 && (Buffer.from(frame.buffer, frame.byteOffset + p, 4).readUInt32LE(0) & 0xfffffff0) === 0x184d2a50;
    throw new ZstdFrameError(
      `${frame.length - p} bytes after the zstd frame (${skippable ? 'a skippable frame' : 'not allowed'}: a payload is exactly one frame)`,
    );
  }
}

/** The header checks every decoder makes before it decompresses (FORMAT.md, "Payload"). */
function checkPayload(frame: Uint8Array, rawLength: number): void {
  const info = parseFrameHeader(frame);
  if (info.dictionaryId !== 0) throw new ZstdFrameError(`zstd frame needs dictionary ${info.dictionaryId}`);
  if (info.contentSize === null) throw new ZstdFrameError('zstd frame header has no content size');
  if (info.contentSize !== rawLength) throw new ZstdFrameError(`zstd frame content size ${info.contentSize} != raw length ${rawLength}`);
  if (rawLength > MAX_ZSTD_RAW_BYTES || frame.length > MAX_ZSTD_RAW_BYTES) {
    throw new ZstdFrameError(`zstd frame too large (${frame.length} -> ${rawLength} bytes, limit ${MAX_ZSTD_RAW_BYTES})`);
  }
  checkSingleFrame(frame, info);
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export class Zstd {
  private dead = false;
  constructor(private readonly simple: ZstdSimple) {}

  /** One complete zstd frame with the content size in its header. */
  compress(raw: Uint8Array, level: number = DEFAULT_LEVEL): Buffer {
    const limit = zstdInputLimit(level);
    if (raw.length > limit) {
      throw new UsageError(`zstd input of ${raw.length} bytes exceeds ${limit}, the safe limit at level ${level}`);
    }
    const out = this.guard('compress', () => this.simple.compress(raw, level));
    if (out === null) throw new Error(`zstd-codec failed to compress ${raw.length} bytes at level ${level}`);
    return toBuffer(out);
  }

  /**
   * Decodes a frame that must declare exactly `rawLength` bytes of content. The declared
   * size is checked before zstd-codec allocates it, so a corrupt header cannot exhaust the heap.
   */
  decompress(frame: Uint8Array, rawLength: number): Buffer {
    checkPayload(frame, rawLength);
    // zstd-codec returns null for corrupt data or a truncated frame; it allocates the
    // checked content size for the output, so its work is bounded by rawLength.
    const out = this.guard('decompress', () => this.simple.decompress(frame));
    if (out === null) throw new ZstdFrameError('zstd frame is corrupt, truncated, or followed by extra bytes');
    if (out.length !== rawLength) {
      throw new ZstdFrameError(`zstd frame decoded to ${out.length} bytes, expected ${rawLength}`);
    }
    return toBuffer(out);
  }

  private guard<T>(op: string, f: () => T): T {
    if (this.dead) throw new Error(`zstd-codec instance is unusable after an earlier abort (${op})`);
    try {
      return f();
    } catch (e) {
      // Emscripten aborts throw a string, not an Error.
      if (!(e instanceof Error)) {
        this.dead = true;
        discard(this);
        throw new Error(`zstd-codec aborted during ${op}: ${String(e)}`);
      }
      throw e;
    }
  }
}

let instance: Promise<Zstd> | null = null;
let ready: Zstd | null = null;

/** The shared instance, initialised on first use (zstd-codec's wasm start-up is asynchronous). */
export function getZstd(): Promise<Zstd> {
  instance ??= new Promise<Zstd>((resolve) => {
    ZstdCodec.run((api) => {
      ready = new Zstd(new api.Simple());
      resolve(ready);
    });
  });
  return instance;
}

function discard(z: Zstd): void {
  if (ready === z) {
    ready = null;
    instance = null;
  }
}

/**
 * Compresses one block body: natively (off the JavaScript thread) where the runtime has
 * zstd, else with zstd-codec. Either way one frame with the content size, no checksum.
 */
export async function compressBlock(raw: Buffer, level: number, allowNative = true): Promise<Buffer> {
  const limit = zstdInputLimit(level);
  if (raw.length > limit) throw new UsageError(`zstd input of ${raw.length} bytes exceeds ${limit}, the safe limit at level ${level}`);
  if (nativeZstd && allowNative) return nativeZstd.compress(raw, level);
  return (await getZstd()).compress(raw, level);
}

/**
 * Decodes one block payload under the format's rules (content size present and equal to
 * `rawLength`, no dictionary, size limits, nothing after the frame); ZstdFrameError otherwise.
 */
export async function decompressBlock(frame: Buffer, rawLength: number): Promise<Buffer> {
  if (!nativeZstd) return (await getZstd()).decompress(frame, rawLength);
  checkPayload(frame, rawLength);
  let out: Buffer;
  try {
    // One byte of room past rawLength: zlib stops as soon as the output passes the
    // declared raw length, so a frame whose blocks decode to more costs no more than that.
    out = await nativeZstd.decompress(frame, rawLength + 1);
  } catch {
    throw new ZstdFrameError('zstd frame is corrupt, truncated, or followed by extra bytes');
  }
  if (out.length !== rawLength) throw new ZstdFrameError(`zstd frame decoded to ${out.length} bytes, expected ${rawLength}`);
  return out;
}
