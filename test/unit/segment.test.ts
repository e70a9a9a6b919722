import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { crc32 } from 'node:zlib';
import { IntegrityError, UnsupportedDataError, UsageError } from '../../src/errors';
import {
  BLOCK_HEADER_SIZE,
  Codec,
  encodeBlockHeader,
  encodeFileHeader,
  encodeRecord,
  FILE_HEADER_SIZE,
  MAX_ZSTD_RAW_BYTES,
  parseBlockHeader,
} from '../../src/segment/format';
import { readSegment, readSegmentBlocks, readSegmentBuffer } from '../../src/segment/reader';
import { type BackupRecord, TimestampType } from '../../src/segment/record';
import { SegmentWriter, type SegmentStats, type SegmentWriterOptions } from '../../src/segment/writer';
import { getZstd, Zstd, zstdInputLimit } from '../../src/segment/zstd';

jest.setTimeout(120_000);

const I64_MAX = 2n ** 63n - 1n;

function rec(offset: bigint | number, over: Partial<BackupRecord> = {}): BackupRecord {
  return {
    offset: BigInt(offset),
    timestamp: 1_700_000_000_000n + (BigInt(offset) % 1_000_000n),
    timestampType: TimestampType.CreateTime,
    key: Buffer.from(`key-${offset}`),
    value: Buffer.from(`value-${offset} `.repeat(8)),
    headers: [],
    ...over,
  };
}

async function writeAll(
  records: BackupRecord[],
  opts: Omit<SegmentWriterOptions, 'sink'> = {},
): Promise<{ buf: Buffer; stats: SegmentStats; chunks: Buffer[] }> {
  const chunks: Buffer[] = [];
  const w = await SegmentWriter.create({ ...opts, name: 'test.kseg', sink: (c) => void chunks.push(c) });
  for (const r of records) await w.append(r);
  const stats = await w.finish();
  return { buf: Buffer.concat(chunks), stats, chunks };
}

/** Walks block headers without decoding, for assertions about layout. */
function blocks(buf: Buffer): { codec: Codec; rawLength: number; storedLength: number; recordCount: number; position: number }[] {
  const out = [];
  let pos = FILE_HEADER_SIZE;
  while (pos < buf.length) {
    const h = parseBlockHeader(buf.subarray(pos, pos + BLOCK_HEADER_SIZE), { name: 't', blockIndex: out.length, position: pos });
    out.push({ ...h, position: pos });
    pos += BLOCK_HEADER_SIZE + h.storedLength;
  }
  return out;
}

async function* chunksOf(parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function readAll(parts: Buffer[], opts: { expectedSha256?: string; expectedRecords?: number } = {}): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  for await (const r of readSegment(chunksOf(parts), { name: 'test.kseg', ...opts })) out.push(r);
  return out;
}

/** Buffers as base64, so large values compare as one string instead of element by element. */
function norm(rs: BackupRecord[]): unknown[] {
  const b = (v: Buffer | null): string | null => (v === null ? null : `b64:${v.toString('base64')}`);
  return rs.map((r) => ({ ...r, key: b(r.key), value: b(r.value), headers: r.headers.map((h) => ({ key: h.key, value: b(h.value) })) }));
}

async function integrityMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IntegrityError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an IntegrityError');
}

const traceparent = Buffer.from('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
const b3 = Buffer.from('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90');
const uberTraceId = Buffer.from('5a9b6c3f1e2d4a7b:7c8d9e0f1a2b3c4d:0:1');
const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const variety: BackupRecord[] = [
  rec(0, { key: null }),
  rec(1, { key: Buffer.alloc(0) }),
  rec(2, { value: null }), // tombstone
  rec(3, { value: Buffer.alloc(0) }),
  rec(4, { key: null, value: null }),
  rec(5, {
    headers: [
      { key: 'traceparent', value: traceparent },
      { key: 'b3', value: b3 },
      { key: 'uber-trace-id', value: uberTraceId },
      { key: 'dup', value: Buffer.from('first') },
      { key: 'dup', value: Buffer.from('second') },
      { key: 'dup', value: null },
      { key: 'empty', value: Buffer.alloc(0) },
      { key: '', value: allBytes },
      { key: 'ключ-🔑', value: Buffer.from([0x00, 0xff, 0x00]) },
    ],
  }),
  rec(6, { timestamp: -1n, timestampType: TimestampType.Unknown }),
  rec(7, { timestamp: -(2n ** 63n), timestampType: TimestampType.LogAppendTime }),
  rec(8, { timestamp: I64_MAX, key: allBytes, value: allBytes }),
  rec(2n ** 53n + 1n),
  rec(I64_MAX - 1n),
  rec(I64_MAX),
];

describe('segment format constants', () => {
  it('uses the zlib CRC-32 (check value of "123456789" is 0xCBF43926)', () => {
    expect(crc32('123456789') >>> 0).toBe(0xcbf43926);
  });

  it('writes the documented file header', () => {
    expect(encodeFileHeader().toString('hex')).toBe('4b42414b53454700' + '0001' + '000000000000');
  });

  it('encodes a minimal record as documented', () => {
    const b = encodeRecord({ offset: 1n, timestamp: -1n, timestampType: TimestampType.Unknown, key: null, value: null, headers: [] });
    expect(b.toString('hex')).toBe('0000001d' + '0000000000000001' + 'ffffffffffffffff' + 'ff' + 'ffffffff' + 'ffffffff' + '00000000');
  });
});

describe('segment round trip', () => {
  it('keeps null vs empty, tombstones, headers, extreme offsets and timestamps byte-exact', async () => {
    const { buf, stats, chunks } = await writeAll(variety);
    const back = await readSegmentBuffer(buf, { name: 'v.kseg', expectedSha256: stats.sha256, expectedRecords: variety.length });
    expect(norm(back)).toEqual(norm(variety));
    expect(back[0]?.key).toBeNull();
    expect(back[1]?.key).toEqual(Buffer.alloc(0));
    expect(back[2]?.value).toBeNull();
    expect(back[3]?.value).toEqual(Buffer.alloc(0));
    expect(back[5]?.headers.map((h) => h.key)).toEqual(['traceparent', 'b3', 'uber-trace-id', 'dup', 'dup', 'dup', 'empty', '', 'ключ-🔑']);
    expect(back[5]?.headers[1]?.value?.equals(b3)).toBe(true);
    expect(back[5]?.headers[5]?.value).toBeNull();
    expect(stats).toMatchObject({
      records: variety.length,
      firstOffset: 0n,
      lastOffset: I64_MAX,
      minTimestamp: -(2n ** 63n),
      maxTimestamp: I64_MAX,
      storedBytes: buf.length,
      blocks: 1,
    });
    expect(stats.rawBytes).toBe(variety.reduce((n, r) => n + encodeRecord(r).length, 0));
    expect(chunks[0]?.subarray(0, FILE_HEADER_SIZE)).toEqual(encodeFileHeader());
  });

  it('writes and reads an empty segment (header only)', async () => {
    const { buf, stats } = await writeAll([]);
    expect(buf).toEqual(encodeFileHeader());
    expect(stats).toMatchObject({ records: 0, firstOffset: null, lastOffset: null, minTimestamp: null, blocks: 0, storedBytes: 16, rawBytes: 0 });
    expect(norm(await readSegmentBuffer(buf, { name: 'e', expectedSha256: stats.sha256, expectedRecords: 0 }))).toEqual(norm([]));
  });

  it('splits into many blocks at the block size, never splitting a record', async () => {
    const records = Array.from({ length: 500 }, (_, i) => rec(i * 3, { key: Buffer.from(String(i).padStart(6, '0')), value: Buffer.alloc(40, i % 7) }));
    const size = encodeRecord(records[0] as BackupRecord).length;
    const { buf, stats } = await writeAll(records, { blockBytes: size * 7 + 5 });
    const bs = blocks(buf);
    expect(bs.length).toBe(Math.ceil(500 / 7));
    expect(stats.blocks).toBe(bs.length);
    for (const b of bs.slice(0, -1)) expect(b.recordCount).toBe(7);
    expect(norm(await readSegmentBuffer(buf, { name: 'm' }))).toEqual(norm(records));
  });

  it('puts a record bigger than the block size in a block of its own', async () => {
    const big = rec(10, { value: Buffer.alloc(50_000, 'a') });
    const records = [rec(1), rec(2), big, rec(11)];
    const { buf } = await writeAll(records, { blockBytes: 4096 });
    const bs = blocks(buf);
    expect(bs.map((b) => b.recordCount)).toEqual([2, 1, 1]);
    expect(bs[1]?.rawLength).toBeGreaterThan(4096);
    expect(bs[1]?.codec).toBe(Codec.Zstd);
    expect(norm(await readSegmentBuffer(buf, { name: 'b' }))).toEqual(norm(records));
  });

  it('stores a block larger than the zstd limit uncompressed', async () => {
    const huge = rec(1, { value: Buffer.alloc(MAX_ZSTD_RAW_BYTES + 1, 'z') });
    const { buf } = await writeAll([huge, rec(2)]);
    const bs = blocks(buf);
    expect(bs[0]?.codec).toBe(Codec.Stored);
    expect(bs[0]?.storedLength).toBe(bs[0]?.rawLength);
    expect(bs[1]?.codec).toBe(Codec.Zstd);
    expect(norm(await readSegmentBuffer(buf, { name: 'h' }))).toEqual(norm([huge, rec(2)]));
  });

  it('falls back to codec 0 for incompressible data and uses zstd otherwise', async () => {
    const random = [rec(1, { key: null, value: randomBytes(3000) })];
    const { buf: rb } = await writeAll(random);
    expect(blocks(rb)[0]?.codec).toBe(Codec.Stored);
    expect(norm(await readSegmentBuffer(rb, { name: 'r' }))).toEqual(norm(random));
    const { buf: cb } = await writeAll([rec(1), rec(2)]);
    expect(blocks(cb)[0]?.codec).toBe(Codec.Zstd);
  });

  it('reads a source split at every byte boundary, and one byte at a time', async () => {
    const records = variety.slice(0, 6);
    const { buf, stats } = await writeAll(records, { blockBytes: 300 });
    expect(blocks(buf).length).toBeGreaterThan(2);
    for (let i = 0; i <= buf.length; i++) {
      const got = await readAll([buf.subarray(0, i), buf.subarray(i)], { expectedSha256: stats.sha256 });
      expect(norm(got)).toEqual(norm(records));
    }
    const bytes = Array.from(buf, (b) => Buffer.from([b]));
    expect(norm(await readAll(bytes, { expectedSha256: stats.sha256, expectedRecords: records.length }))).toEqual(norm(records));
    // Uint8Array chunks (not Buffers) are accepted too.
    const u8 = new Uint8Array(buf);
    const got: BackupRecord[] = [];
    async function* src(): AsyncGenerator<Uint8Array> {
      yield u8.subarray(0, 7);
      yield u8.subarray(7);
    }
    for await (const r of readSegment(src(), { name: 'u8' })) got.push(r);
    expect(norm(got)).toEqual(norm(records));
  });

  it('hands out the same records a block at a time, as views into the block when asked', async () => {
    const huge = rec(1, { value: Buffer.alloc(MAX_ZSTD_RAW_BYTES + 1, 'z') });
    const records = [
      rec(0),
      huge,
      ...Array.from({ length: 30 }, (_, i) =>
        rec(2 + i, {
          headers: [
            { key: 'h', value: Buffer.from(`v${i}`) },
            { key: 'h', value: null },
          ],
        }),
      ),
    ];
    const { buf, stats } = await writeAll(records, { blockBytes: 400 });
    async function* one(): AsyncGenerator<Buffer> {
      yield buf;
    }
    for (const views of [false, true]) {
      const got: BackupRecord[][] = [];
      const gen = readSegmentBlocks(one(), { name: 'blocks', expectedSha256: stats.sha256, expectedRecords: records.length, views });
      for (;;) {
        const n = await gen.next();
        if (n.done) {
          expect(n.value.records).toBe(records.length);
          break;
        }
        got.push(n.value);
      }
      expect(got.length).toBe(blocks(buf).length);
      expect(norm(got.flat())).toEqual(norm(records));
    }
    // Copies own their bytes (values above Node's pool size get their own memory); views share the decoded block's.
    const big = [rec(0, { value: Buffer.alloc(Buffer.poolSize, 'a') }), rec(1, { value: Buffer.alloc(Buffer.poolSize, 'b') })];
    const { buf: bigBuf } = await writeAll(big);
    for (const views of [false, true]) {
      for await (const block of readSegmentBlocks(
        (async function* () {
          yield bigBuf;
        })(),
        { name: 'v', views },
      )) {
        expect(block.length).toBe(2);
        expect(block[0]!.value!.buffer === block[1]!.value!.buffer).toBe(views);
      }
    }
  });

  it('stops pulling the source when the consumer stops early', async () => {
    const { buf } = await writeAll(
      Array.from({ length: 50 }, (_, i) => rec(i)),
      { blockBytes: 200 },
    );
    let returned = false;
    const src: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]() {
        let sent = false;
        return {
          async next() {
            if (sent) return { done: true, value: undefined };
            sent = true;
            return { done: false, value: buf };
          },
          async return() {
            returned = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    for await (const r of readSegment(src, { name: 'early' })) {
      expect(r.offset).toBe(0n);
      break;
    }
    expect(returned).toBe(true);
  });
});

describe('segment corruption is detected', () => {
  const records = Array.from({ length: 40 }, (_, i) => rec(100 + i));
  let buf: Buffer;
  let sha: string;
  beforeAll(async () => {
    const w = await writeAll(records, { blockBytes: 1024 });
    buf = w.buf;
    sha = w.stats.sha256;
    expect(blocks(buf).every((b) => b.codec === Codec.Zstd)).toBe(true);
  });
  const read = (b: Buffer, opts = {}): Promise<BackupRecord[]> => readSegmentBuffer(b, { name: 'bad.kseg', ...opts });

  it('a flipped byte in a compressed payload', async () => {
    const b1 = blocks(buf)[1]!;
    // Every byte of the frame: each must fail the frame decode, the length check or the CRC.
    for (let i = 0; i < b1.storedLength; i++) {
      const bad = Buffer.from(buf);
      bad[b1.position + BLOCK_HEADER_SIZE + i]! ^= 0x55;
      const msg = await integrityMessage(read(bad));
      expect(msg).toMatch(new RegExp(`^segment bad\\.kseg: block 1 at byte ${b1.position}: `));
      expect(msg).toMatch(/zstd|CRC-32 mismatch|record/);
    }
  });

  it('a flipped byte in a CRC', async () => {
    const b0 = blocks(buf)[0]!;
    const bad = Buffer.from(buf);
    bad[b0.position + 16]! ^= 0x01;
    const msg = await integrityMessage(read(bad));
    expect(msg).toMatch(/^segment bad\.kseg: block 0 at byte 16: CRC-32 mismatch \(header 0x[0-9a-f]{8}, body 0x[0-9a-f]{8}\)$/);
  });

  it('a corrupt stored (codec 0) block', async () => {
    const { buf: sb } = await writeAll([rec(1, { key: null, value: randomBytes(3000) })]);
    expect(blocks(sb)[0]?.codec).toBe(Codec.Stored);
    const bad = Buffer.from(sb);
    bad[FILE_HEADER_SIZE + BLOCK_HEADER_SIZE + 100]! ^= 0x80;
    expect(await integrityMessage(read(bad))).toMatch(/block 0 at byte 16: CRC-32 mismatch/);
  });

  it('truncation anywhere', async () => {
    const bs = blocks(buf);
    for (let len = 0; len < buf.length; len++) {
      const bi = bs.findIndex((b) => len < b.position + BLOCK_HEADER_SIZE + b.storedLength);
      if (len === bs[bi]!.position) {
        // A cut at a block boundary is a valid, shorter segment: only the manifest can tell (next test).
        expect(norm(await read(buf.subarray(0, len)))).toEqual(
          norm(
            records.slice(
              0,
              bs.slice(0, bi).reduce((n, b) => n + b.recordCount, 0),
            ),
          ),
        );
        continue;
      }
      const msg = await integrityMessage(read(buf.subarray(0, len)));
      if (len < FILE_HEADER_SIZE) {
        expect(msg).toBe(`segment bad.kseg: truncated file header at byte 0 (${len} of 16 bytes)`);
      } else {
        expect(msg).toContain(`segment bad.kseg: block ${bi} at byte ${bs[bi]!.position}: truncated`);
      }
    }
  });

  it('a cut at a block boundary is caught by the expected count and SHA-256', async () => {
    const b2 = blocks(buf)[2]!;
    const cut = buf.subarray(0, b2.position);
    expect(await integrityMessage(read(cut, { expectedRecords: records.length }))).toMatch(
      /^segment bad\.kseg: holds \d+ records in 2 blocks \(\d+ bytes\), expected 40$/,
    );
    expect(await integrityMessage(read(cut, { expectedSha256: sha }))).toMatch(/^segment bad\.kseg: SHA-256 mismatch over \d+ bytes/);
  });

  it('trailing garbage', async () => {
    const end = buf.length;
    expect(await integrityMessage(read(Buffer.concat([buf, Buffer.from('junk')])))).toBe(
      `segment bad.kseg: block ${blocks(buf).length} at byte ${end}: truncated block header or trailing garbage (4 bytes left, a block header is 20)`,
    );
    const msg = await integrityMessage(read(Buffer.concat([buf, Buffer.alloc(64, 0x41)])));
    expect(msg).toBe(`segment bad.kseg: block ${blocks(buf).length} at byte ${end}: unknown codec 65`);
  });

  it('wrong magic and unknown version', async () => {
    const m = Buffer.from(buf);
    m[0] = 0x50;
    expect(await integrityMessage(read(m))).toMatch(/^segment bad\.kseg: bad magic at byte 0 \(got 504241/);
    const v = Buffer.from(buf);
    v.writeUInt16BE(2, 8);
    expect(await integrityMessage(read(v))).toBe('segment bad.kseg: unsupported format version 2 at byte 8 (this kbak reads version 1)');
    // Reserved bytes are ignored.
    const r = Buffer.from(buf);
    r[15] = 0xff;
    expect(norm(await read(r))).toEqual(norm(records));
  });

  it('SHA-256 and record count mismatches', async () => {
    const wrong = sha.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(await integrityMessage(read(buf, { expectedSha256: wrong }))).toBe(
      `segment bad.kseg: SHA-256 mismatch over ${buf.length} bytes (got ${sha}, expected ${wrong})`,
    );
    expect(norm(await read(buf, { expectedSha256: sha.toUpperCase(), expectedRecords: 40 }))).toEqual(norm(records));
    expect(await integrityMessage(read(buf, { expectedRecords: 41 }))).toMatch(/holds 40 records in \d+ blocks .* expected 41$/);
  });

  it('inconsistent block headers', async () => {
    const b0 = blocks(buf)[0]!;
    const patch = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(buf);
      f(b.subarray(b0.position));
      return b;
    };
    expect(await integrityMessage(read(patch((b) => b.writeUInt32BE(0, 12))))).toBe(
      'segment bad.kseg: block 0 at byte 16: record count is 0 (a block holds at least one record)',
    );
    expect(await integrityMessage(read(patch((b) => b.writeUInt32BE(b0.recordCount + 1, 12))))).toMatch(
      /^segment bad\.kseg: block 0 at byte 16: block body holds \d+ records, block header says \d+$/,
    );
    expect(await integrityMessage(read(patch((b) => b.writeUInt32BE(b0.rawLength + 1, 4))))).toMatch(
      /^segment bad\.kseg: block 0 at byte 16: zstd payload at byte 36: zstd frame content size \d+ != raw length \d+$/,
    );
    expect(await integrityMessage(read(patch((b) => b.writeUInt32BE(MAX_ZSTD_RAW_BYTES + 1, 4))))).toMatch(
      /zstd block raw length 4194305 exceeds the limit 4194304$/,
    );
    expect(await integrityMessage(read(patch((b) => b.writeUInt32BE(0xffffffff, 8))))).toMatch(
      /block 0 at byte 16: zstd block stored length 4294967295 is not smaller than raw length/,
    );
  });

  it('offsets that do not increase (across blocks)', async () => {
    const body = (r: BackupRecord[]): Buffer => Buffer.concat(r.map(encodeRecord));
    const block = (b: Buffer, n: number): Buffer =>
      Buffer.concat([encodeBlockHeader({ codec: Codec.Stored, rawLength: b.length, storedLength: b.length, recordCount: n, crc32: crc32(b) }), b]);
    const b0 = block(body([rec(5), rec(6)]), 2);
    const file = Buffer.concat([encodeFileHeader(), b0, block(body([rec(6)]), 1)]);
    expect(await integrityMessage(read(file))).toBe(
      `segment bad.kseg: block 1 at byte ${16 + b0.length}: record 0 has offset 6, not greater than the previous offset 6`,
    );
  });

  it('malformed records inside a block with a valid CRC', async () => {
    const mk = (body: Buffer, n = 1): Buffer =>
      Buffer.concat([
        encodeFileHeader(),
        encodeBlockHeader({ codec: Codec.Stored, rawLength: body.length, storedLength: body.length, recordCount: n, crc32: crc32(body) }),
        body,
      ]);
    const good = encodeRecord(rec(1, { key: Buffer.from('k'), headers: [{ key: 'h', value: Buffer.from('v') }] }));
    const bigLen = Buffer.from(good);
    bigLen.writeUInt32BE(good.length, 0);
    expect(await integrityMessage(read(mk(bigLen)))).toMatch(/block 0 at byte 16: record 0 at raw body byte 0: record length \d+ runs past the end/);
    const badTs = Buffer.from(good);
    badTs[20] = 7;
    expect(await integrityMessage(read(mk(badTs)))).toBe('segment bad.kseg: block 0 at byte 16: record 0 at raw body byte 20: unknown timestamp type 7');
    const badKey = Buffer.from(good);
    badKey.writeInt32BE(-2, 21);
    expect(await integrityMessage(read(mk(badKey)))).toMatch(/record 0 at raw body byte 21: key length -2 is negative/);
    const badUtf8 = Buffer.from(good);
    badUtf8[badUtf8.length - 6] = 0xff; // the header key "h"
    expect(await integrityMessage(read(mk(badUtf8)))).toMatch(/header 0 key is not valid UTF-8/);
    const negOffset = Buffer.from(good);
    negOffset.writeBigInt64BE(-5n, 4);
    expect(await integrityMessage(read(mk(negOffset)))).toMatch(/record 0 at raw body byte 4: negative offset -5/);
    expect(await integrityMessage(read(mk(Buffer.concat([good, Buffer.alloc(3)]))))).toMatch(/record 1 at raw body byte \d+: more records than/);
  });
});

describe('segment writer rules', () => {
  it('rejects non-increasing offsets and stays usable', async () => {
    const chunks: Buffer[] = [];
    const w = await SegmentWriter.create({ name: 'w.kseg', sink: (c) => void chunks.push(c) });
    await w.append(rec(5));
    await expect(w.append(rec(5))).rejects.toThrow(
      new UnsupportedDataError('segment w.kseg: record offset 5 is not greater than the previous offset 5 (offsets must strictly increase)'),
    );
    await expect(w.append(rec(4))).rejects.toBeInstanceOf(UnsupportedDataError);
    await expect(w.append(rec(-1))).rejects.toThrow('record offset -1 is negative');
    await expect(w.append(rec(2n ** 63n))).rejects.toThrow('is not a signed 64-bit integer');
    await expect(w.append(rec(9, { headers: [{ key: 'bad\uD800', value: null }] }))).rejects.toThrow('not well-formed Unicode');
    await w.append(rec(6));
    const stats = await w.finish();
    expect(stats.records).toBe(2);
    expect(norm(await readSegmentBuffer(Buffer.concat(chunks), { name: 'w' }))).toEqual(norm([rec(5), rec(6)]));
    await expect(w.append(rec(7))).rejects.toThrow('append called after finish');
  });

  it('validates options', async () => {
    const sink = (): void => undefined;
    await expect(SegmentWriter.create({ sink, level: 10 })).rejects.toThrow(UsageError);
    await expect(SegmentWriter.create({ sink, level: 0 })).rejects.toThrow('zstd level 0 is not supported');
    await expect(SegmentWriter.create({ sink, blockBytes: 0 })).rejects.toThrow('segment block size 0 is out of range (use 1..4194304 bytes at zstd level 3)');
    await expect(SegmentWriter.create({ sink, blockBytes: 3 * 1024 * 1024, level: 9 })).rejects.toThrow(UsageError);
    expect(zstdInputLimit(9)).toBeLessThan(zstdInputLimit(3));
  });

  it('reports progress getters and a failing sink', async () => {
    let n = 0;
    const w = await SegmentWriter.create({
      blockBytes: 200,
      sink: () => {
        if (++n === 3) throw new Error('disk full');
      },
    });
    await w.append(rec(1));
    expect(w.bytesWritten).toBe(0);
    expect(w.rawBytes).toBe(encodeRecord(rec(1)).length);
    // Each append seals the previous record's block; sealed blocks are compressed (several
    // at once) and emitted in order while the next ones fill, so the sink's failure on the
    // third block is reported by a later append, before finish.
    await w.append(rec(2));
    expect(w.rawBytes).toBe(encodeRecord(rec(1)).length + encodeRecord(rec(2)).length);
    let failure: unknown = null;
    let appended = 2;
    while (failure === null && appended < 40) await w.append(rec(++appended)).catch((e: unknown) => (failure = e));
    expect(String(failure)).toContain('disk full');
    expect(appended).toBeLessThan(40);
    expect(w.bytesWritten).toBeGreaterThan(16);
    await expect(w.append(rec(99))).rejects.toThrow('called after an earlier failure');
    await expect(w.finish()).rejects.toThrow('called after an earlier failure');
  });

  it('produces identical bytes for identical input', async () => {
    const a = await writeAll(variety, { blockBytes: 500 });
    const b = await writeAll(variety, { blockBytes: 500 });
    expect(a.buf.equals(b.buf)).toBe(true);
    expect(a.stats.sha256).toBe(b.stats.sha256);
  });
});

describe('zstd wrapper', () => {
  it('rejects frames without a content size, with a dictionary, or with trailing bytes', async () => {
    const z = await getZstd();
    const raw = Buffer.alloc(1000, 'x');
    const frame = z.compress(raw);
    expect(z.decompress(frame, 1000)).toEqual(raw);
    expect(() => z.decompress(Buffer.concat([frame, Buffer.from([0])]), 1000)).toThrow('1 bytes after the zstd frame');
    expect(() => z.decompress(frame.subarray(0, frame.length - 1), 1000)).toThrow('zstd frame is truncated');
    expect(() => z.decompress(frame, 999)).toThrow('zstd frame content size 1000 != raw length 999');
    expect(() => z.decompress(Buffer.from('not a frame'), 10)).toThrow('not a zstd frame');
    // The same frame with FCS flag 0 and no single-segment flag: no content size.
    const noFcs = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x01, 0x00, 0x00]);
    expect(() => z.decompress(noFcs, 10)).toThrow('has no content size');
    // Single-segment frame header naming dictionary 5 (1-byte dictionary ID, 1-byte content size).
    const withDict = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x21, 0x05, 0x0a, 0x01, 0x00, 0x00]);
    expect(() => z.decompress(withDict, 10)).toThrow('zstd frame needs dictionary 5');
    expect(() => z.compress(Buffer.alloc(zstdInputLimit(3) + 1))).toThrow(UsageError);
  });

  it('retires an instance after an Emscripten abort and hands out a fresh one', async () => {
    const shared = await getZstd();
    const aborting = new Zstd({
      compress: () => {
        // What an Emscripten abort throws: a string, not an Error.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'abort(OOM). Build with -s ASSERTIONS=1 for more info.';
      },
      decompress: () => null,
    });
    expect(() => aborting.compress(Buffer.alloc(10))).toThrow('zstd-codec aborted during compress: abort(OOM)');
    expect(() => aborting.compress(Buffer.alloc(10))).toThrow('unusable after an earlier abort');
    // Only the instance that aborted is retired.
    expect(await getZstd()).toBe(shared);
  });
});

describe('segment memory stays bounded', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Buffer backing stores are released after the GC that finds them dead, not during it.
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 2; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('writes 200 MB through a discarding sink with bounded heap growth', async () => {
    // Values are views into a pool: half random, half text, so blocks compress to about half
    // and the test itself allocates next to nothing per record.
    const pool = Buffer.alloc(4 * 1024 * 1024);
    for (let p = 0; p < pool.length; p += 16 * 1024) {
      randomBytes(8 * 1024).copy(pool, p);
      pool.fill(`filler ${p} `, p + 8 * 1024, p + 16 * 1024);
    }
    const valueAt = (i: number): Buffer => {
      const start = (i * 12_289) % (pool.length - 16 * 1024);
      return pool.subarray(start, start + 16 * 1024);
    };
    await settle();
    const base = process.memoryUsage();
    let peakHeap = 0;
    let peakAb = 0;
    let sunk = 0;
    const w = await SegmentWriter.create({ name: 'mem.kseg', sink: (c) => void (sunk += c.length) });
    const total = 200 * 1024 * 1024;
    let i = 0;
    while (w.rawBytes < total) {
      await w.append({
        offset: BigInt(i),
        timestamp: BigInt(i),
        timestampType: TimestampType.CreateTime,
        key: Buffer.from(String(i)),
        value: valueAt(i),
        headers: [{ key: 'traceparent', value: traceparent }],
      });
      i++;
      if (i % 2000 === 0) {
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed - base.heapUsed);
        peakAb = Math.max(peakAb, m.arrayBuffers - base.arrayBuffers);
      }
    }
    const stats = await w.finish();
    expect(stats.rawBytes).toBeGreaterThanOrEqual(total);
    expect(stats.storedBytes).toBe(sunk);
    expect(stats.storedBytes).toBeLessThan(stats.rawBytes * 0.7);
    await settle();
    const after = process.memoryUsage();
    expect(peakHeap).toBeLessThan(64 * 1024 * 1024);
    expect(after.heapUsed - base.heapUsed).toBeLessThan(16 * 1024 * 1024);
    expect(after.arrayBuffers - base.arrayBuffers).toBeLessThan(16 * 1024 * 1024);
    // Garbage buffers are counted until a GC runs, so this bound is loose.
    expect(peakAb).toBeLessThan(256 * 1024 * 1024);
  });

  it('streams 100 MB from writer to reader with bounded heap growth', async () => {
    const value = Buffer.alloc(32 * 1024, 'stream ');
    // A one-slot channel: the writer's sink waits until the reader has taken the chunk.
    let slot: Buffer | null = null;
    let closed = false;
    const wake: { reader: (() => void) | null; writer: (() => void) | null } = { reader: null, writer: null };
    const sink = async (c: Buffer): Promise<void> => {
      while (slot !== null) await new Promise<void>((r) => (wake.writer = r));
      slot = c;
      wake.reader?.();
    };
    async function* source(): AsyncGenerator<Buffer> {
      for (;;) {
        while (slot === null && !closed) await new Promise<void>((r) => (wake.reader = r));
        if (slot === null) return;
        const c: Buffer = slot;
        slot = null;
        wake.writer?.();
        yield c;
      }
    }
    await settle();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    const n = Math.ceil((100 * 1024 * 1024) / value.length);
    const producer = (async () => {
      const w = await SegmentWriter.create({ sink });
      for (let i = 0; i < n; i++) await w.append({ offset: BigInt(i), timestamp: 0n, timestampType: 0, key: null, value, headers: [] });
      const s = await w.finish();
      closed = true;
      wake.reader?.();
      return s;
    })();
    let count = 0;
    for await (const r of readSegment(source(), { name: 'pipe.kseg', expectedRecords: n })) {
      if (r.offset !== BigInt(count)) throw new Error(`offset ${r.offset} at ${count}`);
      count++;
      if (count % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
    const stats = await producer;
    expect(count).toBe(n);
    expect(stats.records).toBe(n);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  });
});
