/**
 * `kbak prune` on hostile stores, through the CLI (issue 15, defects 1, 2 and 8's prune
 * case; the lock decision): crafted inputs from test/fixtures/hostile/prune planted into a
 * copy of the v2 vector. After every prune the genuine backups must still be listed and
 * verify with the independent decoder (test/support/format-decoder.ts) and with
 * `kbak verify --all`. The library-level cases are test/unit/prune.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ExitCode } from '../../src/errors';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { CLUSTER, GENUINE, genuineBackupsIntact, hostileStore, plantedId, plantedName, type PlantedManifest } from '../support/hostile-prune';
import { downloadS3, s3Client } from '../support/s3-objects';
import { stackEnv, uniqueName } from '../support/stack';

jest.setTimeout(60_000);

const HUMAN = { KBAK_LOG_FORMAT: 'human', KBAK_LOG_LEVEL: 'warn' };

const allFiles = (root: string): string[] =>
  (readdirSync(root, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; parentPath: string; name: string }>)
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

/** No stack trace and not exit 70 (a bug), whatever the outcome. */
function expectNoBug(r: CliResult): void {
  expect(r.code).not.toBe(70);
  expect(r.stderr).not.toMatch(/internal error|^\s+at\s|node:internal/m);
}

/**
 * Every genuine backup still verifies. A planted manifest the manifest rules refuse (a startedAt
 * that is no time or not the backup ID's instant) fails on its own, so `verify --all` then ends
 * with exit 7 (some backups failed) — but never at the genuine ones' expense.
 */
async function expectVerifyAllOk(root: string, planted?: string): Promise<void> {
  const v = await runKbak(['verify', '--all', '--source', root]);
  if (planted === undefined) expect(v.code).toBe(0);
  else expect([0, ExitCode.PARTIAL]).toContain(v.code);
  for (const id of GENUINE) expect(v.stdout).toMatch(new RegExp(`^ok +sample/${id}: `, 'm'));
}

describe('kbak prune: a listed name is a name (defect 1)', () => {
  it('an empty file named orders\\0\\…-00000001.kseg: --keep-last 2 keeps both backups and deletes nothing', async () => {
    const root = hostileStore({ names: ['backslash-segment'] });
    const before = allFiles(root);
    const r = await runKbak(['prune', '--keep-last', '2', '--source', root], HUMAN);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'sample: keeping 2 backups, removed 0 backups',
      '  ACTION  WHAT    ID                   OBJECTS  SIZE  WHY',
      `  keep    backup  ${GENUINE[0]}  -        -     last`,
      `  keep    backup  ${GENUINE[1]}  -        -     last`,
      '  removed 0 objects, 0 B; 4 segments stay referenced',
      '  skipped 1 name that is not a valid key (left in place, see the warnings)',
    ]);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(
        /^kbak: warning: skipping "sample\/segments\/orders\\\\0\\\\00000000000000000000-20261126T120000000Z-00000001\.kseg": it is not a valid key/,
      ),
    ]);
    expect(allFiles(root)).toEqual(before);
    expect(genuineBackupsIntact(root)).toBe(13);
    await expectVerifyAllOk(root);
  });

  it('a file named x\\..\\..\\y.kseg: prune succeeds with a warning and leaves it', async () => {
    const root = hostileStore({ names: ['backslash-dotdot'] });
    const r = await runKbak(['prune', '--keep-last', '2', '--source', root, '--json'], HUMAN);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cluster: CLUSTER, removed: [], deletedObjects: 0, skippedNames: 1 });
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(/^kbak: warning: skipping "sample\/segments\/x\\\\\.\.\\\\\.\.\\\\y\.kseg": it is not a valid key/),
    ]);
    expect(existsSync(join(root, ...plantedName('backslash-dotdot').split('/')))).toBe(true);
    expect(genuineBackupsIntact(root)).toBe(13);
  });

  it('on S3: the same planted name is skipped, the vector stays whole', async () => {
    const prefix = uniqueName('hostile-prune');
    const client = s3Client();
    const vector = hostileStore({});
    const put = (key: string, body: Buffer): Promise<unknown> =>
      client.send(new PutObjectCommand({ Bucket: stackEnv().s3Bucket, Key: `${prefix}/${key}`, Body: body }));
    for (const f of allFiles(vector)) await put(f, readFileSync(join(vector, f)));
    await put(plantedName('backslash-segment'), Buffer.alloc(0));
    const r = await runKbak(['prune', '--keep-last', '2', '--source', `s3://${stackEnv().s3Bucket}/${prefix}`, '--json'], HUMAN);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ removed: [], deletedObjects: 0, skippedNames: 1 });
    const copy = mkdtempSync(join(tmpdir(), 'kbak-hostile-s3-'));
    await downloadS3(prefix, copy);
    expect(allFiles(copy)).toEqual([...allFiles(vector), plantedName('backslash-segment')].sort());
    expect(genuineBackupsIntact(copy)).toBe(13);
  });
});

describe('kbak prune: retention goes by backup IDs (defect 2, defect 8 prune case)', () => {
  // Once manifests are checked for a startedAt equal to the backup ID (another change of the
  // same issue), the "x" and 2099 startedAt plants are refused before anything is deleted
  // (exit 5, one line); until then they are loaded and retention ignores them. Either way no
  // genuine backup may go, and never exit 70.
  const cases: Array<[PlantedManifest, string[]]> = [
    ['started-at-x.20261128T000000000Z', ['--keep-within', '30d']],
    ['started-at-x.20261128T000000000Z', ['--keep-daily', '3']],
    ['started-at-2099.20261128T000000000Z', ['--keep-within', '30d']],
    ['id-2099.20990101T000000000Z', ['--keep-within', '30d']],
    ['id-2099.20990101T000000000Z', ['--keep-last', '2']],
  ];
  it.each(cases)('planted %s, prune %j: no genuine backup is removed', async (planted, policy) => {
    const root = hostileStore({ manifests: [planted] });
    const before = allFiles(root);
    const r = await runKbak(['prune', ...policy, '--source', root, '--json'], HUMAN);
    expectNoBug(r);
    if (r.code === 5) {
      expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^kbak: cannot prune sample: .*sample/${plantedId(planted)}`))]);
      expect(allFiles(root)).toEqual(before);
    } else {
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { kept: Array<{ id: string; reasons: string[] }>; removed: string[] };
      expect(out.removed).toEqual([]);
      expect(out.kept.map((k) => k.id).sort()).toEqual([...GENUINE, plantedId(planted)].sort());
      if (planted.startsWith('id-2099')) {
        expect(out.kept.find((k) => k.id === plantedId(planted))!.reasons).toEqual(['future']);
        expect(lines(r.stderr)).toEqual([
          expect.stringMatching(
            /^kbak: warning: keeping backup sample\/20990101T000000000Z without applying the policy: its ID lies more than 5 minutes in the future/,
          ),
        ]);
      }
    }
    expect(genuineBackupsIntact(root)).toBe(13);
    await expectVerifyAllOk(root, planted);
  });
});

describe('kbak prune: a lock of this host whose process is gone is stale at once, and removed', () => {
  it('proceeds at once with --lock-wait 0 and names the dead holder; a live one on this host still blocks', async () => {
    const root = hostileStore({});
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => child.on('close', r));
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const lock = (pid: number): string => {
        const now = Date.now();
        return JSON.stringify({
          kind: 'shared',
          holder: 'kbak dump (killed)',
          host: hostname(),
          pid,
          startedAt: new Date(now).toISOString(),
          refreshedAt: new Date(now).toISOString(),
          expiresAt: new Date(now + 300_000).toISOString(),
          pidNamespace: pidNamespace(),
        });
      };
      mkdirSync(join(root, CLUSTER, 'locks'), { recursive: true });
      writeFileSync(join(root, CLUSTER, 'locks', 'live.json'), lock(sleeper.pid!));
      const blocked = await runKbak(['prune', '--keep-last', '2', '--lock-wait', '0', '--source', root], HUMAN);
      expect(blocked.code).toBe(8);
      expect(blocked.stderr).toMatch(new RegExp(`is locked: shared lock of kbak dump \\(killed\\) on ${hostname()} \\(pid ${sleeper.pid}\\)`));

      writeFileSync(join(root, CLUSTER, 'locks', 'live.json'), lock(child.pid!));
      const r = await runKbak(['prune', '--keep-last', '2', '--lock-wait', '0', '--source', root], HUMAN);
      expect(r.code).toBe(0);
      expect(existsSync(join(root, CLUSTER, 'locks', 'live.json'))).toBe(false);
      expect(lines(r.stderr)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^kbak: warning: removing a stale shared lock of kbak dump \\(killed\\) on ${hostname()} \\(pid ${child.pid}\\), started \\d+s ago, stale: its process is gone`,
          ),
        ),
      ]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

/** This process's PID namespace, as kbak writes it into its locks (Linux; the CLI it starts shares it). */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}
