/**
 * The library API (src/api.ts) without services: every CLI command as a call on the
 * in-memory Kafka adapter and store, lock waiting, and cancellation with an AbortSignal.
 * What the calls wrote is read back from the store's objects and MemoryKafka's partitions,
 * not only through the calls' own answers.
 */
import {
  breakLocks,
  deleteLane,
  describeBackups,
  describeLane,
  dump,
  gcLanes,
  listLanes,
  openBackup,
  planRestore,
  prune,
  readRawRecords,
  restore,
  verify,
} from '../../src/api';
import { ConflictError, ExitCode, InterruptedError, NotFoundError, UsageError } from '../../src/errors';
import { MemoryKafka } from '../../src/kafka/memory';
import { StoreLock } from '../../src/backup/lock';
import { MemoryStore } from '../../src/store/memory';
import { decodeSegment } from '../support/format-decoder';
import type { ObjectWriter } from '../../src/store/store';

function source(records = 10): MemoryKafka {
  const k = new MemoryKafka();
  k.topics.set('orders', { partitions: [], replicationFactor: 1, configs: { 'cleanup.policy': 'delete' } });
  k.topics.get('orders')!.partitions.push({ records: [], logStart: 0n, next: 0n }, { records: [], logStart: 0n, next: 0n });
  append(k, 0, records);
  return k;
}

function append(k: MemoryKafka, from: number, n: number): void {
  for (let i = from; i < from + n; i++) {
    k.append('orders', i % 2, [{ timestamp: BigInt(1_700_000_000_000 + i), key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: [] }]);
  }
}

const keys = async (store: MemoryStore, prefix = ''): Promise<string[]> => {
  const out: string[] = [];
  for await (const k of store.list(prefix)) out.push(k);
  return out.sort();
};
const locks = async (store: MemoryStore): Promise<string[]> => (await keys(store)).filter((k) => k.includes('/locks/'));
const manifests = async (store: MemoryStore): Promise<string[]> => (await keys(store)).filter((k) => k.endsWith('/manifest.json'));

describe('the CLI commands as library calls', () => {
  it('dump (full, then incremental), list, verify, cat, prune', async () => {
    const kafka = source(10);
    const store = new MemoryStore();
    const full = await dump({ kafka, store, topics: ['orders'], clusterName: 'mem' });
    expect([full.summary.records, full.summary.incremental]).toEqual([10, false]);

    append(kafka, 10, 4);
    const inc = await dump({ kafka, store, topics: ['orders'], clusterName: 'mem', incremental: true });
    // Only the 4 new records are read; the backup covers all 14 by sharing the first one's segments.
    expect([inc.summary.records, inc.summary.backupRecords, inc.summary.incremental]).toEqual([4, 14, true]);
    expect(await manifests(store)).toEqual([`mem/${full.summary.backupId}/manifest.json`, `mem/${inc.summary.backupId}/manifest.json`]);

    const listed = await describeBackups({ store });
    expect(listed.unreadable).toEqual([]);
    expect(listed.backups.map((b) => [b.id, b.kind, b.records])).toEqual([
      [full.summary.backupId, 'full', 10],
      [inc.summary.backupId, 'incremental', 14],
    ]);
    expect(listed.backups[1]!.sharedBytes).toBe(listed.backups[0]!.storedBytes);

    const seen: string[] = [];
    const verified = await verify({ store, all: true, onResult: (r) => seen.push(r.backupId) });
    expect(verified.map((r) => r.ok)).toEqual([true, true]);
    expect(seen).toEqual([full.summary.backupId, inc.summary.backupId]);
    await expect(verify({ store })).rejects.toBeInstanceOf(UsageError);

    // Partition 1 holds k1, k3, ..., k13 at offsets 0..6: from offset 2, three of them.
    const backup = await openBackup(store, 'latest');
    const read: string[] = [];
    for await (const b of readRawRecords(backup, { topic: 'orders', partition: 1, fromOffset: 2n, limit: 3 })) {
      for (const r of b.records) read.push(`${r.offset}:${b.block.toString('utf8', r.keyStart, r.keyStart + r.keyLength)}`);
    }
    expect(read).toEqual(['2:k5', '3:k7', '4:k9']);
    expect(() => readRawRecords(backup, { topic: 'nope' })).toThrow(NotFoundError);

    const dry = await prune({ store, policy: { keepLast: 1 }, dryRun: true });
    expect(dry.map((r) => [r.cluster, r.removed, r.dryRun])).toEqual([['mem', [full.summary.backupId], true]]);
    expect(await manifests(store)).toHaveLength(2);
    const pruned = await prune({ store, policy: { keepLast: 1 } });
    expect(pruned[0]!.removed).toEqual([full.summary.backupId]);
    // The incremental backup names the first one's segments: they stay, and it still verifies.
    expect(await manifests(store)).toEqual([`mem/${inc.summary.backupId}/manifest.json`]);
    expect((await verify({ store, backup: 'latest' }))[0]!.ok).toBe(true);
  });

  it('restore, then the lane commands: list, describe, delete (dry run and real), gc', async () => {
    const kafka = source(6);
    const store = new MemoryStore();
    await dump({ kafka, store, topics: ['orders'], clusterName: 'mem' });
    const backup = await openBackup(store, 'latest');

    const plan = await planRestore({ kafka, backup, lane: 'feat' });
    expect(plan.json).toMatchObject({ dryRun: true });
    expect(kafka.topics.has('feat.orders')).toBe(false);

    const summary = await restore({ kafka, backup, lane: 'feat' });
    expect(summary.records).toBe(6);
    expect(kafka.topics.get('feat.orders')!.partitions.map((p) => p.records.map((r) => r.key!.toString()))).toEqual([
      ['k0', 'k2', 'k4'],
      ['k1', 'k3', 'k5'],
    ]);
    await restore({ kafka, backup, lane: 'short', ttlMs: 1 });

    const list = await listLanes({ kafka });
    expect(list.lanes.map((l) => [l.lane, l.topics, l.records])).toEqual([
      ['feat', 1, 6],
      ['short', 1, 6],
    ]);
    const described = await describeLane({ kafka, lane: 'feat' });
    expect(described!.entry.topics.map((t) => t.name)).toEqual(['feat.orders']);
    expect(await describeLane({ kafka, lane: 'absent' })).toBeNull();

    const dry = await deleteLane({ kafka, lane: 'feat', dryRun: true });
    expect(dry).toMatchObject({ found: true, dryRun: true, plan: { topics: ['feat.orders'] } });
    expect(kafka.topics.has('feat.orders')).toBe(true);

    await new Promise((r) => setTimeout(r, 5));
    expect(await gcLanes({ kafka, dryRun: true })).toEqual({ expired: ['short'], results: [], skipped: [], failed: [] });
    const gc = await gcLanes({ kafka });
    expect(gc.results.map((r) => [r.lane, r.complete])).toEqual([['short', true]]);
    expect(kafka.topics.has('short.orders')).toBe(false);

    const del = await deleteLane({ kafka, lane: 'feat' });
    expect(del).toMatchObject({ found: true, dryRun: false, result: { complete: true, deleted: { topics: ['feat.orders'] } } });
    expect(kafka.topics.has('feat.orders')).toBe(false);
    expect(await deleteLane({ kafka, lane: 'feat' })).toEqual({ lane: 'feat', found: false });
    expect((await listLanes({ kafka })).lanes).toEqual([]);
  });
});

describe('dump compressionLevel (--zstd-level)', () => {
  // Values that zstd's levels compress differently: repetitive text with some variety.
  function repetitive(): MemoryKafka {
    const k = new MemoryKafka();
    k.topics.set('orders', { partitions: [{ records: [], logStart: 0n, next: 0n }], replicationFactor: 1, configs: {} });
    for (let i = 0; i < 2000; i++) {
      const value = Buffer.from(
        JSON.stringify({ order: i, customer: `c-${(i * 7919) % 613}`, items: Array.from({ length: 1 + (i % 5) }, (_, j) => `sku-${(i + j) % 97}`) }),
      );
      k.append('orders', 0, [{ timestamp: BigInt(1_700_000_000_000 + i), key: Buffer.from(`k${i % 50}`), value, headers: [] }]);
    }
    return k;
  }

  it('stores the same records at every level, in fewer bytes at a higher one', async () => {
    const stored: number[] = [];
    for (const level of [1, 9]) {
      const store = new MemoryStore();
      const r = await dump({ kafka: repetitive(), store, topics: ['orders'], clusterName: 'mem', compressionLevel: level });
      expect([r.summary.records, r.summary.rawBytes]).toEqual([2000, expect.any(Number)]);
      // Read back with the decoder written from FORMAT.md alone, not kbak's reader.
      const segments = (await keys(store)).filter((k) => k.endsWith('.kseg'));
      const decoded = (await Promise.all(segments.map(async (k) => decodeSegment(await store.get(k), k).records))).flat();
      const want = repetitive().topics.get('orders')!.partitions[0]!.records;
      expect(decoded.map((x) => x.value?.toString())).toEqual(want.map((x) => x.value?.toString()));
      stored.push(r.summary.storedBytes);
    }
    expect(stored[1]).toBeLessThan(stored[0]!);
  });

  it('refuses a level outside 1..9 before anything is written', async () => {
    const store = new MemoryStore();
    await expect(dump({ kafka: repetitive(), store, topics: ['orders'], clusterName: 'mem', compressionLevel: 12 })).rejects.toThrow(
      /compressionLevel.*12.*from 1 to 9/,
    );
    expect(await keys(store)).toEqual([]);
  });
});

describe('lock waiting', () => {
  it('lockWaitMs 0 refuses at once while a prune holds the lock; a longer wait gets it once released', async () => {
    const kafka = source(4);
    const store = new MemoryStore();
    const held = await StoreLock.acquire(store, 'mem', 'exclusive', { holder: 'test prune' });
    const refused = dump({ kafka, store, topics: ['orders'], clusterName: 'mem', lockWaitMs: 0 });
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ exitCode: ExitCode.CONFLICT });

    setTimeout(() => void held.release(), 200);
    const waited = await dump({ kafka, store, topics: ['orders'], clusterName: 'mem', lockWaitMs: 10_000 });
    expect(waited.summary.records).toBe(4);
  });

  it('breakLocks removes a lock left behind, and prune proceeds', async () => {
    const kafka = source(4);
    const store = new MemoryStore();
    await dump({ kafka, store, topics: ['orders'], clusterName: 'mem' });
    await StoreLock.acquire(store, 'mem', 'shared', { holder: 'a dump that died' });
    await expect(prune({ store, policy: { keepLast: 1 }, lockWaitMs: 0 })).rejects.toBeInstanceOf(ConflictError);
    const removed = await breakLocks({ store });
    expect(removed.map((l) => l.holder)).toEqual(['a dump that died']);
    expect(await locks(store)).toEqual([]);
    expect((await prune({ store, policy: { keepLast: 1 }, lockWaitMs: 0 }))[0]!.removed).toEqual([]);
  });
});

/** A memory store whose segment uploads wait at `complete` until the gate opens. */
class GatedStore extends MemoryStore {
  private open!: () => void;
  readonly gate = new Promise<void>((r) => (this.open = r));
  private reached!: () => void;
  /** Resolves when the first segment upload waits at the gate. */
  readonly waiting = new Promise<void>((r) => (this.reached = r));

  release(): void {
    this.open();
  }

  override create(key: string): ObjectWriter {
    const w = super.create(key);
    return {
      write: (c) => w.write(c),
      complete: async () => {
        this.reached();
        await this.gate;
        await w.complete();
      },
      abort: () => w.abort(),
    };
  }
}

describe('cancellation with an AbortSignal', () => {
  it('an aborted signal refuses the call before it touches anything', async () => {
    const store = new MemoryStore();
    const kafka = source(4);
    const controller = new AbortController();
    controller.abort();
    const call = dump({ kafka, store, topics: ['orders'], clusterName: 'mem', signal: controller.signal });
    await expect(call).rejects.toBeInstanceOf(InterruptedError);
    await expect(call).rejects.toMatchObject({ exitCode: ExitCode.INTERRUPTED });
    expect(await keys(store)).toEqual([]);
    await expect(listLanes({ kafka, signal: controller.signal })).rejects.toBeInstanceOf(InterruptedError);
  });

  it('aborting a running dump releases its lock, ends with InterruptedError and never commits', async () => {
    const store = new GatedStore();
    const controller = new AbortController();
    const call = dump({ kafka: source(10), store, topics: ['orders'], clusterName: 'mem', signal: controller.signal });
    await store.waiting;
    expect(await locks(store)).toHaveLength(1);
    controller.abort('SIGINT');
    await expect(call).rejects.toThrow(/^stopped by SIGINT \(1 store lock released\); nothing incomplete became visible$/);
    expect(await locks(store)).toEqual([]);
    // The upload in flight finishes in the background; nothing after it may commit.
    store.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(await manifests(store)).toEqual([]);
    expect(await locks(store)).toEqual([]);
  });

  it('releases only the aborted call’s lock: a dump beside it keeps its own and completes', async () => {
    const store = new GatedStore();
    const stop = new AbortController();
    const other = new AbortController();
    const stopped = dump({ kafka: source(10), store, topics: ['orders'], clusterName: 'mem', signal: stop.signal });
    const running = dump({ kafka: source(6), store, topics: ['orders'], clusterName: 'mem', signal: other.signal });
    await store.waiting;
    // Both have their shared lock once both wait at their first upload.
    for (let i = 0; i < 100 && (await locks(store)).length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await locks(store)).toHaveLength(2);
    stop.abort();
    await expect(stopped).rejects.toThrow(/^stopped by its AbortSignal \(This operation was aborted\) \(1 store lock released\)/);
    expect(await locks(store)).toHaveLength(1);
    store.release();
    const done = await running;
    expect(done.summary.records).toBe(6);
    expect(await locks(store)).toEqual([]);
    expect(await manifests(store)).toEqual([`mem/${done.summary.backupId}/manifest.json`]);
  });

  it('a prune waiting for a lock stops at once, taking back its own lock object, and never prunes later', async () => {
    const store = new MemoryStore();
    const kafka = source(4);
    await dump({ kafka, store, topics: ['orders'], clusterName: 'mem' });
    await dump({ kafka, store, topics: ['orders'], clusterName: 'mem' });
    const before = await keys(store);
    const held = await StoreLock.acquire(store, 'mem', 'shared', { holder: 'a running dump' });
    const controller = new AbortController();
    const call = prune({ store, policy: { keepLast: 1 }, lockWaitMs: 60_000, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort('SIGTERM');
    await expect(call).rejects.toBeInstanceOf(InterruptedError);
    expect(await locks(store)).toEqual([held.key]);
    // The stopped prune's wait loop wakes up within 1.5 s: with the lock free, it must still do nothing.
    await held.release();
    await new Promise((r) => setTimeout(r, 1700));
    expect(await keys(store)).toEqual(before.filter((k) => k !== held.key));
  });
});
