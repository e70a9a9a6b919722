/**
 * prune and sharded dumps (issue 21, FORMAT.md "Sharded dumps"), on memory stores: while a
 * plan is live (no manifest, not expired) its shards' segments, partials and plan stay even
 * though no lock is held (shards between runs); once the backup is complete the plan folder
 * goes and the manifest's segments stay; an expired (abandoned) plan goes with its segments; a
 * crafted plan cannot keep objects past the bound from its backup ID; folders under plans/
 * that are not backup IDs are never touched. What stays is read from the store's own listing.
 */
import pino from 'pino';
import { dumpShard } from '../../src/api';
import { prune as pruneStore } from '../../src/backup/prune';
import { PLAN_LIFE_BOUND_MS } from '../../src/backup/shard-plan';
import { backupIdTime, newBackupId } from '../../src/backup/layout';
import { MemoryKafka } from '../../src/kafka/memory';
import { MemoryStore } from '../../src/store/memory';

function source(records: number): MemoryKafka {
  const k = new MemoryKafka();
  k.topics.set('orders', { partitions: [], replicationFactor: 1, configs: {} });
  for (let p = 0; p < 3; p++) k.topics.get('orders')!.partitions.push({ records: [], logStart: 0n, next: 0n });
  for (let i = 0; i < records; i++)
    k.append('orders', i % 3, [
      { timestamp: BigInt(1_700_000_000_000 + i), key: Buffer.from(`k${i}`), value: Buffer.alloc(100 + (i % 3) * 50, i), headers: [] },
    ]);
  return k;
}

const keys = async (store: MemoryStore, prefix = ''): Promise<string[]> => {
  const out: string[] = [];
  for await (const k of store.list(prefix)) out.push(k);
  return out.sort();
};

const silent = pino({ level: 'silent' });
const keepAll = { keepLast: 1000 } as never;

async function prune(store: MemoryStore, now: number, dryRun = false) {
  return pruneStore(store, 'mem', { policy: keepAll, dryRun, lockWaitMs: 0, logger: silent, now: () => now });
}

/** Two of three shards of one backup, run: a plan, two partials, their segments; no manifest. */
async function twoOfThree(store: MemoryStore, kafka: MemoryKafka, backupId: string, planTtlMs?: number): Promise<void> {
  for (const index of [0, 1]) await dumpShard({ kafka, store, topics: ['orders'], clusterName: 'mem', shard: { index, count: 3 }, backupId, planTtlMs });
}

describe('prune and sharded dumps', () => {
  it('keeps a live plan, its partials and its shards’ segments, with no lock held', async () => {
    const store = new MemoryStore();
    const id = newBackupId(new Date(Date.now() - 60_000));
    await twoOfThree(store, source(90), id);
    const before = await keys(store, 'mem');
    expect(before.filter((k) => k.startsWith('mem/plans/'))).toEqual([
      `mem/plans/${id}/plan.json`,
      `mem/plans/${id}/shard-0.json`,
      `mem/plans/${id}/shard-1.json`,
    ]);
    expect(before.some((k) => k.startsWith('mem/segments/'))).toBe(true);
    const [r] = await prune(store, Date.now());
    expect(r!.leftovers).toEqual([expect.objectContaining({ dump: id, action: 'keep', reason: expect.stringMatching(/live plan/) })]);
    expect((await keys(store, 'mem')).filter((k) => !k.startsWith('mem/locks/'))).toEqual(before.filter((k) => !k.startsWith('mem/locks/')));
  });

  it('removes an abandoned (expired) plan with its segments', async () => {
    const store = new MemoryStore();
    const id = newBackupId(new Date(Date.now() - 60_000));
    await twoOfThree(store, source(90), id, 60_000);
    const dry = await prune(store, Date.now() + 2 * 60_000, true);
    expect(dry[0]!.leftovers).toEqual([expect.objectContaining({ dump: id, action: 'remove' })]);
    await prune(store, Date.now() + 2 * 60_000);
    expect((await keys(store, 'mem')).filter((k) => !k.startsWith('mem/locks/'))).toEqual([]);
  });

  it('removes the plan folder of a complete backup and keeps every segment its manifest names', async () => {
    const store = new MemoryStore();
    const kafka = source(90);
    const id = newBackupId(new Date(Date.now() - 60_000));
    await twoOfThree(store, kafka, id);
    const planFolder = (await keys(store, `mem/plans/${id}`)).map((k) => k);
    const last = await dumpShard({ kafka, store, topics: ['orders'], clusterName: 'mem', shard: { index: 2, count: 3 }, backupId: id });
    expect(last.finalized).not.toBeNull();
    // As if the finaliser died right after the manifest: its plan folder is still there.
    for (const k of planFolder) await store.put(k, Buffer.from('{}'));
    const segments = await keys(store, 'mem/segments');
    await prune(store, Date.now());
    const after = await keys(store, 'mem');
    expect(after.filter((k) => k.startsWith('mem/plans/'))).toEqual([]);
    expect(after.filter((k) => k.startsWith('mem/segments/'))).toEqual(segments);
    expect(after).toContain(`mem/${id}/manifest.json`);
  });

  it('a crafted plan that never expires keeps its objects only up to the bound from its backup ID', async () => {
    const store = new MemoryStore();
    const id = newBackupId(new Date(Date.now() - 60_000));
    await twoOfThree(store, source(90), id);
    const plan = JSON.parse((await store.get(`mem/plans/${id}/plan.json`)).toString('utf8')) as { expiresAt: string };
    plan.expiresAt = '2999-01-01T00:00:00.000Z';
    await store.put(`mem/plans/${id}/plan.json`, Buffer.from(JSON.stringify(plan)));
    const bound = backupIdTime(id)! + PLAN_LIFE_BOUND_MS;
    expect((await prune(store, bound - 1000, true))[0]!.leftovers[0]).toEqual(expect.objectContaining({ action: 'keep' }));
    expect((await prune(store, bound + 1000, true))[0]!.leftovers[0]).toEqual(expect.objectContaining({ action: 'remove' }));
  });

  it('an unreadable plan keeps its dump’s objects until the bound, then they go', async () => {
    const store = new MemoryStore();
    const id = newBackupId(new Date(Date.now() - 60_000));
    await twoOfThree(store, source(90), id);
    await store.put(`mem/plans/${id}/plan.json`, Buffer.from('not json'));
    const bound = backupIdTime(id)! + PLAN_LIFE_BOUND_MS;
    expect((await prune(store, Date.now(), true))[0]!.leftovers[0]).toEqual(expect.objectContaining({ action: 'keep' }));
    await prune(store, bound + 1000);
    expect((await keys(store, 'mem')).filter((k) => !k.startsWith('mem/locks/'))).toEqual([]);
  });

  it('never touches a folder under plans/ that is not a backup ID, nor other clusters', async () => {
    const store = new MemoryStore();
    await store.put('mem/plans/junk/plan.json', Buffer.from('x'));
    await store.put('mem/plans/20261206T010000000Z/deeper/x.json', Buffer.from('x'));
    await store.put('other/plans/20261206T010000000Z/plan.json', Buffer.from('x'));
    await prune(store, Date.now() + 30 * 24 * 3_600_000);
    expect(await keys(store)).toEqual(['mem/plans/20261206T010000000Z/deeper/x.json', 'mem/plans/junk/plan.json', 'other/plans/20261206T010000000Z/plan.json']);
  });
});
