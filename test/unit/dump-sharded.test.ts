/**
 * The sharded dump (src/dump/sharded.ts, FORMAT.md "Sharded dumps") through the library API
 * on the in-memory Kafka: N shards make the backup one dump makes, the backup appears only
 * when the last shard is done, a crashed shard reruns alone, shards started differently are
 * refused, and an incremental sharded dump continues every partition. What the shards wrote
 * is read back with the independent decoder (test/support/format-decoder.ts) where the
 * store is a disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, dumpShard, finalizeDump } from '../../src/api';
import { listBackups, loadBackup } from '../../src/backup/catalog';
import { backupIdTime, manifestKey, newBackupId, partialKey, planKey, planPrefix } from '../../src/backup/layout';
import type { Manifest } from '../../src/backup/manifest';
import { decodePlan, type ShardPlan } from '../../src/backup/shard-plan';
import { ConflictError, ExitCode, InterruptedError, InvalidOptionError, NotFoundError, UsageError } from '../../src/errors';
import { ShardedDumpRun } from '../../src/dump/sharded';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { DiskStore } from '../../src/store/disk';
import { MemoryStore } from '../../src/store/memory';
import type { ObjectStore } from '../../src/store/store';
import { verifyBackupOnDisk, type DecodedRecord } from '../support/format-decoder';
import { rejection } from '../support/thrown';
import { appendRecords, CLUSTER, comparable, HookedStore, keysOf, ORDERS_SIZES, shardedSource, shardOptions } from '../support/shard-cluster';

// Disk stores fsync every object, and the machine is shared: seconds, not milliseconds.
jest.setTimeout(60_000);

/** A backup ID a minute-aligned hour ago: the shards' scheduled time, before this host's clock. */
const idAt = (hoursAgo: number): string => newBackupId(new Date(Math.floor(Date.now() / 60_000) * 60_000 - hoursAgo * 3_600_000));
const ID = idAt(1);

const roots: string[] = [];
function diskRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'kbak-sharded-'));
  roots.push(r);
  return r;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** The records of every partition of the source cluster, as the independent decoder gives them. */
function sourceRecords(kafka: MemoryKafka): Map<string, DecodedRecord[]> {
  const out = new Map<string, DecodedRecord[]>();
  for (const [topic, t] of kafka.topics)
    t.partitions.forEach((p, partition) =>
      out.set(
        `${topic}/${partition}`,
        p.records.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          timestampType: r.timestampType,
          key: r.key,
          value: r.value,
          headers: r.headers.map((h) => [h.key, h.value] as [string, Buffer | null]),
        })),
      ),
    );
  return out;
}

/** One `dump` of the same topics with the same segment and block sizes, into a store of its own. */
async function singleDump(kafka: MemoryKafka, store: ObjectStore, incremental = false): Promise<Manifest> {
  const o = shardOptions(kafka, store, 0, 1, ID);
  const r = await dump({
    kafka,
    store,
    topics: o.topics,
    clusterName: CLUSTER,
    segmentBytes: o.segmentBytes,
    blockBytes: o.blockBytes,
    concurrency: o.concurrency,
    incremental,
  });
  return r.manifest;
}

async function storedPlan(store: ObjectStore, id = ID): Promise<{ plan: ShardPlan; bytes: Buffer }> {
  const bytes = await store.get(planKey(CLUSTER, id));
  return { plan: decodePlan(bytes, 'test'), bytes };
}

describe('three shards make the backup one dump makes', () => {
  it('one after the other: the same manifest (but for names and times), the same records, and no plan left', async () => {
    const kafka = await shardedSource();
    const root = diskRoot();
    const store = new DiskStore(root);
    const results = [];
    for (const i of [0, 1, 2]) results.push(await dumpShard(shardOptions(kafka, store, i, 3, ID)));
    expect(results.map((r) => r.outcome)).toEqual(['written', 'written', 'written']);
    expect(results.map((r) => r.planCreated)).toEqual([true, false, false]);
    expect(results.map((r) => r.waitingFor)).toEqual([[1, 2], [2], []]);
    expect(results.slice(0, 2).map((r) => r.finalized)).toEqual([null, null]);
    // Every partition written by exactly one shard.
    expect(results.reduce((n, r) => n + r.partitions, 0)).toBe(8);
    const totalRecords = ORDERS_SIZES.reduce((a, b) => a + b, 0) + 5;
    expect(results.reduce((n, r) => n + r.records, 0)).toBe(totalRecords);

    const sharded = results[2]!.finalized!.manifest;
    expect(sharded.backupId).toBe(ID);
    expect(sharded.startedAt).toBe(new Date(backupIdTime(ID)!).toISOString());
    expect((await listBackups(store)).map((b) => b.backupId)).toEqual([ID]);
    expect(await keysOf(store, `${CLUSTER}/plans`)).toEqual([]);

    const singleRoot = diskRoot();
    const single = await singleDump(kafka, new DiskStore(singleRoot));
    expect(comparable(sharded)).toEqual(comparable(single));
    // The parts named: groups, configs, ranges and records per partition.
    expect(sharded.consumerGroups.map((g) => g.groupId).sort()).toEqual(['audit-reader', 'billing']);
    expect(sharded.topics.find((t) => t.name === 'orders')!.partitions.map((p) => [p.partition, p.endOffset, p.records])).toEqual(
      ORDERS_SIZES.map((n, p) => [p, String(n), n]),
    );
    expect(sharded.stats.records).toBe(totalRecords);

    // Read back by the independent decoder: the same records per partition, and those of the source.
    const mine = verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: ID });
    const theirs = verifyBackupOnDisk(singleRoot, { cluster: CLUSTER, backupId: single.backupId });
    expect(mine).toEqual(theirs);
    expect(mine).toEqual(sourceRecords(kafka));
  });

  it('all at once (Promise.all): one plan, one manifest, equal to a single dump’s', async () => {
    const kafka = await shardedSource();
    const root = diskRoot();
    const store = new DiskStore(root);
    const results = await Promise.all([0, 1, 2].map((i) => dumpShard(shardOptions(kafka, store, i, 3, ID))));
    expect(results.filter((r) => r.planCreated)).toHaveLength(1);
    expect(results.map((r) => r.outcome)).toEqual(['written', 'written', 'written']);
    const finalisers = results.filter((r) => r.finalized !== null);
    expect(finalisers.length).toBeGreaterThanOrEqual(1);
    const backups = await listBackups(store);
    expect(backups.map((b) => b.backupId)).toEqual([ID]);
    const manifest = (await loadBackup(store, backups[0]!)).manifest;
    expect(comparable(manifest)).toEqual(comparable(await singleDump(kafka, new MemoryStore())));
    expect(verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: ID })).toEqual(sourceRecords(kafka));
    expect(await keysOf(store, `${CLUSTER}/plans`)).toEqual([]);
  });
});

describe('the backup appears only when every shard is done', () => {
  it('shards 0 and 1 only: no backup, finalize names shard 2; shard 2 then completes it', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    for (const i of [0, 1]) await dumpShard(shardOptions(kafka, store, i, 3, ID));
    expect(await listBackups(store)).toEqual([]);
    expect(await store.size(manifestKey(CLUSTER, ID))).toBeNull();
    const err = await rejection(finalizeDump({ kafka, store, backupId: ID, clusterName: CLUSTER }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(err.message).toMatch(/shard 2 of 3 has not finished/);
    expect(err.message).not.toContain('\n');
    expect(err.hint).toContain(`--backup-id ${ID}`);
    // Refusing changed nothing: the plan and both partials are still there.
    expect(await keysOf(store, planPrefix(CLUSTER, ID))).toEqual([planKey(CLUSTER, ID), partialKey(CLUSTER, ID, 0), partialKey(CLUSTER, ID, 1)]);

    const last = await dumpShard(shardOptions(kafka, store, 2, 3, ID));
    expect(last.finalized).not.toBeNull();
    expect((await listBackups(store)).map((b) => b.backupId)).toEqual([ID]);
    // Finalising a complete backup is not an error.
    const again = await finalizeDump({ kafka, store, backupId: ID, clusterName: CLUSTER });
    expect([again.alreadyComplete, again.summary, again.manifest.backupId]).toEqual([true, null, ID]);
  });

  it('finalize of a backup ID no shard has started: NotFoundError', async () => {
    const kafka = await shardedSource();
    const err = await rejection(finalizeDump({ kafka, store: new MemoryStore(), backupId: ID, clusterName: CLUSTER }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain(`no sharded dump of backup ${ID}`);
  });

  it('--finalize writes the manifest when every partial is there but no shard finalised (its finaliser died)', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    expect(await mem.size(partialKey(CLUSTER, ID, 2))).not.toBeNull();
    expect(await listBackups(mem)).toEqual([]);
    const f = await finalizeDump({ kafka, store: mem, backupId: ID, clusterName: CLUSTER });
    expect([f.alreadyComplete, f.manifest.backupId]).toEqual([false, ID]);
    expect(comparable(f.manifest)).toEqual(comparable(await singleDump(kafka, new MemoryStore())));
    expect(await keysOf(mem, `${CLUSTER}/plans`)).toEqual([]);
  });
});

describe('a shard that fails midway', () => {
  it('leaves no partial and no segments of its own; rerun alone, it completes the backup', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    for (const i of [1, 2]) await dumpShard(shardOptions(kafka, mem, i, 3, ID));
    const before = await keysOf(mem);

    const failing = new HookedStore(mem);
    failing.beforeSegmentComplete = () => {
      if (failing.completedSegments >= 1) throw new Error('disk full (injected)');
    };
    await expect(dumpShard(shardOptions(kafka, failing, 0, 3, ID))).rejects.toThrow(/disk full/);
    // It had completed a segment before failing, and removed it.
    expect(failing.completedSegments).toBe(1);
    expect(await mem.size(partialKey(CLUSTER, ID, 0))).toBeNull();
    expect((await keysOf(mem)).filter((k) => !k.includes('/locks/'))).toEqual(before.filter((k) => !k.includes('/locks/')));
    expect(await listBackups(mem)).toEqual([]);

    const rerun = await dumpShard(shardOptions(kafka, mem, 0, 3, ID));
    expect(rerun.outcome).toBe('written');
    expect(rerun.finalized).not.toBeNull();
    expect(comparable(rerun.finalized!.manifest)).toEqual(comparable(await singleDump(kafka, new MemoryStore())));
  });
});

describe('a shard stopped by its signal', () => {
  it('ends with InterruptedError, leaves no partial, no segment and no lock; rerun, it writes its part', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    const stop = new AbortController();
    const store = new HookedStore(mem);
    store.beforeSegmentComplete = () => {
      if (store.completedSegments === 1) stop.abort();
    };
    const err = await rejection(dumpShard(shardOptions(kafka, store, 0, 3, ID, { signal: stop.signal })));
    expect(err).toBeInstanceOf(InterruptedError);
    expect(store.completedSegments).toBeGreaterThanOrEqual(1);
    expect(await keysOf(mem, `${CLUSTER}/segments`)).toEqual([]);
    expect(await keysOf(mem, `${CLUSTER}/locks`)).toEqual([]);
    expect(await mem.size(partialKey(CLUSTER, ID, 0))).toBeNull();
    const rerun = await dumpShard(shardOptions(kafka, mem, 0, 3, ID));
    expect([rerun.outcome, rerun.planCreated]).toEqual(['written', false]);
  });
});

describe('reruns', () => {
  it('a finished shard run again: already-written; after the backup is complete: backup-complete', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    const first = await dumpShard(shardOptions(kafka, store, 0, 3, ID));
    const segmentsAfterFirst = (await keysOf(store, `${CLUSTER}/segments`)).length;
    const again = await dumpShard(shardOptions(kafka, store, 0, 3, ID));
    expect(again.outcome).toBe('already-written');
    expect([again.records, again.segments, again.planCreated, again.waitingFor]).toEqual([0, 0, false, [1, 2]]);
    expect(again.partitions).toBe(first.partitions);
    // Nothing written twice.
    expect((await keysOf(store, `${CLUSTER}/segments`)).length).toBe(segmentsAfterFirst);
    await dumpShard(shardOptions(kafka, store, 1, 3, ID));
    await dumpShard(shardOptions(kafka, store, 2, 3, ID));
    for (const i of [0, 1, 2]) {
      const late = await dumpShard(shardOptions(kafka, store, i, 3, ID));
      expect(late.outcome).toBe('backup-complete');
      expect(late.finalized).toBeNull();
    }
    // And a late shard made no new plan.
    expect(await keysOf(store, `${CLUSTER}/plans`)).toEqual([]);
  });
});

describe('shards started with options other than the plan’s', () => {
  it('another topic selection: UsageError naming --topic, the plan unchanged; another shard count: named', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    await dumpShard(shardOptions(kafka, store, 0, 3, ID));
    const { bytes } = await storedPlan(store);
    const err = await rejection(dumpShard(shardOptions(kafka, store, 1, 3, ID, { topics: ['orders'] })));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toContain('--topic');
    expect(err.message).toContain(`shard 1/3 of backup ${ID} does not match its plan`);
    expect(err.message).not.toContain('\n');
    expect((await storedPlan(store)).bytes.equals(bytes)).toBe(true);
    expect(await store.size(partialKey(CLUSTER, ID, 1))).toBeNull();

    const count = await rejection(dumpShard(shardOptions(kafka, store, 1, 4, ID)));
    expect(count).toBeInstanceOf(UsageError);
    expect(count.message).toContain('the plan has 3 shards, this shard was started with 4');

    const incremental = await rejection(dumpShard(shardOptions(kafka, store, 1, 3, ID, { incremental: true })));
    expect(incremental.message).toContain('--incremental');
    // The same selection in another order, or named twice, is no difference.
    const reordered = await dumpShard(shardOptions(kafka, store, 1, 3, ID, { topics: ['audit', 'orders', 'orders'] }));
    expect(reordered.outcome).toBe('written');
  });
});

describe('time', () => {
  const T0 = Math.floor(Date.now() / 60_000) * 60_000;
  const id = newBackupId(new Date(T0 - 60_000));

  async function run(kafka: MemoryKafka, store: ObjectStore, index: number, at: number, planTtlMs?: number) {
    const o = shardOptions(kafka, store, index, 3, id);
    return new ShardedDumpRun(
      { kafka, store, registry: null, logger: silentLogger(), now: () => new Date(at) },
      {
        selection: { topics: o.topics! },
        window: { since: null, until: null },
        maxRecordsPerPartition: null,
        clusterName: CLUSTER,
        segmentBytes: o.segmentBytes!,
        blockBytes: o.blockBytes,
        concurrency: 2,
        stallTimeoutMs: 2000,
        lockWaitMs: 5000,
        shard: o.shard,
        backupId: id,
        planTtlMs,
      },
    ).run();
  }

  it('a shard that comes after the plan expired is refused (ConflictError), and writes nothing', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    await run(kafka, store, 0, T0, 60_000);
    expect((await storedPlan(store, id)).plan.expiresAt).toBe(new Date(T0 + 60_000).toISOString());
    // On time, to the millisecond.
    await run(kafka, store, 1, T0 + 60_000);
    const err = await rejection(run(kafka, store, 2, T0 + 60_001));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.exitCode).toBe(ExitCode.CONFLICT);
    expect(err.message).toContain(`expired at ${new Date(T0 + 60_000).toISOString()}`);
    expect(await store.size(partialKey(CLUSTER, id, 2))).toBeNull();
    expect(await listBackups(store)).toEqual([]);
  });

  it('a plan TTL outside 1m..7d is refused before anything is read', async () => {
    const kafka = await shardedSource();
    for (const ttl of [59_999, 7 * 24 * 3_600_000 + 1, 60_000.5]) {
      const err = await rejection(run(kafka, new MemoryStore(), 0, T0, ttl));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toContain('--plan-ttl');
    }
  });

  it('a backup ID after this host’s clock is refused (UsageError), and no plan is made', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    const err = await rejection(run(kafka, store, 0, T0 - 120_000));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(`backup ID ${id} lies after this host's clock`);
    expect(await keysOf(store, CLUSTER).then((ks) => ks.filter((k) => !k.includes('/locks/')))).toEqual([]);
  });
});

describe('incremental sharded dumps', () => {
  it('continue every partition from the full sharded backup: basedOn set, its segments carried, only the new records read', async () => {
    const kafka = await shardedSource();
    const root = diskRoot();
    const store = new DiskStore(root);
    const FULL = idAt(2);
    for (const i of [0, 1, 2]) await dumpShard(shardOptions(kafka, store, i, 3, FULL));
    const full = (await loadBackup(store, { cluster: CLUSTER, backupId: FULL })).manifest;
    const single = new MemoryStore();
    await singleDump(kafka, single);

    ORDERS_SIZES.forEach((_, p) => appendRecords(kafka, 'orders', p, 3 + p * 4));
    appendRecords(kafka, 'audit', 0, 2, 50);
    const INC = idAt(1);
    const results = [];
    for (const i of [0, 1, 2]) results.push(await dumpShard(shardOptions(kafka, store, i, 3, INC, { incremental: true })));
    // Only the new records were read.
    expect(results.reduce((n, r) => n + r.records, 0)).toBe(ORDERS_SIZES.reduce((n, _, p) => n + 3 + p * 4, 0) + 2);
    const inc = results[2]!.finalized!.manifest;
    expect(inc.incremental).toBe(true);
    for (const t of inc.topics)
      for (const p of t.partitions) {
        const before = full.topics.find((x) => x.name === t.name)!.partitions.find((x) => x.partition === p.partition)!;
        const where = `${t.name}/${p.partition}`;
        expect([where, p.basedOn]).toEqual([where, FULL]);
        // The base's segments first, as the base named them; then segments of this dump only.
        const carried = p.segments.slice(0, before.segments.length);
        expect(carried).toEqual(before.segments);
        for (const s of p.segments.slice(before.segments.length)) {
          expect(s.key).toContain(`-${INC}-`);
          expect(BigInt(s.firstOffset)).toBeGreaterThanOrEqual(BigInt(before.endOffset));
        }
        expect(p.records).toBe(Number(p.endOffset) - Number(p.startOffset));
      }
    expect(verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: INC })).toEqual(sourceRecords(kafka));

    // The same as one incremental dump after one full dump of the same records.
    expect(comparable(inc)).toEqual(comparable(await singleDump(kafka, single, true)));
  });
});

describe('the assignment in the plan', () => {
  it('is balanced by bytes: the partition 10× the others has a shard to itself', async () => {
    const kafka = await shardedSource();
    await kafka.createTopics([{ topic: 'skewed', partitions: 6, replicationFactor: 1, configs: {} }]);
    for (let p = 0; p < 6; p++) appendRecords(kafka, 'skewed', p, p === 4 ? 200 : 20, 100);
    const store = new MemoryStore();
    await dumpShard(shardOptions(kafka, store, 0, 3, ID, { topics: ['skewed'] }));
    const { plan } = await storedPlan(store);
    const parts = plan.topics[0]!.partitions;
    const big = parts.find((p) => p.partition === 4)!;
    const others = parts.filter((p) => p.partition !== 4);
    // The estimate sees the skew: 10× the bytes of each other partition.
    for (const p of others) {
      expect(big.estimatedBytes / p.estimatedBytes).toBeGreaterThan(9.5);
      expect(big.estimatedBytes / p.estimatedBytes).toBeLessThan(10.5);
    }
    expect(parts.filter((p) => p.shard === big.shard).map((p) => p.partition)).toEqual([4]);
    // The five small ones over the two other shards.
    const counts = [0, 1, 2].filter((s) => s !== big.shard).map((s) => parts.filter((p) => p.shard === s).length);
    expect(counts.sort()).toEqual([2, 3]);
  });

  it('weighs record sizes, not only counts: one partition of big records outweighs two of many small ones', async () => {
    const kafka = await shardedSource();
    await kafka.createTopics([
      { topic: 'docs', partitions: 1, replicationFactor: 1, configs: {} },
      { topic: 'clicks', partitions: 2, replicationFactor: 1, configs: {} },
    ]);
    appendRecords(kafka, 'docs', 0, 60, 8000);
    for (const p of [0, 1]) appendRecords(kafka, 'clicks', p, 400, 20);
    const store = new MemoryStore();
    await dumpShard(shardOptions(kafka, store, 0, 2, ID, { topics: ['docs', 'clicks'] }));
    const { plan } = await storedPlan(store);
    const shardOf = (t: string, p: number) => plan.topics.find((x) => x.name === t)!.partitions.find((x) => x.partition === p)!.shard;
    // By count the two clicks partitions would go to different shards; by bytes docs/0 stands alone.
    expect(shardOf('clicks', 0)).toBe(shardOf('clicks', 1));
    expect(shardOf('docs', 0)).not.toBe(shardOf('clicks', 0));
  });

  it('is the same whichever shard makes the plan', async () => {
    const plans: string[] = [];
    for (const first of [0, 2]) {
      const kafka = await shardedSource();
      const store = new MemoryStore();
      await dumpShard(shardOptions(kafka, store, first, 3, ID));
      const { plan } = await storedPlan(store);
      plans.push(JSON.stringify(plan.topics.map((t) => [t.name, t.partitions.map((p) => [p.partition, p.estimatedBytes, p.shard])])));
    }
    expect(plans[1]).toBe(plans[0]);
  });
});

/** Every shard's partial written, no manifest: shard 2 died while it read the partials to finalise. */
async function finishedButNotFinalised(kafka: MemoryKafka, mem: MemoryStore): Promise<void> {
  for (const i of [0, 1]) await dumpShard(shardOptions(kafka, mem, i, 3, ID));
  const dying = new HookedStore(mem);
  dying.beforeGet = async (key) => {
    if (key.endsWith('/shard-0.json')) throw new Error('killed');
  };
  await expect(dumpShard(shardOptions(kafka, dying, 2, 3, ID))).rejects.toThrow(/killed/);
  expect(await mem.size(manifestKey(CLUSTER, ID))).toBeNull();
}

/** A store whose reads of shard 0's partial wait until `until` has settled (another finaliser's whole run). */
function pausedBefore(mem: MemoryStore, until: () => Promise<unknown>): HookedStore {
  const store = new HookedStore(mem);
  let other: Promise<unknown> | null = null;
  store.beforeGet = async (key) => {
    if (!key.endsWith('/shard-0.json')) return;
    other ??= until();
    await other;
  };
  return store;
}

describe('two runs of one shard at once (Kubernetes may start a replacement pod early)', () => {
  it('the first partial stands; the other run removes its segments; no orphan is left', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    const twins = await Promise.all([0, 0].map((i) => dumpShard(shardOptions(kafka, store, i, 3, ID))));
    expect(twins.map((r) => r.outcome).sort()).toEqual(['already-written', 'written']);
    for (const i of [1, 2]) await dumpShard(shardOptions(kafka, store, i, 3, ID));
    const manifest = (await loadBackup(store, { cluster: CLUSTER, backupId: ID })).manifest;
    const named = manifest.topics.flatMap((t) => t.partitions.flatMap((p) => p.segments.map((s) => `${CLUSTER}/${s.key}`))).sort();
    expect(await keysOf(store, `${CLUSTER}/segments`)).toEqual(named);
    expect(comparable(manifest)).toEqual(comparable(await singleDump(kafka, new MemoryStore())));
  });
});

describe('a shard that died while finalising', () => {
  it('rerun: finds its partial (already-written) and writes the manifest', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    const segments = await keysOf(mem, `${CLUSTER}/segments`);
    const r = await dumpShard(shardOptions(kafka, mem, 2, 3, ID));
    expect([r.outcome, r.records, r.waitingFor]).toEqual(['already-written', 0, []]);
    expect(r.finalized!.manifest.backupId).toBe(ID);
    // Nothing read or written again.
    expect(await keysOf(mem, `${CLUSTER}/segments`)).toEqual(segments);
    expect(comparable(r.finalized!.manifest)).toEqual(comparable(await singleDump(kafka, new MemoryStore())));
  });
});

describe('two finalisers at once', () => {
  // The first finaliser deletes the partials after writing the manifest; a second one that saw
  // every partial a moment earlier must then report the complete backup, not fail reading them.
  it('--finalize racing the last shard: both succeed, one manifest', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    let first: Awaited<ReturnType<typeof finalizeDump>> | null = null;
    const late = pausedBefore(mem, async () => (first = await finalizeDump({ kafka, store: mem, backupId: ID, clusterName: CLUSTER })));
    const second = await finalizeDump({ kafka, store: late, backupId: ID, clusterName: CLUSTER });
    expect(first!.alreadyComplete).toBe(false);
    expect(second.alreadyComplete).toBe(true);
    expect(second.manifest).toEqual(first!.manifest);
  });

  it('a shard rerun that finalises while another finaliser finishes: it succeeds, the backup complete', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    const late = pausedBefore(mem, () => finalizeDump({ kafka, store: mem, backupId: ID, clusterName: CLUSTER }));
    const r = await dumpShard(shardOptions(kafka, late, 1, 3, ID));
    expect(r.outcome).toBe('already-written');
    expect((await listBackups(mem)).map((b) => b.backupId)).toEqual([ID]);
  });
});

describe('a shard that starts while the last one finalises', () => {
  // It saw no manifest, then (after its lock) no plan, since the finaliser had removed it: it
  // must not make a new plan and dump everything again for a complete backup.
  it('finds the backup complete: makes no new plan, writes nothing', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    const late = new HookedStore(mem);
    let finalised = false;
    late.afterSize = async (key, size) => {
      if (key === manifestKey(CLUSTER, ID) && size === null && !finalised) {
        finalised = true;
        await finalizeDump({ kafka, store: mem, backupId: ID, clusterName: CLUSTER });
      }
    };
    const r = await dumpShard(shardOptions(kafka, late, 1, 3, ID));
    expect(finalised).toBe(true);
    expect(r.outcome).toBe('backup-complete');
    expect(await keysOf(mem, `${CLUSTER}/plans`)).toEqual([]);
  });
});

describe('a plan stored under another name', () => {
  // A plan's backupId and cluster name must be those of the folder it was read from: a copied or
  // crafted plan must not make --finalize of one backup write another's manifest.
  it('--finalize of backup X refuses a plan that says it is of backup Y', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    const OTHER = idAt(3);
    await mem.put(planKey(CLUSTER, OTHER), await mem.get(planKey(CLUSTER, ID)));
    const err = await rejection(finalizeDump({ kafka, store: mem, backupId: OTHER, clusterName: CLUSTER }));
    expect(err.exitCode).toBe(ExitCode.CORRUPT);
    expect(err.message).toContain(OTHER);
    expect(await mem.size(manifestKey(CLUSTER, ID))).toBeNull();
  });
});

describe('more shards than partitions, and a narrowed request', () => {
  it('a shard the plan gives no partition writes an empty partial; the backup still completes (default block size)', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    const results = [];
    for (const i of [0, 1, 2, 3]) results.push(await dumpShard(shardOptions(kafka, store, i, 4, ID, { topics: ['audit'], blockBytes: undefined })));
    expect(results.map((r) => r.partitions).sort()).toEqual([0, 0, 1, 1]);
    const manifest = results[3]!.finalized!.manifest;
    expect(manifest.topics.map((t) => [t.name, t.partitions.map((p) => p.records)])).toEqual([['audit', [3, 2]]]);
  });

  it('--since, --partitions and --max-records-per-partition: the same backup as one dump with them', async () => {
    const kafka = await shardedSource();
    const since = new Date(1_790_000_000_000 + 20_000);
    const over = { topics: ['orders'], since, partitions: [0, 1, 3, 4], maxRecordsPerPartition: 50 };
    const store = new MemoryStore();
    for (const i of [0, 1]) await dumpShard(shardOptions(kafka, store, i, 2, ID, over));
    const sharded = (await loadBackup(store, { cluster: CLUSTER, backupId: ID })).manifest;
    const o = shardOptions(kafka, store, 0, 1, ID);
    const single = (await dump({ ...o, ...over, store: new MemoryStore(), clusterName: CLUSTER })).manifest;
    expect(sharded.topics[0]!.partitions.map((p) => [p.partition, p.startOffset, p.endOffset, p.records])).toEqual([
      // From --since on, at most the newest 50.
      [0, '250', '300', 50],
      [1, '12', '12', 0],
      [3, '70', '120', 50],
      [4, '20', '40', 20],
    ]);
    expect(comparable(sharded)).toEqual(comparable(single));
  });
});

describe('the finaliser checks the partials against the store', () => {
  it('a segment a partial names that is not in the store: IntegrityError naming it, no manifest', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    const segments = await keysOf(mem, `${CLUSTER}/segments`);
    await mem.delete(segments[0]!);
    const err = await rejection(finalizeDump({ kafka, store: mem, backupId: ID, clusterName: CLUSTER }));
    expect(err.exitCode).toBe(ExitCode.CORRUPT);
    expect(err.message).toContain(segments[0]!.slice(CLUSTER.length + 1));
    expect(err.message).toContain('missing');
    expect(await listBackups(mem)).toEqual([]);
  });

  it('a partial rewritten to name another shard’s partition: refused, no manifest', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    const key = partialKey(CLUSTER, ID, 1);
    const partial = JSON.parse((await mem.get(key)).toString('utf8')) as { partitions: unknown[] };
    const other = JSON.parse((await mem.get(partialKey(CLUSTER, ID, 0))).toString('utf8')) as { partitions: unknown[] };
    partial.partitions.push(other.partitions[0]);
    await mem.put(key, Buffer.from(JSON.stringify(partial)));
    const err = await rejection(finalizeDump({ kafka, store: mem, backupId: ID, clusterName: CLUSTER }));
    expect(err.exitCode).toBe(ExitCode.CORRUPT);
    expect(err.message).toContain('the partial manifest of shard 1');
    expect(err.message).toContain('which the plan does not give it');
    expect(await listBackups(mem)).toEqual([]);
  });
});

describe('a backup ID already taken', () => {
  it('by a backup of another cluster under the same name: ConflictError, nothing written', async () => {
    const other = await shardedSource();
    const store = new MemoryStore();
    for (const i of [0, 1]) await dumpShard(shardOptions(other, store, i, 2, ID));
    const kafka = new MemoryKafka({ clusterId: 'another-cluster' });
    await kafka.createTopics([{ topic: 'orders', partitions: 1, replicationFactor: 1, configs: {} }]);
    const before = await keysOf(store);
    const err = await rejection(dumpShard(shardOptions(kafka, store, 0, 2, ID, { topics: ['orders'] })));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toContain('another-cluster');
    expect(await keysOf(store)).toEqual(before);
  });
});

describe('an incremental sharded dump under an ID older than the newest backup', () => {
  // The newest backup may be later than an ID given by hand: refused when the plan is made, not by
  // the finaliser after every shard has dumped (basedOn must name an earlier backup).
  it('is refused when the plan is made, before any shard writes', async () => {
    const kafka = await shardedSource();
    const store = new MemoryStore();
    await singleDump(kafka, store);
    appendRecords(kafka, 'orders', 0, 5);
    const old = idAt(2);
    const err = await rejection(dumpShard(shardOptions(kafka, store, 0, 1, old, { incremental: true })));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toContain(old);
    expect(await keysOf(store, `${CLUSTER}/plans`)).toEqual([]);
  });
});

describe('a shard’s options are checked as a dump’s', () => {
  // The checks of DumpRun (segment size ≥ 64 KiB, concurrency ≥ 1) hold for a shard too.
  it('a segment size below 64 KiB or a concurrency of 0 is refused before anything is written', async () => {
    const kafka = await shardedSource();
    for (const over of [{ segmentBytes: 1000 }, { concurrency: 0 }]) {
      const store = new MemoryStore();
      const plain = await rejection(dump({ kafka, store, topics: ['orders'], clusterName: CLUSTER, ...over }));
      const err = await rejection(dumpShard(shardOptions(kafka, store, 0, 1, ID, over)));
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(err.message).toBe(plain.message);
      expect(await keysOf(store)).toEqual([]);
    }
  });
});

describe('hostile partials never make kbak fail as a bug (exit 70)', () => {
  // Not exit 70 (InternalError: the merged manifest failing its own schema): input from a shared store.
  it('schema ID counts that add up past 2^53 across partials: refused as corrupt', async () => {
    const kafka = await shardedSource();
    const mem = new MemoryStore();
    await finishedButNotFinalised(kafka, mem);
    for (const i of [0, 1, 2]) {
      const key = partialKey(CLUSTER, ID, i);
      const partial = JSON.parse((await mem.get(key)).toString('utf8')) as { schemaIds: Array<{ id: number; payloads: number }> };
      partial.schemaIds = [{ id: 7, payloads: Number.MAX_SAFE_INTEGER }];
      await mem.put(key, Buffer.from(JSON.stringify(partial)));
    }
    const err = await rejection(finalizeDump({ kafka, store: mem, backupId: ID, clusterName: CLUSTER }));
    expect(err.exitCode).toBe(ExitCode.CORRUPT);
    expect(await listBackups(mem)).toEqual([]);
  });
});
