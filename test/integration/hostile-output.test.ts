/**
 * Issue 15, defect 6, end to end: the built CLI (a real process: stdout, stderr, the JSON
 * logger on fd 2, the error line of main) on a store whose folder names and manifest
 * fields try to forge output lines. Offline: no broker, registry or S3 is needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KBAK_BIN } from '../support/kbak-cli';
import { FORGED_OK, forgedLinesStore, FULL } from '../support/hostile-manifests';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const root = mkdtempSync(join(tmpdir(), 'kbak-hostile-output-'));
forgedLinesStore(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function kbak(...args: string[]): { code: number | null; out: string[]; err: string[] } {
  const r = spawnSync(process.execPath, [KBAK_BIN, ...args, '--source', root], { encoding: 'utf8', env: { PATH: process.env.PATH, KBAK_LOG_LEVEL: 'info' } });
  const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');
  const out = lines(r.stdout);
  const err = lines(r.stderr);
  for (const l of [...out, ...err]) {
    expect({ line: l, raw: RAW_UNSAFE.test(l) }).toEqual({ line: l, raw: false });
    expect(l.startsWith(FORGED_OK)).toBe(false);
    expect(/^ok {6}prod/.test(l)).toBe(false);
  }
  return { code: r.status, out, err };
}

describe('kbak prints no forged line from stored names (built CLI)', () => {
  it('verify --all: one line per backup, one error line, exit 7', () => {
    const r = kbak('verify', '--all');
    expect(r.code).toBe(7);
    expect(r.out).toHaveLength(4);
    expect(r.out.filter((l) => l.startsWith('ok '))).toHaveLength(1);
    expect(r.err).toEqual([expect.stringMatching(/^kbak: 3 of 4 backups failed verification: first bad object evil\\u000aok {6}prod\\u202e\//)]);
  });

  it('prune --dry-run over the whole store names the evil folder escaped (refused: exit 5; or skipped with a warning)', () => {
    const r = kbak('prune', '--dry-run', '--keep-last', '1');
    expect([0, 5]).toContain(r.code);
    // stderr: JSON log lines (not a terminal) or kbak's error line; a log line is read by its message.
    const said = r.err.map((l) => (l.startsWith('{') ? String((JSON.parse(l) as { msg?: string }).msg) : l));
    expect(said.some((l) => /evil(\\u000a|\\n)ok {6}prod\\u202e/.test(l))).toBe(true);
    // The store also holds refused manifests (cluster forged): a prune that reaches them stops with one line.
    if (r.code === 5) expect(r.err.at(-1)).toMatch(/^kbak: cannot prune (evil\\u000aok {6}prod\\u202e|forged): /);
  });

  it('inspect and list in human form, prune with JSON logs on stderr', () => {
    const inspect = kbak('inspect', FULL, '--name', 'names');
    expect(inspect.code).toBe(0);
    // a config value, a registration and a group name, each kept on its own line
    expect(inspect.out.filter((l) => l.includes(FORGED_OK))).toHaveLength(3);
    const list = kbak('list');
    expect(list.code).toBe(0);
    expect(list.out).toHaveLength(5);
    const prune = kbak('--log-format', 'json', 'prune', '--dry-run', '--keep-last', '1', '--name', 'names');
    expect(prune.code).toBe(0);
    expect(prune.err.length).toBeGreaterThan(0);
    for (const l of prune.err) expect((JSON.parse(l) as { app: string }).app).toBe('kbak');
  });
});
