/**
 * The wire patch on hand-built record batches (Kafka's RecordBatch v2 layout, encoded here
 * independently of kafkajs): headers keep wire order, duplicates and nulls; empty and
 * tail-compacted batches end with a synthetic control record; control batches pass; the
 * encoder writes ordered headers byte for byte; the stock kafkajs is left untouched.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { kafkajs, loadKafkajsModule } from '../support/kafkajs-copy';
import { orderedHeaders, type WireHeader } from '../support/kafkajs-wire-patch';
import { record } from '../support/kafka-wire-bytes';

function batch(firstOffset: bigint, lastOffsetDelta: number, records: Buffer[], attributes = 0): Buffer {
  const rest = Buffer.alloc(4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4);
  let p = 0;
  p = rest.writeInt32BE(0, p); // partition leader epoch
  p = rest.writeInt8(2, p); // magic
  p = rest.writeInt32BE(0, p); // crc (not checked by kafkajs)
  p = rest.writeInt16BE(attributes, p);
  p = rest.writeInt32BE(lastOffsetDelta, p);
  p = rest.writeBigInt64BE(1_700_000_000_000n, p);
  p = rest.writeBigInt64BE(1_700_000_000_000n, p);
  p = rest.writeBigInt64BE(-1n, p); // producer id
  p = rest.writeInt16BE(-1, p);
  p = rest.writeInt32BE(-1, p);
  rest.writeInt32BE(records.length, p);
  const body = Buffer.concat([rest, ...records]);
  const head = Buffer.alloc(12);
  head.writeBigInt64BE(firstOffset, 0);
  head.writeInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

const Decoder = loadKafkajsModule('src/protocol/decoder') as any;
const decodeBatch = loadKafkajsModule('src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<any>;
const encodeRecord = loadKafkajsModule('src/protocol/recordBatch/record/v0/index') as (args: any) => { buffer: Buffer };

const h = (key: string, value: string | null): WireHeader => ({ key, value: value === null ? null : Buffer.from(value) });
const shown = (list: WireHeader[]) => list.map((x) => [x.key, x.value === null ? null : x.value.toString()]);

describe('decoding (kbak copy of kafkajs)', () => {
  it('keeps headers in wire order with duplicates, nulls and integer-like keys', async () => {
    const headers = [h('b3', 'one'), h('2', 'two'), h('b3', 'three'), h('empty', ''), h('nil', null), h('1', 'x')];
    const decoded = await decodeBatch(new Decoder(batch(100n, 1, [record(0, Buffer.from('k'), Buffer.from('v'), headers), record(1, null, null, [])])));
    expect(decoded.records.map((r: any) => r.offset)).toEqual(['100', '101']);
    expect(shown(decoded.records[0].headerList)).toEqual([
      ['b3', 'one'],
      ['2', 'two'],
      ['b3', 'three'],
      ['empty', ''],
      ['nil', null],
      ['1', 'x'],
    ]);
    expect(decoded.records[1].headerList).toEqual([]);
    expect(decoded.records[1].key).toBeNull();
    // kafkajs's own object form is still there for anyone who uses it.
    expect(Object.keys(decoded.records[0].headers)).toEqual(['1', '2', 'b3', 'empty', 'nil']);
  });

  it('ends an empty batch with a synthetic control record at its last offset', async () => {
    const decoded = await decodeBatch(new Decoder(batch(50n, 4, [])));
    expect(decoded.records).toHaveLength(1);
    expect(decoded.records[0]).toMatchObject({ offset: '54', isControlRecord: true, kbakSynthetic: true });
  });

  it('ends a tail-compacted batch the same way, after its real records', async () => {
    const decoded = await decodeBatch(new Decoder(batch(10n, 5, [record(0, null, Buffer.from('a'), []), record(2, null, Buffer.from('b'), [])])));
    expect(decoded.records.map((r: any) => [r.offset, r.isControlRecord, Boolean(r.kbakSynthetic)])).toEqual([
      ['10', false, false],
      ['12', false, false],
      ['15', true, true],
    ]);
  });

  it('passes a transaction marker (control batch) through unchanged', async () => {
    const commitKey = Buffer.from([0, 0, 0, 1]); // version 0, type 1 = COMMIT
    const decoded = await decodeBatch(new Decoder(batch(7n, 0, [record(0, commitKey, Buffer.from([0, 0, 0, 0, 0, 0]), [])], 0x30)));
    expect(decoded.isControlBatch).toBe(true);
    expect(decoded.records).toHaveLength(1);
    expect(decoded.records[0]).toMatchObject({ offset: '7', isControlRecord: true });
    expect(decoded.records[0].kbakSynthetic).toBeUndefined();
  });
});

describe('encoding (kbak copy of kafkajs)', () => {
  it('writes ordered headers exactly as listed', () => {
    const headers = [h('b3', 'one'), h('2', 'two'), h('b3', null)];
    const out = encodeRecord({ offsetDelta: 3, timestampDelta: 5, key: Buffer.from('k'), value: null, headers: orderedHeaders(headers) }).buffer;
    expect(out.equals(record(3, Buffer.from('k'), null, headers, 5))).toBe(true);
  });

  it('leaves plain header objects to kafkajs', () => {
    const out = encodeRecord({ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('v'), headers: { a: Buffer.from('1') } }).buffer;
    expect(out.equals(record(0, null, Buffer.from('v'), [h('a', '1')]))).toBe(true);
  });
});

describe('isolation', () => {
  it('does not patch the kafkajs other code in the process loads', async () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const stockDecoder = require('kafkajs/src/protocol/decoder');
    const stockDecode = require('kafkajs/src/protocol/recordBatch/v0/decoder');
    /* eslint-enable @typescript-eslint/no-require-imports */
    expect(stockDecode).not.toBe(decodeBatch);
    const decoded = await stockDecode(new stockDecoder(batch(0n, 0, [record(0, null, null, [h('a', '1'), h('a', '2')])])));
    expect(decoded.records[0].headerList).toBeUndefined();
    expect(decoded.records[0].headers).toEqual({ a: [Buffer.from('1'), Buffer.from('2')] });
    expect(require('kafkajs').Kafka).not.toBe(kafkajs.Kafka); // eslint-disable-line @typescript-eslint/no-require-imports
  });

  it("is not in kbak's own copy: production decodes, encodes and compresses as the stock kafkajs", async () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const own = require('../../src/kafka/transport/kafkajs');
    const stock = require('kafkajs');
    /* eslint-enable @typescript-eslint/no-require-imports */
    expect(own.kafkajs.Kafka).not.toBe(kafkajs.Kafka);
    const D = own.loadKafkajsModule('src/protocol/decoder');
    const decode = own.loadKafkajsModule('src/protocol/recordBatch/v0/decoder');
    const decoded = await decode(new D(batch(0n, 0, [record(0, null, null, [h('a', '1'), h('b', '2'), h('a', '3')])])));
    expect(decoded.records[0].headerList).toBeUndefined();
    expect(decoded.records[0].headers).toEqual({ a: [Buffer.from('1'), Buffer.from('3')], b: Buffer.from('2') });
    expect((await decode(new D(batch(50n, 4, [])))).records).toEqual([]); // no synthetic control record
    const ownEncode = own.loadKafkajsModule('src/protocol/recordBatch/record/v0/index');
    const ordered = ownEncode({ offsetDelta: 0, timestampDelta: 0, key: null, value: null, headers: orderedHeaders([h('b', '1'), h('a', '2')]) }).buffer;
    expect(ordered.equals(record(0, null, null, []))).toBe(true); // the ordered list is invisible to the stock encoder
    expect(Object.keys(own.kafkajs.CompressionCodecs)).toEqual(Object.keys(stock.CompressionCodecs));
    expect(Object.keys(kafkajs.CompressionCodecs)).toHaveLength(4);
  });

  it('loads fine after another module loaded the stock kafkajs first', async () => {
    let patched: any;
    jest.isolateModules(() => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      require('kafkajs');
      patched = require('../support/kafkajs-copy');
      /* eslint-enable @typescript-eslint/no-require-imports */
    });
    const D = patched.loadKafkajsModule('src/protocol/decoder');
    const decode = patched.loadKafkajsModule('src/protocol/recordBatch/v0/decoder');
    const decoded = await decode(new D(batch(0n, 0, [record(0, null, null, [h('a', '1'), h('b', '2'), h('a', '3')])])));
    expect(shown(decoded.records[0].headerList)).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
  });

  it('clamps negative timer delays instead of letting Node warn', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const sleep = loadKafkajsModule('src/utils/sleep') as (ms: number) => Promise<void>;
      await sleep(-25);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutNegativeWarning');
  });
});
