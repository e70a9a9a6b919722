/**
 * writePartition's direct path (segment blocks transcoded, LeanProducer.sendPlaced) against
 * its object path (records → toLaneRecord → RecordProducer.send) on the same backup: the
 * same batches byte for byte, the same counters, the same translated group offsets (the
 * direct path observes only the blocks that hold a committed offset), the same resume.
 */
import { openBackup, type Backup } from '../../src/backup/catalog';
import type { ProduceRecord, RecordProducer } from '../../src/kafka/adapter';
import { encodeRecordSet, type PlacedRecordSet } from '../../src/kafka/protocol/record-batch';
import { MemoryKafka } from '../../src/kafka/memory';
import { BatchSink } from '../../src/restore/batch-sink';
import { PRODUCER_IN_FLIGHT, producerWindow, toLaneRecord, writePartition, type PartitionJob, type WriteOptions } from '../../src/restore/write-partition';
import { SchemaIdMap } from '../../src/schema/register';
import type { BackupRecord } from '../../src/segment/record';
import { CountingStore, dumpTopics, noise } from '../support/memory-backup';

jest.setTimeout(60_000);

/**
 * Records the object path's batches as the bytes the lean producer would encode. Its placed
 * sends fail the test: the object path runs with `transcode: false` and must not use them.
 */
class ObjectProducer implements RecordProducer {
  batches: Buffer[] = [];
  async send(_t: string, _p: number, records: readonly ProduceRecord[]): Promise<void> {
    this.batches.push(Buffer.from(encodeRecordSet(records).records));
  }
  headroom(): number {
    return 40;
  }
  async sendPlaced(_t: string, _p: number, _set: PlacedRecordSet): Promise<boolean> {
    throw new Error('a placed send on the object path');
  }
  async close(): Promise<void> {}
}

/** The same, for record sets the transcoder placed (as LeanProducer.sendPlaced receives them). */
class PlacedProducer extends ObjectProducer {
  /** Batches sent as placed record sets (the transcoder's), not as record objects. */
  placed = 0;
  override async sendPlaced(_t: string, _p: number, set: PlacedRecordSet): Promise<boolean> {
    expect(set.start).toBe(40);
    this.placed++;
    this.batches.push(Buffer.from(set.buf.subarray(set.start, set.end)));
    return this.batches.length % 3 !== 0; // now and then "retried": the buffer is not reused
  }
}

/**
 * The baggage headers of record i, one of each case --lane-baggage meets: none, one to
 * append to, one to replace in, one already right, not valid baggage (null, not UTF-8, bad
 * syntax), another letter case, a look-alike key, two baggage headers, an empty one.
 */
function baggageHeaders(i: number): Array<{ key: string; value: Buffer | null }> {
  switch (i % 10) {
    case 1:
      return [{ key: 'baggage', value: Buffer.from(`user=${i % 3},tenant=acme`) }];
    case 2:
      return [{ key: 'Baggage', value: Buffer.from(`lane=old;p=1, x=y${i % 2}`) }];
    case 3:
      return [{ key: 'baggage', value: Buffer.from('lane=l') }];
    case 4:
      return [{ key: 'baggage', value: null }];
    case 5:
      return [{ key: 'baggage', value: Buffer.from([0x6c, 0x3d, 0xff, 0xfe]) }];
    case 6:
      return [
        { key: 'BAGGAGE', value: Buffer.from('not baggage') },
        { key: 'baggage', value: Buffer.from('a=b') },
      ];
    case 7:
      return [{ key: 'b\u0430ggage', value: Buffer.from('a=b') }]; // a Cyrillic a: not the baggage header
    case 8:
      return [{ key: 'baggage', value: Buffer.alloc(0) }];
    default:
      return [];
  }
}
/** Records whose baggage --lane-baggage leaves alone: null, not UTF-8, not baggage syntax. */
const baggageLeftAlone = (n: number): number => Array.from({ length: n }, (_, i) => i % 10).filter((c) => c === 4 || c === 5 || c === 6).length;

const framed = (id: number, b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0, id]), b]);
let backup: Backup;
let store: CountingStore;
let sourceOffsets: bigint[];

beforeAll(async () => {
  const kafka = new MemoryKafka();
  kafka.topics.set('t', { partitions: [{ records: [], logStart: 0n, next: 0n }], replicationFactor: 1, configs: {} });
  for (let i = 0; i < 1500; i++) {
    kafka.append('t', 0, [
      {
        timestamp: BigInt(1_700_000_000_000 + i * 7),
        key: i % 5 === 0 ? null : Buffer.from(`k${i}`),
        value: i % 3 === 0 ? framed(i % 2 ? 9 : 4, noise(i, 900)) : noise(i, 300 + (i % 50)),
        headers: [{ key: 'traceparent', value: Buffer.from(`t${i}`) }, ...baggageHeaders(i), { key: 'b3', value: null }],
      },
    ]);
    if (i % 97 === 0) kafka.skipOffsets('t', 0, 1 + (i % 4)); // gaps, as compaction leaves
  }
  sourceOffsets = kafka.topics.get('t')!.partitions[0]!.records.map((r) => r.offset);
  store = new CountingStore();
  // Small segments: many blocks, several segments.
  await dumpTopics(kafka, store, ['t'], {}, { blockBytes: 16 * 1024, concurrency: 1 });
  backup = await openBackup(store, 'latest');
  expect(backup.partition('t', 0).segments.length).toBeGreaterThan(5);
});

const ids = new SchemaIdMap(new Map([[9, [{ laneSubject: 'l.t-value', laneVersion: 1, laneId: 77, created: true }]]]));

async function both(job: Omit<PartitionJob, 'sourceTopic' | 'laneTopic' | 'partition' | 'compression'>, over: Partial<WriteOptions> = {}) {
  const full: PartitionJob = { sourceTopic: 't', laneTopic: 'l.t', partition: 0, compression: 'none', ...job };
  const run = async (producer: ObjectProducer) => {
    const result = await writePartition(full, {
      backup,
      producer,
      transcode: producer instanceof PlacedProducer,
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      rewrite: { ids, lane: 'l', laneHeader: null },
      batchRecords: 37,
      batchBytes: 20_000,
      ...over,
    });
    return { result, batches: producer.batches, placed: producer instanceof PlacedProducer ? producer.placed : 0 };
  };
  return { object: await run(new ObjectProducer()), direct: await run(new PlacedProducer()) };
}

describe('writePartition: direct path = object path', () => {
  it('writes the same batches, counts and group offsets', async () => {
    const at = (i: number): bigint => sourceOffsets[i]!;
    const committed = [
      { group: 'start', offset: 0n },
      { group: 'mid', offset: at(700) },
      { group: 'in-gap', offset: at(98) - 1n }, // a skipped offset: the next record's lane offset
      { group: 'same-block', offset: at(701) },
      { group: 'last', offset: at(1499) },
      { group: 'end', offset: at(1499) + 1n },
      { group: 'beyond', offset: at(1499) + 100n },
      { group: 'none', offset: -1n },
    ];
    const { object, direct } = await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed });
    expect(direct.batches.length).toBe(object.batches.length);
    direct.batches.forEach((b, i) => expect(b.equals(object.batches[i]!)).toBe(true));
    expect(direct.result).toEqual(object.result);
    expect(object.result.written).toBe(1500);
    expect(object.result.idsRewritten).toBe(250); // values framed with ID 9
    expect(Object.fromEntries(direct.result.groupOffsets)).toEqual({
      start: 0n,
      mid: 700n,
      'in-gap': 98n,
      'same-block': 701n,
      last: 1499n,
      end: 1500n,
      beyond: 1500n,
    });
  });

  it('resumes the same way: the already-written records are checked and skipped', async () => {
    const records: BackupRecord[] = [];
    for await (const r of backup.records('t', 0)) records.push(r);
    // Two hypotheses (log start above 0): only the one whose last record matches counts.
    const { object, direct } = await both({
      starts: [
        { laneStart: 5n, alreadyWritten: 400 },
        { laneStart: 0n, alreadyWritten: 405 },
      ],
      laneLast: records[404]!,
      committed: [{ group: 'g', offset: sourceOffsets[1000]! }],
    });
    expect(direct.result).toEqual(object.result);
    expect(direct.result.skippedExisting).toBe(405);
    expect(direct.result.written).toBe(1095);
    expect(direct.result.groupOffsets.get('g')).toBe(1000n);
    direct.batches.forEach((b, i) => expect(b.equals(object.batches[i]!)).toBe(true));
  });

  it('rewrites baggage and adds the lane header the same way on both paths', async () => {
    const committed = [{ group: 'g', offset: sourceOffsets[333]! }];
    const start = { starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed };
    for (const rewrite of [
      { ids, lane: 'l', laneHeader: null, laneBaggage: 'lane' },
      { ids, lane: 'l', laneHeader: 'x-lane', laneBaggage: 'lane' },
      { ids, lane: 'l', laneHeader: 'x-lane', laneBaggage: null },
    ]) {
      const { object, direct } = await both(start, { rewrite });
      // Every batch of the direct path went through the transcoder (placed sends).
      expect(direct.placed).toBe(direct.batches.length);
      expect(direct.batches.length).toBe(object.batches.length);
      direct.batches.forEach((b, i) => expect(b.equals(object.batches[i]!)).toBe(true));
      expect(direct.result).toEqual(object.result);
      expect(direct.result.written).toBe(1500);
      expect(direct.result.baggageLeftAlone).toBe(rewrite.laneBaggage ? baggageLeftAlone(1500) : 0);
      expect(direct.result.groupOffsets.get('g')).toBe(333n);
    }
    // The lane's member is in the batches: appended, replaced or created (not only copied).
    const { direct } = await both(start, { rewrite: { ids, lane: 'l', laneHeader: null, laneBaggage: 'lane' } });
    const all = Buffer.concat(direct.batches).toString('latin1');
    expect(all.split('user=1,tenant=acme,lane=l').length - 1).toBe(50); // i % 10 === 1 and i % 3 === 1
    expect(all.split('lane=l;p=1, x=y').length - 1).toBe(150);
    expect(all).not.toContain('lane=old');
  });

  it('resumes with baggage the same way', async () => {
    const records: BackupRecord[] = [];
    for await (const r of backup.records('t', 0)) records.push(r);
    const rewrite = { ids, lane: 'l', laneHeader: null, laneBaggage: 'lane' };
    const laneLast = toLaneRecord(records[404]!, { ...rewrite, laneTopic: 'l.t' });
    const { object, direct } = await both(
      { starts: [{ laneStart: 0n, alreadyWritten: 405 }], laneLast: { ...records[404]!, headers: laneLast.headers }, committed: [] },
      { rewrite },
    );
    expect(direct.result).toEqual(object.result);
    expect(direct.result.skippedExisting).toBe(405);
    expect(direct.result.written).toBe(1095);
    direct.batches.forEach((b, i) => expect(b.equals(object.batches[i]!)).toBe(true));
  });
});

describe('writePartition with an end offset (recover --at): direct path = object path', () => {
  /** Every raw block's first and last offset, in order. */
  async function blockSpans(): Promise<Array<[bigint, bigint]>> {
    const spans: Array<[bigint, bigint]> = [];
    for await (const b of backup.rawBlocks('t', 0)) spans.push([b.firstOffset, b.lastOffset]);
    return spans;
  }
  /** Source records below `end`, counted from the in-memory Kafka's log (not from the backup). */
  const below = (end: bigint): number => sourceOffsets.filter((o) => o < end).length;

  it('writes exactly the records below the end, the same bytes on both paths, wherever the end falls', async () => {
    const spans = await blockSpans();
    const segs = backup.partition('t', 0).segments;
    const at = (i: number): bigint => sourceOffsets[i]!;
    const mid = spans[Math.floor(spans.length / 2)]!;
    expect(mid[1] - mid[0]).toBeGreaterThan(2n);
    const ends: Array<[string, bigint]> = [
      ['inside a block', mid[0] + 2n],
      ['at a block boundary', mid[0]],
      ['right after a block', mid[1] + 1n],
      ['at a segment boundary', BigInt(segs[2]!.firstOffset)],
      ['in a gap (a skipped offset)', at(98) - 1n],
      ['at the first record', at(0)],
      ['0', 0n],
      ['at the last record', at(1499)],
      ['past the last record', at(1499) + 1n],
      ['far beyond', at(1499) + 1000n],
    ];
    for (const [where, end] of ends) {
      const committed = [
        { group: 'early', offset: at(10) },
        { group: 'just-below', offset: end - 1n },
        { group: 'at-end', offset: end },
        { group: 'beyond', offset: end + 50n },
      ].filter((c) => c.offset >= 0n);
      const { object, direct } = await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed, endOffset: end });
      const n = below(end);
      expect([where, object.result.written]).toEqual([where, n]);
      expect([where, direct.batches.length]).toEqual([where, object.batches.length]);
      direct.batches.forEach((b, i) => expect([where, i, b.equals(object.batches[i]!)]).toEqual([where, i, true]));
      expect(direct.result).toEqual(object.result);
      expect(object.result.laneEnd).toBe(BigInt(n));
      const groups = object.result.groupOffsets;
      // At or beyond the end: clamped to the lane's end. Below it: the first record at or after it, if one was written.
      expect([where, groups.get('at-end'), groups.get('beyond')]).toEqual([where, BigInt(n), BigInt(n)]);
      if (end >= 1n) expect([where, groups.get('just-below')]).toEqual([where, BigInt(Math.min(below(end - 1n), n))]);
      if (at(10) < end) expect(groups.get('early')).toBe(10n);
      else expect(groups.get('early')).toBe(BigInt(n));
    }
  });

  it('stops reading at the end: the segment after it is never opened', async () => {
    const segs = backup.partition('t', 0).segments;
    const endAtSegment = BigInt(segs[2]!.firstOffset);
    store.opened = [];
    await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [], endOffset: endAtSegment });
    // Both paths: segments 0 and 1 each, nothing else.
    const keys = segs.map((s) => backup.storeKey(s));
    expect(store.opened).toEqual([keys[0], keys[1], keys[0], keys[1]]);
    store.opened = [];
    const inside = BigInt(segs[2]!.firstOffset) + 3n;
    await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [], endOffset: inside });
    expect(store.opened).toEqual([keys[0], keys[1], keys[2], keys[0], keys[1], keys[2]]);
    store.opened = [];
    await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [], endOffset: 0n });
    expect(store.opened).toEqual([]);
  });

  it("the records written are the backup's own below the end, in order; only blocks wholly below it are transcoded whole", async () => {
    const end = sourceOffsets[777]! + 1n;
    const transcoded: bigint[] = [];
    // Called below with the sink as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const original = BatchSink.prototype.transcodeBlock;
    const spy = jest.spyOn(BatchSink.prototype, 'transcodeBlock').mockImplementation(function (this: BatchSink, blk, each) {
      transcoded.push(blk.lastOffset);
      return original.call(this, blk, each);
    });
    let mine;
    try {
      mine = await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [], endOffset: end }, { batchRecords: 1 });
    } finally {
      spy.mockRestore();
    }
    expect(transcoded.length).toBeGreaterThan(3);
    expect(transcoded.every((last) => last < end)).toBe(true);
    const plain = await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [] }, { batchRecords: 1 });
    // One record per batch: the run with the end is the plain run's first 778 batches.
    expect(mine.object.result.written).toBe(778);
    expect(mine.object.batches.length).toBe(778);
    expect(mine.direct.batches.length).toBe(778);
    mine.object.batches.forEach((b, i) => expect(b.equals(plain.object.batches[i]!)).toBe(true));
    mine.direct.batches.forEach((b, i) => expect(b.equals(plain.object.batches[i]!)).toBe(true));
  });

  it('resumes the same way with an end offset', async () => {
    const records: BackupRecord[] = [];
    for await (const r of backup.records('t', 0)) records.push(r);
    const end = sourceOffsets[900]!;
    const { object, direct } = await both({
      starts: [{ laneStart: 0n, alreadyWritten: 405 }],
      laneLast: records[404]!,
      committed: [{ group: 'g', offset: sourceOffsets[600]! }],
      endOffset: end,
    });
    expect(direct.result).toEqual(object.result);
    expect(direct.result.skippedExisting).toBe(405);
    expect(direct.result.written).toBe(900 - 405);
    expect(direct.result.laneEnd).toBe(900n);
    expect(direct.result.groupOffsets.get('g')).toBe(600n);
    direct.batches.forEach((b, i) => expect(b.equals(object.batches[i]!)).toBe(true));
  });

  it('--max-records-per-partition counts only the records below the end', async () => {
    const end = sourceOffsets[1000]!;
    const { object, direct } = await both(
      { starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [], endOffset: end },
      { maxRecordsPerPartition: 300 },
    );
    expect(direct.result).toEqual(object.result);
    expect(object.result.written).toBe(300);
    direct.batches.forEach((b, i) => expect(b.equals(object.batches[i]!)).toBe(true));
    // The newest 300 below the end: records 700..999, the same bytes as that slice of a plain run.
    const plain = await both({ starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [] }, { batchRecords: 1 });
    const mine = await both(
      { starts: [{ laneStart: 0n, alreadyWritten: 0 }], laneLast: null, committed: [], endOffset: end },
      { maxRecordsPerPartition: 300, batchRecords: 1 },
    );
    expect(mine.object.batches.length).toBe(300);
    mine.object.batches.forEach((b, i) => expect(b.equals(plain.object.batches[700 + i]!)).toBe(true));
  });
});

describe('the in-flight window a producer gets', () => {
  it('is what the producer says it takes, capped; one for a producer that says nothing (the in-memory one)', async () => {
    const memory = await new MemoryKafka().producer();
    const saying = (maxInFlight: number): RecordProducer => Object.assign(Object.create(memory) as RecordProducer, { maxInFlight });
    expect(producerWindow(memory, 5)).toBe(1);
    expect(producerWindow(saying(3), 5)).toBe(3);
    expect(producerWindow(saying(5), 2)).toBe(2);
    expect(producerWindow(saying(0), 5)).toBe(1);
    expect(producerWindow(saying(5))).toBe(PRODUCER_IN_FLIGHT);
  });
});
