/**
 * The dump's direct path (src/dump/transcode.ts through PartitionSink.appendFrom) against
 * the record path it replaces (batch decoder → BackupRecord → PartitionSink.append), on
 * Kafka batches built by hand: the segment objects must be the same bytes, the manifest
 * entries the same, the same records counted and schema IDs observed, the partition
 * position the same. Random records plus the edges: null and empty keys and values, 0 and
 * many headers, null header values, non-ASCII and invalid UTF-8 header keys, huge and
 * negative timestamp deltas, LogAppendTime, offsets near and beyond 2^53, framed payloads,
 * records larger than a block, segment roll-over, ranges and time windows that cut batches.
 */
import { BatchRecords, RecordBatchError, splitBatches, type RawBatch } from '../../src/kafka/protocol/batch-decoder';
import { inWindow, type TimeWindow } from '../../src/model/window';
import { PartitionSink } from '../../src/dump/partition-sink';
import { BatchTranscoder } from '../../src/dump/transcode';
import { SchemaCollector } from '../../src/schema/collect';
import { MemoryStore } from '../../src/store/memory';
import { prng } from '../support/prng';
import { bytes, varint, zigzag } from '../support/kafka-wire-bytes';
import { decodeSegment } from '../support/format-decoder';

interface WireRecord {
  offsetDelta: number;
  timestampDelta: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Raw key bytes (any bytes, valid UTF-8 or not). */
  headers: Array<{ key: Buffer; value: Buffer | null }>;
}

interface WireBatch {
  baseOffset: bigint;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  logAppendTime?: boolean;
  records: WireRecord[];
  /** Overrides the last offset delta (default: the last record's). */
  lastOffsetDelta?: number;
}

function encodeRecord(r: WireRecord): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    zigzag(r.timestampDelta),
    varint(r.offsetDelta),
    bytes(r.key),
    bytes(r.value),
    varint(r.headers.length),
    ...r.headers.map((h) => Buffer.concat([bytes(h.key), bytes(h.value)])),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

/** RecordBatch v2 bytes (Kafka's DefaultRecordBatch layout), uncompressed. */
function encodeBatch(b: WireBatch, section?: Buffer, count?: number): Buffer {
  const records = section ?? Buffer.concat(b.records.map(encodeRecord));
  const rest = Buffer.alloc(49);
  let p = 0;
  p = rest.writeInt32BE(0, p); // partition leader epoch
  p = rest.writeInt8(2, p); // magic
  p = rest.writeInt32BE(0, p); // crc (not checked)
  p = rest.writeInt16BE(b.logAppendTime ? 0x08 : 0, p);
  p = rest.writeInt32BE(b.lastOffsetDelta ?? b.records[b.records.length - 1]?.offsetDelta ?? 0, p);
  p = rest.writeBigInt64BE(b.baseTimestamp, p);
  p = rest.writeBigInt64BE(b.maxTimestamp, p);
  p = rest.writeBigInt64BE(-1n, p); // producer id
  p = rest.writeInt16BE(-1, p);
  p = rest.writeInt32BE(-1, p);
  rest.writeInt32BE(count ?? b.records.length, p);
  const body = Buffer.concat([rest, records]);
  const head = Buffer.alloc(12);
  head.writeBigInt64BE(b.baseOffset, 0);
  head.writeInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

interface Scenario {
  batches: RawBatch[];
  from: bigint;
  end: bigint;
  window: TimeWindow;
  blockBytes: number;
  segmentBytes: number;
}

interface Outcome {
  objects: Array<[string, string]>;
  segments: unknown;
  stored: number;
  next: bigint;
  schemaIds: Array<[number, number]>;
  error: string | null;
}

const seenIds = (c: SchemaCollector): Array<[number, number]> => [...(c as unknown as { seen: Map<number, number> }).seen].sort((a, b) => a[0] - b[0]);

async function objectsOf(store: MemoryStore): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const key of store.list('')) out.push([key, (await store.get(key)).toString('hex')]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Runs one path the way the fetch reader and dump drive it (position moved past each batch). */
async function run(s: Scenario, direct: boolean): Promise<Outcome> {
  const store = new MemoryStore();
  const sink = new PartitionSink(store, 'c', 't', 0, 'tag', { segmentBytes: s.segmentBytes, blockBytes: s.blockBytes });
  const schemas = new SchemaCollector();
  let next = s.from;
  let stored = 0;
  let error: string | null = null;
  try {
    for (const { header, body } of s.batches) {
      if (header.lastOffset < next) continue;
      if (direct) {
        const t = new BatchTranscoder(header, body, next, s.end, s.window, schemas);
        stored += await sink.appendFrom(t);
        next = t.nextOffset;
      } else {
        const it = new BatchRecords(header, body);
        for (let r = it.next(); r !== null; r = it.next()) {
          if (r.offset < next) continue;
          if (r.offset >= s.end) break;
          if (inWindow(r.timestamp, s.window)) {
            schemas.observe(r.key);
            schemas.observe(r.value);
            await sink.append(r);
            stored++;
          }
          next = r.offset + 1n;
        }
      }
      if (header.lastOffset + 1n > next) next = header.lastOffset + 1n;
      if (next >= s.end) break;
    }
    await sink.finish();
  } catch (e) {
    // The dump fails here and removes what it wrote: what counts is the error and how far each path got.
    error = `${(e as Error).name}: ${(e as Error).message}`;
    next = -1n;
    stored = sink.records;
  }
  expect(stored).toBe(sink.records);
  return { objects: error ? [] : await objectsOf(store), segments: sink.segments, stored, next, schemaIds: seenIds(schemas), error };
}

async function expectSame(s: Scenario): Promise<Outcome> {
  const old = await run(s, false);
  const direct = await run(s, true);
  expect(direct).toEqual(old);
  return old;
}

const KEYS: Buffer[] = [
  Buffer.from('traceparent'),
  Buffer.from('b3'),
  Buffer.from('uber-trace-id'),
  Buffer.alloc(0),
  Buffer.from('ünï'),
  Buffer.from('日本語のキー'),
  Buffer.from('\u{1F600}emoji'),
  Buffer.from('\uFEFFbom'),
  Buffer.from([0xff, 0xfe, 0x41]), // not UTF-8
  Buffer.from([0x61, 0xc3]), // truncated sequence
  Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
  Buffer.from([0xc0, 0xaf]), // overlong
  Buffer.from('a-much-longer-header-key-than-sixteen-bytes'),
];

function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

function payload(rnd: () => number, maxLen: number): Buffer | null {
  const x = rnd();
  if (x < 0.1) return null;
  if (x < 0.2) return Buffer.alloc(0);
  if (x < 0.35) {
    // Confluent-framed: magic 0, a schema ID out of a few, then the payload.
    const b = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), randomBytes(rnd, Math.floor(rnd() * 40))]);
    b.writeUInt32BE([1, 7, 100_000, 0xfffffff0][Math.floor(rnd() * 4)]!, 1);
    return b;
  }
  if (x < 0.4) return Buffer.from([0, 1, 2]); // a leading 0 but too short to be framed
  return randomBytes(rnd, Math.floor(rnd() * maxLen));
}

function randomRecords(rnd: () => number, n: number, o: { invalidKeys: boolean; maxValue: number; tsDelta: () => bigint }): WireRecord[] {
  const out: WireRecord[] = [];
  let delta = 0;
  for (let i = 0; i < n; i++) {
    delta += rnd() < 0.2 ? 1 + Math.floor(rnd() * 5) : 1; // compaction gaps
    const headerCount = rnd() < 0.2 ? 0 : rnd() < 0.9 ? 3 : 40;
    const headers: WireRecord['headers'] = [];
    for (let h = 0; h < headerCount; h++) {
      const pool = o.invalidKeys ? KEYS.length : 8;
      headers.push({
        key: KEYS[Math.floor(rnd() * pool)]!,
        value: rnd() < 0.15 ? null : rnd() < 0.2 ? Buffer.alloc(0) : randomBytes(rnd, Math.floor(rnd() * 60)),
      });
    }
    out.push({ offsetDelta: delta - 1, timestampDelta: o.tsDelta(), key: payload(rnd, 40), value: payload(rnd, o.maxValue), headers });
  }
  return out;
}

const noWindow: TimeWindow = { since: null, until: null };
const T0 = 1_700_000_000_000n;

function batchesFrom(list: WireBatch[]): RawBatch[] {
  return splitBatches(Buffer.concat(list.map((b) => encodeBatch(b))));
}

/** Consecutive batches from `start`, each with its own record mix. */
function randomBatches(
  rnd: () => number,
  start: bigint,
  count: number,
  o: Partial<Parameters<typeof randomRecords>[2]> & { logAppendTime?: boolean; baseTimestamp?: bigint } = {},
): WireBatch[] {
  const out: WireBatch[] = [];
  let base = start;
  for (let i = 0; i < count; i++) {
    const records = randomRecords(rnd, 1 + Math.floor(rnd() * 30), {
      invalidKeys: o.invalidKeys ?? true,
      maxValue: o.maxValue ?? 3000,
      tsDelta: o.tsDelta ?? (() => BigInt(Math.floor((rnd() - 0.3) * 100_000))),
    });
    out.push({ baseOffset: base, baseTimestamp: o.baseTimestamp ?? T0, maxTimestamp: T0 + 99_999n, logAppendTime: o.logAppendTime, records });
    base += BigInt(records[records.length - 1]!.offsetDelta + 1 + (rnd() < 0.3 ? 3 : 0));
  }
  return out;
}

describe('direct dump path (batch → segment records)', () => {
  it('writes the same segments as the record path for random batches', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rnd = prng(seed);
      const list = randomBatches(rnd, BigInt(Math.floor(rnd() * 1000)), 8, { logAppendTime: seed % 4 === 0 });
      const batches = batchesFrom(list);
      const first = batches[0]!.header.baseOffset;
      const last = batches[batches.length - 1]!.header.lastOffset;
      const out = await expectSame({ batches, from: first, end: last + 1n, window: noWindow, blockBytes: 4096 + seed * 997, segmentBytes: 1 << 30 });
      expect(out.error).toBeNull();
      expect(out.stored).toBe(list.reduce((n, b) => n + b.records.length, 0));
    }
  });

  it('cuts at the range and the time window as the record path does', async () => {
    const rnd = prng(99);
    // Timestamps on and next to the window's bounds (since is in, until is out).
    const deltas = [0, 9_999, 10_000, 10_001, 11_999, 12_000, 29_999, 30_000, 40_000];
    const list = randomBatches(rnd, 500n, 6, { tsDelta: () => BigInt(deltas[Math.floor(rnd() * deltas.length)]!) });
    const batches = batchesFrom(list);
    const first = batches[0]!.header.baseOffset;
    const last = batches[batches.length - 1]!.header.lastOffset;
    const windows: TimeWindow[] = [
      noWindow,
      { since: new Date(Number(T0) + 10_000), until: null },
      { since: null, until: new Date(Number(T0) + 30_000) },
      { since: new Date(Number(T0) + 10_000), until: new Date(Number(T0) + 12_000) },
    ];
    let kept = 0;
    for (const window of windows) {
      // A start inside the first batch (it begins before the fetch offset) and an end inside the last.
      const out = await expectSame({ batches, from: first + 7n, end: last - 5n, window, blockBytes: 8192, segmentBytes: 1 << 30 });
      expect(out.error).toBeNull();
      expect(out.next).toBeGreaterThanOrEqual(last - 5n);
      kept += out.stored;
    }
    expect(kept).toBeGreaterThan(0);
  });

  it('rolls segments over, with no record object when every key is valid UTF-8', async () => {
    const rnd = prng(7);
    const batches = batchesFrom(randomBatches(rnd, 0n, 40, { invalidKeys: false, maxValue: 1500 }));
    const last = batches[batches.length - 1]!.header.lastOffset;
    const scenario = { batches, from: 0n, end: last + 1n, window: noWindow, blockBytes: 4096 };
    const objects = jest.spyOn(BatchTranscoder.prototype, 'pendingRecord');
    try {
      const whole = await run({ ...scenario, segmentBytes: 1 << 30 }, true);
      const direct = await run({ ...scenario, segmentBytes: 20_000 }, true);
      // The direct path really was taken: not one record went through append.
      expect(objects).not.toHaveBeenCalled();
      // Where a segment ends depends on when compressed blocks reach the store (as with
      // append); what must hold: the same records, in order, in segments that each start
      // once the previous one reached the bound, with stats that match their contents.
      const segments = direct.segments as Array<{ key: string; records: number; firstOffset: string; lastOffset: string; storedBytes: number }>;
      expect(segments.length).toBeGreaterThan(3);
      const decoded = direct.objects.map(([, hex]) => decodeSegment(Buffer.from(hex, 'hex')).records);
      const byKey = new Map(direct.objects.map(([key], i) => [key, decoded[i]!]));
      const inOrder = segments.map((s) => byKey.get(`c/${s.key}`)!);
      segments.forEach((s, i) => {
        expect(inOrder[i]!.length).toBe(s.records);
        expect(inOrder[i]![0]!.offset).toBe(BigInt(s.firstOffset));
        if (i < segments.length - 1) expect(s.storedBytes).toBeGreaterThanOrEqual(20_000);
      });
      expect(inOrder.flat()).toEqual(decodeSegment(Buffer.from(whole.objects[0]![1], 'hex')).records);
    } finally {
      objects.mockRestore();
    }
  });

  it('gives records larger than a block a block of their own', async () => {
    const rnd = prng(3);
    const list = randomBatches(rnd, 10n, 4, { maxValue: 20_000 });
    const batches = batchesFrom(list);
    const last = batches[batches.length - 1]!.header.lastOffset;
    await expectSame({ batches, from: 10n, end: last + 1n, window: noWindow, blockBytes: 2048, segmentBytes: 1 << 30 });
  });

  it('keeps exact offsets and timestamps near and beyond 2^53, and LogAppendTime', async () => {
    const rnd = prng(5);
    const big = 2n ** 53n;
    const cases: Array<{ start: bigint; baseTimestamp?: bigint; logAppendTime?: boolean; tsDelta?: () => bigint }> = [
      { start: big - 20n }, // crosses 2^53 inside the batches
      { start: 2n ** 60n },
      { start: 2n ** 63n - 2000n },
      { start: 0n, baseTimestamp: -(2n ** 62n) },
      { start: 0n, tsDelta: () => (rnd() < 0.5 ? -1n : 1n) * 2n ** BigInt(40 + Math.floor(rnd() * 22)) }, // varlongs of 7 to 10 bytes
      { start: 0n, baseTimestamp: big - 10n, tsDelta: () => BigInt(Math.floor(rnd() * 20)) },
      { start: 0n, logAppendTime: true },
    ];
    for (const c of cases) {
      const list = randomBatches(rnd, c.start, 3, { baseTimestamp: c.baseTimestamp, logAppendTime: c.logAppendTime, tsDelta: c.tsDelta });
      if (c.logAppendTime) list[1]!.maxTimestamp = 2n ** 62n; // not a safe integer: the object path
      const batches = batchesFrom(list);
      const out = await expectSame({
        batches,
        from: c.start,
        end: batches[batches.length - 1]!.header.lastOffset + 1n,
        window: noWindow,
        blockBytes: 8192,
        segmentBytes: 1 << 30,
      });
      expect(out.error).toBeNull();
      expect(out.stored).toBeGreaterThan(0);
    }
  });

  it('skips offsets that go backwards inside a batch and negative offsets, as the record path does', async () => {
    const rec = (offsetDelta: number): WireRecord => ({
      offsetDelta,
      timestampDelta: 0n,
      key: Buffer.from('k'),
      value: Buffer.from(`v${offsetDelta}`),
      headers: [],
    });
    const batches = batchesFrom([
      { baseOffset: -5n, baseTimestamp: T0, maxTimestamp: T0, records: [rec(0), rec(4), rec(6)] },
      { baseOffset: 10n, baseTimestamp: T0, maxTimestamp: T0, records: [rec(0), rec(5), rec(3), rec(5), rec(6)], lastOffsetDelta: 6 },
    ]);
    const out = await expectSame({ batches, from: 0n, end: 100n, window: noWindow, blockBytes: 4096, segmentBytes: 1 << 30 });
    expect(out.error).toBeNull();
    expect(out.stored).toBe(4); // offsets 1, 10, 15, 16
  });

  it('fails on malformed records with the record path error, after the same records', async () => {
    const good: WireRecord = { offsetDelta: 0, timestampDelta: 0n, key: null, value: Buffer.from('x'), headers: [{ key: Buffer.from('a'), value: null }] };
    const ok = encodeRecord(good);
    const nullKeyHeader = Buffer.concat([Buffer.from([0]), zigzag(0n), varint(1), bytes(null), bytes(Buffer.from('y')), varint(1), varint(-1), bytes(null)]);
    const cases: Array<{ section: Buffer; count: number }> = [
      { section: Buffer.concat([ok, varint(nullKeyHeader.length), nullKeyHeader]), count: 2 }, // a header with a null key
      { section: Buffer.concat([ok, ok.subarray(0, ok.length - 2)]), count: 2 }, // truncated record
      { section: ok, count: 3 }, // fewer records than the count says
      { section: Buffer.concat([ok, varint(3), Buffer.from([0, 0xff, 0xff])]), count: 2 }, // a varint that runs out
    ];
    for (const c of cases) {
      const batches = splitBatches(
        encodeBatch({ baseOffset: 0n, baseTimestamp: T0, maxTimestamp: T0, records: [good], lastOffsetDelta: 2 }, c.section, c.count),
      );
      const out = await expectSame({ batches, from: 0n, end: 10n, window: noWindow, blockBytes: 4096, segmentBytes: 1 << 30 });
      expect(out.error).toMatch(/^RecordBatchError: /);
    }
    expect(RecordBatchError.name).toBe('RecordBatchError');
  });
});
