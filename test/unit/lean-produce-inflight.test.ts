/**
 * Several produce requests in flight per partition (src/kafka/client/produce-pipeline.ts in
 * the lean producer): the producer talks to a fake broker that applies Kafka's idempotence
 * rules to each request as it arrives, in arrival order as a broker does on one connection
 * (a batch whose base sequence is the next one is appended; a repeat of one of the last five
 * batches is answered DUPLICATE_SEQUENCE_NUMBER, 46; anything else OUT_OF_ORDER_SEQUENCE_NUMBER,
 * 45, and not appended) and answers on a later turn of the event loop, so requests overlap.
 * The broker's log, read back with the hand decoder, must hold every batch once, in the order
 * the batches were handed in.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the fake stands for kafkajs's untyped connection pool */
import { KafkaServiceError, type ProduceRecord } from '../../src/kafka/adapter';
import { LeanProducer } from '../../src/kafka/client/lean-producer';
import { MAX_IN_FLIGHT, ProducePipeline } from '../../src/kafka/client/produce-pipeline';
import { FRAME_ROOM } from '../../src/kafka/transport/patches';
import { produceResponseV7 } from '../support/produce-response';
import { decodeBatch } from '../support/kafka-batch-decoder';

/** The batch of a one-partition Produce body (after the topic name and the partition fields). */
const batchIn = (body: Buffer) => decodeBatch(body, 14 + body.readInt16BE(12) + 4 + 4 + 4);

/** What the broker does with one arriving request, by its arrival number and batch. */
type Fault = { kind: 'refuse'; code: number } | { kind: 'lose-response' } | { kind: 'forget-state' } | null;

interface Arrival {
  seq: number;
  /** The first record's value: which batch it is. */
  label: string;
  answer: number | 'lost';
  body: Buffer;
}

/** A broker holding one partition's log and its producer state (the last five batches). */
function fakeBroker(fault: (arrival: number, label: string) => Fault = () => null) {
  const log: string[] = [];
  const arrivals: Arrival[] = [];
  let nextSeq = 0;
  let recent: Array<{ seq: number; count: number }> = [];
  let open = 0;
  let peak = 0;
  const apply = (body: Buffer): { answer: number | 'lost' } => {
    const batch = batchIn(body);
    const values = batch.records.map((r) => r.value!.toString());
    const label = values[0]!;
    const f = fault(arrivals.length, label);
    let answer: number | 'lost';
    if (f?.kind === 'refuse') answer = f.code;
    else {
      if (f?.kind === 'forget-state') {
        // The broker lost acknowledged batches (an unclean leader election): a real gap.
        nextSeq = -1;
        recent = [];
      }
      if (batch.baseSequence === nextSeq) {
        log.push(...values);
        nextSeq += values.length;
        recent = [...recent, { seq: batch.baseSequence, count: values.length }].slice(-5);
        answer = 0;
      } else if (recent.some((r) => r.seq === batch.baseSequence && r.count === values.length)) answer = 46;
      else answer = 45;
      if (f?.kind === 'lose-response') answer = 'lost';
    }
    arrivals.push({ seq: batch.baseSequence, label, answer, body: Buffer.from(body) });
    return { answer };
  };
  const pool = {
    async send(req: any) {
      const enc = await req.request.encode();
      open++;
      peak = Math.max(peak, open);
      // Processed on arrival, in arrival order; answered on a later turn of the event loop.
      const { answer } = apply(enc.buf.subarray(enc[FRAME_ROOM] ?? 0, enc.offset));
      await new Promise((r) => setImmediate(r));
      open--;
      if (answer === 'lost') throw Object.assign(new Error('Connection error: socket hang up'), { name: 'KafkaJSConnectionError', retriable: true });
      return req.response.parse(await req.response.decode(produceResponseV7(answer)));
    },
  };
  const broker = { connectionPool: pool, initProducerId: async () => ({ producerId: '9', producerEpoch: 0 }) };
  let refreshes = 0;
  const cluster = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    refreshMetadata: async () => void refreshes++,
    addTargetTopic: async () => undefined,
    findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1 }],
    findBroker: async () => broker,
    findControllerBroker: async () => broker,
    brokerPool: { versions: { 0: { minVersion: 3, maxVersion: 9 } } },
  };
  const producer = new LeanProducer(cluster, { producerId: 9n, producerEpoch: 0 }, 7, ['127.0.0.1:9092'], 1000, 'kbak');
  return { producer, log, arrivals, peak: () => peak, refreshes: () => refreshes };
}

/** Batch `i`: `n` records valued "b<i>.<j>", labelled by its first value "b<i>.0". */
const batch = (i: number, n = 3): ProduceRecord[] =>
  Array.from({ length: n }, (_, j) => ({ key: null, value: Buffer.from(`b${i}.${j}`), timestamp: 1000n + BigInt(j), headers: [] }));
const expected = (batches: number, n = 3): string[] => Array.from({ length: batches * n }, (_, k) => `b${Math.floor(k / n)}.${k % n}`);

/** Hands in `count` batches at once (lz4 on every other one: compression ends out of order) and settles them all. */
function handIn(producer: LeanProducer, count: number): Promise<Array<PromiseSettledResult<void>>> {
  return Promise.allSettled(Array.from({ length: count }, (_, i) => producer.send('t', 0, batch(i), { compression: i % 2 === 1 ? 'lz4' : 'none' })));
}

describe('the lean producer with several requests in flight per partition', () => {
  it('keeps the order with five in flight and never has more', async () => {
    const b = fakeBroker();
    const settled = await handIn(b.producer, 40);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(b.log).toEqual(expected(40));
    expect(b.arrivals.map((a) => a.answer)).toEqual(Array(40).fill(0));
    expect(b.arrivals.map((a) => a.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 3 * i));
    // Five at once, reached (the pipeline opens after the partition's first acknowledgement), never more.
    expect(b.peak()).toBe(MAX_IN_FLIGHT);
    expect(b.producer.maxInFlightSeen('t', 0)).toBe(MAX_IN_FLIGHT);
  });

  it('sends a partition’s first batch alone, then opens the pipeline', async () => {
    const b = fakeBroker();
    const first = b.producer.send('t', 0, batch(0), { compression: 'none' });
    const rest = Promise.all([1, 2, 3].map((i) => b.producer.send('t', 0, batch(i), { compression: 'none' })));
    await new Promise((r) => setImmediate(r));
    expect(b.arrivals.length).toBe(1); // the others wait for the first acknowledgement
    await Promise.all([first, rest]);
    expect(b.log).toEqual(expected(4));
  });

  it('after a retriable error on batch k, sends k and the batches refused for the gap again, in order, with the same bytes', async () => {
    // Batch 7 is refused NOT_LEADER_FOR_PARTITION once; the four in flight behind it meet the gap (45).
    let refused = false;
    const b = fakeBroker((_n, label) => {
      if (label !== 'b7.0' || refused) return null;
      refused = true;
      return { kind: 'refuse', code: 6 };
    });
    const settled = await handIn(b.producer, 20);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(b.log).toEqual(expected(20)); // each record once, in order
    const first7 = b.arrivals.findIndex((a) => a.label === 'b7.0');
    expect(b.arrivals.slice(first7, first7 + 5).map((a) => [a.label, a.answer])).toEqual([
      ['b7.0', 6],
      ['b8.0', 45],
      ['b9.0', 45],
      ['b10.0', 45],
      ['b11.0', 45],
    ]);
    // Then sent again oldest first, one at a time, each with its first bytes (same sequence, same CRC).
    const again = b.arrivals.slice(first7 + 5, first7 + 10);
    expect(again.map((a) => [a.label, a.answer])).toEqual([
      ['b7.0', 0],
      ['b8.0', 0],
      ['b9.0', 0],
      ['b10.0', 0],
      ['b11.0', 0],
    ]);
    for (const a of again) expect(a.body.equals(b.arrivals.find((x) => x.label === a.label)!.body)).toBe(true);
    expect(b.refreshes()).toBe(1); // metadata refreshed before batch 7 went again, not for the gaps
    expect(b.arrivals.length).toBe(25);
    expect(b.peak()).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  }, 10_000);

  it('takes a duplicate (46) as written when a response was lost after the broker appended the batch', async () => {
    // Batch 5 is appended but its response is lost: sent again, answered 46; those behind it were written.
    let lost = false;
    const b = fakeBroker((_n, label) => {
      if (label !== 'b5.0' || lost) return null;
      lost = true;
      return { kind: 'lose-response' };
    });
    const settled = await handIn(b.producer, 12);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(b.log).toEqual(expected(12)); // batch 5 once, not twice
    expect(b.arrivals.filter((a) => a.label === 'b5.0').map((a) => a.answer)).toEqual(['lost', 46]);
    expect(b.arrivals.filter((a) => a.answer === 45)).toEqual([]);
  }, 10_000);

  it('fails batch k and every batch after it on an error that is not retriable, and writes none of them', async () => {
    // MESSAGE_TOO_LARGE (10) on batch 6: nothing after it may reach the log (a gap in the lane).
    const b = fakeBroker((_n, label) => (label === 'b6.0' ? { kind: 'refuse', code: 10 } : null));
    const settled = await handIn(b.producer, 15);
    expect(settled.slice(0, 6).every((s) => s.status === 'fulfilled')).toBe(true);
    for (const s of settled.slice(6)) {
      expect(s.status).toBe('rejected');
      const err = (s as PromiseRejectedResult).reason as KafkaServiceError;
      expect(err).toBeInstanceOf(KafkaServiceError);
      expect(err.kafkaCode).toBe('MESSAGE_TOO_LARGE');
      expect(err.message).toMatch(/writing to t\/0/);
    }
    expect(b.log).toEqual(expected(6));
    expect(b.arrivals.filter((a) => a.label === 'b6.0').length).toBe(1); // not retried
    // The partition goes on from the last acknowledged batch.
    await b.producer.send('t', 0, batch(99, 1), { compression: 'none' });
    expect(b.log.at(-1)).toBe('b99.0');
    expect(b.arrivals.at(-1)!.seq).toBe(18);
  });

  it('fails, without retrying, when the next batch after the last acknowledged one is refused for a gap', async () => {
    // The broker forgot the producer's batches: a real gap, not one an earlier batch of this producer left.
    const b = fakeBroker((n) => (n === 4 ? { kind: 'forget-state' } : null));
    const first = await Promise.allSettled([0, 1, 2, 3].map((i) => b.producer.send('t', 0, batch(i), { compression: 'none' })));
    expect(first.every((s) => s.status === 'fulfilled')).toBe(true);
    const err = await b.producer.send('t', 0, batch(4), { compression: 'none' }).catch((e: unknown) => e);
    expect((err as KafkaServiceError).kafkaCode).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(b.arrivals.filter((a) => a.label === 'b4.0').length).toBe(1);
  });

  it('refuses more than five in flight: the broker keeps only five batches per producer', () => {
    const io = { beforeResend: async () => undefined, retriable: () => true, errorOf: () => new Error('x'), failure: (e: unknown) => e as Error };
    const policy = { initialMs: 1, maxMs: 1, attempts: 3 };
    expect(() => new ProducePipeline(io, 6, policy, new AbortController().signal)).toThrow(/1 to 5/);
    expect(() => new ProducePipeline(io, 0, policy, new AbortController().signal)).toThrow(/1 to 5/);
  });

  it('rejects what is queued and in flight when the producer is closed', async () => {
    const b = fakeBroker();
    const sends = handIn(b.producer, 10);
    await new Promise((r) => setImmediate(r));
    await b.producer.close();
    const settled = await sends;
    const rejected = settled.filter((s) => s.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect((r.reason as Error).message).toMatch(/was closed/);
    // What was written is a prefix of the batches, in order.
    expect(b.log).toEqual(expected(b.log.length / 3));
  });
});
