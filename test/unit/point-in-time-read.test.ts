/**
 * firstOffsetAtOrAfter: ListOffsets by timestamp asked of a backup, checked against the
 * in-memory Kafka's own ListOffsets by timestamp (MemoryKafka.offsetsForTimestamp, a plain
 * sort-and-find written apart from it) on a log whose timestamps do not grow with offsets;
 * and how many segments it opens (counted, never timed).
 */
import { Backup, listBackups, loadBackup, openBackup } from '../../src/backup/catalog';
import { cutTime } from '../../src/backup/manifest';
import { IntegrityError, NotFoundError } from '../../src/errors';
import type { ProduceRecord, RecordProducer } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { choosePointInTime, type ChainBackup } from '../../src/recover/point-in-time';
import { endOffsetsAt, firstOffsetAtOrAfter } from '../../src/recover/point-in-time-read';
import { writePartition } from '../../src/restore/write-partition';
import { MemoryStore } from '../../src/store/memory';
import { CountingStore, dumpTopics, noise } from '../support/memory-backup';

jest.setTimeout(60_000);

const BASE = 1_765_000_000_000;
/**
 * Record i's timestamp: one second apart, but every 7th record is 50 s late (its timestamp
 * smaller than records before it), every 31st is 5 minutes early, and every 97th has none (-1).
 */
function stamp(i: number): bigint {
  if (i % 97 === 50) return -1n;
  if (i % 31 === 3) return BigInt(BASE + (i + 300) * 1000);
  if (i % 7 === 0) return BigInt(BASE + (i - 50) * 1000);
  return BigInt(BASE + i * 1000);
}

const N = 600;
let kafka: MemoryKafka;
let store: CountingStore;
let backup: Backup;

beforeAll(async () => {
  kafka = new MemoryKafka();
  await kafka.createTopics([{ topic: 't', partitions: 2, replicationFactor: 1, configs: {} }]);
  for (let i = 0; i < N; i++) {
    kafka.append('t', 0, [{ timestamp: stamp(i), key: Buffer.from(`k${i}`), value: noise(i, 400), headers: [] }]);
    if (i % 89 === 0) kafka.skipOffsets('t', 0, 2); // gaps, as compaction leaves
  }
  store = new CountingStore();
  // 64 KiB segments of 400-byte incompressible values: about 150 records each.
  await dumpTopics(kafka, store, ['t'], {}, { blockBytes: 8 * 1024, concurrency: 1 });
  backup = await openBackup(store, 'latest');
  expect(backup.partition('t', 0).segments.length).toBeGreaterThanOrEqual(3);
});

/** Kafka's answer: the first offset whose timestamp is ≥ at, or null (MemoryKafka says the log end). */
async function kafkaAnswer(atMs: bigint): Promise<bigint | null> {
  const [p0] = await kafka.offsetsForTimestamp('t', Number(atMs));
  const end = kafka.topics.get('t')!.partitions[0]!.next;
  return p0!.offset === end ? null : p0!.offset;
}

describe('firstOffsetAtOrAfter', () => {
  it('answers as Kafka does for every record timestamp, one past it and one before it, opening at most one segment', async () => {
    const times = new Set<bigint>([0n, BigInt(BASE - 1_000_000), BigInt(BASE + 10_000_000)]);
    for (let i = 0; i < N; i += 2) for (const d of [-1n, 0n, 1n]) times.add(stamp(i) + d);
    let opened = 0;
    for (const at of times) {
      store.opened = [];
      const got = await firstOffsetAtOrAfter(backup, 't', 0, at);
      expect([at, got]).toEqual([at, await kafkaAnswer(at)]);
      expect(store.opened.length).toBeLessThanOrEqual(1);
      opened += store.opened.length;
    }
    // Not vacuous: most answers came from reading a segment.
    expect(opened).toBeGreaterThan(times.size / 2);
  });

  it('is a cut by offset: later records with smaller timestamps are not part of the log as of TIME', async () => {
    // Record 3 is 5 minutes early: its timestamp is that of record 303. As of its time, the
    // log ends before it, though records 4 to 302 (after it) have smaller timestamps.
    const at = stamp(3);
    const records = [];
    for await (const r of backup.records('t', 0)) records.push(r);
    const answer = await firstOffsetAtOrAfter(backup, 't', 0, at);
    expect(answer).toBe(records[3]!.offset);
    expect(records.slice(0, 3).every((r) => r.timestamp < at)).toBe(true);
    const laterBelow = records.filter((r) => r.offset > answer! && r.timestamp < at);
    expect(laterBelow.length).toBeGreaterThan(250);
    expect(laterBelow[0]!.offset).toBe(records[4]!.offset);
  });

  it('opens only the first segment whose largest timestamp reaches TIME, and none when no segment does', async () => {
    const segs = backup.partition('t', 0).segments;
    const last = segs[segs.length - 1]!;
    // A time only the last segment reaches (its largest timestamp): exactly that segment is read.
    const onlyLast = segs.slice(0, -1).every((s) => BigInt(s.maxTimestamp) < BigInt(last.maxTimestamp));
    expect(onlyLast).toBe(true);
    store.opened = [];
    expect(await firstOffsetAtOrAfter(backup, 't', 0, BigInt(last.maxTimestamp))).not.toBeNull();
    expect(store.opened).toEqual([backup.storeKey(last)]);
    store.opened = [];
    expect(await firstOffsetAtOrAfter(backup, 't', 0, BigInt(last.maxTimestamp) + 1n)).toBeNull();
    expect(store.opened).toEqual([]);
    // The first segment's first record answers the earliest time, from the first segment alone.
    store.opened = [];
    expect(await firstOffsetAtOrAfter(backup, 't', 0, -5n)).toBe(BigInt(segs[0]!.firstOffset));
    expect(store.opened).toEqual([backup.storeKey(segs[0]!)]);
  });

  it('an empty partition has no such offset and opens nothing', async () => {
    store.opened = [];
    expect(await firstOffsetAtOrAfter(backup, 't', 1, 0n)).toBeNull();
    expect(store.opened).toEqual([]);
  });

  it('a manifest claiming a larger timestamp than its segment holds is a corrupt backup', async () => {
    const m = structuredClone(backup.manifest);
    const seg = m.topics[0]!.partitions.find((p) => p.partition === 0)!.segments[0]!;
    seg.maxTimestamp = String(BigInt(BASE) + 10_000_000n);
    const lying = new Backup(store, backup.ref, m);
    store.opened = [];
    await expect(firstOffsetAtOrAfter(lying, 't', 0, BigInt(BASE) + 9_000_000n)).rejects.toThrow(IntegrityError);
    await expect(firstOffsetAtOrAfter(lying, 't', 0, BigInt(BASE) + 9_000_000n)).rejects.toThrow(/holds no record at or after \d{4}-.*largest timestamp is/);
    // Only the segment the manifest named was read, not the next one.
    expect(new Set(store.opened)).toEqual(new Set([backup.storeKey(backup.partition('t', 0).segments[0]!)]));
  });

  it('endOffsetsAt: every partition, the partition end where nothing reaches TIME; an unknown topic is not found', async () => {
    const at = stamp(400);
    const ends = await endOffsetsAt(backup, 't', at);
    expect(ends).toEqual(
      new Map([
        [0, await kafkaAnswer(at)],
        [1, 0n],
      ]),
    );
    const after = await endOffsetsAt(backup, 't', BigInt(BASE + 10_000_000));
    expect(after.get(0)).toBe(BigInt(backup.partition('t', 0).endOffset));
    await expect(endOffsetsAt(backup, 'nope', at)).rejects.toThrow(NotFoundError);
  });
});

/**
 * The whole point-in-time path short of the CLI, on a real chain: a full dump and two
 * incremental ones of an in-memory cluster (cut times from a test clock), then
 * choosePointInTime → endOffsetsAt → writePartition with the chosen groups' offsets. What
 * is written is checked against the source cluster's own log (records below Kafka's answer
 * for TIME), not against the backup.
 */
describe('a full and two incremental backups, recovered as of a time between and at their cuts', () => {
  const H = 3_600_000;
  const DAY0 = Date.UTC(2026, 11, 3, 0, 0, 0);
  const cuts = [DAY0 + 12 * H, DAY0 + 36 * H, DAY0 + 60 * H];
  let src: MemoryKafka;
  let chainStore: MemoryStore;
  let chain: ChainBackup[];

  /** Appends `n` records to `p`, the k-th stamped `at(k)`; returns their offsets. */
  const add = (p: number, n: number, at: (k: number) => number): bigint[] =>
    Array.from(
      { length: n },
      (_, k) =>
        src.append('orders', p, [{ timestamp: BigInt(at(k)), key: Buffer.from(`p${p}-${k}-${at(k)}`), value: noise(p * 1000 + k, 200), headers: [] }])[0]!,
    );

  beforeAll(async () => {
    src = new MemoryKafka();
    await src.createTopics([{ topic: 'orders', partitions: 2, replicationFactor: 1, configs: {} }]);
    chainStore = new MemoryStore();
    const dump = async (cut: number, incremental: boolean): Promise<void> => {
      // The first reading is the start, the second the cut (dump-cut-time.test.ts).
      let tick = cut - 2000;
      await dumpTopics(src, chainStore, ['orders'], { now: () => new Date((tick += 1000)) }, { blockBytes: 2 * 1024, concurrency: 1, incremental });
    };
    // Before the full backup: one record a minute from 10:00; record 7 of partition 0 is
    // stamped 20:00 (a producer's clock ahead), after the full backup's cut.
    add(0, 20, (k) => (k === 7 ? DAY0 + 20 * H : DAY0 + 10 * H + k * 60_000));
    add(1, 10, (k) => DAY0 + 10 * H + 30 * 60_000 + k * 60_000);
    await src.commitGroupOffsets('billing', 'orders', [
      { partition: 0, offset: 15n },
      { partition: 1, offset: 4n },
    ]);
    await src.commitGroupOffsets('audit', 'orders', [{ partition: 0, offset: 3n }]);
    await dump(cuts[0]!, false);
    // After the full backup: records every 10 minutes from 13:00 to 17:50; one late (stamped 11:00).
    add(0, 30, (k) => (k === 12 ? DAY0 + 11 * H : DAY0 + 13 * H + k * 600_000));
    add(1, 30, (k) => DAY0 + 13 * H + k * 600_000 + 1);
    await src.commitGroupOffsets('billing', 'orders', [{ partition: 0, offset: 40n }]);
    await dump(cuts[1]!, true);
    add(0, 10, (k) => DAY0 + 37 * H + k * 600_000);
    await dump(cuts[2]!, true);
    const refs = await listBackups(chainStore);
    chain = await Promise.all(
      refs.map(async (ref) => {
        const b = await loadBackup(chainStore, ref);
        return { backupId: ref.backupId, cutTime: new Date(cutTime(b.manifest)), manifest: b.manifest };
      }),
    );
    expect(chain.map((b) => [b.manifest.incremental, b.cutTime.getTime()])).toEqual([
      [false, cuts[0]],
      [true, cuts[1]],
      [true, cuts[2]],
    ]);
  });

  /** The source log's records of partition p below Kafka's answer for `at` (offset order). */
  async function sourceAsOf(p: number, at: number): Promise<{ keys: string[]; end: bigint }> {
    const answer = (await src.offsetsForTimestamp('orders', at)).find((x) => x.partition === p)!.offset;
    const records = src.topics.get('orders')!.partitions[p]!.records.filter((r) => r.offset < answer);
    return { keys: records.map((r) => r.key!.toString()), end: answer };
  }

  /** Recovers every partition of orders as of `at` into record lists, as recover would. */
  async function recoverAt(at: Date) {
    const choice = choosePointInTime(chain, ['orders'], at);
    const records = await loadBackup(chainStore, { cluster: 'memory-cluster', backupId: choice.topics.get('orders')!.backupId });
    const groups = chain.find((b) => b.backupId === choice.groupsFrom)?.manifest.consumerGroups ?? [];
    const ends = await endOffsetsAt(records, 'orders', BigInt(at.getTime()));
    const out = new Map<number, { keys: string[]; groups: Map<string, bigint>; end: bigint }>();
    for (const [p, endOffset] of ends) {
      const written: ProduceRecord[] = [];
      const producer: RecordProducer = {
        send: async (_t, _p, recs) => void written.push(...recs),
        sendPlaced: async () => {
          throw new Error('transcode: false sends record objects');
        },
        headroom: () => 0,
        close: async () => undefined,
      };
      const committed = choice.groupTopics.has('orders')
        ? groups.flatMap((g) => g.offsets.filter((o) => o.topic === 'orders' && o.partition === p).map((o) => ({ group: g.groupId, offset: BigInt(o.offset) })))
        : [];
      const r = await writePartition(
        {
          sourceTopic: 'orders',
          laneTopic: 'orders',
          partition: p,
          compression: 'none',
          starts: [{ laneStart: 0n, alreadyWritten: 0 }],
          laneLast: null,
          committed,
          endOffset,
        },
        {
          backup: records,
          producer,
          transcode: false,
          window: { since: null, until: null },
          maxRecordsPerPartition: null,
          rewrite: { ids: null, lane: 'orders', laneHeader: null },
        },
      );
      expect(r.laneEnd).toBe(BigInt(written.length));
      out.set(p, { keys: written.map((w) => w.key!.toString()), groups: r.groupOffsets, end: endOffset });
    }
    return { choice, out };
  }

  it("between the first two cuts: the records of the first incremental below Kafka's answer; the full backup's groups, clamped", async () => {
    const at = new Date(DAY0 + 18 * H); // day 0, 18:00
    const { choice, out } = await recoverAt(at);
    expect(choice.topics.get('orders')).toEqual({ backupId: chain[1]!.backupId });
    expect(choice.groupsFrom).toBe(chain[0]!.backupId);
    for (const p of [0, 1]) {
      const want = await sourceAsOf(p, at.getTime());
      expect(out.get(p)!.keys).toEqual(want.keys);
      expect(out.get(p)!.end).toBe(want.end);
    }
    // Partition 0 ends before record 7 (stamped 20:00), though records 8..19 are older: a cut by offset.
    expect(out.get(0)!.keys).toHaveLength(7);
    // Partition 1: every record of the full backup, then the 30 from 13:00 to 17:50.
    expect(out.get(1)!.keys).toHaveLength(10 + 30);
    // billing had committed 15 on partition 0 at the full backup's cut: beyond the end, so the end.
    expect(out.get(0)!.groups).toEqual(
      new Map([
        ['billing', 7n],
        ['audit', 3n],
      ]),
    );
    expect(out.get(1)!.groups).toEqual(new Map([['billing', 4n]]));
  });

  it('at the second cut: that backup gives the records and the groups', async () => {
    const at = new Date(cuts[1]!);
    const { choice, out } = await recoverAt(at);
    expect(choice.topics.get('orders')).toEqual({ backupId: chain[1]!.backupId });
    expect(choice.groupsFrom).toBe(chain[1]!.backupId);
    for (const p of [0, 1]) expect(out.get(p)!.keys).toEqual((await sourceAsOf(p, at.getTime())).keys);
    // Record 7 (20:00) is before this time now: nothing cuts partition 0 short, billing's 40 holds.
    expect(out.get(0)!.keys).toHaveLength(50);
    expect(out.get(0)!.groups.get('billing')).toBe(40n);
  });

  it('between the last two cuts: the second incremental alone is read', async () => {
    const at = new Date(DAY0 + 48 * H);
    const { choice, out } = await recoverAt(at);
    expect(choice.topics.get('orders')).toEqual({ backupId: chain[2]!.backupId });
    expect(choice.groupsFrom).toBe(chain[1]!.backupId);
    for (const p of [0, 1]) expect(out.get(p)!.keys).toEqual((await sourceAsOf(p, at.getTime())).keys);
  });

  it('refuses a time before the first record and after the last cut, naming the range', () => {
    expect(() => choosePointInTime(chain, ['orders'], new Date(DAY0))).toThrow(/before the first record backed up of this topic \(2026-12-03T10:00:00.000Z\)/);
    expect(() => choosePointInTime(chain, ['orders'], new Date(cuts[2]! + 1))).toThrow(
      /after the last cut of the backups of this topic \(2026-12-05T12:00:00.000Z\)/,
    );
  });
});
