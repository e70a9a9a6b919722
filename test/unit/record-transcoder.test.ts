/**
 * The transcoder (segment block → Kafka record set) against the object path it replaces:
 * decodeRecords → toLaneRecord → encodeRecordSet, batch by batch, byte for byte, with the
 * same counters. Also the raw block reader it reads from.
 */
import { IntegrityError } from '../../src/errors';
import { batchBytes, encodeRecordSet, writeRecordBatch } from '../../src/kafka/protocol/record-batch';
import { RecordSetBuilder, type BatchLimits } from '../../src/restore/record-transcoder';
import { recordBytes, toLaneRecord, type LaneRecord, type RewriteOptions } from '../../src/restore/write-partition';
import { SchemaIdMap } from '../../src/schema/register';
import { crc32 } from 'node:zlib';
import { Codec, decodeRecords, encodeBlockHeader, encodeFileHeader, encodeRecord, type BlockContext } from '../../src/segment/format';
import { readSegmentBlocks, readSegmentRawBlocks } from '../../src/segment/reader';
import { type BackupRecord, type RecordHeader, TimestampType } from '../../src/segment/record';
import { SegmentWriter } from '../../src/segment/writer';
import { decodeBatch } from '../support/kafka-batch-decoder';
import { prng } from '../support/prng';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const LANE_TOPIC = 'lane1.orders';
const ctx: BlockContext = { name: 'test.kseg', blockIndex: 0, position: 16 };

/** Source ID 9 → 300 (value subject) / 301 (key subject), 7 → 7 (the same ID), 8 → 400; others unmapped. */
const ids = new SchemaIdMap(
  new Map([
    [
      9,
      [
        { laneSubject: `${LANE_TOPIC}-value`, laneVersion: 1, laneId: 300, created: true },
        { laneSubject: `${LANE_TOPIC}-key`, laneVersion: 1, laneId: 301, created: true },
      ],
    ],
    [7, [{ laneSubject: `${LANE_TOPIC}-value`, laneVersion: 2, laneId: 7, created: false }]],
    [8, [{ laneSubject: 'other-value', laneVersion: 1, laneId: 400, created: true }]],
  ]),
);

function framed(id: number, rest: Buffer): Buffer {
  const b = Buffer.alloc(5 + rest.length);
  b.writeUInt32BE(id, 1);
  rest.copy(b, 5);
  return b;
}

const KEYS = ['traceparent', 'b3', 'uber-trace-id', 'ключ', '🎉', '', '\uFEFFbom', 'a\u0000b', 'é'];
const TIMESTAMPS = [0n, -1n, 1n, I64_MIN, I64_MAX, 2n ** 53n, -(2n ** 53n), 2n ** 53n - 1n, 1_700_000_000_000n, -1_700_000_000_000n, 2n ** 32n, -(2n ** 32n)];

function randomPayload(rnd: () => number): Buffer | null {
  const r = rnd();
  if (r < 0.1) return null;
  if (r < 0.15) return Buffer.alloc(0);
  const rest = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
  if (r < 0.5) return framed([9, 7, 8, 5, 0, 0xffffffff][Math.floor(rnd() * 6)]!, rest);
  if (r < 0.55) return Buffer.from([0, 0, 0]); // magic byte, too short for a schema ID
  if (r < 0.6) return Buffer.alloc(1500, 'x'); // above the copy loop's threshold
  return rest;
}

/** Baggage header keys and values (--lane-baggage): valid, to replace, to append to, invalid, not UTF-8, too long. */
const BAGGAGE_KEYS = ['baggage', 'BAGGAGE', 'Baggage', 'baggage2'];
const BAGGAGE_VALUES = ['a=b', 'lane=old;p=1', ' k = v , lane=lane1 ', '', 'bad value', '\uFEFFa=b', `a=${'x'.repeat(8190)}`, 'é=1', null];

function randomRecord(rnd: () => number, offset: bigint): BackupRecord {
  const n = rnd() < 0.2 ? 0 : rnd() < 0.9 ? Math.floor(rnd() * 4) : 20 + Math.floor(rnd() * 5);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < n; i++)
    headers.push({
      key: KEYS[Math.floor(rnd() * KEYS.length)]!,
      value: rnd() < 0.2 ? null : Buffer.from(Array.from({ length: Math.floor(rnd() * 60) }, (_, j) => (j * 7 + i) & 255)),
    });
  if (rnd() < 0.4) {
    const v = BAGGAGE_VALUES[Math.floor(rnd() * BAGGAGE_VALUES.length)]!;
    headers.splice(Math.floor(rnd() * (headers.length + 1)), 0, {
      key: BAGGAGE_KEYS[Math.floor(rnd() * BAGGAGE_KEYS.length)]!,
      value: rnd() < 0.1 ? Buffer.from([0xc3, 0x28]) : v === null ? null : Buffer.from(v),
    });
  }
  const timestamp = rnd() < 0.3 ? TIMESTAMPS[Math.floor(rnd() * TIMESTAMPS.length)]! : 1_700_000_000_000n + BigInt(Math.floor(rnd() * 1e9));
  return {
    offset,
    timestamp,
    timestampType: rnd() < 0.8 ? TimestampType.CreateTime : rnd() < 0.5 ? TimestampType.LogAppendTime : TimestampType.Unknown,
    key: randomPayload(rnd),
    value: randomPayload(rnd),
    headers,
  };
}

const body = (records: readonly BackupRecord[]): Buffer => Buffer.concat(records.map(encodeRecord));

interface Batch {
  bytes: Buffer;
  count: number;
  first: bigint;
  max: bigint;
}

/** What restore did before: objects, the batch rule of write-partition.ts, encodeRecordSet. */
function objectPath(
  bodies: Buffer[],
  counts: number[],
  rw: RewriteOptions,
  limits: BatchLimits,
): { batches: Batch[]; rewritten: number; bytes: number; leftAlone: number } {
  const batches: Batch[] = [];
  let batch: LaneRecord[] = [];
  let size = 0;
  let rewritten = 0;
  let bytes = 0;
  let leftAlone = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    const set = encodeRecordSet(batch);
    batches.push({ bytes: Buffer.from(set.records), count: set.count, first: set.firstTimestamp, max: set.maxTimestamp });
    batch = [];
    size = 0;
  };
  bodies.forEach((b, i) => {
    for (const r of decodeRecords(b, counts[i]!, ctx, true)) {
      const lr = toLaneRecord(r, rw);
      const n = recordBytes(lr);
      if (batch.length > 0 && (batch.length >= limits.maxRecords || size + n > limits.maxBytes)) flush();
      batch.push(lr);
      size += n;
      rewritten += lr.rewritten;
      bytes += n;
      if (lr.baggage === 'invalid') leftAlone++;
    }
  });
  flush();
  return { batches, rewritten, bytes, leftAlone };
}

/** The transcoder over the same bodies, with the same limits (a small headroom to prove the offset). */
function transcoderPath(
  bodies: Buffer[],
  rw: RewriteOptions,
  limits: BatchLimits,
  capacity = 1024,
): { batches: Batch[]; rewritten: number; bytes: number; records: number; leftAlone: number } {
  const builder = new RecordSetBuilder(37, capacity, rw);
  const batches: Batch[] = [];
  let rewritten = 0;
  let bytes = 0;
  let records = 0;
  let leftAlone = 0;
  const flush = (): void => {
    if (builder.count === 0) return;
    const set = builder.placed();
    expect(set.start).toBe(37);
    batches.push({ bytes: Buffer.from(set.buf.subarray(set.start, set.end)), count: set.count, first: set.firstTimestamp, max: set.maxTimestamp });
    builder.reset(batches.length % 2 === 0);
  };
  for (const b of bodies) {
    let p = 0;
    let index = 0;
    while (p < b.length) {
      const r = builder.transcode(b, p, b.length, index, ctx, 0, limits);
      p = r.next;
      index += r.records;
      rewritten += r.rewritten;
      bytes += r.bytes;
      records += r.records;
      leftAlone += r.baggageLeftAlone;
      if (r.full) flush();
    }
  }
  flush();
  return { batches, rewritten, bytes, records, leftAlone };
}

function expectSame(bodies: Buffer[], counts: number[], rw: RewriteOptions, limits: BatchLimits): void {
  const want = objectPath(bodies, counts, rw, limits);
  const got = transcoderPath(bodies, rw, limits);
  expect(got.batches.length).toBe(want.batches.length);
  got.batches.forEach((g, i) => {
    const w = want.batches[i]!;
    expect({ count: g.count, first: g.first, max: g.max }).toEqual({ count: w.count, first: w.first, max: w.max });
    expect(g.bytes.equals(w.bytes)).toBe(true);
  });
  expect(got.rewritten).toBe(want.rewritten);
  expect(got.bytes).toBe(want.bytes);
  expect(got.leftAlone).toBe(want.leftAlone);
  expect(got.records).toBe(counts.reduce((a, b) => a + b, 0));
}

const withIds: RewriteOptions = { ids, laneTopic: LANE_TOPIC, lane: 'lane1', laneHeader: null };
const noIds: RewriteOptions = { ids: null, laneTopic: LANE_TOPIC, lane: 'lane1', laneHeader: null };
/** --lane-baggage, and with --lane-header too: the headers that change on the way to the lane. */
const withBaggage: RewriteOptions = { ids, laneTopic: LANE_TOPIC, lane: 'lane1', laneHeader: null, laneBaggage: 'lane' };
const withBoth: RewriteOptions = { ids: null, laneTopic: LANE_TOPIC, lane: 'lane1', laneHeader: 'x-lane', laneBaggage: 'lane' };
const withHeader: RewriteOptions = { ids, laneTopic: LANE_TOPIC, lane: 'lane1', laneHeader: 'ключ-lane' };

describe('RecordSetBuilder.transcode', () => {
  it.each([1, 2, 3, 4, 5])('writes the bytes of the object path for random records (seed %i)', (seed) => {
    const rnd = prng(seed);
    const bodies: Buffer[] = [];
    const counts: number[] = [];
    let offset = 0n;
    for (let b = 0; b < 6; b++) {
      const n = 1 + Math.floor(rnd() * 120);
      const recs = Array.from({ length: n }, () => randomRecord(rnd, (offset += 1n + BigInt(Math.floor(rnd() * 3)))));
      bodies.push(body(recs));
      counts.push(n);
    }
    for (const limits of [
      { maxRecords: 500, maxBytes: 512 * 1024 },
      { maxRecords: 7, maxBytes: 512 * 1024 },
      { maxRecords: 500, maxBytes: 900 },
      { maxRecords: 1, maxBytes: 1 },
    ]) {
      expectSame(bodies, counts, withIds, limits);
      expectSame(bodies, counts, noIds, limits);
      expectSame(bodies, counts, withBaggage, limits);
      expectSame(bodies, counts, withBoth, limits);
      expectSame(bodies, counts, withHeader, limits);
    }
  });

  it('handles the edge cases one by one and all together', () => {
    const edge: Array<Partial<BackupRecord>> = [
      { key: null, value: null, headers: [] },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{ key: '', value: Buffer.alloc(0) }] },
      {
        headers: [
          { key: 'h', value: null },
          { key: 'h', value: null },
        ],
      },
      { headers: KEYS.map((key) => ({ key, value: Buffer.from(key) })) },
      { headers: Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 3}`, value: i % 2 ? null : Buffer.from([i]) })) },
      ...TIMESTAMPS.map((timestamp) => ({ timestamp })),
      { key: framed(9, Buffer.from('k')), value: framed(9, Buffer.from('v')) }, // maps per part: 301 / 300
      { key: framed(7, Buffer.alloc(0)), value: framed(7, Buffer.from('same id')) }, // maps to itself: counted, bytes unchanged
      { key: framed(5, Buffer.from('x')), value: framed(5, Buffer.from('unmapped')) },
      { value: framed(8, Buffer.from('default registration')) },
      { key: Buffer.from([0, 0, 0, 9]), value: Buffer.from([1, 0, 0, 0, 9, 1]) }, // too short / not magic 0
    ];
    const recs = edge.map((over, i): BackupRecord => ({
      offset: BigInt(i),
      timestamp: 5n,
      timestampType: TimestampType.CreateTime,
      key: Buffer.from('key'),
      value: Buffer.from('value'),
      headers: [],
      ...over,
    }));
    for (const r of recs) expectSame([body([r])], [1], withIds, { maxRecords: 500, maxBytes: 512 * 1024 });
    // Together, so deltas run between the extremes (in either order).
    expectSame([body(recs)], [recs.length], withIds, { maxRecords: 500, maxBytes: 512 * 1024 });
    const reversed = [...recs].reverse().map((r, i) => ({ ...r, offset: BigInt(i) }));
    expectSame([body(reversed)], [reversed.length], withIds, { maxRecords: 500, maxBytes: 512 * 1024 });
    const rewritten = transcoderPath([body(recs)], withIds, { maxRecords: 500, maxBytes: 512 * 1024 }).rewritten;
    expect(rewritten).toBe(5); // 9 as key and value, 7 as key and value, 8 as value
  });

  it('grows its buffer for a record larger than its capacity', () => {
    const big: BackupRecord = {
      offset: 0n,
      timestamp: 1n,
      timestampType: TimestampType.CreateTime,
      key: null,
      value: framed(9, Buffer.alloc(100_000, 7)),
      headers: [{ key: 'x', value: Buffer.alloc(5000, 1) }],
    };
    const small: BackupRecord = { ...big, offset: 1n, value: Buffer.from('s') };
    expectSame([body([small, big, small])], [3], withIds, { maxRecords: 500, maxBytes: 512 * 1024 });
  });

  it('mixes records appended as objects with transcoded ones in one set', () => {
    const rnd = prng(42);
    // Decoded, as restore sees them.
    const recs = decodeRecords(body(Array.from({ length: 30 }, (_, i) => randomRecord(rnd, BigInt(i)))), 30, ctx);
    const builder = new RecordSetBuilder(0, 64, withIds);
    for (const r of recs.slice(0, 10)) builder.appendRecord(toLaneRecord(r, withIds));
    const b = body(recs.slice(10));
    const res = builder.transcode(b, 0, b.length, 0, ctx, 0, { maxRecords: 500, maxBytes: 1 << 30 });
    expect(res.records).toBe(20);
    const want = encodeRecordSet(recs.map((r) => toLaneRecord(r, withIds)));
    expect(builder.records().equals(want.records)).toBe(true);
    const set = builder.placed();
    expect([set.firstTimestamp, set.maxTimestamp]).toEqual([want.firstTimestamp, want.maxTimestamp]);
  });

  it("refuses a malformed record with the decoder's error", () => {
    const ok = encodeRecord({
      offset: 1n,
      timestamp: 1n,
      timestampType: TimestampType.CreateTime,
      key: null,
      value: null,
      headers: [{ key: 'abc', value: null }],
    });
    const badKey = Buffer.from(ok);
    badKey.set([0xff, 0xfe], badKey.indexOf('abc'));
    const badType = Buffer.from(ok);
    badType[4 + 16] = 7;
    for (const bad of [badKey, badType]) {
      const builder = new RecordSetBuilder(0, 64, withIds);
      let decoderError: unknown;
      try {
        decodeRecords(bad, 1, ctx);
      } catch (e) {
        decoderError = e;
      }
      expect(decoderError).toBeInstanceOf(IntegrityError);
      expect(() => builder.transcode(bad, 0, bad.length, 0, ctx, 0, { maxRecords: 5, maxBytes: 100 })).toThrow((decoderError as Error).message);
    }
  });
});

describe('header keys reach the lane byte for byte (issue 15, defect 10)', () => {
  // Every valid UTF-8 key: a leading byte order mark (once, twice, alone), empty, NUL
  // characters, thousands of non-ASCII characters.
  const keys = ['\uFEFF', '\uFEFFbom', '\uFEFF\uFEFFtwo', 'mid\uFEFFdle', '', 'a\u0000b', '\u0000', 'ключ-'.repeat(1000), '🎉'.repeat(2000), 'é'];
  const want = keys.map((k) => Buffer.from(k, 'utf8'));
  const source: BackupRecord = {
    offset: 0n,
    timestamp: 7n,
    timestampType: TimestampType.CreateTime,
    key: null,
    value: null,
    headers: keys.map((key, i) => ({ key, value: Buffer.from([i]) })),
  };
  const raw = body([source]);
  /** The header keys of a record set as bytes, read by the hand decoder (its own varints; Buffer#toString keeps U+FEFF). */
  const keysOf = (records: Buffer, count: number): Buffer[] => {
    const out = Buffer.alloc(batchBytes(records.length));
    writeRecordBatch(out, 0, { count, firstTimestamp: 7n, maxTimestamp: 7n }, records, 0, { producerId: -1n, producerEpoch: -1, baseSequence: -1 });
    return decodeBatch(out).records[0]!.headers.map((h) => Buffer.from(h.key, 'utf8'));
  };

  it('the segment decoder keeps them', () => {
    const r = decodeRecords(raw, 1, ctx)[0]!;
    expect(r.headers.map((h) => Buffer.from(h.key, 'utf8'))).toEqual(want);
  });

  it('the transcoder (fast path) and the object path write them unchanged', () => {
    const builder = new RecordSetBuilder(0, 64, noIds);
    expect(builder.transcode(raw, 0, raw.length, 0, ctx, 0, { maxRecords: 10, maxBytes: 1 << 30 }).records).toBe(1);
    expect(keysOf(builder.records(), 1)).toEqual(want);
    const objects = new RecordSetBuilder(0, 64, noIds);
    objects.appendRecord(toLaneRecord(decodeRecords(raw, 1, ctx)[0]!, noIds));
    expect(keysOf(objects.records(), 1)).toEqual(want);
    // And the encoder a producer without sendPlaced uses.
    expect(keysOf(encodeRecordSet([toLaneRecord(decodeRecords(raw, 1, ctx)[0]!, noIds)]).records, 1)).toEqual(want);
  });
});

describe('readSegmentRawBlocks', () => {
  async function segment(records: BackupRecord[], blockBytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const w = await SegmentWriter.create({ name: 'raw.kseg', blockBytes, sink: (c) => void chunks.push(c) });
    for (const r of records) await w.append(r);
    await w.finish();
    return Buffer.concat(chunks);
  }
  const source = (buf: Buffer): AsyncGenerator<Buffer> =>
    (async function* () {
      for (let p = 0; p < buf.length; p += 777) yield buf.subarray(p, p + 777);
    })();

  it('hands out the bodies the decoding reader decodes, with their first and last offsets', async () => {
    const rnd = prng(7);
    const recs = Array.from({ length: 400 }, (_, i) => randomRecord(rnd, BigInt(i * 3 + 10)));
    const seg = await segment(recs, 4096);
    const decoded: BackupRecord[][] = [];
    for await (const b of readSegmentBlocks(source(seg), { name: 'raw.kseg' })) decoded.push(b);
    const raw = [];
    for await (const b of readSegmentRawBlocks(source(seg), { name: 'raw.kseg' })) raw.push({ ...b, body: Buffer.from(b.body) });
    expect(raw.length).toBe(decoded.length);
    expect(raw.length).toBeGreaterThan(3);
    raw.forEach((b, i) => {
      expect(decodeRecords(b.body, b.count, ctx)).toEqual(decoded[i]);
      expect([b.firstOffset, b.lastOffset]).toEqual([decoded[i]![0]!.offset, decoded[i]!.at(-1)!.offset]);
    });
  });

  it("refuses offsets out of order with the decoding reader's error", async () => {
    const recs = [0n, 5n, 5n].map((offset): BackupRecord => ({
      offset,
      timestamp: 1n,
      timestampType: TimestampType.CreateTime,
      key: null,
      value: null,
      headers: [],
    }));
    // The writer refuses this order: a stored block by hand.
    const raw = body(recs);
    const bad = Buffer.concat([
      encodeFileHeader(),
      encodeBlockHeader({ codec: Codec.Stored, rawLength: raw.length, storedLength: raw.length, recordCount: 3, crc32: crc32(raw) }),
      raw,
    ]);
    const run = async (gen: AsyncGenerator<unknown>): Promise<unknown> => {
      try {
        for await (const x of gen) void x;
      } catch (e) {
        return e;
      }
      return null;
    };
    const a = (await run(readSegmentBlocks(source(bad), { name: 'raw.kseg' }))) as Error;
    const b = (await run(readSegmentRawBlocks(source(bad), { name: 'raw.kseg' }))) as Error;
    expect(a).toBeInstanceOf(IntegrityError);
    expect(b).toBeInstanceOf(IntegrityError);
    expect(b.message).toBe(a.message);
  });
});
