#!/usr/bin/env node
// Renders the markdown report of scripts/bench.sh from its measurements:
//   node scripts/bench/report.cjs MEASUREMENTS.tsv NOTES.txt
// MEASUREMENTS.tsv: one line per run: tool, repeat, wall seconds, peak RSS KiB, records,
// output bytes (or -), kbak --json summary (or -). Run metadata comes from BENCH_* variables.
// Every figure is the median over the repeats; ratios compare tools measured in the same run.
'use strict';

const fs = require('fs');

const [tsvPath, notesPath] = process.argv.slice(2);
const env = process.env;

const TOOLS = [
  { id: 'kcat-file', label: 'kcat → file (raw, no compression)' },
  { id: 'kcat-zstd', label: 'kcat \\| zstd -3 → file' },
  { id: 'cperf', label: 'Kafka ConsumerPerformance (JVM, discards records)' },
  { id: 'kbak-disk', label: '**kbak dump → local disk**' },
  { id: 'kbak-s3', label: '**kbak dump → S3**' },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

const runs = fs
  .readFileSync(tsvPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [tool, rep, wall, rss, records, outBytes, summary] = l.split('\t');
    return {
      tool,
      rep: Number(rep),
      wall: Number(wall),
      rssKiB: Number(rss),
      records: Number(records),
      outBytes: outBytes === '-' ? NaN : Number(outBytes),
      summary: summary && summary !== '-' ? JSON.parse(summary) : null,
    };
  });

function stats(tool) {
  const rs = runs.filter((r) => r.tool === tool);
  if (rs.length === 0) return null;
  const walls = rs.map((r) => r.wall);
  const recordsPerSec = median(rs.map((r) => r.records / r.wall));
  return {
    n: rs.length,
    wall: median(walls),
    wallMin: Math.min(...walls),
    wallMax: Math.max(...walls),
    records: median(rs.map((r) => r.records)),
    recordsPerSec,
    rssMiB: median(rs.map((r) => r.rssKiB / 1024)),
    rssMinMiB: Math.min(...rs.map((r) => r.rssKiB / 1024)),
    rssMaxMiB: Math.max(...rs.map((r) => r.rssKiB / 1024)),
    outBytes: median(rs.map((r) => r.outBytes)),
    summaries: rs.map((r) => r.summary).filter(Boolean),
  };
}

const N = Number(env.BENCH_RECORDS);
const S = Number(env.BENCH_RECORD_BYTES);
const kbakDisk = stats('kbak-disk');
const kbakS3 = stats('kbak-s3');
const kbakQuarter = stats('kbak-disk-quarter');
const kcatFile = stats('kcat-file');
const kcatZstd = stats('kcat-zstd');

// One byte count for every tool's MB/s: kbak's raw (uncompressed) bytes of the same records,
// so MB/s ratios equal records/s ratios. Falls back to records × record size.
const rawBytes = kbakDisk && kbakDisk.summaries.length ? median(kbakDisk.summaries.map((s) => s.rawBytes)) : N * S;
const perRecordBytes = rawBytes / N;

const out = [];
const p = (s = '') => out.push(s);

p(`# kbak bench ${env.BENCH_ID}`);
p();
p(`- date: ${env.BENCH_DATE}, host: ${env.BENCH_HOST} (${env.BENCH_CPUS} CPUs, load before start ${env.BENCH_LOAD}), node ${env.BENCH_NODE}, Kafka ${env.KAFKA_VERSION || '?'}`);
p(`- topic \`${env.BENCH_TOPIC}\`: ${fmtInt(N)} records × ${S} B values (${env.BENCH_PARTITIONS} partitions, filled by ${env.BENCH_PRODUCER_DESC} in ${fmt(Number(env.BENCH_PRODUCE_S))} s)`);
p(`- each figure: median of ${env.BENCH_REPEAT} runs, tools interleaved within each repeat; wall time includes process start-up (JVM, node); peak RSS from \`/usr/bin/time -v\``);
p(`- MB/s = kbak's raw record bytes (${fmtInt(rawBytes)} B, ${fmt(perRecordBytes, 0)} B/record, from its \`--json\` summary) ÷ wall time, the same byte count for every tool (MB = 10^6 B)`);
p(`- ratios are kbak ÷ tool: throughput > 1 means kbak is faster; memory > 1 means kbak uses more`);
p();
p('| tool | wall s (min–max) | records/s | MB/s | peak RSS MiB (min–max) | throughput kbak→disk ÷ tool | throughput kbak→S3 ÷ tool | RSS kbak→disk ÷ tool | RSS kbak→S3 ÷ tool |');
p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const t of TOOLS) {
  const s = stats(t.id);
  if (!s) {
    p(`| ${t.label} | skipped | | | | | | | |`);
    continue;
  }
  const mbps = (s.records * perRecordBytes) / s.wall / 1e6;
  p(
    `| ${t.label} | ${fmt(s.wall, 2)} (${fmt(s.wallMin, 2)}–${fmt(s.wallMax, 2)}) | ${fmtInt(s.recordsPerSec)} | ${fmt(mbps)} | ${fmt(s.rssMiB, 0)} (${fmt(s.rssMinMiB, 0)}–${fmt(s.rssMaxMiB, 0)}) | ` +
      `${ratio(kbakDisk?.recordsPerSec, s.recordsPerSec)} | ${ratio(kbakS3?.recordsPerSec, s.recordsPerSec)} | ${ratio(kbakDisk?.rssMiB, s.rssMiB)} | ${ratio(kbakS3?.rssMiB, s.rssMiB)} |`,
  );
}
p();

if (kbakDisk && kbakDisk.summaries.length) {
  const sm = kbakDisk.summaries;
  const m = (f) => median(sm.map(f));
  p('## kbak summary (→ local disk, median of its `--json` summaries)');
  p();
  p(`- records ${fmtInt(m((s) => s.records))}, partitions ${sm[0].partitions}, segments ${m((s) => s.segments)}`);
  p(`- raw ${fmtInt(m((s) => s.rawBytes))} B, stored ${fmtInt(m((s) => s.storedBytes))} B, **compression ratio ${fmt(m((s) => s.compressionRatio), 2)}** (zstd level 3 in 1 MiB blocks)`);
  if (kcatFile && kcatZstd && Number.isFinite(kcatFile.outBytes) && Number.isFinite(kcatZstd.outBytes)) {
    p(`- for comparison, the same records as kcat text (\`%k %s %h\`): ${fmtInt(kcatFile.outBytes)} B, through \`zstd -3\` (one stream): ${fmtInt(kcatZstd.outBytes)} B, ratio ${fmt(kcatFile.outBytes / kcatZstd.outBytes, 2)}`);
  }
  p(`- kbak's own timer (from first fetch setup to manifest, no process start-up): ${fmt(m((s) => s.durationMs) / 1000, 2)} s, ${fmtInt(m((s) => s.recordsPerSecond))} records/s`);
  if (kbakS3 && kbakS3.summaries.length) {
    const m3 = (f) => median(kbakS3.summaries.map(f));
    p(`- → S3: own timer ${fmt(m3((s) => s.durationMs) / 1000, 2)} s, ${fmtInt(m3((s) => s.recordsPerSecond))} records/s, stored ${fmtInt(m3((s) => s.storedBytes))} B`);
  }
  p();
}

if (kbakDisk && kbakQuarter) {
  p('## Memory boundedness (kbak dump → local disk, same topic, `--max-records-per-partition` for the small size)');
  p();
  p('| records dumped | wall s | records/s | peak RSS MiB (min–max) |');
  p('| ---: | ---: | ---: | ---: |');
  for (const s of [kbakQuarter, kbakDisk]) {
    p(`| ${fmtInt(s.records)} | ${fmt(s.wall, 2)} | ${fmtInt(s.recordsPerSec)} | ${fmt(s.rssMiB, 0)} (${fmt(s.rssMinMiB, 0)}–${fmt(s.rssMaxMiB, 0)}) |`);
  }
  p();
  p(`Peak RSS grows ${ratio(kbakDisk.rssMiB, kbakQuarter.rssMiB)} for ${ratio(kbakDisk.records, kbakQuarter.records)} the records (bounded memory: close to 1×).`);
  p();
}

const cperf = stats('cperf');
if (cperf && cperf.summaries.length) {
  p('## Start-up excluded');
  p();
  const self = median(cperf.summaries.map((s) => s.selfRecordsPerSec));
  const fetch = median(cperf.summaries.map((s) => s.fetchRecordsPerSec));
  p(`- ConsumerPerformance's own figures (no JVM start-up): ${fmtInt(self)} records/s overall, ${fmtInt(fetch)} records/s excluding the group join`);
  if (kbakDisk && kbakDisk.summaries.length) {
    const own = median(kbakDisk.summaries.map((s) => s.recordsPerSecond));
    p(`- kbak's own figure (no node start-up): ${fmtInt(own)} records/s → kbak ÷ ConsumerPerformance ${ratio(own, self)} (overall), ${ratio(own, fetch)} (fetch only)`);
  }
  p();
}

const notes = notesPath && fs.existsSync(notesPath) ? fs.readFileSync(notesPath, 'utf8').trim() : '';
p('## Notes');
p();
p('- RSS of a pipeline (kcat | zstd) is that of its largest process, not the sum (what `/usr/bin/time` reports).');
p('- kcat and ConsumerPerformance run with their defaults, kbak with its defaults (`--concurrency 4`); kcat and kbak read every partition to its end, ConsumerPerformance stops after N records.');
p('- The broker runs on the same machine and shares its CPUs with every tool measured; compare ratios, not absolute figures.');
if (notes) for (const l of notes.split('\n')) p(`- ${l}`);
p();

process.stdout.write(out.join('\n'));
