/**
 * prune and the leftovers of interrupted dumps (issue 18 item 7), on memory stores: a
 * cluster that holds only leftovers is found and cleaned; a running dump's leftovers (live
 * lock) stay, as do all leftovers while a lock nobody can attribute is live; a leftover a
 * kept manifest names stays (incremental backups share segments); crafted names are
 * skipped, never deleted. What stays is read back from the store's own listing.
 */
import pino from 'pino';
import { dump, prune } from '../../src/api';
import { dumpLockHolder, dumpOfHolder, leftoverVerdict, leftoverWriter } from '../../src/backup/leftovers';
import { prune as pruneStore, type PruneOptions } from '../../src/backup/prune';
import { ConflictError } from '../../src/errors';
import { MemoryKafka } from '../../src/kafka/memory';
import { MemoryStore } from '../../src/store/memory';

function source(records: number): MemoryKafka {
  const k = new MemoryKafka();
  k.topics.set('orders', { partitions: [], replicationFactor: 1, configs: {} });
  k.topics.get('orders')!.partitions.push({ records: [], logStart: 0n, next: 0n }, { records: [], logStart: 0n, next: 0n });
  append(k, 0, records);
  return k;
}

function append(k: MemoryKafka, from: number, n: number): void {
  for (let i = from; i < from + n; i++)
    k.append('orders', i % 2, [{ timestamp: BigInt(1_700_000_000_000 + i), key: Buffer.from(`k${i}`), value: Buffer.alloc(100, i), headers: [] }]);
}

const keys = async (store: MemoryStore, prefix = ''): Promise<string[]> => {
  const out: string[] = [];
  for await (const k of store.list(prefix)) out.push(k);
  return out.sort();
};

/** A first dump of cluster `mem` whose manifest never came: its segments, nothing else. */
async function interruptedFirstDump(store: MemoryStore, kafka = source(20)): Promise<{ id: string; segments: string[] }> {
  const d = await dump({ kafka, store, topics: ['orders'], clusterName: 'mem' });
  await store.delete(`mem/${d.summary.backupId}/manifest.json`);
  return { id: d.summary.backupId, segments: await keys(store, 'mem/segments') };
}

const lockBody = (holder: string, expiresInMs: number, kind = 'shared'): Buffer =>
  Buffer.from(
    JSON.stringify({
      kind,
      holder,
      host: 'other-host',
      pid: 4242,
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      refreshedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    }),
  );

function capture(): { logger: PruneOptions['logger']; warnings: string[] } {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  return { logger, warnings };
}

describe('leftovers: who wrote them, and whether they may go (pure)', () => {
  it('reads the writer from a pool name or a v1 folder, and nothing from other names', () => {
    expect(leftoverWriter('c/segments/orders/3/00000000000000004711-20261125T175358123Z-0a1b2c3d.kseg')).toBe('20261125T175358123Z');
    expect(leftoverWriter('c/20261125T175358123Z/topics/orders/0/00000000000000000000.kseg')).toBe('20261125T175358123Z');
    for (const name of [
      'c/segments/orders/3/x.kseg',
      'c/segments/orders/3/00000000000000004711-20261125T175358123Z-0A1B2C3D.kseg', // not kbak's lowercase hex
      'c/segments/orders/3/00000000000000004711-20260230T175358123Z-0a1b2c3d.kseg', // 30 February
      'c/segments/orders/3/0000000000000004711-20261125T175358123Z-0a1b2c3d.kseg', // 19 digits
      'c/locks/20261125T175358123Z-0a1b2c3d.json',
    ])
      expect(leftoverWriter(name)).toBeNull();
  });

  it("a dump's lock names its backup ID; other holders name none", () => {
    expect(dumpOfHolder(dumpLockHolder('20261125T175358123Z'))).toBe('20261125T175358123Z');
    for (const h of ['kbak prune', 'kbak dump (test)', 'kbak dump 20261125T175358123Z extra', 'x kbak dump 20261125T175358123Z'])
      expect(dumpOfHolder(h)).toBeNull();
  });

  it('keeps the leftovers of a running dump, all of them under a lock of unknown dump, and those of a dump started after now', () => {
    const now = Date.parse('2026-12-06T00:00:00Z');
    const none = { dumps: new Set<string>(), unknown: null };
    expect(leftoverVerdict('20261205T000000000Z', none, now).action).toBe('remove');
    expect(leftoverVerdict(null, none, now).action).toBe('remove');
    expect(leftoverVerdict('20261205T000000000Z', { dumps: new Set(['20261205T000000000Z']), unknown: null }, now)).toEqual({
      action: 'keep',
      reason: 'its dump is running (live lock)',
    });
    expect(leftoverVerdict('20261205T000000000Z', { dumps: new Set(['20261204T000000000Z']), unknown: null }, now).action).toBe('remove');
    expect(leftoverVerdict(null, { dumps: new Set(), unknown: 'exclusive lock of kbak prune' }, now).action).toBe('keep');
    expect(leftoverVerdict('20261206T000000001Z', none, now).action).toBe('keep');
    expect(leftoverVerdict('20261206T000000000Z', none, now).action).toBe('remove');
  });
});

describe('prune: leftovers of interrupted dumps', () => {
  it('finds a cluster with no complete backup, lists its leftovers in a dry run, then removes exactly them', async () => {
    const store = new MemoryStore();
    const { id, segments } = await interruptedFirstDump(store);
    await store.put('other/notes.txt', Buffer.from('not ours'));
    await store.put('mem/notes/readme.txt', Buffer.from('not in the backup layout'));
    expect(segments.length).toBeGreaterThan(0);
    let bytes = 0;
    for (const k of segments) bytes += (await store.size(k))!;

    const [dry] = await prune({ store, policy: { keepLast: 1 }, dryRun: true });
    expect(dry).toMatchObject({ cluster: 'mem', kept: [], removed: [], deletedObjects: segments.length, deletedBytes: bytes, dryRun: true });
    expect(dry!.leftovers).toEqual([{ dump: id, objects: segments.length, bytes, action: 'remove', reason: "no manifest, and its dump's lock is gone" }]);
    expect(await keys(store, 'mem/segments')).toEqual(segments);

    const [done] = await prune({ store, policy: { keepLast: 1 } });
    expect(done).toMatchObject({ deletedObjects: segments.length, deletedBytes: bytes, dryRun: false });
    expect(await keys(store)).toEqual(['mem/notes/readme.txt', 'other/notes.txt']);
  });

  it("a running dump's leftovers stay (its live lock); a dead dump's beside them go once it has finished", async () => {
    const store = new MemoryStore();
    const dead = await interruptedFirstDump(store);
    const running = '20261201T000000000Z';
    const runningSegment = `mem/segments/orders/0/00000000000000000000-${running}-0a1b2c3d.kseg`;
    await store.put(runningSegment, Buffer.from('being written'));
    await store.put('mem/locks/live.json', lockBody(dumpLockHolder(running), 600_000));

    const [dry] = await pruneStore(store, undefined, { policy: { keepLast: 1 }, dryRun: true, lockWaitMs: 0, logger: capture().logger, now: () => Date.now() });
    // Groups come in backup-ID order; the running dump's ID is the earlier one here.
    expect(dry!.leftovers).toEqual([
      { dump: running, objects: 1, bytes: 13, action: 'keep', reason: 'its dump is running (live lock)' },
      { dump: dead.id, objects: dead.segments.length, bytes: expect.any(Number), action: 'remove', reason: "no manifest, and its dump's lock is gone" },
    ]);
    expect(dry!.deletedObjects).toBe(dead.segments.length);

    // The real prune cannot take its exclusive lock while the dump's is live: nothing is deleted.
    await expect(prune({ store, policy: { keepLast: 1 }, lockWaitMs: 0 })).rejects.toBeInstanceOf(ConflictError);
    expect(await keys(store, 'mem/segments')).toEqual([...dead.segments, runningSegment].sort());

    // The dump's lock expired (its lease is over): it cannot commit any more, its leftovers go too.
    await store.put('mem/locks/live.json', lockBody(dumpLockHolder(running), -1000));
    const [done] = await prune({ store, policy: { keepLast: 1 }, lockWaitMs: 0 });
    expect(done!.leftovers.map((g) => [g.dump, g.action])).toEqual([
      [running, 'remove'],
      [dead.id, 'remove'],
    ]);
    expect(await keys(store, 'mem/segments')).toEqual([]);
    expect(await keys(store, 'mem/locks')).toEqual(['mem/locks/live.json']); // prune never deletes locks
  });

  it('a live lock whose dump cannot be told keeps every leftover of the cluster', async () => {
    for (const [holder, kind] of [
      ['kbak dump (old version)', 'shared'],
      ['kbak prune', 'exclusive'],
      [`kbak dump ${'x'.repeat(60_000)}`, 'shared'],
    ]) {
      const store = new MemoryStore();
      const { segments } = await interruptedFirstDump(store);
      await store.put('mem/locks/x.json', lockBody(holder!, 600_000, kind));
      const [dry] = await prune({ store, policy: { keepLast: 1 }, dryRun: true });
      // A long holder is quoted cut to 80 characters.
      const quoted = holder!.length > 80 ? `${holder!.slice(0, 80)}…` : holder;
      expect(dry!.leftovers).toEqual([expect.objectContaining({ action: 'keep', reason: `a live lock could be its dump's (${kind} lock of ${quoted})` })]);
      expect(dry!.deletedObjects).toBe(0);
      expect(await keys(store, 'mem/segments')).toEqual(segments);
    }
  });

  it('a leftover a kept manifest names stays: an incremental backup shares the failed dump’s segments', async () => {
    const kafka = source(20);
    const store = new MemoryStore();
    const first = await dump({ kafka, store, topics: ['orders'], clusterName: 'mem' });
    append(kafka, 20, 6);
    const second = await dump({ kafka, store, topics: ['orders'], clusterName: 'mem', incremental: true });
    const shared = await keys(store, 'mem/segments');
    // The first backup's manifest is gone (moved aside by hand): its segments have no manifest of their dump, but the second names them.
    await store.delete(`mem/${first.summary.backupId}/manifest.json`);
    const unnamed = `mem/segments/orders/0/00000000000000000999-${first.summary.backupId}-ffffffff.kseg`;
    await store.put(unnamed, Buffer.from('unnamed'));

    const [r] = await prune({ store, policy: { keepLast: 1 } });
    expect(r).toMatchObject({ kept: [{ id: second.summary.backupId }], removed: [], deletedObjects: 1, deletedBytes: 7 });
    expect(r!.leftovers).toEqual([
      { dump: first.summary.backupId, objects: 1, bytes: 7, action: 'remove', reason: "no manifest, and its dump's lock is gone" },
    ]);
    expect(await keys(store, 'mem/segments')).toEqual(shared);
  });

  it('crafted names: invalid keys skipped and left, a future writer kept, a name without a writer tag removed', async () => {
    const store = new MemoryStore();
    const crafted = {
      backslash: 'mem/segments/orders\\0\\00000000000000000000-20261101T000000000Z-00000001.kseg',
      control: 'mem/segments/orders/0/\u001b[2J.kseg',
      future: 'mem/segments/orders/0/00000000000000000000-20991101T000000000Z-00000001.kseg',
      untagged: 'mem/segments/orders/0/x.kseg',
      v1: 'mem/20261101T000000000Z/topics/orders/0/00000000000000000000.kseg',
      folder: 'evil\\c/segments/orders/0/00000000000000000000-20261101T000000000Z-00000001.kseg',
    };
    for (const k of Object.values(crafted)) await store.put(k, Buffer.from('x'));
    const { logger, warnings } = capture();
    const results = await pruneStore(store, undefined, { policy: { keepLast: 1 }, dryRun: false, lockWaitMs: 0, logger });
    expect(results.map((r) => r.cluster)).toEqual(['mem']);
    expect(results[0]).toMatchObject({ skippedNames: 2, deletedObjects: 2 });
    expect(results[0]!.leftovers.map((g) => [g.dump, g.action])).toEqual([
      [null, 'remove'],
      ['20261101T000000000Z', 'remove'],
      ['20991101T000000000Z', 'keep'],
    ]);
    expect(await keys(store)).toEqual([crafted.folder, crafted.backslash, crafted.future, crafted.control].sort());
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^skipping "evil\\\\c\/": a cluster folder name must be a valid key component/);
  });
});
