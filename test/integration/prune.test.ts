/**
 * kbak prune with store locks, on disk and S3: shared segments stay while a kept backup
 * names them, unreferenced ones (and a failed dump's leftovers) go; a live lock blocks,
 * a stale one is reported and ignored, --break-lock removes locks; a dump and a prune
 * started together: the prune waits, nothing is lost. Also: the local S3 honours
 * If-None-Match, which the locks rely on.
 */
import { hostname } from 'node:os';
import { listBackups, openBackup } from '../../src/backup/catalog';
import { runKbak, startKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';
import { allKeys, newDestination, type StoreKind } from '../support/stores';

const kafka = testKafka();
let topic: string;
let n = 0;

async function write(count: number): Promise<void> {
  await produce(
    kafka,
    topic,
    Array.from({ length: count }, () => ({
      partition: n % 2,
      key: Buffer.from(`k${n}`),
      value: Buffer.from(`v${n++}`),
      headers: [],
      timestamp: String(Date.now()),
    })),
  );
}

async function dump(dest: string, incremental = true): Promise<string> {
  const r = await runKbak(['dump', ...(incremental ? ['--incremental'] : []), '--topic', topic, '--to', dest, '--name', 'pr', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).backupId;
}

const lockBody = (expiresInMs: number): Buffer =>
  Buffer.from(
    JSON.stringify({
      kind: 'shared',
      holder: 'kbak dump (test)',
      host: 'other-host',
      pid: 4242,
      startedAt: new Date(Date.now() - 3_600_000).toISOString(),
      refreshedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    }),
  );

beforeAll(async () => {
  topic = uniqueName('prune');
  await createTopic(kafka, topic, 2);
});

describe.each<StoreKind>(['disk', 's3'])('kbak prune on %s', (kind) => {
  it('keeps segments a kept backup shares, deletes only unreferenced ones', async () => {
    const { dest, store } = newDestination(kind, 'prune');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      await write(10);
      ids.push(await dump(dest));
    }
    // A failed dump's leftover in the pool: named by no manifest.
    const orphan = 'pr/segments/x/0/00000000000000000000-20260101T000000000Z-deadbeef.kseg';
    await store.put(orphan, Buffer.from('orphan'));
    const before = (await allKeys(store, 'pr/segments')).filter((k) => k !== orphan);

    const dry = await runKbak(['prune', '--keep-last', '1', '--dry-run', '--source', dest, '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ removed: [ids[0], ids[1]], deletedObjects: 3, dryRun: true });
    expect(await store.size(orphan)).toBe(6);

    const r = await runKbak(['prune', '--keep-last', '1', '--source', dest, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kept: [{ id: ids[2], reasons: ['last'] }], removed: [ids[0], ids[1]] });
    expect((await listBackups(store, 'pr')).map((b) => b.backupId)).toEqual([ids[2]]);
    // The newest incremental backup names every segment of the chain: all stay, only the orphan went.
    expect(await allKeys(store, 'pr/segments')).toEqual(before);
    expect((await runKbak(['verify', 'latest', '--source', dest])).code).toBe(0);

    // A full dump shares nothing: pruning down to it removes the whole chain's segments.
    await write(4);
    const full = await dump(dest, false);
    expect((await runKbak(['prune', '--keep-last', '1', '--source', dest])).code).toBe(0);
    const b = await openBackup(store, full, 'pr');
    const named = b.manifest.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => b.storeKey(s))).sort();
    expect(await allKeys(store, 'pr/segments')).toEqual(named);
    expect(b.manifest.stats.records).toBe(n);
    expect(await allKeys(store, 'pr/locks')).toEqual([]);
  });

  it('refuses over a live lock naming its owner, ignores a stale one, --break-lock removes it', async () => {
    const { dest, store } = newDestination(kind, 'lock');
    await write(2);
    await dump(dest);
    await store.put('pr/locks/live.json', lockBody(600_000));
    const refused = await runKbak(['prune', '--keep-last', '1', '--lock-wait', '0', '--source', dest]);
    expect(refused.code).toBe(8); // ExitCode.CONFLICT
    expect(refused.stderr).toMatch(/^kbak: .* cluster pr is locked: shared lock of kbak dump \(test\) on other-host \(pid 4242\), started 36\d\ds ago/);
    const dump2 = await runKbak(['dump', '--incremental', '--topic', topic, '--to', dest, '--name', 'pr', '--json']);
    expect(dump2.code).toBe(0); // shared locks do not block each other

    await store.put('pr/locks/live.json', lockBody(-1000)); // now stale
    const stale = await runKbak(['prune', '--keep-last', '1', '--lock-wait', '0', '--source', dest], { KBAK_LOG_LEVEL: 'warn' });
    expect(stale.code).toBe(0);
    expect(stale.stderr).toMatch(/ignoring a stale shared lock of kbak dump \(test\) on other-host/);

    await store.put('pr/locks/live.json', lockBody(600_000));
    const broke = await runKbak(['prune', '--keep-last', '1', '--lock-wait', '0', '--break-lock', '--source', dest]);
    expect(broke.code).toBe(0);
    expect(broke.stdout).toMatch(/^removed shared lock of kbak dump \(test\) on other-host/);
    expect(await allKeys(store, 'pr/locks')).toEqual([]);
  });
});

test('a dump and a prune started together: the prune waits for the dump, nothing is lost', async () => {
  const { dest, store } = newDestination('disk', 'race');
  await write(4);
  const first = await dump(dest);
  // Enough data that the dump holds its lock for a while.
  await produce(
    kafka,
    topic,
    Array.from({ length: 3000 }, (_, i) => ({ partition: i % 2, key: null, value: Buffer.alloc(2000, i % 251), headers: [], timestamp: String(Date.now()) })),
  );
  n += 3000;
  const d = startKbak(['dump', '--incremental', '--topic', topic, '--to', dest, '--name', 'pr', '--json']);
  const deadline = Date.now() + 20_000;
  while ((await allKeys(store, 'pr/locks')).filter((k) => k.endsWith('.json')).length === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const waited = runKbak(['prune', '--keep-last', '1', '--lock-wait', '120', '--source', dest, '--json']);
  const refused = await runKbak(['prune', '--keep-last', '1', '--lock-wait', '0', '--source', dest, '--json']);
  const [dr, pr] = await Promise.all([d.done, waited]);
  expect(dr.code).toBe(0);
  const second = JSON.parse(dr.stdout).backupId;
  // The refusing prune either met the dump's (or the other prune's) lock, or ran after both.
  if (refused.code !== 0) {
    expect(refused.code).toBe(8); // ExitCode.CONFLICT
    expect(refused.stderr).toMatch(new RegExp(`is locked: (shared lock of kbak dump ${second}|exclusive lock of kbak prune) on ${hostname()}`));
  }
  expect(pr.code).toBe(0);
  // The waiting prune ran after the dump committed: it kept the new backup.
  expect(JSON.parse(pr.stdout).kept).toEqual([{ id: second, reasons: ['last'] }]);
  expect((await listBackups(store, 'pr')).map((b) => b.backupId)).toEqual([second]);
  expect(first < second).toBe(true);
  const v = await runKbak(['verify', 'latest', '--source', dest, '--json']);
  expect(v.code).toBe(0);
  expect(JSON.parse(v.stdout)).toMatchObject({ backupId: second, ok: true, records: n });
});

test('the local S3 service honours If-None-Match: * (the locks rely on it)', async () => {
  const { store } = newDestination('s3', 'inm');
  expect(await store.putIfAbsent('c/locks/a.json', Buffer.from('1'))).toBe(true);
  expect(await store.putIfAbsent('c/locks/a.json', Buffer.from('2'))).toBe(false);
  expect((await store.get('c/locks/a.json')).toString()).toBe('1');
});
