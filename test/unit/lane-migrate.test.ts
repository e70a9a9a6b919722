/**
 * Lane migration as library calls on the in-memory Kafka adapter and a disk store:
 * snapshotLane (base names, only the lane's own objects, the lane in the manifest, read back
 * with the independent decoder of FORMAT.md), a snapshot restored into another lane without
 * nesting, cloneLane, resetLane (exactly the seed again, the expiry kept; a pruned seed is
 * exit 3), and production backups' `latest` and incremental dumps never picking a snapshot.
 * The integration suite (test/integration/lane-migrate.test.ts) does the same on the stack.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneLane, describeLane, dump, listBackups, openBackup, resetLane, restore, snapshotLane } from '../../src/api';
import { decodeManifest } from '../../src/backup/manifest';
import { ExitCode, IntegrityError, NotFoundError, SafetyError, UsageError } from '../../src/errors';
import { MemoryKafka } from '../../src/kafka/memory';
import { partitionKey } from '../../src/model/partition-key';
import { DiskStore } from '../../src/store/disk';
import { MemoryStore } from '../../src/store/memory';
import { listBackupsOnDisk, verifyBackupOnDisk } from '../support/format-decoder';

const TS = 1_700_000_000_000;

/** Production: orders (2 partitions), billing (1), a group with offsets on both. */
function production(): MemoryKafka {
  const k = new MemoryKafka();
  for (const [name, n] of [
    ['orders', 2],
    ['billing', 1],
  ] as const) {
    k.topics.set(name, { partitions: [], replicationFactor: 1, configs: {} });
    for (let p = 0; p < n; p++) k.topics.get(name)!.partitions.push({ records: [], logStart: 0n, next: 0n });
  }
  for (let i = 0; i < 9; i++) {
    const headers = [{ key: 'h', value: Buffer.from(`x${i}`) }];
    k.append('orders', i % 2, [{ timestamp: BigInt(TS + i), key: Buffer.from(`o${i}`), value: Buffer.from(`order ${i}`), headers }]);
  }
  for (let i = 0; i < 4; i++) k.append('billing', 0, [{ timestamp: BigInt(TS + 100 + i), key: null, value: Buffer.from(`bill ${i}`), headers: [] }]);
  return k;
}

async function commit(k: MemoryKafka, group: string, topic: string, partition: number, offset: bigint): Promise<void> {
  await k.commitGroupOffsets(group, topic, [{ partition, offset }]);
}

/** A topic's records as comparable values, by partition then offset. */
function contents(k: MemoryKafka, topic: string): unknown[][] {
  return k.topics.get(topic)!.partitions.map((p) =>
    p.records.map((r) => ({
      key: r.key?.toString() ?? null,
      value: r.value?.toString() ?? null,
      ts: r.timestamp.toString(),
      headers: r.headers.map((h) => `${h.key}=${h.value?.toString()}`),
    })),
  );
}

const offsetOf = (k: MemoryKafka, group: string, topic: string, partition: number): bigint | undefined =>
  k.groups.get(group)?.offsets.get(partitionKey(topic, partition))?.offset;

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 3));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbak-lane-migrate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Production dumped as cluster `prod`, restored into lane `a`; a group of a's own and one it does not own. */
async function seededLaneA(opts: { ttlMs?: number } = {}): Promise<{ kafka: MemoryKafka; store: DiskStore; seedId: string }> {
  const kafka = production();
  await commit(kafka, 'svc', 'orders', 0, 2n);
  await commit(kafka, 'svc', 'billing', 0, 1n);
  const store = new DiskStore(dir);
  const seed = await dump({ kafka, store, topics: ['orders', 'billing'], clusterName: 'prod' });
  await restore({ kafka, backup: await openBackup(store, 'latest', 'prod'), lane: 'a', ttlMs: opts.ttlMs ?? null });
  // A group in the lane's namespace that no restore created: not the lane's to take.
  await commit(kafka, 'a.rogue', 'a.orders', 0, 1n);
  await pause();
  return { kafka, store, seedId: seed.manifest.backupId };
}

describe('kbak lane snapshot', () => {
  it("stores the lane's objects under base names with the lane in the manifest; FORMAT.md's decoder reads it", async () => {
    const { kafka, store } = await seededLaneA();
    const snap = await snapshotLane({ kafka, lane: 'a', store });
    expect(snap.cluster).toBe('lane-a');
    expect(snap.topics).toEqual([
      { lane: 'a.billing', base: 'billing', records: 4 },
      { lane: 'a.orders', base: 'orders', records: 9 },
    ]);
    expect(snap.groups).toEqual([{ lane: 'a.svc', base: 'svc' }]);

    const manifest = JSON.parse(readFileSync(join(dir, 'lane-a', snap.backupId, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.lane).toEqual({ name: 'a', templates: { topic: '{lane}.{topic}', subject: '{lane}.{subject}', group: '{lane}.{group}' } });
    expect(manifest.consumerGroups).toEqual([
      {
        groupId: 'svc',
        offsets: [
          { topic: 'billing', partition: 0, offset: '1', metadata: null },
          { topic: 'orders', partition: 0, offset: '2', metadata: null },
        ],
      },
    ]);
    const onDisk = listBackupsOnDisk(dir).find((b) => b.cluster === 'lane-a')!;
    const decoded = verifyBackupOnDisk(dir, onDisk);
    expect([...decoded.keys()].sort()).toEqual(['billing/0', 'orders/0', 'orders/1']);
    expect(decoded.get('orders/1')!.map((r) => [r.key?.toString(), r.value?.toString(), r.timestamp.toString()])).toEqual(
      contents(kafka, 'a.orders')[1]!.map((r) => {
        const x = r as { key: string; value: string; ts: string };
        return [x.key, x.value, x.ts];
      }),
    );
    // Segment keys are under the base names too.
    expect(readdirSync(join(dir, 'lane-a', 'segments')).sort()).toEqual(['billing', 'orders']);
  });

  it('restored into lane b gives b.orders and b.billing, not nested, records and groups equal', async () => {
    const { kafka, store } = await seededLaneA();
    const snap = await snapshotLane({ kafka, lane: 'a', store });
    const summary = await restore({ kafka, backup: await openBackup(store, snap.backupId, 'lane-a'), lane: 'b' });
    expect(summary.laneTopics.sort()).toEqual(['b.billing', 'b.orders']);
    expect([...kafka.topics.keys()].filter((t) => t.startsWith('b.'))).toEqual(expect.arrayContaining(['b.orders', 'b.billing']));
    expect([...kafka.topics.keys()].some((t) => t.startsWith('b.a.'))).toBe(false);
    for (const t of ['orders', 'billing']) expect(contents(kafka, `b.${t}`)).toEqual(contents(kafka, `a.${t}`));
    expect(offsetOf(kafka, 'b.svc', 'b.orders', 0)).toBe(offsetOf(kafka, 'a.svc', 'a.orders', 0));
    expect(offsetOf(kafka, 'b.svc', 'b.billing', 0)).toBe(1n);
    expect(kafka.groups.has('b.rogue')).toBe(false);
  });

  it("production's latest and incremental dumps never pick a snapshot", async () => {
    const { kafka, store, seedId } = await seededLaneA();
    const snap = await snapshotLane({ kafka, lane: 'a', store });
    expect(snap.backupId > seedId).toBe(true);
    expect((await openBackup(store, 'latest', 'prod')).ref.backupId).toBe(seedId);
    // Without a cluster name, latest refuses to choose rather than take the newer snapshot.
    await expect(openBackup(store, 'latest')).rejects.toThrow(UsageError);
    expect((await listBackups(store, 'prod')).map((b) => b.backupId)).toEqual([seedId]);
    kafka.append('orders', 0, [{ timestamp: BigInt(TS + 50), key: Buffer.from('new'), value: Buffer.from('new'), headers: [] }]);
    await pause();
    const inc = await dump({ kafka, store, topics: ['orders', 'billing'], clusterName: 'prod', incremental: true });
    expect(inc.summary.records).toBe(1);
    expect(new Set(inc.manifest.topics.flatMap((t) => t.partitions.map((p) => p.basedOn)))).toEqual(new Set([seedId]));
  });

  it("refuses the seed's cluster folder, a lane not in the ledger, and a tampered lane field (both readers)", async () => {
    const { kafka, store } = await seededLaneA();
    await expect(snapshotLane({ kafka, lane: 'a', store, clusterName: 'prod' })).rejects.toThrow(/seeded from/);
    const missing = snapshotLane({ kafka, lane: 'zz', store });
    await expect(missing).rejects.toThrow(NotFoundError);
    await expect(missing).rejects.toMatchObject({ exitCode: ExitCode.NOT_FOUND });
    const snap = await snapshotLane({ kafka, lane: 'a', store });
    const path = join(dir, 'lane-a', snap.backupId, 'manifest.json');
    const m = JSON.parse(readFileSync(path, 'utf8')) as { lane: { name: string } };
    m.lane.name = 'A B';
    writeFileSync(path, JSON.stringify(m));
    expect(() => decodeManifest(readFileSync(path), 'x')).toThrow(IntegrityError);
    expect(() => decodeManifest(readFileSync(path), 'x')).toThrow(/invalid at lane\.name/);
    expect(() =>
      verifyBackupOnDisk(
        dir,
        listBackupsOnDisk(dir).find((b) => b.cluster === 'lane-a')!,
      ),
    ).toThrow(/lane\.name/);
  });

  it('refuses a lane topic recreated by someone else (owned by topic ID)', async () => {
    const { kafka, store } = await seededLaneA();
    kafka.topics.get('a.billing')!.id = 'AAAAAAAAAAAAAAAAAAAAAA';
    await expect(snapshotLane({ kafka, lane: 'a', store })).rejects.toThrow(SafetyError);
  });
});

describe('kbak lane clone and reset', () => {
  it('clone a into c through a temporary store that is removed', async () => {
    const { kafka } = await seededLaneA();
    const temps = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('kbak-clone-'));
    const before = temps();
    const r = await cloneLane({ kafka, lane: 'a', to: 'c' });
    expect(temps()).toEqual(before);
    expect(r.snapshot.kept).toBe(false);
    expect(r.restore.laneTopics.sort()).toEqual(['c.billing', 'c.orders']);
    for (const t of ['orders', 'billing']) expect(contents(kafka, `c.${t}`)).toEqual(contents(kafka, `a.${t}`));
    expect(offsetOf(kafka, 'c.svc', 'c.orders', 0)).toBe(2n);
    const origin = (await describeLane({ kafka, lane: 'c' }))!.entry.origin;
    // The ledger records what the lane came from: the snapshot's cluster, and the lane it is a snapshot of.
    expect(origin.cluster).toBe('lane-a');
    expect(origin.lane).toBe('a');
    await expect(cloneLane({ kafka, lane: 'a', to: 'a' })).rejects.toThrow(UsageError);
  });

  it('reset brings back exactly the seed after extra writes, keeps the expiry; a pruned seed is exit 3 naming it', async () => {
    const { kafka, store, seedId } = await seededLaneA({ ttlMs: 3_600_000 });
    const seeded = contents(kafka, 'a.orders');
    const expiresAt = (await describeLane({ kafka, lane: 'a' }))!.entry.expiresAt;
    kafka.append('a.orders', 1, [{ timestamp: BigInt(TS + 999), key: Buffer.from('extra'), value: Buffer.from('extra'), headers: [] }]);
    await commit(kafka, 'a.svc', 'a.orders', 0, 5n);
    expect(contents(kafka, 'a.orders')).not.toEqual(seeded);

    const r = await resetLane({ kafka, lane: 'a', store });
    expect(r.seed).toEqual({ cluster: 'prod', backupId: seedId });
    expect(contents(kafka, 'a.orders')).toEqual(seeded);
    expect(contents(kafka, 'a.orders')).toEqual(contents(kafka, 'orders'));
    expect(offsetOf(kafka, 'a.svc', 'a.orders', 0)).toBe(2n);
    expect((await describeLane({ kafka, lane: 'a' }))!.entry.expiresAt).toBe(expiresAt);

    const pruned = resetLane({ kafka, lane: 'a', store: new MemoryStore() });
    await expect(pruned).rejects.toMatchObject({ exitCode: ExitCode.NOT_FOUND });
    await expect(pruned).rejects.toThrow(`prod/${seedId}`);
  });
});
