/**
 * Builds the segment-v1 test vectors: sample.kseg, records.json and sample.kseg.hex.
 * Run by test/unit/segment-vectors.test.ts, which rewrites the files when UPDATE_VECTORS=1
 * and otherwise checks that the committed files still match what this code produces.
 */
import { createHash } from 'node:crypto';
import {
  BLOCK_HEADER_SIZE,
  Codec,
  FILE_HEADER_SIZE,
  parseBlockHeader,
} from '../../../src/segment/format';
import { type BackupRecord, TimestampType } from '../../../src/segment/record';
import { SegmentWriter } from '../../../src/segment/writer';
import { getZstd } from '../../../src/segment/zstd';

/** Writer settings that reproduce sample.kseg from records.json. */
export const SAMPLE_BLOCK_BYTES = 512;
export const SAMPLE_ZSTD_LEVEL = 3;

/** Deterministic "random" bytes (SHA-256 in counter mode), so the stored block is incompressible but reproducible. */
function noise(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; parts.length * 32 < n; i++) parts.push(createHash('sha256').update(`kbak-vector-${i}`).digest());
  return Buffer.concat(parts).subarray(0, n);
}

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

export function sampleRecords(): BackupRecord[] {
  const t0 = 1_717_171_717_000n;
  return [
    {
      offset: 100n,
      timestamp: t0,
      timestampType: TimestampType.CreateTime,
      key: Buffer.from('user-1'),
      value: json({ user: 'user-1', action: 'login', plan: 'free', region: 'eu-west-1' }),
      headers: [
        { key: 'traceparent', value: Buffer.from('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') },
        { key: 'x-retry', value: Buffer.from('1') },
        { key: 'x-retry', value: Buffer.from('2') },
      ],
    },
    {
      offset: 101n,
      timestamp: t0 + 5n,
      timestampType: TimestampType.CreateTime,
      key: null,
      value: json({ user: 'user-1', action: 'logout', plan: 'free', region: 'eu-west-1' }),
      headers: [],
    },
    {
      offset: 102n,
      timestamp: t0 + 9n,
      timestampType: TimestampType.CreateTime,
      key: Buffer.from('user-1'),
      value: Buffer.alloc(0),
      headers: [{ key: 'content-type', value: Buffer.alloc(0) }],
    },
    {
      // Offsets may have gaps (compaction, transactions markers).
      offset: 105n,
      timestamp: t0 + 20n,
      timestampType: TimestampType.LogAppendTime,
      key: Buffer.from('user-2'),
      value: null,
      headers: [{ key: 'deleted-by', value: null }],
    },
    {
      offset: 106n,
      timestamp: t0 + 21n,
      timestampType: TimestampType.CreateTime,
      key: Buffer.from([0x00, 0x01, 0xfe, 0xff]),
      value: noise(400),
      headers: [{ key: 'b3', value: Buffer.from([0x80, 0xf1, 0x98, 0xee, 0x56, 0x34, 0x3b, 0xa8, 0x00, 0xff]) }],
    },
    {
      offset: 107n,
      timestamp: -1n,
      timestampType: TimestampType.Unknown,
      key: Buffer.alloc(0),
      value: Buffer.from('last'),
      headers: [],
    },
  ];
}

export interface RecordJson {
  offset: string;
  timestamp: string;
  timestampType: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

export interface RecordsFile {
  description: string;
  writer: { blockBytes: number; zstdLevel: number };
  file: { bytes: number; sha256: string; blocks: { codec: number; records: number }[] };
  records: RecordJson[];
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));
const unb64 = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'base64'));

export function recordToJson(r: BackupRecord): RecordJson {
  return {
    offset: r.offset.toString(),
    timestamp: r.timestamp.toString(),
    timestampType: r.timestampType,
    key: b64(r.key),
    value: b64(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: b64(h.value) })),
  };
}

export function recordFromJson(j: RecordJson): BackupRecord {
  return {
    offset: BigInt(j.offset),
    timestamp: BigInt(j.timestamp),
    timestampType: j.timestampType,
    key: unb64(j.key),
    value: unb64(j.value),
    headers: j.headers.map((h) => ({ key: h.key, value: unb64(h.value) })),
  };
}

export async function encodeSegment(records: BackupRecord[], blockBytes: number, level: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const w = await SegmentWriter.create({ blockBytes, level, name: 'sample.kseg', zstd: 'wasm', sink: (c) => void chunks.push(c) });
  for (const r of records) await w.append(r);
  await w.finish();
  return Buffer.concat(chunks);
}

export function blockSummary(seg: Buffer): { codec: number; records: number; position: number; storedLength: number; rawLength: number; crc32: number }[] {
  const out = [];
  let pos = FILE_HEADER_SIZE;
  while (pos < seg.length) {
    const h = parseBlockHeader(seg.subarray(pos, pos + BLOCK_HEADER_SIZE), { name: 'sample.kseg', blockIndex: out.length, position: pos });
    out.push({ codec: h.codec, records: h.recordCount, position: pos, storedLength: h.storedLength, rawLength: h.rawLength, crc32: h.crc32 });
    pos += BLOCK_HEADER_SIZE + h.storedLength;
  }
  return out;
}

export async function buildVectors(): Promise<{ kseg: Buffer; recordsJson: string; hex: string }> {
  const records = sampleRecords();
  const kseg = await encodeSegment(records, SAMPLE_BLOCK_BYTES, SAMPLE_ZSTD_LEVEL);
  const file: RecordsFile = {
    description:
      'Records stored in sample.kseg (kbak segment format v1, see FORMAT.md). offset/timestamp are decimal strings; key, value and header values are base64, null when absent.',
    writer: { blockBytes: SAMPLE_BLOCK_BYTES, zstdLevel: SAMPLE_ZSTD_LEVEL },
    file: {
      bytes: kseg.length,
      sha256: createHash('sha256').update(kseg).digest('hex'),
      blocks: blockSummary(kseg).map((b) => ({ codec: b.codec, records: b.records })),
    },
    records: records.map(recordToJson),
  };
  return { kseg, recordsJson: JSON.stringify(file, null, 2) + '\n', hex: await annotatedHex(kseg) };
}

// ------------------------------------------------------------ annotated hex dump

function hexLines(lines: string[], buf: Buffer, base: number, note: string, indent = ''): void {
  for (let i = 0; i < buf.length; i += 16) {
    const part = buf.subarray(i, Math.min(i + 16, buf.length));
    const pos = (base + i).toString().padStart(5);
    lines.push(`${indent}${pos}  ${part.toString('hex').replace(/(..)/g, '$1 ').trimEnd().padEnd(47)}  ${i === 0 ? note : ''}`.trimEnd());
  }
}

function annotateBody(lines: string[], body: Buffer, indent: string, base: number): void {
  let p = 0;
  let n = 0;
  const field = (len: number, note: string): Buffer => {
    const b = body.subarray(p, p + len);
    hexLines(lines, b, base + p, note, indent);
    p += len;
    return b;
  };
  const bytes = (what: string): void => {
    const len = body.readInt32BE(p);
    field(4, `${what} length = ${len}${len === -1 ? ' (null)' : ''}`);
    if (len > 0) field(len, `${what} bytes`);
  };
  while (p < body.length) {
    lines.push(`${indent}-- record ${n++}`);
    field(4, `record length = ${body.readUInt32BE(p)} (bytes after this field)`);
    field(8, `offset = ${body.readBigInt64BE(p)}`);
    field(8, `timestamp = ${body.readBigInt64BE(p)}`);
    field(1, `timestamp type = ${body.readUInt8(p)}`);
    bytes('key');
    bytes('value');
    const hc = body.readUInt32BE(p);
    field(4, `header count = ${hc}`);
    for (let i = 0; i < hc; i++) {
      const kl = body.readUInt32BE(p);
      field(4, `header ${i} key length = ${kl}`);
      if (kl > 0) field(kl, `header ${i} key = ${JSON.stringify(body.subarray(p, p + kl).toString('utf8'))}`);
      bytes(`header ${i} value`);
    }
  }
}

export async function annotatedHex(seg: Buffer): Promise<string> {
  const lines = [
    '# sample.kseg, annotated. Columns: file byte position (decimal), bytes (hex), meaning.',
    '# The raw body of a zstd block is shown decompressed, with positions relative to the start of that body.',
    '# Generated by test/vectors/segment-v1/generate.ts; do not edit.',
    '',
    '== file header',
  ];
  hexLines(lines, seg.subarray(0, 8), 0, 'magic "KBAKSEG\\0"');
  hexLines(lines, seg.subarray(8, 10), 8, `format version = ${seg.readUInt16BE(8)}`);
  hexLines(lines, seg.subarray(10, 16), 10, 'reserved');
  const zstd = await getZstd();
  for (const [i, b] of blockSummary(seg).entries()) {
    const h = b.position;
    lines.push('', `== block ${i}`);
    hexLines(lines, seg.subarray(h, h + 1), h, `codec = ${b.codec} (${b.codec === (Codec.Zstd as number) ? 'zstd' : 'stored'})`);
    hexLines(lines, seg.subarray(h + 1, h + 4), h + 1, 'reserved');
    hexLines(lines, seg.subarray(h + 4, h + 8), h + 4, `raw length = ${b.rawLength}`);
    hexLines(lines, seg.subarray(h + 8, h + 12), h + 8, `stored length = ${b.storedLength}`);
    hexLines(lines, seg.subarray(h + 12, h + 16), h + 12, `record count = ${b.records}`);
    hexLines(lines, seg.subarray(h + 16, h + 20), h + 16, `CRC-32 of raw body = 0x${b.crc32.toString(16).padStart(8, '0')}`);
    const payload = seg.subarray(h + BLOCK_HEADER_SIZE, h + BLOCK_HEADER_SIZE + b.storedLength);
    if (b.codec === (Codec.Zstd as number)) {
      hexLines(lines, payload, h + BLOCK_HEADER_SIZE, 'zstd frame');
      lines.push('   raw body (decompressed):');
      annotateBody(lines, zstd.decompress(payload, b.rawLength), '   ', 0);
    } else {
      lines.push('   raw body (stored as is):');
      annotateBody(lines, payload, '   ', h + BLOCK_HEADER_SIZE);
    }
  }
  return lines.join('\n') + '\n';
}
