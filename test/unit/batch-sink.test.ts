/**
 * The batch sink of writePartition (src/restore/batch-sink.ts): batches split by records and
 * bytes, at most `inFlight` of them sent and not acknowledged while the next one is built,
 * each holding its bytes of the byte budget until acknowledged, a buffer reused only when
 * its send says so, and a failed send reported, never lost. On both kinds of batch: record
 * sets placed in their buffer (sendPlaced) and record objects (send).
 */
import type { ProduceRecord, RecordProducer } from '../../src/kafka/adapter';
import { encodeRecordSet, type PlacedRecordSet } from '../../src/kafka/protocol/record-batch';
import { BatchSink } from '../../src/restore/batch-sink';
import { recordBytes } from '../../src/restore/lane-record';
import { ByteBudget } from '../../src/util/byte-budget';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Sent {
  /** The batch's records as the lean producer would encode them. */
  bytes: Buffer;
  count: number;
  /** The placed set's buffer (placed sends only). */
  buf: Buffer | null;
  ack(reusable?: boolean): void;
  fail(e: Error): void;
}

/**
 * A producer whose sends the test acknowledges (or fails) one by one, or at once with
 * `auto`; `placed`: the sink is expected to use placed sends (otherwise a placed send
 * fails the test). `peak`: the most sends unacknowledged at once.
 */
function producer(placed: boolean, auto = false): { producer: RecordProducer; sent: Sent[]; unacked: () => number; peak: () => number } {
  const sent: Sent[] = [];
  let open = 0;
  let peak = 0;
  const track = <T>(entry: Omit<Sent, 'ack' | 'fail'>, value: (reusable: boolean) => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      open++;
      peak = Math.max(peak, open);
      const s: Sent = {
        ...entry,
        ack: (reusable = true) => {
          open--;
          resolve(value(reusable));
        },
        fail: (e) => {
          open--;
          reject(e);
        },
      };
      sent.push(s);
      if (auto) queueMicrotask(() => s.ack());
    });
  const p: RecordProducer = {
    send: (_t, _p, records: readonly ProduceRecord[]) =>
      track({ bytes: Buffer.from(encodeRecordSet(records).records), count: records.length, buf: null }, () => undefined),
    close: async () => undefined,
    headroom: () => 24,
    sendPlaced: (_t, _p, set: PlacedRecordSet) => {
      if (!placed) throw new Error('a placed send from a sink of record objects');
      return track({ bytes: Buffer.from(set.buf.subarray(set.start, set.end)), count: set.count, buf: set.buf }, (reusable) => reusable);
    },
  };
  return { producer: p, sent, unacked: () => open, peak: () => peak };
}

const rec = (i: number, valueBytes = 10): ProduceRecord => ({
  key: Buffer.from(`k${i}`),
  value: Buffer.alloc(valueBytes, i),
  timestamp: BigInt(1_700_000_000_000 + i),
  headers: [{ key: 'h', value: Buffer.from([i]) }],
});
const size = (r: ProduceRecord): number => recordBytes({ ...r, headers: [...r.headers], rewritten: 0, baggage: null });

const rewrite = { ids: null, laneTopic: 'lane.t' };

describe.each([
  ['placed record sets', true],
  ['record objects', false],
])('batch sink of %s', (_kind, placed) => {
  const open = (p: RecordProducer, over: { inFlight?: number; budget?: ByteBudget; maxRecords?: number; maxBytes?: number } = {}) =>
    BatchSink.open(
      p,
      {
        topic: 'lane.t',
        partition: 0,
        compression: 'none',
        maxRecords: over.maxRecords ?? 3,
        maxBytes: over.maxBytes ?? 1000,
        inFlight: over.inFlight ?? 1,
        budget: over.budget,
      },
      placed ? rewrite : null,
    );

  it('splits batches at maxRecords and maxBytes, keeps the record order, encodes as the producer would', async () => {
    const { producer: p, sent } = producer(placed, true);
    const sink = open(p, { maxRecords: 3, maxBytes: 60 });
    expect(sink.transcodes).toBe(placed);
    const records = [rec(0), rec(1), rec(2), rec(3), rec(4, 50), rec(5, 0), rec(6, 200)];
    for (const r of records) await sink.add(r, size(r));
    await sink.close();
    // 3 records (maxRecords) of 14 bytes; 14 + 54 > 60 bytes, 54 + 4 fits; a record larger than maxBytes goes alone.
    expect(sent.map((s) => s.count)).toEqual([3, 1, 2, 1]);
    const groups = [records.slice(0, 3), records.slice(3, 4), records.slice(4, 6), records.slice(6)];
    sent.forEach((s, i) => expect(s.bytes.equals(Buffer.from(encodeRecordSet(groups[i]!).records))).toBe(true));
  });

  it.each([1, 2, 3])('builds the next batch while %i are in flight, never more', async (inFlight) => {
    const { producer: p, sent, unacked, peak } = producer(placed);
    const sink = open(p, { inFlight, maxRecords: 2 });
    let added = 0;
    let done = false;
    const adding = (async () => {
      for (let i = 0; i < 20; i++) {
        await sink.add(rec(i), size(rec(i)));
        added++;
      }
      await sink.close();
      done = true;
    })();
    for (let i = 0; i < 5; i++) await tick();
    // `inFlight` batches of 2 sent, one more built and full, the record after it waits for room.
    expect(unacked()).toBe(inFlight);
    expect(added).toBe(2 * (inFlight + 1));
    // Acknowledged in order, one at a time.
    for (let next = 0; !done; await tick()) if (next < sent.length) sent[next++]!.ack();
    await adding;
    expect(peak()).toBe(inFlight);
    expect(sent.map((s) => s.count)).toEqual(Array(10).fill(2));
  });

  it('holds each batch in the byte budget until it is acknowledged', async () => {
    const { producer: p, sent } = producer(placed);
    const budget = new ByteBudget(10_000);
    const sink = open(p, { budget, maxRecords: 2 });
    for (let i = 0; i < 4; i++) await sink.add(rec(i), size(rec(i)));
    await tick();
    expect(sent.length).toBe(1);
    expect(budget.inUse).toBe(size(rec(0)) + size(rec(1)));
    sent[0]!.ack();
    const closing = sink.close();
    await tick();
    await tick();
    expect(sent.length).toBe(2);
    expect(budget.inUse).toBe(size(rec(2)) + size(rec(3)));
    sent[1]!.ack();
    await closing;
    expect(budget.inUse).toBe(0);
  });

  it('reports a failed send at the next batch or at close, and holds no budget for it', async () => {
    const { producer: p, sent } = producer(placed);
    const budget = new ByteBudget(10_000);
    const sink = open(p, { budget, maxRecords: 1 });
    await sink.add(rec(0), size(rec(0)));
    await sink.add(rec(1), size(rec(1))); // sends the first
    await tick();
    sent[0]!.fail(new Error('broker said no'));
    await expect(sink.add(rec(2), size(rec(2)))).rejects.toThrow('broker said no');
    expect(budget.inUse).toBe(0);
    const { producer: p2, sent: sent2 } = producer(placed);
    const sink2 = open(p2);
    await sink2.add(rec(0), size(rec(0)));
    const closing = sink2.close();
    await tick();
    sent2[0]!.fail(new Error('gone'));
    await expect(closing).rejects.toThrow('gone');
  });
});

describe('placed batch buffers', () => {
  it('are reused when the send says so, and replaced when it does not', async () => {
    const { producer: p, sent } = producer(true);
    const sink = BatchSink.open(p, { topic: 'lane.t', partition: 0, compression: 'none', maxRecords: 1, maxBytes: 1000, inFlight: 1 }, rewrite);
    const run = (async (): Promise<void> => {
      for (let i = 0; i < 6; i++) await sink.add(rec(i), size(rec(i)));
      await sink.close();
    })();
    // The second send's buffer is "still in use" (a retried request): it is not filled again.
    for (let i = 0; i < 6; i++) {
      while (sent.length <= i) await tick();
      sent[i]!.ack(i !== 1);
    }
    await run;
    const bufs = sent.map((s) => s.buf!);
    expect(bufs[2]).toBe(bufs[0]); // two buffers in turn
    expect(bufs[3]).not.toBe(bufs[1]); // replaced
    expect(bufs[5]).toBe(bufs[3]);
    expect(new Set(bufs).size).toBe(3);
  });

  it('an object sink refuses segment blocks', async () => {
    const { producer: p } = producer(false);
    const sink = BatchSink.open(p, { topic: 'lane.t', partition: 0, compression: 'none', maxRecords: 1, maxBytes: 1000, inFlight: 1 }, null);
    expect(sink.transcodes).toBe(false);
    const blk = {
      body: Buffer.alloc(33),
      count: 1,
      firstOffset: 0n,
      lastOffset: 0n,
      ctx: { name: 's', blockIndex: 0, position: 16 },
      basePos: 0,
      firstIndex: 0,
    };
    await expect(sink.transcodeBlock(blk, () => undefined)).rejects.toThrow('takes record objects');
  });
});
