// scripts/bench/report.cjs, the report of `npm run bench`: fed a small measurements file with every
// shape and OSO's rows, it must compute the per-shape ratios (kbak ÷ tool, medians of records/s)
// and issue 22's targets from them, in BENCHMARKS.json and in the markdown's tables.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPORT = join(__dirname, '..', '..', 'scripts', 'bench', 'report.cjs');
const N = 1000;
const SMALL = 4000;

interface Target {
  shape: string;
  name: string;
  value: number | null;
  met: boolean | null;
}
interface Report {
  shapes: Record<
    string,
    { records: number; recordBytes: number; ratios: Record<string, number | null>; tools: Record<string, { median: { recordsPerSec: number } }> }
  >;
  targetsRound2: Target[];
  /** Round 1's ratios, on the default shape. */
  ratios: Record<string, number | null>;
  kbakVersion: { runs: number; medianSeconds: number } | null;
  notes: string[];
}

/** One TSV line: tool, repeat, wall, RSS KiB, records, out bytes, JSON, CPU s, shape (omitted: default). */
const line = (tool: string, rep: number, wall: number, rssMiB: number, records: number, json: unknown, shape?: string) =>
  [tool, rep, wall, rssMiB * 1024, records, '-', json === undefined ? '-' : JSON.stringify(json), '0.5', ...(shape ? [shape] : [])].join('\t');

/** Three runs of TOOL on SHAPE with these walls (the middle wall gives the median records/s). */
const runsOf = (tool: string, walls: number[], records: number, shape?: string, rssMiB = 100, json?: unknown) =>
  walls.map((w, i) => line(tool, i + 1, w, rssMiB, records, json, shape));

function runReport(lines: string[]): { json: Report; md: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  try {
    const p = (f: string) => join(dir, f);
    writeFileSync(p('m.tsv'), `${lines.join('\n')}\n`);
    writeFileSync(p('c.tsv'), 'kbak-dump-disk\tnode bin/kbak.js dump --topic t --to d\n');
    writeFileSync(p('notes.txt'), '');
    execFileSync(process.execPath, [REPORT, p('m.tsv'), p('c.tsv'), p('notes.txt'), p('none.md'), p('out.md'), p('out.json')], {
      env: {
        ...process.env,
        BENCH_RECORDS: String(N),
        BENCH_RECORD_BYTES: '100',
        BENCH_PARTITIONS: '6',
        BENCH_REPEAT: '3',
        BENCH_GROUPS: '0',
        BENCH_CODEC: 'lz4',
        BENCH_WIDE_PARTITIONS: '200',
        BENCH_SHAPES: 'default,small,compressible',
        BENCH_SMALL_RECORDS: String(SMALL),
        BENCH_FILL_S: 'default=1.5,small=2.5,compressible=1.0,',
        BENCH_OSO: 'kafka-backup-core 0.25.2',
      },
    });
    return { json: JSON.parse(readFileSync(p('out.json'), 'utf8')) as Report, md: readFileSync(p('out.md'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const summary = (records: number, rawBytes: number) => ({
  records,
  rawBytes,
  durationMs: 500,
  recordsPerSecond: records * 2,
  storedBytes: rawBytes / 2,
  compressionRatio: 2,
});

// default: the 9th column left out (an older measurements file), so the shape defaults to 'default'.
// Medians of records/s: kbak dump → disk N/2 s, kcat -C N/1 s, OSO backup N/4 s, S3 N/2.5 s;
// restore N/2 s, kcat -P N/1.6 s, OSO's restore N/2 s (exactly level: "> 1.0×" is not met).
const defaultShape = [
  ...runsOf('kbak-dump-disk', [2.2, 2, 1.9], N, undefined, 180, summary(N, 150_000)),
  ...runsOf('kcat-file', [1, 0.9, 1.4], N),
  ...runsOf('oso-backup', [4, 4.5, 3], N, undefined, 500),
  ...runsOf('kbak-dump-s3', [2.5, 2.4, 3], N, undefined, 200, summary(N, 150_000)),
  ...runsOf('kbak-restore', [2, 2.1, 1.5], N, undefined, 250),
  ...runsOf('kcat-produce', [1.6, 1.7, 1.5], N, undefined, 50, { createMs: 120 }),
  ...runsOf('oso-restore', [2, 2.5, 1.8], N),
];
// small: kbak dump → disk SMALL/2 s against kcat SMALL/1.6 s (1.25×: faster than kcat); no OSO rows
// (its targets are n/a, not missed); restore SMALL/4 s against kcat -P SMALL/3.2 s (0.8×: just met);
// restore peak RSS 300 MiB (the RSS target missed).
const smallShape = [
  ...runsOf('kbak-dump-disk', [2, 2.1, 1.9], SMALL, 'small', 150, summary(SMALL, 600_000)),
  ...runsOf('kcat-file', [1.6, 1.5, 1.7], SMALL, 'small'),
  ...runsOf('kbak-dump-s3', [2.5, 2.6, 2.4], SMALL, 'small', 160, summary(SMALL, 600_000)),
  ...runsOf('kbak-restore', [4, 4.1, 3.9], SMALL, 'small', 300),
  ...runsOf('kcat-produce', [3.2, 3.1, 3.3], SMALL, 'small'),
];
// compressible: every target met (restore 2× OSO's).
const compressibleShape = [
  ...runsOf('kbak-dump-disk', [1, 1.1, 0.9], N, 'compressible', 120, summary(N, 1_200_000)),
  ...runsOf('kcat-file', [1.2, 1.1, 1.3], N, 'compressible'),
  ...runsOf('oso-backup', [1.5, 1.4, 1.6], N, 'compressible'),
  ...runsOf('kbak-dump-s3', [1.2, 1.1, 1.3], N, 'compressible', 130, summary(N, 1_200_000)),
  ...runsOf('kbak-restore', [1, 1.1, 0.9], N, 'compressible', 140),
  ...runsOf('kcat-produce', [1.2, 1.1, 1.3], N, 'compressible'),
  ...runsOf('oso-restore', [2, 2.2, 1.8], N, 'compressible'),
];
const version = [0.1, 0.12, 0.2, 0.11, 0.13].map((w, i) => line('kbak-version', i + 1, w, 80, 0, undefined, 'default'));

describe('bench report (scripts/bench/report.cjs)', () => {
  const { json, md } = runReport([...defaultShape, ...smallShape, ...compressibleShape, ...version]);
  const target = (shape: string, start: string) => {
    const t = json.targetsRound2.find((x) => x.shape === shape && x.name.startsWith(start));
    if (!t) throw new Error(`no target "${start}" on ${shape}`);
    return t;
  };

  it('computes the ratios of every shape as kbak ÷ tool from median records/s', () => {
    expect(Object.keys(json.shapes)).toEqual(['default', 'small', 'compressible']);
    const d = json.shapes.default!.ratios;
    expect(d.dumpDiskVsKcat).toBeCloseTo(0.5, 3);
    expect(d.dumpDiskVsOso).toBeCloseTo(2, 3);
    expect(d.dumpS3VsDumpDisk).toBeCloseTo(2 / 2.5, 3);
    expect(d.restoreVsKcat).toBeCloseTo(1.6 / 2, 3);
    expect(d.restoreVsOso).toBeCloseTo(1, 3);
    // Round 1's ratios are the default shape's.
    expect([json.ratios.dumpDiskVsKcat, json.ratios.dumpS3VsKcat, json.ratios.restoreVsKcat]).toEqual([d.dumpDiskVsKcat, d.dumpS3VsKcat, d.restoreVsKcat]);
    expect(json.ratios.dumpDiskVsKcat).toBeCloseTo(0.5, 3);
    const s = json.shapes.small!;
    expect(s.records).toBe(SMALL);
    expect(s.recordBytes).toBe(150);
    expect(s.tools['kbak-dump-disk']!.median.recordsPerSec).toBe(SMALL / 2);
    expect(s.ratios.dumpDiskVsKcat).toBeCloseTo(1.6 / 2, 3);
    expect(s.ratios.dumpDiskVsOso).toBeNull();
    expect(json.shapes.compressible!.ratios.restoreVsOso).toBeCloseTo(2, 3);
  });

  it("checks issue 22's targets on every shape, with n/a where a peer was not measured", () => {
    expect(target('default', 'kbak dump → disk ≥ 1.0× kcat -C')).toMatchObject({ value: 0.5, met: false });
    expect(target('default', "kbak dump → disk ≥ 1.0× OSO's backup")).toMatchObject({ value: 2, met: true });
    expect(target('default', 'kbak restore ≥ 0.8× kcat -P')).toMatchObject({ value: 0.8, met: true });
    expect(target('default', "kbak restore > 1.0× OSO's restore")).toMatchObject({ value: 1, met: false });
    expect(target('default', 'kbak dump → S3 ≥ 0.8× kbak dump → disk')).toMatchObject({ value: 0.8, met: true });
    expect(target('default', 'peak RSS ≤ 256 MiB')).toMatchObject({ value: 250, met: true });
    expect(target('small', "kbak dump → disk ≥ 1.0× OSO's backup")).toMatchObject({ value: null, met: null });
    expect(target('small', "kbak restore > 1.0× OSO's restore").met).toBeNull();
    expect(target('small', 'kbak restore ≥ 0.8× kcat -P')).toMatchObject({ value: 0.8, met: true });
    expect(target('small', 'peak RSS ≤ 256 MiB')).toMatchObject({ value: 300, met: false });
    expect(json.targetsRound2.filter((t) => t.shape === 'compressible').every((t) => t.met === true)).toBe(true);
    expect(json.targetsRound2).toHaveLength(3 * 6 + 1);
  });

  it('reports kbak --version as the median of its runs against 0.15 s', () => {
    expect(json.kbakVersion).toMatchObject({ runs: 5, medianSeconds: 0.12 });
    expect(target('—', '`kbak --version` ≤ 0.15 s')).toMatchObject({ value: 0.12, met: true });
  });

  it('writes the targets table and per-shape tables with kbak ÷ kcat and kbak ÷ OSO side by side', () => {
    expect(md).toContain('## Targets (issue 22, "Performance, round 2")');
    expect(md).toContain('## Targets (issue "Performance", round 1; default shape)');
    expect(md).toContain('| default | kbak dump → disk ≥ 1.0× kcat -C | 0.50× | **no** |');
    expect(md).toContain("| small | kbak dump → disk ≥ 1.0× OSO's backup | n/a | n/a |");
    expect(md).toContain('| small | peak RSS ≤ 256 MiB (kbak dump → disk / dump → S3 / restore) | 150 / 160 / 300 MiB | **no** |');
    expect(md).toContain('| — | `kbak --version` ≤ 0.15 s (wall, median of 5) | 0.120 s (0.100–0.200) | yes |');
    for (const shape of ['default', 'small', 'compressible']) {
      expect(md).toContain(`## Dump side (shape ${shape})`);
      expect(md).toContain(`## Restore side (shape ${shape})`);
    }
    // The kbak restore row of the default shape: 0.80× kcat -P and 1.00× OSO's restore, side by side.
    expect(md).toMatch(/\| \*\*kbak restore → new lane\*\* \(--compression lz4\) \| 2\.00 \(1\.50–2\.10\) \| 500 \|[^\n]*\| 0\.80× \| 1\.00× \|/);
    // Topic creation added to kcat -P's time is said, with its measured median.
    expect(json.notes.some((n) => n.includes('median 120 ms') && n.includes('inside every tool'))).toBe(true);
    expect(json.notes.some((n) => n.includes('x-original-offset'))).toBe(true);
  });
});
