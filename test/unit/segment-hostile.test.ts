/**
 * Crafted segments that once cost quadratic CPU or a whole 1 GiB block of memory
 * (issue 8): the reader's work must be linear and a large stored block must be read one
 * record at a time. Inputs are generated here, small enough for a unit test.
 */
import { crc32 } from 'node:zlib';
import { IntegrityError } from '../../src/errors';
import { Codec, encodeBlockHeader, encodeFileHeader, encodeRecord, MAX_ZSTD_RAW_BYTES } from '../../src/segment/format';
import { readSegment } from '../../src/segment/reader';
import { type BackupRecord, TimestampType } from '../../src/segment/record';
import { SegmentWriter } from '../../src/segment/writer';
import { getZstd } from '../../src/segment/zstd';

jest.setTimeout(120_000);

const tiny = (offset: number): BackupRecord => ({
  offset: BigInt(offset),
  timestamp: -1n,
  timestampType: TimestampType.Unknown,
  key: null,
  value: null,
  headers: [],
});

function tinyBody(count: number, first = 0): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, i) => encodeRecord(tiny(first + i))));
}

function block(codec: Codec, body: Buffer, payload: Buffer, count: number, crc = crc32(body)): Buffer {
  return Buffer.concat([encodeBlockHeader({ codec, rawLength: body.length, storedLength: payload.length, recordCount: count, crc32: crc }), payload]);
}

/** Hands the bytes out in fixed-size chunks and counts how many were pulled. */
function metered(buf: Buffer, chunk: number): { source: AsyncIterable<Buffer>; pulled: () => number } {
  let pos = 0;
  return {
    pulled: () => pos,
    source: {
      async *[Symbol.asyncIterator]() {
        while (pos < buf.length) {
          const c = buf.subarray(pos, pos + chunk);
          pos += c.length;
          yield c;
        }
      },
    },
  };
}

async function drain(it: AsyncIterable<BackupRecord>): Promise<number> {
  let n = 0;
  for await (const r of it) {
    if (r.offset !== BigInt(n)) throw new Error(`offset ${r.offset} at ${n}`);
    n++;
  }
  return n;
}

describe('hostile segments: linear cost', () => {
  it('hands out a full 4 MiB zstd block of the smallest records without a per-record shift', async () => {
    const count = Math.floor(MAX_ZSTD_RAW_BYTES / 33); // 127 100 records of 33 bytes
    const body = tinyBody(count);
    const frame = (await getZstd()).compress(body, 3);
    expect(frame.length).toBeLessThan(body.length);
    const file = Buffer.concat([encodeFileHeader(), block(Codec.Zstd, body, frame, count)]);
    // The old reader called Array.prototype.shift once per record (O(n²) for a block);
    // one-byte source chunks also used to be shifted off one by one.
    const shift = jest.spyOn(Array.prototype, 'shift');
    try {
      const m = metered(file, 1);
      expect(await drain(readSegment(m.source, { name: 'tiny.kseg', expectedRecords: count }))).toBe(count);
      expect(shift.mock.calls.length).toBeLessThan(100);
    } finally {
      shift.mockRestore();
    }
  });
});

describe('hostile segments: memory bounded by one record, not one block', () => {
  it('streams a stored block of many tiny records (8 MiB) record by record', async () => {
    const count = Math.floor((2 * MAX_ZSTD_RAW_BYTES) / 33);
    const body = tinyBody(count);
    const file = Buffer.concat([encodeFileHeader(), block(Codec.Stored, body, body, count)]);
    const m = metered(file, 64 * 1024);
    const it = readSegment(m.source, { name: 'stored.kseg', expectedRecords: count })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    // The old reader buffered the whole block (8 MiB) before the first record.
    expect(m.pulled()).toBeLessThanOrEqual(64 * 1024);
    let n = 1;
    while (!(await it.next()).done) n++;
    expect(n).toBe(count);
  });

  it('reads a record larger than a codec-1 block (6 MiB) written by the writer, then the next records', async () => {
    const big: BackupRecord = { ...tiny(1), key: Buffer.from('big'), value: Buffer.alloc(6 * 1024 * 1024, 7) };
    const records = [tiny(0), big, tiny(2), tiny(3)];
    const calls: Buffer[] = [];
    const w = await SegmentWriter.create({ name: 'big.kseg', sink: (c) => void calls.push(c) });
    for (const r of records) await w.append(r);
    const stats = await w.finish();
    // The 6 MiB payload is handed to the sink as is, not copied into a header+payload buffer.
    expect(calls.some((c) => c.length === encodeRecord(big).length)).toBe(true);
    const file = Buffer.concat(calls);
    const m = metered(file, 256 * 1024);
    const got: Array<{ offset: bigint; pulled: number; size: number }> = [];
    for await (const r of readSegment(m.source, { name: 'big.kseg', expectedSha256: stats.sha256, expectedRecords: 4 })) {
      got.push({ offset: r.offset, pulled: m.pulled(), size: r.value?.length ?? 0 });
    }
    expect(got.map((g) => g.offset)).toEqual([0n, 1n, 2n, 3n]);
    expect(got[1]?.size).toBe(6 * 1024 * 1024);
    // The big record was handed out as soon as its own bytes arrived.
    expect(got[1]?.pulled).toBeLessThanOrEqual(file.length);
    expect(got[1]?.pulled).toBeLessThan(encodeRecord(big).length + 2 * 256 * 1024 + 200);
  });

  it('still detects a bad CRC, a wrong count and leftover bytes in a streamed block', async () => {
    const count = Math.floor(MAX_ZSTD_RAW_BYTES / 33) + 10;
    const body = tinyBody(count);
    // One record with a value leaves room in the raw length for a count that is too high.
    const roomy = Buffer.concat([body, encodeRecord({ ...tiny(count), value: Buffer.alloc(100) })]);
    const overrun = Buffer.concat([roomy, Buffer.from([0, 0, 1, 0])]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['crc', block(Codec.Stored, body, body, count, crc32(body) ^ 1), /CRC-32 mismatch/],
      ['fewer records than the header says', block(Codec.Stored, roomy, roomy, count + 2), /block body holds \d+ records, block header says/],
      ['more records than the header says', block(Codec.Stored, body, body, count - 1), /more records than the block header's count/],
      ['record running past the block', block(Codec.Stored, overrun, overrun, count + 2), /record length 256 runs past the end of the block body/],
    ];
    for (const [what, b, re] of cases) {
      const file = Buffer.concat([encodeFileHeader(), b]);
      await expect(drain(readSegment(metered(file, 1 << 20).source, { name: what }))).rejects.toThrow(IntegrityError);
      await expect(drain(readSegment(metered(file, 1 << 20).source, { name: what }))).rejects.toThrow(re);
    }
    const truncated = Buffer.concat([encodeFileHeader(), block(Codec.Stored, body, body, count)]).subarray(0, 3 * 1024 * 1024);
    await expect(drain(readSegment(metered(truncated, 1 << 20).source, { name: 'cut' }))).rejects.toThrow(/truncated payload/);
  });
});
