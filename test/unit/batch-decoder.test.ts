/**
 * kbak's own record batch decoder (src/kafka/protocol/batch-decoder.ts) and Fetch v11 response reader
 * (src/kafka/protocol/fetch-response.ts) on hand-built wire bytes (Kafka's RecordBatch v2 layout,
 * encoded here independently): headers in wire order with duplicates and nulls, null vs
 * empty, LogAppendTime, empty and control batches, partial tails, every codec, and the
 * read_committed abort filter.
 */
import { codecs } from '../../src/kafka/protocol/codecs';
import { decodeFetchResponse } from '../../src/kafka/protocol/fetch-response';
import {
  AbortFilter,
  controlType,
  CONTROL_ABORT,
  CONTROL_COMMIT,
  decodeBatchRecords,
  RecordBatchError,
  splitBatches,
  type BatchHeader,
} from '../../src/kafka/protocol/batch-decoder';
import { TimestampType, type BackupRecord } from '../../src/segment/record';
import { record } from '../support/kafka-wire-bytes';

type H = { key: string; value: Buffer | null };

interface BatchOpts {
  attributes?: number;
  producerId?: bigint;
  baseTimestamp?: bigint;
  maxTimestamp?: bigint;
  count?: number;
}
function batch(firstOffset: bigint, lastOffsetDelta: number, recordsSection: Buffer, count: number, o: BatchOpts = {}): Buffer {
  const rest = Buffer.alloc(49);
  let p = 0;
  p = rest.writeInt32BE(0, p); // partition leader epoch
  p = rest.writeInt8(2, p); // magic
  p = rest.writeInt32BE(0, p); // crc (not checked: TCP and the broker did)
  p = rest.writeInt16BE(o.attributes ?? 0, p);
  p = rest.writeInt32BE(lastOffsetDelta, p);
  p = rest.writeBigInt64BE(o.baseTimestamp ?? 1_700_000_000_000n, p);
  p = rest.writeBigInt64BE(o.maxTimestamp ?? 1_700_000_000_000n, p);
  p = rest.writeBigInt64BE(o.producerId ?? -1n, p);
  p = rest.writeInt16BE(-1, p);
  p = rest.writeInt32BE(-1, p);
  rest.writeInt32BE(count, p);
  const body = Buffer.concat([rest, recordsSection]);
  const head = Buffer.alloc(12);
  head.writeBigInt64BE(firstOffset, 0);
  head.writeInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

function decodeAll(buf: Buffer): Array<{ header: BatchHeader; records: BackupRecord[] }> {
  return splitBatches(buf).map(({ header, body }) => {
    const records: BackupRecord[] = [];
    decodeBatchRecords(header, body, (r) => records.push(r));
    return { header, records };
  });
}
const text = (b: Buffer | null): string | null => (b === null ? null : b.toString());

describe('record batch decoding', () => {
  it('keeps headers in wire order with duplicates, nulls, empties and integer-like keys', () => {
    const headers: H[] = [
      { key: 'b3', value: Buffer.from('one') },
      { key: '2', value: Buffer.from('two') },
      { key: 'b3', value: Buffer.from('three') },
      { key: 'empty', value: Buffer.alloc(0) },
      { key: 'nil', value: null },
      { key: 'ünï', value: Buffer.from('x') },
    ];
    const recs = Buffer.concat([
      record(0, Buffer.from('k'), Buffer.from('v'), headers),
      record(1, null, Buffer.alloc(0), []),
      record(2, Buffer.alloc(0), null, [], -5n),
    ]);
    const [b] = decodeAll(batch(100n, 2, recs, 3));
    expect(b!.header).toMatchObject({
      baseOffset: 100n,
      lastOffset: 102n,
      codec: 0,
      isControl: false,
      isTransactional: false,
      timestampType: TimestampType.CreateTime,
    });
    const [r0, r1, r2] = b!.records;
    expect(r0!.headers.map((h) => [h.key, text(h.value)])).toEqual([
      ['b3', 'one'],
      ['2', 'two'],
      ['b3', 'three'],
      ['empty', ''],
      ['nil', null],
      ['ünï', 'x'],
    ]);
    expect([r0!.offset, text(r0!.key), text(r0!.value)]).toEqual([100n, 'k', 'v']);
    // null (absent) and empty (present, zero length) stay distinct.
    expect([r1!.offset, r1!.key, text(r1!.value), r1!.headers]).toEqual([101n, null, '', []]);
    expect([r2!.offset, text(r2!.key), r2!.value]).toEqual([102n, '', null]);
    expect(r2!.timestamp).toBe(1_700_000_000_000n - 5n);
  });

  it('decodes header keys right when many distinct keys come and go (decoded keys are cached)', () => {
    const keys = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? `k${i}-ünï` : `key-${i}`));
    const recs = Buffer.concat(
      keys.map((_, i) =>
        record(
          i,
          null,
          null,
          [keys[i]!, keys[(i * 7) % 40]!, 'same', keys[i]!].map((key) => ({ key, value: Buffer.from(key) })),
        ),
      ),
    );
    const [b] = decodeAll(batch(0n, 39, recs, 40));
    for (const [i, r] of b!.records.entries()) {
      expect(r.headers.map((h) => h.key)).toEqual([keys[i], keys[(i * 7) % 40], 'same', keys[i]]);
      expect(r.headers.map((h) => text(h.value))).toEqual([keys[i], keys[(i * 7) % 40], 'same', keys[i]]);
    }
  });

  it('gives views of the fetched bytes, not copies', () => {
    const buf = batch(0n, 0, record(0, Buffer.from('key'), Buffer.from('value'), [{ key: 'h', value: Buffer.from('hv') }]), 1);
    const [b] = decodeAll(buf);
    const r = b!.records[0]!;
    expect(r.value!.buffer).toBe(buf.buffer);
    expect(r.headers[0]!.value!.buffer).toBe(buf.buffer);
  });

  it('uses the batch max timestamp for LogAppendTime, and exact 64-bit timestamp deltas', () => {
    const [b] = decodeAll(batch(5n, 0, record(0, null, Buffer.from('a'), [], 123n), 1, { attributes: 0x08, maxTimestamp: 1_800_000_000_000n }));
    expect(b!.records[0]).toMatchObject({ timestamp: 1_800_000_000_000n, timestampType: TimestampType.LogAppendTime });
    const big = 2n ** 60n + 7n;
    const [c] = decodeAll(batch(5n, 0, record(0, null, null, [], big), 1, { baseTimestamp: 0n }));
    expect(c!.records[0]!.timestamp).toBe(big);
  });

  it('reads an empty (compacted) batch as a position move with no record', () => {
    const all = decodeAll(Buffer.concat([batch(50n, 4, Buffer.alloc(0), 0), batch(55n, 1, record(1, null, Buffer.from('b'), []), 1)]));
    expect(all.map((b) => [b.header.baseOffset, b.header.lastOffset, b.records.map((r) => r.offset)])).toEqual([
      [50n, 54n, []],
      [55n, 56n, [56n]],
    ]);
  });

  it('leaves out a partial batch at the end of a fetch', () => {
    const whole = batch(0n, 0, record(0, null, Buffer.from('a'), []), 1);
    const next = batch(1n, 0, record(0, null, Buffer.from('b'), []), 1);
    expect(splitBatches(Buffer.concat([whole, next.subarray(0, next.length - 3)])).map((b) => b.header.baseOffset)).toEqual([0n]);
    expect(splitBatches(next.subarray(0, 8))).toEqual([]);
  });

  it('refuses the old message formats with a clear error', () => {
    const legacy = batch(0n, 0, record(0, null, Buffer.from('a'), []), 1);
    legacy.writeInt8(1, 16);
    expect(() => splitBatches(legacy)).toThrow(RecordBatchError);
    expect(() => splitBatches(legacy)).toThrow(/old format v1/);
  });

  it('refuses a record that runs past its batch', () => {
    const rec = record(0, null, Buffer.from('abcdef'), []);
    const [raw] = splitBatches(batch(0n, 0, rec, 1));
    expect(() => decodeBatchRecords(raw!.header, raw!.body.subarray(0, raw!.body.length - 2), () => undefined)).toThrow(RecordBatchError);
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('decodes a %s-compressed batch', async (codec) => {
    const ids = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
    const recs = Buffer.concat(
      Array.from({ length: 20 }, (_, i) =>
        record(i, Buffer.from(`k${i}`), Buffer.from(`value-${i}`.repeat(10)), [{ key: 'n', value: Buffer.from(String(i)) }]),
      ),
    );
    const compressed = await codecs[codec].compress(recs);
    const [raw] = splitBatches(batch(1000n, 19, compressed, 20, { attributes: ids[codec] }));
    expect(raw!.header.codec).toBe(ids[codec]);
    const out: BackupRecord[] = [];
    decodeBatchRecords(raw!.header, await codecs[codec].decompress(raw!.body), (r) => out.push(r));
    expect(out.map((r) => [r.offset, text(r.key), text(r.value), text(r.headers[0]!.value)])).toEqual(
      Array.from({ length: 20 }, (_, i) => [1000n + BigInt(i), `k${i}`, `value-${i}`.repeat(10), String(i)]),
    );
  });
});

describe('transactions (read_committed)', () => {
  const marker = (type: number): Buffer => record(0, Buffer.from([0, 0, 0, type]), Buffer.from([0, 0, 0, 0, 0, 0]), []);
  const TXN = 0x10;
  const CONTROL = 0x30;

  it('reads the marker type of a control batch', () => {
    for (const type of [CONTROL_ABORT, CONTROL_COMMIT]) {
      const [raw] = splitBatches(batch(9n, 0, marker(type), 1, { attributes: CONTROL, producerId: 7n }));
      expect(raw!.header.isControl).toBe(true);
      expect(controlType(raw!.body, raw!.header)).toBe(type);
    }
  });

  it('skips aborted transactions until their ABORT marker, and keeps other producers and committed ones', () => {
    const data = (off: bigint, pid: bigint, attributes = TXN): Buffer =>
      batch(off, 0, record(0, null, Buffer.from(`${pid}@${off}`), []), 1, { attributes, producerId: pid });
    const stream = Buffer.concat([
      data(0n, 1n), // producer 1, aborted (first offset 0)
      data(1n, 2n), // producer 2, committed
      data(2n, 3n, 0), // not transactional
      batch(3n, 0, marker(CONTROL_ABORT), 1, { attributes: CONTROL, producerId: 1n }),
      batch(4n, 0, marker(CONTROL_COMMIT), 1, { attributes: CONTROL, producerId: 2n }),
      data(5n, 1n), // producer 1 again, in a new (committed) transaction
    ]);
    const filter = new AbortFilter([{ producerId: 1n, firstOffset: 0n }]);
    const kept: string[] = [];
    for (const { header, body } of splitBatches(stream)) {
      if (header.isControl) filter.control(header, controlType(body, header));
      else if (!filter.skipData(header)) decodeBatchRecords(header, body, (r) => kept.push(text(r.value)!));
    }
    expect(kept).toEqual(['2@1', '3@2', '1@5']);
  });
});

describe('Fetch v11 response', () => {
  it('reads partitions, errors, aborted transactions and the record bytes as a view', () => {
    const recs = batch(0n, 0, record(0, null, Buffer.from('a'), []), 1);
    const parts: Buffer[] = [];
    const i16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
    const i32 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    const i64 = (n: bigint): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(n);
      return b;
    };
    const str = (s: string): Buffer => Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
    parts.push(i32(0), i16(0), i32(0), i32(1), str('topic-a'), i32(2));
    // partition 0: one aborted transaction, records
    parts.push(i32(0), i16(0), i64(10n), i64(9n), i64(0n), i32(1), i64(4n), i64(3n), i32(-1), i32(recs.length), recs);
    // partition 1: NOT_LEADER_OR_FOLLOWER, no aborted list (null), null records
    parts.push(i32(1), i16(6), i64(-1n), i64(-1n), i64(-1n), i32(-1), i32(-1), i32(-1));
    const payload = Buffer.concat(parts);
    const res = decodeFetchResponse(payload);
    expect(res.errorCode).toBe(0);
    expect(res.partitions).toHaveLength(2);
    expect(res.partitions[0]).toMatchObject({
      topic: 'topic-a',
      partition: 0,
      errorCode: 0,
      highWatermark: 10n,
      lastStableOffset: 9n,
      abortedTransactions: [{ producerId: 4n, firstOffset: 3n }],
    });
    expect(res.partitions[0]!.records.equals(recs)).toBe(true);
    expect(res.partitions[0]!.records.buffer).toBe(payload.buffer);
    expect(res.partitions[1]).toMatchObject({ partition: 1, errorCode: 6, abortedTransactions: [] });
    expect(res.partitions[1]!.records.length).toBe(0);
    expect(() => decodeFetchResponse(payload.subarray(0, payload.length - 5))).toThrow(/truncated/);
  });
});
