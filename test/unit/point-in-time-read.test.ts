/**
 * firstOffsetAtOrAfter: ListOffsets by timestamp asked of a backup, checked against the
 * in-memory Kafka's own ListOffsets by timestamp (MemoryKafka.offsetsForTimestamp, a plain
 * sort-and-find written apart from it) on a log whose timestamps do not grow with offsets;
 * and how many segments it opens (counted, never timed).
 */
import { Backup, openBackup } from '../../src/backup/catalog';
import { DumpRun } from '../../src/dump/dump';
import { IntegrityError, NotFoundError } from '../../src/errors';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { endOffsetsAt, firstOffsetAtOrAfter } from '../../src/recover/point-in-time-read';
import { MemoryStore } from '../../src/store/memory';

/** A store that counts the objects opened for reading (segments, here). */
class CountingStore extends MemoryStore {
  opened: string[] = [];
  override read(key: string): AsyncIterable<Buffer> {
    this.opened.push(key);
    return super.read(key);
  }
}

/** Incompressible bytes, the same every run: 64 KiB segments hold about 150 records. */
function noise(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

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
  await new DumpRun(
    { kafka, store, registry: null, logger: silentLogger() },
    {
      selection: { topics: ['t'] },
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      segmentBytes: 64 * 1024,
      blockBytes: 8 * 1024,
      concurrency: 1,
      stallTimeoutMs: 1000,
    },
  ).run();
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
    for (let i = 0; i < N; i++) for (const d of [-1n, 0n, 1n]) times.add(stamp(i) + d);
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
