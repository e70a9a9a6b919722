/**
 * The runtime's own zstd (node:zlib, Node >= 22.15 / 23.8), when present. It runs on libuv's
 * thread pool, so compression overlaps with the JavaScript thread's work; the wasm
 * zstd-codec stays the portable path for runtimes without it.
 */
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';

type ZstdFn = (buf: Buffer, opts: object) => Promise<Buffer>;
const z = zlib as unknown as Record<string, unknown>;
const constants = zlib.constants as unknown as Record<string, number>;

export interface NativeZstd {
  /** One frame with the content size in its header, no checksum. */
  compress(raw: Buffer, level: number): Promise<Buffer>;
  /** Fails when the output would exceed maxOutputLength. */
  decompress(frame: Buffer, maxOutputLength: number): Promise<Buffer>;
}

const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;
const chunkFor = (n: number): number => Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, n));

function load(): NativeZstd | null {
  if (typeof z.zstdCompress !== 'function' || typeof z.zstdDecompress !== 'function') return null;
  const compress: ZstdFn = promisify<Buffer, object, Buffer>(z.zstdCompress as (b: Buffer, o: object, cb: (e: Error | null, r: Buffer) => void) => void);
  const decompress: ZstdFn = promisify<Buffer, object, Buffer>(z.zstdDecompress as (b: Buffer, o: object, cb: (e: Error | null, r: Buffer) => void) => void);
  const level = constants.ZSTD_c_compressionLevel!;
  const checksum = constants.ZSTD_c_checksumFlag!;
  return {
    // One output chunk per call: zlib's default 16 KiB chunks cost a main-thread callback each.
    compress: (raw, lvl) => compress(raw, { chunkSize: chunkFor(raw.length + 1024), pledgedSrcSize: raw.length, params: { [level]: lvl, [checksum]: 0 } }),
    decompress: (frame, max) => decompress(frame, { chunkSize: chunkFor(max), maxOutputLength: Math.max(1, max) }),
  };
}

export const nativeZstd: NativeZstd | null = process.env.KBAK_NO_NATIVE_ZSTD === '1' ? null : load();
