/**
 * An independent decoder of Kafka v2 record batches, written from the protocol spec
 * (https://kafka.apache.org/documentation/#recordbatch) and sharing no code with src/:
 * its own CRC32C (table, Castagnoli polynomial), its own zigzag varints, and decompression
 * by other libraries than kbak's where there is one (zlib for gzip, fzstd for zstd; lz4
 * frames and xerial snappy by lz4-napi and snappyjs, which kbak also uses, for decoding
 * only). The lean produce path's tests check its wire bytes with it.
 */
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { decompressFrameSync } from 'lz4-napi';
import snappy from 'snappyjs';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function handCrc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface HandHeader {
  key: string;
  value: Buffer | null;
}
export interface HandRecord {
  offsetDelta: number;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: HandHeader[];
}
export interface HandBatch {
  baseOffset: bigint;
  partitionLeaderEpoch: number;
  magic: number;
  crcOk: boolean;
  codec: number;
  timestampType: number;
  transactional: boolean;
  control: boolean;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  records: HandRecord[];
  /** Bytes the batch took (12 + batchLength). */
  size: number;
}

class Reader {
  constructor(
    private readonly b: Buffer,
    public pos = 0,
  ) {}
  varint(): number {
    let shift = 0;
    let z = 0;
    for (;;) {
      const byte = this.b[this.pos++];
      if (byte === undefined) throw new Error('varint runs past the end');
      z += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  /** A zigzag varlong, exact (a timestamp delta may pass 2^53, where a Number rounds). */
  varlong(): bigint {
    let shift = 0n;
    let z = 0n;
    for (;;) {
      const byte = this.b[this.pos++];
      if (byte === undefined) throw new Error('varint runs past the end');
      z |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
    return (z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n);
  }
  bytes(): Buffer | null {
    const n = this.varint();
    if (n < 0) return null;
    const out = this.b.subarray(this.pos, this.pos + n);
    if (out.length !== n) throw new Error('bytes run past the end');
    this.pos += n;
    return Buffer.from(out);
  }
}

function decompress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return gunzipSync(data);
    case 2: {
      // xerial framing (16-byte header, then length-prefixed raw blocks) or one raw block.
      const magic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
      if (!data.subarray(0, 8).equals(magic)) return Buffer.from(snappy.uncompress(data) as Uint8Array);
      const parts: Buffer[] = [];
      for (let p = 16; p < data.length;) {
        const len = data.readUInt32BE(p);
        parts.push(Buffer.from(snappy.uncompress(data.subarray(p + 4, p + 4 + len)) as Uint8Array));
        p += 4 + len;
      }
      return Buffer.concat(parts);
    }
    case 3:
      return decompressFrameSync(data);
    case 4:
      return Buffer.from(zstdDecompress(data));
    default:
      throw new Error(`unknown codec ${codec}`);
  }
}

/** Decodes the batch at `buf[pos..]`. */
export function decodeBatch(buf: Buffer, pos = 0): HandBatch {
  const batchLength = buf.readInt32BE(pos + 8);
  const end = pos + 12 + batchLength;
  if (end > buf.length) throw new Error(`batch of ${batchLength} bytes runs past the buffer`);
  const attributes = buf.readInt16BE(pos + 21);
  const codec = attributes & 7;
  const count = buf.readInt32BE(pos + 57);
  const body = decompress(codec, buf.subarray(pos + 61, end));
  const r = new Reader(body);
  const baseTimestamp = buf.readBigInt64BE(pos + 27);
  const records: HandRecord[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.varint();
    const start = r.pos;
    r.pos++; // attributes
    const tsDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = r.bytes();
    const value = r.bytes();
    const n = r.varint();
    const headers: HandHeader[] = [];
    for (let h = 0; h < n; h++) {
      const k = r.bytes();
      if (k === null) throw new Error('null header key');
      headers.push({ key: k.toString('utf8'), value: r.bytes() });
    }
    if (r.pos - start !== len) throw new Error(`record ${i}: length ${len}, body ${r.pos - start}`);
    records.push({ offsetDelta, timestamp: baseTimestamp + tsDelta, key, value, headers });
  }
  if (r.pos !== body.length) throw new Error(`${body.length - r.pos} bytes after the last record`);
  return {
    baseOffset: buf.readBigInt64BE(pos),
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    magic: buf.readInt8(pos + 16),
    crcOk: buf.readUInt32BE(pos + 17) === handCrc32c(buf.subarray(pos + 21, end)),
    codec,
    timestampType: (attributes >> 3) & 1,
    transactional: (attributes & 16) !== 0,
    control: (attributes & 32) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + 23),
    baseTimestamp,
    maxTimestamp: buf.readBigInt64BE(pos + 35),
    producerId: buf.readBigInt64BE(pos + 43),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    records,
    size: 12 + batchLength,
  };
}
