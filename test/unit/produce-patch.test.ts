/**
 * The tests' lean kafkajs producer (test/support/kafkajs-produce-patch.ts) writes the bytes the stock kafkajs
 * writes: record batches built by kbak's copy are compared with the stock library's own
 * encoder (a separate, unpatched kafkajs), uncompressed byte for byte, compressed by
 * decoding them back (gzip with the stock decoder).
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports -- the stock kafkajs internals have no typings */
import { crc32c } from '@node-rs/crc32';
import { loadKafkajsModule } from '../support/kafkajs-copy';
import { encodeRecord } from '../support/kafkajs-produce-patch';
import { orderedHeaders } from '../support/kafkajs-wire-patch';

const stockRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const stockBatch = require('kafkajs/src/protocol/recordBatch/v0');
const StockDecoder = require('kafkajs/src/protocol/decoder');
const stockDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const Long = require('kafkajs/src/utils/long');

const copyRecord = loadKafkajsModule('src/protocol/recordBatch/record/v0') as any;
const copyBatch = loadKafkajsModule('src/protocol/recordBatch/v0') as any;
const copyGroup = loadKafkajsModule('src/producer/groupMessagesPerPartition') as any;
const copyCrc = loadKafkajsModule('src/protocol/recordBatch/crc32C') as any;
// The stock kafkajs decodes gzip only; lz4 and zstd need kbak's copy (its codec registry).
const CopyDecoder = loadKafkajsModule('src/protocol/decoder') as any;
const copyDecodeBatch = loadKafkajsModule('src/protocol/recordBatch/v0/decoder') as any;

interface Msg {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer }>;
  timestampDelta: number;
}

const msgs: Msg[] = [
  {
    key: Buffer.from('k0'),
    value: Buffer.alloc(1500, 'v'),
    headers: [
      { key: 'traceparent', value: Buffer.from('00-abc-01') },
      { key: 'ünï', value: Buffer.from('x') },
    ],
    timestampDelta: 0,
  },
  { key: null, value: null, headers: [], timestampDelta: 5 },
  { key: Buffer.alloc(0), value: Buffer.from('small'), headers: [{ key: 'h', value: Buffer.alloc(200, 1) }], timestampDelta: 1_700_000_000_123 },
  { key: Buffer.from('neg'), value: Buffer.alloc(70_000, 'z'), headers: [], timestampDelta: -3 },
];

const stockRecords = (): unknown[] =>
  msgs.map((m, i) =>
    stockRecord({
      offsetDelta: i,
      timestampDelta: m.timestampDelta,
      key: m.key,
      value: m.value,
      headers: Object.fromEntries(m.headers.map((h) => [h.key, h.value])),
    }),
  );
const copyRecords = (): unknown[] =>
  msgs.map((m, i) => copyRecord({ offsetDelta: i, timestampDelta: m.timestampDelta, key: m.key, value: m.value, headers: orderedHeaders(m.headers) }));

const batchArgs = (compression: number, records: unknown[]): any => ({
  compression,
  records,
  firstOffset: Long.fromInt(0),
  firstTimestamp: 1_700_000_000_000,
  maxTimestamp: 1_700_000_000_999,
  lastOffsetDelta: records.length - 1,
  producerId: Long.fromValue(4242),
  producerEpoch: 3,
  firstSequence: 77,
});

describe('lean produce path', () => {
  it('encodes each record exactly as kafkajs does', () => {
    const stock = stockRecords();
    const copy = copyRecords();
    for (let i = 0; i < msgs.length; i++) expect((copy[i] as any).buffer.equals((stock[i] as any).buffer)).toBe(true);
    expect(encodeRecord(0, 0, null, null, []).toString('hex')).toBe('0c000000010100');
  });

  it('frames an uncompressed record batch byte for byte like kafkajs, transactional or not', async () => {
    for (const transactional of [false, true]) {
      const stock = await stockBatch.RecordBatch({ ...batchArgs(0, stockRecords()), transactional });
      const copy = await copyBatch.RecordBatch({ ...batchArgs(0, copyRecords()), transactional });
      expect(copy.buffer.toString('hex')).toBe(stock.buffer.toString('hex'));
      expect(copy.size()).toBe(stock.size());
    }
  });

  it('writes a compressed batch the stock decoder reads back with the same records', async () => {
    for (const codec of [1, 3, 4]) {
      const copy = await copyBatch.RecordBatch(batchArgs(codec, copyRecords()));
      const decoded = codec === 1 ? await stockDecodeBatch(new StockDecoder(copy.buffer)) : await copyDecodeBatch(new CopyDecoder(copy.buffer));
      expect(decoded.records.map((r: any) => [r.key, r.value, Object.keys(r.headers)])).toEqual(msgs.map((m) => [m.key, m.value, m.headers.map((h) => h.key)]));
      expect(decoded.producerId).toBe('4242');
      expect(decoded.firstSequence).toBe(77);
      // The CRC covers attributes to the end, as Kafka checks it.
      expect(copy.buffer.readUInt32BE(17)).toBe(crc32c(copy.buffer.subarray(21)) >>> 0);
    }
  }, 30_000); // the portable zstd codec loads WebAssembly on first use

  it('groups messages per partition in order', () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ partition: i % 3, value: String(i) }));
    const grouped = copyGroup({ topic: 't', partitionMetadata: [{}], messages, partitioner: ({ message }: any) => message.partition });
    expect(Object.fromEntries(Object.entries(grouped).map(([p, ms]) => [p, (ms as any[]).map((m) => m.value)]))).toEqual({
      0: ['0', '3', '6', '9'],
      1: ['1', '4', '7'],
      2: ['2', '5', '8'],
    });
    expect(copyGroup({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 })).toEqual({});
  });

  it('computes CRC32C (the check value of "123456789")', () => {
    expect(copyCrc(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});
