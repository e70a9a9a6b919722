/**
 * Issue 15, manifests and output: one regression test per defect, each from a small crafted
 * input built by test/support/hostile-manifests.ts (the same builders, at full size, give
 * the figures in RELIABILITY.md "Hostile input, round 2").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBackups, openBackup } from '../../src/backup/catalog';
import { backupIdTime, isBackupId } from '../../src/backup/layout';
import { decodeManifest, MANIFEST_JSON_LIMITS, manifestSchema, type Manifest } from '../../src/backup/manifest';
import { manifestRuleViolation } from '../../src/backup/rules';
import type { CommandEnv } from '../../src/cli/common';
import { buildProgram } from '../../src/cli/main';
import { table } from '../../src/output/table';
import { IntegrityError, KbakError } from '../../src/errors';
import { compactTimeMillis, describeTimestamp, isoTimeMillis } from '../../src/model/utc-time';
import { parseTimeBound } from '../../src/model/window';
import { createLogger, silentLogger } from '../../src/output/logger';
import { escapeControl, escapeJsonLine } from '../../src/output/safe-text';
import { jsonShapeProblem } from '../../src/util/json-shape';
import { DiskStore } from '../../src/store/disk';
import {
  CLUSTER,
  copyVector,
  farTimestampManifest,
  FORGED_OK,
  forgedLinesStore,
  FULL,
  gapsAndSegmentsManifest,
  INCREMENTAL,
  nestedArraysText,
  paddedManifestText,
  putManifest,
  vectorManifest,
  zeroTopicManifest,
} from '../support/hostile-manifests';

const roots: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'kbak-hostile-'));
  roots.push(d);
  return d;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

// Raw characters no output line may carry (the set escapeControl escapes).
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

interface Run {
  stdout: string[];
  log: string[];
  error: KbakError | null;
}

/** Runs a kbak command in-process, with a JSON logger whose lines are kept. */
async function kbak(args: string[], format: 'json' | 'human' = 'json'): Promise<Run> {
  const run: Run = { stdout: [], log: [], error: null };
  const env: CommandEnv = {
    env: {},
    isTTY: false,
    stdout: (l) => run.stdout.push(l),
    logger: () => createLogger({ format, level: 'debug', write: (s) => run.log.push(s) }),
  };
  try {
    await buildProgram(env).parseAsync(['node', 'kbak', ...args]);
  } catch (err) {
    if (!(err instanceof KbakError)) throw err;
    run.error = err;
  }
  return run;
}

function expectSafe(lines: string[]): void {
  for (const l of lines) {
    expect({ line: l, raw: RAW_UNSAFE.test(l) }).toEqual({ line: l, raw: false });
    // kbak writes one line per call: a stored newline never reaches the terminal.
    expect(l.includes('\n')).toBe(false);
    expect(l.startsWith(FORGED_OK)).toBe(false);
  }
}

describe('defect 2: startedAt and completedAt are checked as calendar times, and startedAt against the backup ID', () => {
  it('utc-time: only real instants of the fixed forms', () => {
    expect(isoTimeMillis('2026-11-26T12:00:00.000Z')).toBe(Date.UTC(2026, 10, 26, 12));
    expect(isoTimeMillis('2028-02-29T00:00:00.000Z')).toBe(Date.UTC(2028, 1, 29));
    expect(isoTimeMillis('0000-01-01T00:00:00.000Z')).toBe(new Date('0000-01-01T00:00:00.000Z').getTime());
    expect(isoTimeMillis('9999-12-31T23:59:59.999Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    for (const bad of [
      'x',
      '',
      '2026-02-29T00:00:00.000Z',
      '2100-02-29T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-11-26T24:00:00.000Z',
      '2026-11-26T12:60:00.000Z',
      '2026-11-26T12:00:60.000Z',
      '2026-11-26T12:00:00Z',
      '2026-11-26 12:00:00.000Z',
      '+02026-11-26T12:00:00.000Z',
      '2026-11-26T12:00:00.000Z\n',
    ]) {
      expect({ bad, ms: isoTimeMillis(bad) }).toEqual({ bad, ms: null });
    }
    expect(compactTimeMillis('20261126T120000000Z')).toBe(Date.UTC(2026, 10, 26, 12));
    expect(backupIdTime('20261126T120000123Z')).toBe(Date.UTC(2026, 10, 26, 12, 0, 0, 123));
    for (const bad of ['20260229T120000000Z', '20261126T240000000Z', '20261100T120000000Z']) {
      // Listed (the pattern), refused when read (no instant).
      expect({ bad, ms: backupIdTime(bad), id: isBackupId(bad) }).toEqual({ bad, ms: null, id: true });
    }
    expect({ ms: backupIdTime('20261126T120000000Z\n'), id: isBackupId('20261126T120000000Z\n') }).toEqual({ ms: null, id: false });
  });

  it('a planted zero-topic manifest with startedAt "x" no longer verifies (exit 5, one line naming startedAt)', async () => {
    const root = copyVector(tmp());
    const m = zeroTopicManifest(CLUSTER, '20261128T120000000Z');
    m.startedAt = 'x';
    putManifest(root, CLUSTER, '20261128T120000000Z', m);
    const r = await kbak(['verify', '20261128T120000000Z', '--source', root]);
    expect(r.stdout).toEqual([expect.stringMatching(/^FAILED {2}sample\/20261128T120000000Z: .*invalid at startedAt: expected a calendar-valid UTC time/)]);
    expect(r.error).toBeInstanceOf(IntegrityError);
    expect(r.error!.exitCode).toBe(5);
    // The genuine backups still verify.
    expect((await kbak(['verify', '--all', '--source', root])).stdout.filter((l) => l.startsWith('ok '))).toHaveLength(2);
  });

  it('a startedAt in 2099 on a 2026 backup ID is refused, naming startedAt', async () => {
    const root = copyVector(tmp());
    const m = zeroTopicManifest(CLUSTER, '20261128T120000000Z');
    m.startedAt = '2099-01-01T00:00:00.000Z';
    putManifest(root, CLUSTER, '20261128T120000000Z', m);
    await expect(openBackup(new DiskStore(root), '20261128T120000000Z')).rejects.toThrow(
      /startedAt 2099-01-01T00:00:00\.000Z is not the instant of backup ID 20261128T120000000Z/,
    );
  });

  it('dump refuses a --since that a manifest time cannot spell (it wrote "-000220-…" or failed with exit 70)', () => {
    const now = new Date('2026-11-26T12:00:00.000Z');
    expect(() => parseTimeBound('800000d', 'since', now)).toThrow(/lies outside the years 0000 to 9999/);
    expect(() => parseTimeBound('99999999999999999d', 'since', now)).toThrow(/neither an ISO-8601 time nor a duration/);
    expect(parseTimeBound('2d', 'since', now).toISOString()).toBe('2026-11-24T12:00:00.000Z');
  });
});

describe('defect 4: the manifest rule check is linear in segments and gaps', () => {
  it('reads each gap a constant number of times, however many segments there are (was gaps × segments)', () => {
    const n = 2000;
    const m = manifestSchema.parse(gapsAndSegmentsManifest(n)) as Manifest;
    const p = m.topics[0]!.partitions[0]!;
    let reads = 0;
    const counted = <T extends object>(a: T[]): T[] =>
      new Proxy(a, { get: (t, k, r) => (typeof k === 'string' && /^\d+$/.test(k) && reads++, Reflect.get(t, k, r)) });
    p.gaps = counted(p.gaps);
    p.segments = counted(p.segments);
    expect(manifestRuleViolation(m, { cluster: CLUSTER, backupId: INCREMENTAL })).toBeNull();
    // One pass over each (a few reads per element), not n² = 4 000 000.
    expect(reads).toBeLessThanOrEqual(4 * n);
    expect(reads).toBeGreaterThanOrEqual(2 * n);
  });

  it('still finds a segment overlapping a gap, anywhere in the partition', () => {
    for (const at of [0, 999, 1999]) {
      const m = manifestSchema.parse(gapsAndSegmentsManifest(2000)) as Manifest;
      const g = m.topics[0]!.partitions[0]!.gaps[at]!;
      g.startOffset = String(2 * at); // now covers segment `at` too
      expect(manifestRuleViolation(m, { cluster: CLUSTER, backupId: INCREMENTAL })).toBe(
        `orders/0 segment ${at} (${m.topics[0]!.partitions[0]!.segments[at]!.key}): overlaps the gap [${2 * at}, ${2 * at + 2})`,
      );
    }
  });
});

describe('defect 6: no stored string forges an output line (stdout, human and JSON logs)', () => {
  const root = tmp();
  forgedLinesStore(root);

  it('list: one row per backup; the forged startedAt and backup ID are refused, the evil cluster shown escaped', async () => {
    const r = await kbak(['list', '--source', root]);
    expectSafe(r.stdout);
    expect(r.stdout).toHaveLength(1 + 4);
    expect(r.stdout.filter((l) => l.startsWith(FULL) || l.startsWith(INCREMENTAL))).toHaveLength(4);
    expect(r.stdout.some((l) => l.includes('evil\\u000aok      prod\\u202e  UNREADABLE'))).toBe(true);
    const json = await kbak(['list', '--source', root, '--json']);
    expectSafe(json.stdout);
    // Still JSON, and it still says what the store holds.
    expect((JSON.parse(json.stdout[0]!) as Array<{ cluster: string }>).map((x) => x.cluster).sort()).toEqual([
      'evil\nok      prod\u202e',
      'forged',
      'forged',
      'names',
    ]);
  });

  it('verify --all: one line per backup, no forged "ok" line (from a cluster folder or a backup ID)', async () => {
    const r = await kbak(['verify', '--all', '--source', root]);
    expectSafe(r.stdout);
    expect(r.stdout).toHaveLength(4);
    expect(r.stdout.filter((l) => l.startsWith('ok '))).toEqual([expect.stringMatching(/^ok {6}names\/20261126T120000000Z: 2 segments/)]);
    expect(escapeControl(r.error!.message)).not.toMatch(RAW_UNSAFE);
    expectSafe((await kbak(['verify', '--all', '--json', '--source', root])).stdout);
  });

  it('inspect: names from the manifest (configs, subjects, groups) stay on their line, in human and JSON output', async () => {
    const r = await kbak(['inspect', FULL, '--name', 'names', '--source', root]);
    expectSafe(r.stdout);
    expect(r.stdout.find((l) => l.startsWith('  configs:'))).toBe(
      '  configs: cleanup.policy=delete\\u000aok      sample/20261126T120000000Z: 4 segments, 8 records, 1.1 KiB',
    );
    expect(r.stdout.find((l) => l.startsWith('  g'))).toBe('  g\\u000aok      sample/20261126T120000000Z: 4 segments, 8 records, 1.1 KiB\\u2066: orders/0@3');
    const json = await kbak(['inspect', FULL, '--name', 'names', '--source', root, '--json']);
    expectSafe(json.stdout);
    expect((JSON.parse(json.stdout[0]!) as { consumerGroups: Array<{ groupId: string }> }).consumerGroups[0]!.groupId).toBe(`g\n${FORGED_OK}\u2066`);
  });

  it('prune --dry-run: human lines and the JSON log line carry the names escaped', async () => {
    const r = await kbak(['prune', '--dry-run', '--keep-last', '1', '--name', 'names', '--source', root]);
    expect(r.error).toBeNull();
    expectSafe(r.stdout);
    // Log lines end with the one newline the logger writes.
    expect(r.log.length).toBeGreaterThan(0);
    for (const l of r.log) expect(l.endsWith('\n')).toBe(true);
    expectSafe(r.log.map((l) => l.slice(0, -1)));
    for (const l of r.log) expect(() => JSON.parse(l) as unknown).not.toThrow();
    // A whole-store prune meets the evil folder: whether it refuses the store (exit 5) or skips
    // the folder with a warning, it names the folder escaped and forges nothing.
    const all = await kbak(['prune', '--dry-run', '--keep-last', '1', '--source', root]);
    expectSafe(all.stdout);
    expectSafe(all.log.map((l) => l.slice(0, -1)));
    const said = [
      ...all.stdout,
      ...all.log.map((l) => String((JSON.parse(l) as { msg?: string }).msg)),
      all.error === null ? '' : escapeControl(all.error.oneLine()),
    ];
    expect(said.some((l) => /evil(\\u000a|\\n)ok {6}prod\\u202e/.test(l))).toBe(true);
    if (all.error !== null) expect(all.error).toBeInstanceOf(IntegrityError);
  });

  it('cat: record lines go through the same stdout', async () => {
    const r = await kbak(['cat', FULL, '--name', 'names', '--topic', 'orders', '--source', root]);
    expectSafe(r.stdout);
    expect(r.stdout).toHaveLength(5);
  });

  it('the JSON log escapes bidi, C1 and line separators too, and stays JSON that means the same', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', write: (s) => lines.push(s) });
    const evil = `a\nb\u202ec\u0085d\u2028e\u2066f\u001bg`;
    log.warn({ cluster: evil }, `cluster ${evil}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(lines[0]!.slice(0, -1)).not.toMatch(RAW_UNSAFE);
    const o = JSON.parse(lines[0]!) as { cluster: string; msg: string };
    expect(o.cluster).toBe(evil);
    expect(o.msg).toBe(`cluster ${evil}`);
  });

  it('the human log prints one escaped line per event', () => {
    const lines: string[] = [];
    createLogger({ format: 'human', write: (s) => lines.push(s) }).warn(`x\n${FORGED_OK}\u202e`);
    expect(lines).toEqual([`kbak: warning: x\\u000a${FORGED_OK}\\u202e\n`]);
    expect(escapeJsonLine('{"a":"\u202e"}\n')).toBe('{"a":"\\u202e"}\n');
  });
});

describe('defect 7: a hostile manifest is refused before JSON.parse builds it', () => {
  const refuse = (text: string): string => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      decodeManifest(Buffer.from(text), 'sample/x');
    } catch (err) {
      expect(err).toBeInstanceOf(IntegrityError);
      // Nothing of the manifest's size was parsed (the scan only parses short escaped keys).
      expect(parse.mock.calls.filter(([s]) => typeof s === 'string' && s.length > 1000)).toEqual([]);
      return (err as Error).message;
    } finally {
      parse.mockRestore();
    }
    throw new Error('accepted');
  };

  it('nested arrays (the 3.3 GB case, here 1 MiB)', () => {
    expect(refuse(nestedArraysText(1 << 20))).toBe('manifest sample/x is nested deeper than 16 levels at 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0');
  });

  it('padding of tiny arrays or objects beyond one per 8 bytes', () => {
    const text = paddedManifestText(1 << 20, 'arrays');
    expect(refuse(text)).toBe(`manifest sample/x has more than ${Math.floor(Buffer.byteLength(text) / 16)} objects and arrays`);
    expect(refuse(paddedManifestText(1 << 20, 'objects'))).toMatch(/^manifest sample\/x has more than 655\d\d objects and arrays$/);
  });

  it('json-shape: depth, containers, items, vocabulary, duplicate keys; brackets and quotes inside strings do not count', () => {
    const limits = { maxDepth: 3, maxContainers: 50, maxItems: 100, maxKeys: 3 };
    expect(jsonShapeProblem('{"a":[{"b":"[[[[{{{\\"]]"}]}', limits)).toBeNull();
    expect(jsonShapeProblem('[[[[]]]]', limits)).toBe('is nested deeper than 3 levels at 0.0.0');
    expect(jsonShapeProblem('[{"a":1,"b":2},{"c":3,"d":4}]', limits)).toBe('has more than 3 distinct keys (the last one at 1)');
    expect(jsonShapeProblem(`[${'{"a":1,"b":2,"c":3},'.repeat(20)}{}]`, limits)).toBeNull();
    expect(jsonShapeProblem('{"a":{"b":1,"b":2}}', limits)).toBe('has the key "b" twice in one object at a');
    expect(jsonShapeProblem('[{"a\\\\":1},{"a\\\\":1}]', limits)).toBeNull();
    expect(jsonShapeProblem('{"\\"":1,"\\u0022":2}', limits)).toBe('has the key "\\"" twice in one object at (root)');
    expect(jsonShapeProblem(`[${'[],'.repeat(49)}[]]`, limits)).toBe('has more than 50 objects and arrays');
    expect(jsonShapeProblem(`[${'{"a":1,"b":2,"c":3},'.repeat(25)}[]]`, limits)).toBe('has more than 100 objects, arrays and members');
  });

  it('a vocabulary of fresh keys (the 3.9 GB shape, here 1 MiB) is refused; the densest admitted shapes pass', () => {
    expect(refuse(`{"padding":[${Array.from({ length: 2000 }, (_, i) => `{"k${i}":0}`).join(',')}]}`)).toBe(
      'manifest sample/x has more than 1000 distinct keys (the last one at padding.999)',
    );
    expect(refuse(paddedManifestText(1 << 20, 'fresh-keys'))).toMatch(/^manifest sample\/x has more than 1000 distinct keys/);
    for (const shape of ['limit-arrays', 'limit-objects', 'limit-mixed', 'limit-keys'] as const) {
      const text = paddedManifestText(1 << 20, shape);
      expect({ shape, problem: jsonShapeProblem(text, MANIFEST_JSON_LIMITS(Buffer.byteLength(text))) }).toEqual({ shape, problem: null });
    }
  });

  it('64 MiB of empty topic objects: zod stops at the first bad element (one issue, not six per element)', () => {
    const json = JSON.parse(paddedManifestText(200_000, 'empty-topics')) as { topics: unknown[] };
    expect(json.topics.length).toBeGreaterThan(60_000);
    const r = manifestSchema.safeParse(json);
    expect(r.success).toBe(false);
    expect(r.error!.issues).toHaveLength(1);
    expect(r.error!.issues[0]!.path).toEqual(['topics', 0, 'name']);
  });

  it('a manifest kbak writes passes the scan with room to spare', () => {
    for (const big of [gapsAndSegmentsManifest(2000), vectorManifest(INCREMENTAL)]) {
      const text = JSON.stringify(big, null, 2);
      expect(jsonShapeProblem(text, MANIFEST_JSON_LIMITS(text.length))).toBeNull();
      // and compact, as another writer may write it
      expect(jsonShapeProblem(JSON.stringify(big), MANIFEST_JSON_LIMITS(JSON.stringify(big).length))).toBeNull();
    }
  });
});

describe('defect 8: legal input never exits 70', () => {
  it('inspect prints a record timestamp beyond a Date (8 640 000 000 000 001) as the number', async () => {
    const root = copyVector(tmp());
    putManifest(root, CLUSTER, FULL, farTimestampManifest());
    const r = await kbak(['inspect', FULL, '--source', root]);
    expect(r.error).toBeNull();
    expect(r.stdout.find((l) => /^ {2}1 /.test(l))).toMatch(
      /8640000000000001 \(ms, beyond the calendar\) \.\. 9223372036854775807 \(ms, beyond the calendar\)/,
    );
    expect(describeTimestamp(8_640_000_000_000_000n)).toBe('+275760-09-13T00:00:00.000Z');
    expect(describeTimestamp(-8_640_000_000_000_001n)).toBe('-8640000000000001 (ms, beyond the calendar)');
  });

  it('a table of 200 000 rows (kbak list of 140 000 backups overflowed the stack in Math.max(...rows))', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [String(i), 'x'.repeat(i % 7)]);
    const lines = table(['ID', 'NAME'], rows);
    expect(lines).toHaveLength(200_001);
    expect(lines[0]).toBe('ID      NAME');
  });

  it('list of many backups works (a few hundred here; the 140 000 figure is in RELIABILITY.md)', async () => {
    const root = tmp();
    for (let i = 0; i < 300; i++) {
      const id = `20260101T000000${String(i).padStart(3, '0')}Z`;
      putManifest(root, CLUSTER, id, zeroTopicManifest(CLUSTER, id));
    }
    expect(await listBackups(new DiskStore(root))).toHaveLength(300);
    const r = await kbak(['list', '--source', root]);
    expect(r.error).toBeNull();
    expect(r.stdout).toHaveLength(301);
  });
});

describe('silent logger stays silent', () => {
  it('is usable as a CommandEnv logger', () => {
    expect(() => silentLogger().info('x')).not.toThrow();
  });
});
