/**
 * The one segment-record walker (src/segment/record-walker.ts) and the one record writer
 * (src/segment/record-writer.ts): the walker's fields against the independent decoder
 * written from FORMAT.md (test/support/format-decoder.ts), the first broken rule named the
 * same way by every reader built on it, and the writer's number and bigint forms giving the
 * same bytes.
 */
import { crc32 } from 'node:zlib';
import { IntegrityError } from '../../src/errors';
import { Codec, decodeRecordAt, encodeBlockHeader, encodeFileHeader, encodeRecord, scanRecordAt, type BlockContext } from '../../src/segment/format';
import { readSegmentBlocks, readSegmentRawBlocks } from '../../src/segment/reader';
import { type BackupRecord, TimestampType } from '../../src/segment/record';
import { eachHeader, SegmentRecordWalker } from '../../src/segment/record-walker';
import { highHalf, lowHalf, putRecordHead } from '../../src/segment/record-writer';
import { decodeSegment, type DecodedRecord } from '../support/format-decoder';

const ctx: BlockContext = { name: 'w.kseg', blockIndex: 3, position: 77 };

/** One stored block holding `body` (`count` records), as a whole segment file. */
function segmentOf(body: Buffer, count: number): Buffer {
  const header = encodeBlockHeader({ codec: Codec.Stored, rawLength: body.length, storedLength: body.length, recordCount: count, crc32: crc32(body) });
  return Buffer.concat([encodeFileHeader(), header, body]);
}

/** A deterministic variety: null and empty keys and values, non-ASCII and BOM header keys, offsets and timestamps past 2^53. */
function variety(): BackupRecord[] {
  const out: BackupRecord[] = [];
  const offsets = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n];
  const timestamps = [-1n, 0n, 1_700_000_000_000n, 2n ** 53n + 3n, -(2n ** 63n), 2n ** 63n - 1n];
  const keys = ['traceparent', 'b3', 'clé', '\uFEFFbom', '🎉', ''];
  for (let i = 0; i < offsets.length; i++) {
    out.push({
      offset: offsets[i]!,
      timestamp: timestamps[i]!,
      timestampType: [TimestampType.CreateTime, TimestampType.LogAppendTime, TimestampType.Unknown][i % 3]!,
      key: i % 3 === 0 ? null : Buffer.from('k'.repeat(i * 7)),
      value: i % 4 === 1 ? null : Buffer.from(`value ${i} `.repeat(i * 5)),
      headers: Array.from({ length: i * 20 }, (_, j) => ({ key: keys[j % keys.length]!, value: j % 5 === 0 ? null : Buffer.from(`h${j}`) })),
    });
  }
  return out;
}

const bytes = (buf: Buffer, start: number, n: number): Buffer | null => (n < 0 ? null : Buffer.from(buf.subarray(start, start + n)));

describe('segment record walker', () => {
  it('finds every field where the independent decoder reads it', () => {
    const records = variety();
    const body = Buffer.concat(records.map(encodeRecord));
    const expected: DecodedRecord[] = decodeSegment(segmentOf(body, records.length)).records;
    const w = new SegmentRecordWalker();
    let p = 0;
    for (const want of expected) {
      expect(w.walk(body, p, body.length, true)).toBe(true);
      expect(w.start).toBe(p);
      expect(w.offset()).toBe(want.offset);
      expect(w.timestamp()).toBe(want.timestamp);
      expect(w.timestampType).toBe(want.timestampType);
      expect(bytes(body, w.keyStart, w.keyLength)).toEqual(want.key);
      expect(bytes(body, w.valueStart, w.valueLength)).toEqual(want.value);
      expect(w.headerCount).toBe(want.headers.length);
      const kept: Array<[string, Buffer | null]> = [];
      for (let i = 0; i < w.headerCount; i++) {
        const h = w.headers.subarray(i * 4, i * 4 + 4);
        kept.push([body.toString('utf8', h[0], h[0]! + h[1]!), bytes(body, h[2]!, h[3]!)]);
      }
      expect(kept).toEqual(want.headers);
      // eachHeader walks the same headers of a checked record without keeping them.
      const walked: Array<[string, Buffer | null]> = [];
      eachHeader(body, w, (ks, kl, vs, vl) => walked.push([body.toString('utf8', ks, ks + kl), bytes(body, vs, vl)]));
      expect(walked).toEqual(want.headers);
      // Framing alone: the same extent and offset.
      expect(w.frame(body, p, body.length)).toBe(true);
      expect(w.offset()).toBe(want.offset);
      p = w.next;
    }
    expect(p).toBe(body.length);
  });

  // A record of 46 bytes: length 0, offset 4, timestamp 12, type 20, key length 21, key 25,
  // value length 26, value 30, header count 32, header key length 36, key 40, value length 41, value 45.
  const good = (): Buffer =>
    encodeRecord({
      offset: 1n,
      timestamp: 2n,
      timestampType: TimestampType.CreateTime,
      key: Buffer.from('k'),
      value: Buffer.from('vv'),
      headers: [{ key: 'h', value: Buffer.from('x') }],
    });
  /** A record of `len` bytes after its length prefix, `fill` writing its fields. */
  const crafted = (len: number, fill: (b: Buffer) => void): Buffer => {
    const b = Buffer.alloc(4 + len);
    b.writeUInt32BE(len, 0);
    fill(b);
    return b;
  };
  const patched = (f: (b: Buffer) => void, extra = 0): Buffer => {
    const b = Buffer.concat([good(), Buffer.alloc(extra)]);
    f(b);
    return b;
  };
  const cases: Array<[string, Buffer, string]> = [
    ['a truncated length', good().subarray(0, 3), 'at raw body byte 0: truncated record length'],
    ['a length below the minimum', patched((b) => b.writeUInt32BE(28, 0)), 'at raw body byte 0: record length 28 is smaller than the minimum 29'],
    ['a length past the block', patched((b) => b.writeUInt32BE(46, 0)), 'at raw body byte 0: record length 46 runs past the end of the block body'],
    ['a negative offset', patched((b) => b.writeBigInt64BE(-5n, 4)), 'at raw body byte 4: negative offset -5'],
    ['an unknown timestamp type', patched((b) => (b[20] = 7)), 'at raw body byte 20: unknown timestamp type 7'],
    ['a key length below -1', patched((b) => b.writeInt32BE(-2, 21)), 'at raw body byte 21: key length -2 is negative'],
    ['a key past the record', patched((b) => b.writeInt32BE(100, 21)), 'at raw body byte 25: key (100 bytes) runs past the record end'],
    ['a value length past the record', crafted(29, (b) => b.writeInt32BE(8, 21)), 'at raw body byte 33: value length (4 bytes) runs past the record end'],
    ['a value length below -1', patched((b) => b.writeInt32BE(-3, 26)), 'at raw body byte 26: value length -3 is negative'],
    ['a value past the record', patched((b) => b.writeInt32BE(20, 26)), 'at raw body byte 30: value (20 bytes) runs past the record end'],
    [
      'a header count past the record',
      crafted(29, (b) => {
        b.writeInt32BE(-1, 21);
        b.writeInt32BE(4, 25);
      }),
      'at raw body byte 33: header count (4 bytes) runs past the record end',
    ],
    ['a header count that cannot fit', patched((b) => b.writeUInt32BE(2, 32)), 'at raw body byte 32: header count 2 does not fit in the record'],
    [
      'a header key length past the record',
      crafted(45, (b) => {
        b.writeInt32BE(-1, 21);
        b.writeInt32BE(-1, 25);
        b.writeUInt32BE(2, 29);
        b.writeUInt32BE(8, 33);
        b.writeInt32BE(-1, 45);
      }),
      'at raw body byte 49: header 1 key length (4 bytes) runs past the record end',
    ],
    ['a header key past the record', patched((b) => b.writeUInt32BE(50, 36)), 'at raw body byte 40: header 0 key (50 bytes) runs past the record end'],
    ['a header key that is not UTF-8', patched((b) => (b[40] = 0xff)), 'at raw body byte 40: header 0 key is not valid UTF-8'],
    ['a header value length below -1', patched((b) => b.writeInt32BE(-2, 41)), 'at raw body byte 41: header 0 value length -2 is negative'],
    ['a header value past the record', patched((b) => b.writeInt32BE(9, 41)), 'at raw body byte 45: header 0 value (9 bytes) runs past the record end'],
    ['unused bytes', patched((b) => b.writeUInt32BE(45, 0), 3), 'at raw body byte 46: 3 unused bytes at the end of the record'],
  ];

  it.each(cases)('names %s the same way in every reader', async (_what, buf, problem) => {
    const message = `segment w.kseg: block 3 at byte 77: record 5 ${problem}`;
    const w = new SegmentRecordWalker();
    expect(w.walk(buf, 0, buf.length)).toBe(false);
    expect(w.error(ctx, 5)).toEqual(new IntegrityError(message));
    expect(() => scanRecordAt(buf, 0, buf.length, 5, ctx)).toThrow(new IntegrityError(message));
    expect(() => decodeRecordAt(buf, 0, buf.length, 5, ctx)).toThrow(new IntegrityError(message));
    // A reader that hands over one record of a block at a time names raw body positions.
    const shifted = message.replace(/raw body byte (\d+)/, (_m, n: string) => `raw body byte ${Number(n) + 1000}`);
    expect(() => scanRecordAt(buf, 0, buf.length, 5, ctx, 1000)).toThrow(new IntegrityError(shifted));
    // The object reader and the raw-block reader (framing walk) of a whole segment name it
    // the same way (a body shorter than one record is refused by its block header already).
    if (buf.length < 33) return;
    const one = async function* (): AsyncGenerator<Buffer> {
      yield segmentOf(buf, 1);
    };
    const firstError = async (gen: AsyncGenerator<unknown>): Promise<string> => {
      try {
        for await (const _ of gen) void _;
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const inSegment = `segment w.kseg: block 0 at byte 16: record 0 ${problem}`;
    expect(await firstError(readSegmentBlocks(one(), { name: 'w.kseg' }))).toBe(inSegment);
    // Raw blocks check the framing and the offset order; the inside of a record is their consumer's to walk.
    const framing = /record length|negative offset/.test(problem);
    expect(await firstError(readSegmentRawBlocks(one(), { name: 'w.kseg' }))).toBe(framing ? inSegment : 'no error');
  });

  it('frames a record by its length alone: a broken field inside is left to walk', () => {
    const buf = good();
    buf[20] = 7;
    const w = new SegmentRecordWalker();
    expect(w.frame(buf, 0, buf.length)).toBe(true);
    expect(w.next).toBe(buf.length);
    expect(w.offset()).toBe(1n);
    expect(w.walk(buf, 0, buf.length)).toBe(false);
  });

  it('keeps header positions in one array it grows, up to 4096 headers', () => {
    const r: BackupRecord = { ...variety()[1]!, headers: Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: Buffer.from([i & 0xff]) })) };
    const buf = encodeRecord(r);
    const w = new SegmentRecordWalker();
    expect(w.walk(buf, 0, buf.length, true)).toBe(true);
    const grown = w.headers;
    expect(grown.length).toBeGreaterThanOrEqual(4000);
    expect(buf.toString('utf8', grown[999 * 4], grown[999 * 4]! + grown[999 * 4 + 1]!)).toBe('k999');
    expect(w.walk(buf, 0, buf.length, true)).toBe(true);
    expect(w.headers).toBe(grown);
    // A record of more headers gets an array of its own: the walker does not keep it.
    const many = encodeRecord({ ...r, headers: Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, value: null })) });
    expect(w.walk(many, 0, many.length, true)).toBe(true);
    expect(w.headers.length).toBe(40_000);
    expect(many.toString('utf8', w.headers[9999 * 4], w.headers[9999 * 4]! + w.headers[9999 * 4 + 1]!)).toBe('k9999');
    expect(w.walk(buf, 0, buf.length, true)).toBe(true);
    expect(w.headers).toBe(grown);
  });
});

describe('segment record writer', () => {
  it('writes an offset or timestamp given as halves of a safe number exactly as the bigint', () => {
    const values = [0, 1, -1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 1_700_000_000_000, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    for (const v of values) {
      const head = Buffer.alloc(21);
      putRecordHead(head, 0, 40, highHalf(v), lowHalf(v), highHalf(-v), lowHalf(-v), TimestampType.LogAppendTime);
      expect(head.readUInt32BE(0)).toBe(36);
      expect(head.readBigInt64BE(4)).toBe(BigInt(v));
      expect(head.readBigInt64BE(12)).toBe(BigInt(-v));
      expect(head[20]).toBe(TimestampType.LogAppendTime);
    }
    // And the object writer's bigint form: the same head bytes as Buffer's own int64 writer.
    const r: BackupRecord = { offset: 2n ** 63n - 1n, timestamp: -(2n ** 63n), timestampType: TimestampType.Unknown, key: null, value: null, headers: [] };
    const bytes = encodeRecord(r);
    const want = Buffer.alloc(33);
    want.writeUInt32BE(29, 0);
    want.writeBigInt64BE(r.offset, 4);
    want.writeBigInt64BE(r.timestamp, 12);
    want[20] = TimestampType.Unknown;
    want.writeInt32BE(-1, 21);
    want.writeInt32BE(-1, 25);
    expect(bytes).toEqual(want);
  });
});
