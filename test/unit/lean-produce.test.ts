/**
 * The wire bytes of kbak's own produce path (src/kafka/protocol/record-batch.ts, produce.ts, client/lean-producer.ts),
 * checked by an independent hand decoder (test/support/kafka-batch-decoder.ts: its own
 * CRC32C and varints) and by the stock kafkajs decoder (a separate, unpatched copy).
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports -- the stock kafkajs internals have no typings */
import type { ProduceRecord } from '../../src/kafka/adapter';
import { CODEC_IDS, codecs, type CodecName } from '../../src/kafka/protocol/codecs';
import { loadKafkajsModule } from '../../src/kafka/transport/kafkajs';
import { KafkaServiceError } from '../../src/kafka/adapter';
import { LeanProducer } from '../../src/kafka/client/lean-producer';
import { decodeProduceResponse, encodeProduceRequest } from '../../src/kafka/protocol/produce';
import { FRAME_ROOM, REQUEST_FRAME, filledEncoder } from '../../src/kafka/transport/patches';
import { encodeRecordSet, nextSequence, writeRecordBatch, batchBytes } from '../../src/kafka/protocol/record-batch';
import { produceResponseV7 } from '../support/produce-response';
import { decodeBatch, handCrc32c } from '../support/kafka-batch-decoder';

const StockDecoder = require('kafkajs/src/protocol/decoder');
const stockDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const stockCreateRequest = require('kafkajs/src/protocol/request');
const StockEncoder = require('kafkajs/src/protocol/encoder');
const copyCreateRequest = loadKafkajsModule(REQUEST_FRAME) as any;

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Headers with duplicates (interleaved), null and empty values, a non-ASCII key; null and empty keys and values; timestamps out of order. */
const records: ProduceRecord[] = [
  {
    key: b('k0'),
    value: Buffer.alloc(1500, 'v'),
    timestamp: 1_700_000_000_500n,
    headers: [
      { key: 'b3', value: b('one') },
      { key: 'x', value: null },
      { key: 'b3', value: b('two') },
      { key: 'ünï', value: Buffer.alloc(0) },
    ],
  },
  { key: null, value: null, timestamp: 1_700_000_000_000n, headers: [] },
  { key: Buffer.alloc(0), value: b('small'), timestamp: 1_700_000_009_999n, headers: [{ key: '', value: b('empty key') }] },
  {
    key: b('big'),
    value: Buffer.alloc(70_000, 'z'),
    timestamp: 0n,
    headers: [
      { key: '2', value: b('b') },
      { key: '1', value: b('a') },
    ],
  },
];

const producer = { producerId: 4242n, producerEpoch: 3, baseSequence: 77 };

async function batchOf(codec: CodecName, recs = records): Promise<Buffer> {
  const set = encodeRecordSet(recs);
  const payload = codec === 'none' ? set.records : await codecs[codec].compress(set.records);
  const out = Buffer.alloc(batchBytes(payload.length));
  expect(writeRecordBatch(out, 0, set, payload, CODEC_IDS[codec], producer)).toBe(out.length);
  return out;
}

function decodeBatchOf(set: ReturnType<typeof encodeRecordSet>) {
  const out = Buffer.alloc(batchBytes(set.records.length));
  writeRecordBatch(out, 0, set, set.records, 0, producer);
  return decodeBatch(out).records;
}

describe('record batches of the lean produce path', () => {
  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CodecName[])(
    '%s: the hand decoder reads back every record, header and batch field',
    async (codec) => {
      const batch = await batchOf(codec);
      const d = decodeBatch(batch);
      expect(d).toMatchObject({
        baseOffset: 0n,
        magic: 2,
        crcOk: true,
        codec: CODEC_IDS[codec],
        timestampType: 0,
        transactional: false,
        control: false,
        lastOffsetDelta: 3,
        baseTimestamp: 1_700_000_000_500n,
        maxTimestamp: 1_700_000_009_999n,
        producerId: 4242n,
        producerEpoch: 3,
        baseSequence: 77,
        size: batch.length,
      });
      expect(d.records.map((r) => r.offsetDelta)).toEqual([0, 1, 2, 3]);
      expect(d.records.map(({ timestamp, key, value, headers }) => ({ timestamp, key, value, headers }))).toEqual(records);
    },
    30_000,
  ); // the portable zstd codec loads WebAssembly on first use

  it('is read by the stock kafkajs decoder (uncompressed and gzip)', async () => {
    for (const codec of ['none', 'gzip'] as CodecName[]) {
      const decoded = await stockDecodeBatch(new StockDecoder(await batchOf(codec)));
      expect(decoded.producerId).toBe('4242');
      expect(decoded.firstSequence).toBe(77);
      expect(decoded.records.map((r: any) => [r.key, r.value, r.timestamp])).toEqual(records.map((r) => [r.key, r.value, String(r.timestamp)]));
      // The stock decoder folds duplicates into arrays: values still all there.
      expect(decoded.records[0].headers).toEqual({ b3: [b('one'), b('two')], x: null, ünï: Buffer.alloc(0) });
    }
  });

  it('encodes the smallest record as Kafka does, with a known CRC32C', async () => {
    const set = encodeRecordSet([{ key: null, value: null, timestamp: 5n, headers: [] }]);
    // length 6, attributes 0, timestamp delta 0, offset delta 0, key -1, value -1, 0 headers
    expect(set.records.toString('hex')).toBe('0c0000000101' + '00');
    expect(handCrc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('keeps large timestamp deltas exact (varlong above 32 bits, negative deltas)', async () => {
    const recs: ProduceRecord[] = [
      { key: null, value: b('a'), timestamp: 1_700_000_000_000n, headers: [] },
      { key: null, value: b('b'), timestamp: -1n, headers: [] },
      { key: null, value: b('c'), timestamp: 4_102_444_800_000n, headers: [] },
    ];
    const d = decodeBatch(await batchOf('none', recs));
    expect(d.records.map((r) => r.timestamp)).toEqual([1_700_000_000_000n, -1n, 4_102_444_800_000n]);
    expect(d.maxTimestamp).toBe(4_102_444_800_000n);
  });

  it('encodes into a reused buffer when the records fit, else into a new one', () => {
    const scratch = Buffer.alloc(4096);
    const small = encodeRecordSet(records.slice(1, 3), scratch);
    expect(small.records.buffer).toBe(scratch.buffer);
    expect(decodeBatchOf(small).map((r) => r.value)).toEqual([null, b('small')]);
    const big = encodeRecordSet(records, scratch);
    expect(big.records.buffer).not.toBe(scratch.buffer);
  });

  it('refuses an empty batch', () => {
    expect(() => encodeRecordSet([])).toThrow(/at least one record/);
  });

  it('wraps sequence numbers at 2^31 like Kafka', () => {
    expect(nextSequence(0, 500)).toBe(500);
    expect(nextSequence(0x7fffffff, 1)).toBe(0);
    expect(nextSequence(0x7ffffff0, 32)).toBe(16);
  });
});

describe('Produce requests of the lean producer', () => {
  it('frames one partition with acks=all and the batch in place', async () => {
    const set = encodeRecordSet(records);
    const payload = await codecs.lz4.compress(set.records);
    const body = encodeProduceRequest('lane.orders', 5, 30_000, set, payload, CODEC_IDS.lz4, producer);
    let p = 0;
    expect(body.readInt16BE(p)).toBe(-1); // transactional id: null
    expect(body.readInt16BE((p += 2))).toBe(-1); // acks=all
    expect(body.readInt32BE((p += 2))).toBe(30_000);
    expect(body.readInt32BE((p += 4))).toBe(1);
    const n = body.readInt16BE((p += 4));
    expect(body.subarray(p + 2, p + 2 + n).toString()).toBe('lane.orders');
    p += 2 + n;
    expect(body.readInt32BE(p)).toBe(1);
    expect(body.readInt32BE((p += 4))).toBe(5);
    const size = body.readInt32BE((p += 4));
    p += 4;
    expect(p + size).toBe(body.length);
    const d = decodeBatch(body, p);
    expect(d.crcOk).toBe(true);
    expect(d.codec).toBe(3);
    expect(d.records.map((r) => r.headers)).toEqual(records.map((r) => r.headers));
  });

  it('reads the partition outcome of a Produce response', () => {
    expect(decodeProduceResponse(produceResponseV7(46, 1234n), 7)).toEqual({ errorCode: 46, baseOffset: 1234n });
  });

  it('frames a request (size, API key, version, correlation and client id) byte for byte like kafkajs', async () => {
    for (const clientId of ['kbak', null, 'ünïcode-id']) {
      const request = (E: any) => ({ apiKey: 0, apiVersion: 7, encode: async () => new E().writeInt32(42).writeBytes(Buffer.alloc(3000, 7)) });
      const stock = await stockCreateRequest({ correlationId: 99, clientId, request: request(StockEncoder) });
      const copy = await copyCreateRequest({ correlationId: 99, clientId, request: request(loadKafkajsModule('src/protocol/encoder')) });
      expect(copy.buffer.equals(stock.buffer)).toBe(true);
      expect(copy.size()).toBe(stock.size());
    }
  });

  it('frames a body built with room in front in place, and copies it when the room does not match the client id', async () => {
    const set = encodeRecordSet(records);
    const plain = encodeProduceRequest('t', 0, 1000, set, set.records, 0, producer);
    const CopyEncoder = loadKafkajsModule('src/protocol/encoder') as any;
    const stock = await stockCreateRequest({
      correlationId: 7,
      clientId: 'kbak',
      request: { apiKey: 0, apiVersion: 7, encode: async () => new StockEncoder().writeBuffer(plain) },
    });
    for (const room of [4 + 2 + 2 + 4 + 2 + 4, 9]) {
      const scratch = Buffer.alloc(1 << 20, 0xee);
      const body = encodeProduceRequest('t', 0, 1000, set, set.records, 0, producer, room, scratch);
      expect(body.buffer).toBe(scratch.buffer); // built in the reused buffer
      const encoder = Object.assign(filledEncoder(CopyEncoder, body), { [FRAME_ROOM]: room });
      const copy = await copyCreateRequest({ correlationId: 7, clientId: 'kbak', request: { apiKey: 0, apiVersion: 7, encode: async () => encoder } });
      expect(copy.buffer.equals(stock.buffer)).toBe(true);
      expect(copy.buf.buffer === scratch.buffer).toBe(room === 18);
    }
  });
});

describe('the lean producer (over a fake cluster)', () => {
  /** Answers each Produce request with the next outcome: an error code, or a thrown error. */
  function fakeCluster(outcomes: Array<number | Error>) {
    const bodies: Buffer[] = [];
    let refreshes = 0;
    const pool = {
      async send(req: any) {
        const enc = await req.request.encode();
        bodies.push(Buffer.from(enc.buf.subarray(enc[FRAME_ROOM] ?? 0, enc.offset)));
        const next = outcomes.shift() ?? 0;
        if (next instanceof Error) throw next;
        return req.response.parse(await req.response.decode(produceResponseV7(next, 0n)));
      },
    };
    const broker = { connectionPool: pool, initProducerId: async () => ({ producerId: '9', producerEpoch: 0 }) };
    const cluster = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      refreshMetadata: async () => void refreshes++,
      addTargetTopic: async () => undefined,
      findTopicPartitionMetadata: () => [0, 1].map((partitionId) => ({ partitionId, leader: 1 })),
      findBroker: async () => broker,
      findControllerBroker: async () => broker,
      brokerPool: { versions: { 0: { minVersion: 3, maxVersion: 9 } } },
    };
    const producer = new LeanProducer(cluster, { producerId: 9n, producerEpoch: 0 }, 7, ['127.0.0.1:9092'], 1000, 'kbak');
    return { producer, bodies, refreshes: () => refreshes };
  }
  /** The batch of a one-partition Produce body: after the 4-byte size that precedes it. */
  const batchOf = (body: Buffer) => {
    const n = body.readInt16BE(12);
    return decodeBatch(body, 14 + n + 4 + 4 + 4);
  };

  it("numbers each partition's batches by record, acks=all, idempotent producer id", async () => {
    const { producer, bodies } = fakeCluster([]);
    await producer.send('t', 0, records, { compression: 'none' });
    await producer.send('t', 0, records.slice(0, 2), { compression: 'lz4' });
    await producer.send('t', 1, records.slice(0, 1), { compression: 'none' });
    expect(bodies.map((b) => b.readInt16BE(2))).toEqual([-1, -1, -1]);
    expect(bodies.map((b) => [batchOf(b).baseSequence, batchOf(b).records.length, batchOf(b).producerId])).toEqual([
      [0, 4, 9n],
      [4, 2, 9n],
      [0, 1, 9n],
    ]);
    expect(batchOf(bodies[1]!).codec).toBe(3);
  });

  it('sends the same bytes again after a retriable error or a lost connection, and takes a duplicate as written', async () => {
    const lost = Object.assign(new Error('Connection error: socket hang up'), { name: 'KafkaJSConnectionError', retriable: true });
    const { producer, bodies, refreshes } = fakeCluster([6, lost, 46, 0]);
    await producer.send('t', 0, records, { compression: 'gzip' });
    expect(bodies.length).toBe(3);
    expect(bodies[1]!.equals(bodies[0]!)).toBe(true);
    expect(bodies[2]!.equals(bodies[0]!)).toBe(true);
    expect(refreshes()).toBe(2);
    await producer.send('t', 0, records.slice(0, 1), { compression: 'none' });
    expect(batchOf(bodies[3]!).baseSequence).toBe(4); // advanced once, by the batch's 4 records
  }, 10_000);

  it("fails with the broker's error code on a non-retriable error, without advancing the sequence", async () => {
    const { producer, bodies } = fakeCluster([45]);
    const err = await producer.send('t', 0, records, { compression: 'none' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaServiceError);
    expect((err as KafkaServiceError).kafkaCode).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect((err as Error).message).toMatch(/writing to t\/0/);
    await producer.send('t', 0, records.slice(0, 1), { compression: 'none' });
    expect(batchOf(bodies[1]!).baseSequence).toBe(0);
  });
});
