/**
 * Start-up cost (bin/kbak.js, bin/compile-cache.js): what a short command loads, counted in
 * files (require.cache after a real child process run), never timed; and the compile cache's
 * folder choice and its failures, which must never fail a command or print anything.
 * The figures (seconds) are measured, not asserted: CHANGELOG and the branch's report.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandOf } from '../../src/cli/main';
import { ensureBuilt, ROOT } from '../support/built-cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- bin/ is plain CommonJS, run before dist/ exists
const { compileCacheDir, enableCompileCache } = require('../../bin/compile-cache') as {
  compileCacheDir: (env: NodeJS.ProcessEnv, uid: number | string) => { dir: string; own: boolean } | null;
  enableCompileCache: (env: NodeJS.ProcessEnv) => string | null;
};

const BIN = join(ROOT, 'bin', 'kbak.js');
let work: string;
beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'kbak-startup-'));
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Files the process loaded, relative to the repository ("dist/cli/main.js", "node_modules/zod/…"). */
  loaded: string[];
}

let runs = 0;
/** Runs bin/kbak.js in a child process; without a cache unless `env` chooses one. */
function run(args: string[], env: Record<string, string> = { KBAK_COMPILE_CACHE: 'off' }): Run {
  const list = join(work, `loaded-${++runs}.txt`);
  const r = spawnSync(process.execPath, ['--require', join(ROOT, 'test', 'support', 'record-loaded.cjs'), BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: work, ...env, KBAK_TEST_LOADED: list },
    encoding: 'utf8',
  });
  const loaded = readFileSync(list, 'utf8')
    .split('\n')
    .filter((f) => f.startsWith(ROOT))
    .map((f) => f.slice(ROOT.length + 1));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

const pkgVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('kbak --version', () => {
  it.each(['--version', '-V'])('%s alone prints the version without loading dist/ or any dependency', (flag) => {
    const r = run([flag]);
    expect(r).toMatchObject({ code: 0, stdout: `${pkgVersion}\n`, stderr: '' });
    expect(r.loaded.filter((f) => f.startsWith('dist/') || f.startsWith('node_modules/'))).toEqual([]);
  });

  it('prints what the full CLI prints for --version (which does load dist/)', () => {
    const full = run(['--log-format', 'json', '--version']);
    expect(full.loaded).toContain('dist/cli/main.js');
    expect(full).toMatchObject({ code: 0, stderr: '' });
    expect(run(['--version']).stdout).toBe(full.stdout);
  });
});

describe('what a command loads', () => {
  /** Library code and dependencies a dump never runs: restore, recover, the mask and lane tools, S3, schema decoders. */
  const notForADump = [
    /^dist\/(restore|recover|mask)\//,
    /^dist\/lane\/(lifecycle|reset|snapshot|delete-plan)\.js$/,
    /^dist\/cli\/cmd-(restore|recover|lane|cat|policy|prune|verify|inspect|list)\.js$/,
    /^node_modules\/(@aws-sdk|@smithy|@faker-js|avsc|protobufjs)\//,
  ];
  const offending = (loaded: string[]): string[] => loaded.filter((f) => notForADump.some((re) => re.test(f)));

  it('kbak --help loads every command (the control: the patterns below do match what the full program loads)', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['dump', 'restore', 'recover', 'lane', 'cat', 'policy', 'prune', 'verify', 'inspect', 'list'])
      expect(r.loaded).toContain(`dist/cli/cmd-${cmd}.js`);
  });

  it('a dump to disk, up to its first Kafka request, loads its engine and the Kafka client and nothing of restore, the mask, S3 or the decoders', () => {
    const to = join(work, 'backups');
    // Nothing listens on port 9: the dump fails when it first talks to Kafka (exit 4, service).
    const r = run(['dump', '--brokers', '127.0.0.1:9', '--topic', 'orders', '--to', to]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:9/);
    expect(r.loaded).toEqual(expect.arrayContaining(['dist/cli/cmd-dump.js', 'dist/dump/dump.js', 'dist/kafka/index.js']));
    expect(offending(r.loaded)).toEqual([]);
  });

  it('a restore without --mask, up to its first Kafka request, loads neither faker, yaml nor the dump engine', () => {
    // A backup to read (the format vector, copied: a restore may take a lock in its store).
    const source = join(work, 'vector-store');
    cpSync(join(ROOT, 'test', 'vectors', 'backup-v2', 'sample'), join(source, 'sample'), { recursive: true });
    const r = run(['restore', '--lane', 'startup', '--source', source, '--brokers', '127.0.0.1:9']);
    expect(r.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:9/);
    expect(r.code).toBe(4);
    expect(r.loaded).toEqual(expect.arrayContaining(['dist/restore/restore.js', 'dist/mask/compile.js', 'dist/kafka/index.js']));
    expect(r.loaded.filter((f) => /^node_modules\/(yaml|@faker-js\/faker\/dist|@aws-sdk)\//.test(f) || /^dist\/(dump|recover)\//.test(f))).toEqual([]);
  });

  it('dump --help loads neither the Kafka client nor another command', () => {
    const r = run(['dump', '--help']);
    expect(r.code).toBe(0);
    expect(r.loaded.filter((f) => f.startsWith('dist/kafka/transport/') || f === 'dist/kafka/index.js')).toEqual([]);
    expect(offending(r.loaded)).toEqual([]);
  });

  it('restore --help loads neither the dump engine nor restore code (loaded when a restore runs)', () => {
    const r = run(['restore', '--help']);
    expect(r.code).toBe(0);
    expect(r.loaded).toContain('dist/cli/cmd-restore.js');
    expect(r.loaded.filter((f) => /^dist\/(dump|restore|mask)\//.test(f) || f === 'dist/cli/cmd-dump.js')).toEqual([]);
  });
});

describe('commandOf: the command a run names, read before parsing', () => {
  it.each([
    [['dump', '--topic', 'x'], 'dump'],
    [['--log-format', 'json', 'restore', '--lane', 'a'], 'restore'],
    [['--log-format=human', 'lane', 'list'], 'lane'],
    [['--log-format', 'dump', 'list'], 'list'],
  ])('%j runs %s', (args, name) => expect(commandOf(args)).toBe(name));

  it.each([[[]], [['--help']], [['help', 'dump']], [['completion', 'bash']], [['restroe']], [['--bogus', 'dump']], [['-V']], [['toString']], [['__proto__']]])(
    '%j loads every command (a listing, a suggestion, help or an error commander must word)',
    (args) => expect(commandOf(args)).toBeUndefined(),
  );
});

describe('the compile cache folder', () => {
  it('is NODE_COMPILE_CACHE (set up by Node itself), KBAK_COMPILE_CACHE as given, XDG_CACHE_HOME or a per-user tmp folder', () => {
    expect(compileCacheDir({ NODE_COMPILE_CACHE: '/n', KBAK_COMPILE_CACHE: '/k' }, 7)).toBeNull();
    expect(compileCacheDir({ KBAK_COMPILE_CACHE: '/k', XDG_CACHE_HOME: '/x' }, 7)).toEqual({ dir: '/k', own: false });
    expect(compileCacheDir({ KBAK_COMPILE_CACHE: 'off' }, 7)).toBeNull();
    expect(compileCacheDir({ KBAK_COMPILE_CACHE: '' }, 7)).toBeNull();
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x' }, 7)).toEqual({ dir: join('/x', 'kbak', 'compile-cache'), own: true });
    expect(compileCacheDir({ XDG_CACHE_HOME: 'relative' }, 7)).toEqual({ dir: join(tmpdir(), 'kbak-compile-cache-7'), own: true });
    expect(compileCacheDir({}, 7)).toEqual({ dir: join(tmpdir(), 'kbak-compile-cache-7'), own: true });
  });

  it('refuses a folder of its own choosing that others can write (compiled code planted there would run)', () => {
    const xdg = join(work, 'xdg-shared');
    const dir = join(xdg, 'kbak', 'compile-cache');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect(enableCompileCache({ XDG_CACHE_HOME: xdg })).toBeNull();
    const file = join(work, 'xdg-file');
    writeFileSync(file, '');
    expect(enableCompileCache({ XDG_CACHE_HOME: file })).toBeNull();
  });

  it('makes its own folder private (0700) and fills it', () => {
    const xdg = join(work, 'xdg-private');
    expect(run(['dump', '--help'], { XDG_CACHE_HOME: xdg })).toMatchObject({ code: 0, stderr: '' });
    const dir = join(xdg, 'kbak', 'compile-cache');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('is filled by a run and used by the next; a folder that cannot be made or written fails nothing and prints nothing', () => {
    const cache = join(work, 'cache');
    const first = run(['dump', '--help'], { KBAK_COMPILE_CACHE: cache });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const [tag] = readdirSync(cache);
    expect(tag).toMatch(new RegExp(`^v${process.versions.node}-${process.arch}-`));
    expect(readdirSync(join(cache, tag!)).length).toBeGreaterThan(50);
    expect(run(['dump', '--help'], { KBAK_COMPILE_CACHE: cache }).stdout).toBe(first.stdout);
    // A path below a file can never be a folder, whoever runs the test (root ignores chmod).
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    const broken = run(['dump', '--help'], { KBAK_COMPILE_CACHE: join(file, 'cache') });
    expect(broken).toMatchObject({ code: 0, stderr: '', stdout: first.stdout });
    expect(run(['--version'], { KBAK_COMPILE_CACHE: join(file, 'cache') })).toMatchObject({ code: 0, stderr: '', stdout: `${pkgVersion}\n` });
  });

  it("the image's warm step (bin/warm-compile-cache.js) fills a cache that a later run reads, all of it accepted", () => {
    const cache = join(work, 'image-cache');
    const warm = spawnSync(process.execPath, [join(ROOT, 'bin', 'warm-compile-cache.js')], {
      env: { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: cache },
      encoding: 'utf8',
    });
    expect(warm.status).toBe(0);
    const [tag] = readdirSync(cache);
    const entries = readdirSync(join(cache, tag!));
    expect(entries.length).toBeGreaterThan(200);
    // Readable by the runtime user once copied owned by root; Node wrote them 0600.
    expect(statSync(join(cache, tag!)).mode & 0o777).toBe(0o755);
    for (const e of entries) expect(statSync(join(cache, tag!, e)).mode & 0o777).toBe(0o644);
    const r = spawnSync(process.execPath, [BIN, 'dump', '--help'], {
      env: { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const accepted = r.stderr.split('\n').filter((l) => / was accepted/.test(l));
    const missed = r.stderr.split('\n').filter((l) => /mismatch|rejected|not initialized/.test(l));
    expect(accepted.length).toBeGreaterThan(100);
    expect(missed).toEqual([]);
  });
});
