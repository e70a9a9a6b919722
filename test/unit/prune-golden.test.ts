/**
 * Golden output of `kbak prune` (issue 18): the dry run's table of what would go (backups
 * and the leftovers of interrupted dumps, a running dump's kept), "would" on every line
 * that deletes; the same store pruned for real; a store whose only dump never finished;
 * and `--json`, one line per cluster. Stores: the v2 test vector on disk plus leftovers with
 * fixed names and sizes. `npm run golden:update` rewrites the files.
 */
import { rmSync } from 'node:fs';
import { dumpLockHolder } from '../../src/backup/leftovers';
import { DiskStore } from '../../src/store/disk';
import { runInProcess } from '../support/cli-in-process';
import { expectGolden } from '../support/golden';
import { CLUSTER, hostileStore } from '../support/hostile-prune';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

const DEAD = '20261128T120000000Z';
const RUNNING = '20261129T120000000Z';

/** The vector (two backups) plus the leftovers of a dead dump (3 segments) and of a running one (1 segment, live lock). */
async function storeWithLeftovers(): Promise<string> {
  const root = hostileStore({});
  roots.push(root);
  const store = new DiskStore(root);
  for (const [p, size] of [
    [0, 1500],
    [1, 2048],
    [2, 30_000_000],
  ] as const)
    await store.put(`${CLUSTER}/segments/orders/${p}/00000000000000000000-${DEAD}-0a1b2c3d.kseg`, Buffer.alloc(size, 7));
  await store.put(`${CLUSTER}/segments/orders/0/00000000000000000005-${RUNNING}-0badf00d.kseg`, Buffer.alloc(4096, 1));
  const now = Date.now();
  await store.put(
    `${CLUSTER}/locks/20261129T120000000Z-000000000000.json`,
    Buffer.from(
      JSON.stringify({
        kind: 'shared',
        holder: dumpLockHolder(RUNNING),
        host: 'other-host',
        pid: 4242,
        startedAt: new Date(now).toISOString(),
        refreshedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + 600_000).toISOString(),
      }),
    ),
  );
  return root;
}

const text = (lines: string[]): string => `${lines.join('\n')}\n`;

describe('prune output', () => {
  it('--dry-run: a table of what would go, leftovers included, and a running dump’s leftovers kept', async () => {
    const root = await storeWithLeftovers();
    const r = await runInProcess(['prune', '--dry-run', '--keep-last', '1', '--source', root]);
    expect(r.code).toBe(0);
    expectGolden('prune/dry-run', text(r.lines));
    // Nothing "complete" or "removed" in a dry run's output, only "would".
    expect(r.lines.join('\n')).not.toMatch(/complete|\bremoved\b/);
  });

  it('--dry-run -o json: one line per cluster, the same facts', async () => {
    const root = await storeWithLeftovers();
    const r = await runInProcess(['prune', '--dry-run', '--keep-last', '1', '-o', 'json', '--source', root]);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expectGolden('prune/dry-run-json', `${JSON.stringify(JSON.parse(r.lines[0]!), null, 2)}\n`);
    expect((await runInProcess(['prune', '--dry-run', '--keep-last', '1', '--json', '--source', root])).lines).toEqual(r.lines);
  });

  it('a first dump that never finished: its leftovers are found and listed, then removed', async () => {
    const root = await storeWithLeftovers();
    rmSync(`${root}/${CLUSTER}/20261126T120000000Z`, { recursive: true });
    rmSync(`${root}/${CLUSTER}/20261127T120000000Z`, { recursive: true });
    rmSync(`${root}/${CLUSTER}/locks`, { recursive: true });
    const dry = await runInProcess(['prune', '--dry-run', '--keep-last', '1', '--source', root]);
    expectGolden('prune/leftovers-only-dry-run', text(dry.lines));
    const done = await runInProcess(['prune', '--keep-last', '1', '--source', root]);
    expect(done.code).toBe(0);
    expectGolden('prune/leftovers-only', text(done.lines));
  });

  it('--break-lock with -o json: stdout holds only the JSON line, the removed lock is said on stderr', async () => {
    const root = await storeWithLeftovers();
    const r = await runInProcess(['prune', '--break-lock', '--keep-last', '1', '-o', 'json', '--lock-wait', '0', '--source', root]);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    // With the running dump's lock broken, its leftovers go too.
    expect(JSON.parse(r.lines[0]!)).toMatchObject({
      cluster: CLUSTER,
      removed: ['20261126T120000000Z'],
      leftovers: [{ action: 'remove' }, { action: 'remove' }],
    });
    expect(r.stderr.join('')).toMatch(/removed shared lock of kbak dump 20261129T120000000Z on other-host/);
  });

  it('an empty store says so; -o json prints no line for no cluster; a bad -o is a usage error', async () => {
    const root = hostileStore({});
    roots.push(root);
    rmSync(`${root}/${CLUSTER}`, { recursive: true });
    expect((await runInProcess(['prune', '--keep-last', '1', '--source', root])).lines).toEqual([
      `nothing to prune: ${new DiskStore(root).location} holds no backups and no leftovers`,
    ]);
    expect((await runInProcess(['prune', '--keep-last', '1', '--json', '--source', root])).lines).toEqual([]);
    const bad = await runInProcess(['prune', '--keep-last', '1', '-o', 'wide', '--source', root]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.join('')).toMatch(/-o must be one of table, json, got "wide"/);
  });
});
