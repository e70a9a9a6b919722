/**
 * The record-batch compression codecs Kafka producers use. A batch's codec is the
 * producer's choice and may change from batch to batch within one partition, so dump must
 * decode every codec; restore encodes with the one it is told.
 *
 * - snappy: snappyjs (pure JS). Java producers frame it the xerial way (snappy-java's
 *   SnappyOutputStream: a magic header, then length-prefixed raw snappy chunks); librdkafka
 *   writes a single raw snappy block. Both are read. kbak writes the xerial framing, which
 *   every Kafka client and the broker read.
 * - lz4: lz4-napi (lz4_flex, prebuilt per platform), the LZ4 frame format Kafka uses since
 *   message format v1 (correct header checksum, independent blocks).
 * - zstd: the runtime's zlib zstd (Node >= 22.15 / 23.8) when present, else zstd-codec's
 *   streaming API, which, unlike its simple API, accepts frames without a content size
 *   (Java's zstd-jni stream writes none) and collects output outside its 16 MiB wasm heap.
 *
 * Every decoder refuses output beyond MAX_BATCH_BYTES: a broker (or a forged batch) cannot
 * make kbak allocate without bound.
 */
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import type * as Lz4Napi from 'lz4-napi';
import snappy from 'snappyjs';
import { ZstdCodec, type ZstdStreaming } from 'zstd-codec';
import { nativeZstd } from '../../util/native-zstd';

/** Kafka's names for the codecs (topic config `compression.type`, producer setting). */
export const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CodecName = (typeof CODEC_NAMES)[number];

/** Codec IDs in the low three bits of a record batch's attributes. */
export const CODEC_IDS: Record<CodecName, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** The codec of a batch's codec ID; undefined for an ID Kafka does not define. */
export function codecById(id: number): CodecName | undefined {
  return CODEC_NAMES.find((n) => CODEC_IDS[n] === id);
}

/** Largest decompressed batch accepted: Kafka's own hard cap on a request is 100 MiB by default. */
export const MAX_BATCH_BYTES = 256 * 1024 * 1024;

export function isCodecName(v: string): v is CodecName {
  return (CODEC_NAMES as readonly string[]).includes(v);
}

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

export interface Codec {
  compress(raw: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

function checkSize(out: Buffer, codec: string): Buffer {
  if (out.length > MAX_BATCH_BYTES) throw new CodecError(`${codec} batch decompresses to more than ${MAX_BATCH_BYTES} bytes`);
  return out;
}

// --- snappy ------------------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16; // magic, version, compatible version
// snappy-java's default block size: a Java consumer reads chunks of this size without reallocating.
const XERIAL_CHUNK = 32 * 1024;

function snappyRaw(data: Uint8Array, budget: number): Buffer {
  const out = snappy.uncompress(data, budget);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function snappyDecompress(data: Buffer): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyRaw(data, MAX_BATCH_BYTES);
  const parts: Buffer[] = [];
  let total = 0;
  let p = XERIAL_HEADER_BYTES;
  while (p < data.length) {
    if (p + 4 > data.length) throw new CodecError('truncated xerial snappy chunk length');
    const len = data.readUInt32BE(p);
    p += 4;
    if (p + len > data.length) throw new CodecError(`xerial snappy chunk of ${len} bytes runs past the batch`);
    const chunk = snappyRaw(data.subarray(p, p + len), MAX_BATCH_BYTES - total);
    total += chunk.length;
    parts.push(chunk);
    p += len;
  }
  return Buffer.concat(parts, total);
}

export function snappyCompress(raw: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let p = 0; p < raw.length; p += XERIAL_CHUNK) {
    const c = snappy.compress(raw.subarray(p, p + XERIAL_CHUNK)) as Uint8Array;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(c.byteLength, 0);
    parts.push(len, Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  }
  return Buffer.concat(parts);
}

// --- zstd --------------------------------------------------------------------------

/** Whether this runtime has zstd built in (otherwise the wasm fallback is used). */
export const hasNativeZstd = nativeZstd !== null;

let streaming: Promise<ZstdStreaming> | null = null;
function zstdStreaming(): Promise<ZstdStreaming> {
  streaming ??= new Promise((resolve) => ZstdCodec.run((api) => resolve(new api.Streaming())));
  return streaming;
}

// Kafka's default zstd level (compression.zstd.level) is 3, as librdkafka's.
const ZSTD_LEVEL = 3;

export function zstdCodec(useNative = hasNativeZstd): Codec {
  if (useNative && nativeZstd) {
    const n = nativeZstd;
    return {
      compress: (raw) => n.compress(raw, ZSTD_LEVEL),
      decompress: async (data) => checkSize(await n.decompress(data, MAX_BATCH_BYTES), 'zstd'),
    };
  }
  return {
    async compress(raw) {
      const out = (await zstdStreaming()).compress(raw, ZSTD_LEVEL);
      if (out === null) throw new CodecError(`zstd could not compress a batch of ${raw.length} bytes`);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
    async decompress(data) {
      const out = (await zstdStreaming()).decompress(data);
      if (out === null) throw new CodecError('zstd batch is corrupt or truncated');
      return checkSize(Buffer.from(out.buffer, out.byteOffset, out.byteLength), 'zstd');
    },
  };
}

// --- lz4 ---------------------------------------------------------------------------

let lz4Module: typeof Lz4Napi | null = null;
/**
 * lz4-napi allocates its output with mimalloc, and mimalloc keeps freed pages for a while
 * (its purge delay) before it returns them. Decompression (dump) runs on libuv's threads
 * whose pages were freed from the main thread: a dump held ~70-100 MiB more resident memory
 * with lz4 than with any other codec, so when decompression loads the library the delay is
 * 0 and that memory goes back at once. Compression (restore) runs on the main thread
 * (below), whose heap reuses the same pages batch after batch under mimalloc's own delay;
 * with a delay of 0 every batch cost ~1 ms of page faults and madvise (restore of 200 000
 * x 1 KiB: 0.4 s more system time). The variable is read once, when the library loads; a
 * value the user set wins.
 */
function lz4(use: 'compress' | 'decompress'): typeof Lz4Napi {
  if (lz4Module === null) {
    if (use === 'decompress') process.env.MIMALLOC_PURGE_DELAY ??= '0';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lz4Module = require('lz4-napi') as typeof Lz4Napi;
  }
  return lz4Module;
}

// --- the table ---------------------------------------------------------------------

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

// Codecs are async; the synchronous ones stay `async` so that a throw (a corrupt input)
// is a rejection like the others'.
/* eslint-disable @typescript-eslint/require-await */
export const codecs: Record<Exclude<CodecName, 'none'>, Codec> = {
  gzip: {
    compress: (raw) => gzip(raw),
    decompress: async (data) => checkSize(await gunzip(data, { maxOutputLength: MAX_BATCH_BYTES }), 'gzip'),
  },
  snappy: {
    compress: async (raw) => snappyCompress(raw),
    decompress: async (data) => snappyDecompress(data),
  },
  lz4: {
    // Kafka readers (KafkaLZ4BlockInputStream) need independent blocks, lz4_flex's default.
    // Synchronous: ~0.4 ms per 512 KiB batch on the main thread, and its output reuses the
    // main thread's memory (see lz4()); the asynchronous call cost as much main-thread time
    // in its callback and freeing, and 35-60 MiB more resident memory.
    compress: async (raw) => lz4('compress').compressFrameSync(raw),
    decompress: async (data) => checkSize(await lz4('decompress').decompressFrame(data), 'lz4'),
  },
  zstd: zstdCodec(),
};
/* eslint-enable @typescript-eslint/require-await */
