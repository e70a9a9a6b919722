#!/usr/bin/env node
// Writes BENCHMARKS.md and BENCHMARKS.json from the measurements of scripts/bench.sh:
//   node scripts/bench/report.cjs MEASUREMENTS.tsv COMMANDS.tsv NOTES.txt PROFILE.md OUT.md OUT.json
// MEASUREMENTS.tsv: one line per run: tool, repeat, wall seconds, peak RSS KiB, records, output
// bytes (or -), JSON (kbak's --json summary, a peer's own figures, or -), CPU seconds (user + system),
// shape (BENCH_SHAPES: default, small, compressible; 'default' when the column is missing).
// COMMANDS.tsv: tool, the exact command line of its first run. Run metadata comes from BENCH_*.
// Every figure is the median over the repeats; ratios compare tools measured in the same run on the
// same shape, as kbak ÷ tool in records/s (> 1: kbak faster).
'use strict';

const fs = require('fs');

const [tsvPath, cmdsPath, notesPath, profilePath, mdPath, jsonPath] = process.argv.slice(2);
const env = process.env;
const N = Number(env.BENCH_RECORDS);
const S = Number(env.BENCH_RECORD_BYTES);
const R = Number(env.BENCH_REPEAT);
const G = Number(env.BENCH_GROUPS);
const CODEC = env.BENCH_CODEC;

const TOOLS = {
  'kbak-dump-disk': { side: 'dump', label: '**kbak dump → local disk**' },
  'kbak-dump-s3': { side: 'dump', label: '**kbak dump → S3**' },
  'kcat-file': { side: 'dump', label: 'kcat -C → file (raw)' },
  'kcat-zstd': { side: 'dump', label: 'kcat -C \\| zstd -3 → file' },
  'kcat-nowait': { side: 'dump', label: 'kcat -C → file, fetch.wait.max.ms=10 (no 0.5 s wait at the end)' },
  cperf: { side: 'dump', label: 'Kafka ConsumerPerformance (read ceiling, discards records)' },
  'oso-backup': { side: 'dump', label: "OSO's backup → local disk (kafka-backup-core, one-shot, zstd-3, its defaults)" },
  'kbak-restore': { side: 'restore', label: `**kbak restore → new lane** (--compression ${CODEC})` },
  'kcat-produce': { side: 'restore', label: `kcat -P -z ${CODEC} (same records, 3 headers)` },
  'oso-restore': { side: 'restore', label: "OSO's restore → new topic (kafka-backup-core, its defaults)" },
  pperf: { side: 'restore', label: `Kafka ProducerPerformance, compression.type=${CODEC} (keys, no headers)` },
  'kbak-restore-baggage': { side: 'restore', label: `**kbak restore → new lane --lane-baggage lane** (--compression ${CODEC})` },
  'kbak-restore-groups': { side: 'groups', label: `**kbak restore → new lane, ${G} consumer groups**` },
  'kbak-restore-avro': { side: 'masked', label: `**kbak restore → new lane**, Avro topic, unmasked (--compression ${CODEC})` },
  'kbak-restore-avro-records': {
    side: 'masked',
    label: `kbak restore → new lane, Avro topic, unmasked, record by record (--since 2000-01-01: no whole-block transcoding, as with --policy)`,
  },
  'kbak-restore-masked': { side: 'masked', label: `**kbak restore → new lane --policy**, Avro topic, 3 masked fields, 90 % sample (--compression ${CODEC})` },
  'kbak-version': { side: 'startup', label: '`kbak --version`' },
};
// The topics measured (scripts/bench.sh BENCH_SHAPES); the default one gets every row.
const SHAPE_NAMES = (env.BENCH_SHAPES || 'default').split(',').filter(Boolean);
const SMALL_N = Number(env.BENCH_SMALL_RECORDS);
const SHAPE_INFO = {
  default: { records: N, what: `${S} B values of random letters` },
  small: { records: SMALL_N, what: 'JSON events of about 100 B (per-record cost dominates)' },
  compressible: { records: N, what: '1 KiB JSON-ish log lines, a few varying fields (compression is cheap, everything else shows)' },
};
const FILL_S = Object.fromEntries(
  (env.BENCH_FILL_S || '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), Number(kv.slice(kv.indexOf('=') + 1))]),
);
if (!FILL_S.default && env.BENCH_PRODUCE_S) FILL_S.default = Number(env.BENCH_PRODUCE_S);
// Issue 22's targets, per shape (kbak ÷ tool, records/s) and for start-up.
const ROUND2 = { dumpVsKcat: 1.0, dumpVsOso: 1.0, restoreVsKcat: 0.8, restoreVsOso: 1.0, s3VsDisk: 0.8, rssMiB: 256, versionSeconds: 0.15 };
// The masked restore's peak RSS may exceed the unmasked one's by this much: the policy's code
// (faker's locale data, the Avro maskers, the plan's schemas) loaded once, not per record.
const MASK_RSS_MARGIN_MIB = 64;
const WIDE_P = Number(env.BENCH_WIDE_PARTITIONS);
// Memory shapes (BENCH_MEMORY): one run each of the three kbak jobs on a larger and a wider topic.
const SHAPES = {
  large: `${fmtIntEarly(4 * N)} records, ${env.BENCH_PARTITIONS} partitions`,
  wide: `${fmtIntEarly(N)} records, ${WIDE_P} partitions`,
};
const JOBS = { 'dump-disk': 'kbak dump → disk', 'dump-s3': 'kbak dump → S3', restore: 'kbak restore' };
for (const [shape, what] of Object.entries(SHAPES)) {
  for (const [job, label] of Object.entries(JOBS)) TOOLS[`mem-${shape}-${job}`] = { side: 'memory', label: `${label} (${what})` };
}
function fmtIntEarly(x) {
  return Math.round(x).toLocaleString('en-US');
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const ratioOf = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
const round = (x, d) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

const runs = fs
  .readFileSync(tsvPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [tool, rep, wall, rss, records, outBytes, json, cpu, shape] = l.split('\t');
    return {
      tool,
      shape: shape || 'default',
      rep: Number(rep),
      wall: Number(wall),
      rssKiB: Number(rss),
      cpu: cpu === undefined ? NaN : Number(cpu),
      records: Number(records),
      outBytes: outBytes === '-' ? NaN : Number(outBytes),
      json: json && json !== '-' ? JSON.parse(json) : null,
    };
  });
const commands = new Map(
  fs
    .readFileSync(cmdsPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1).trim()]),
);

// One byte count for every tool's MB/s: kbak's raw (uncompressed) record bytes of the same records
// (keys, values, headers), so MB/s ratios equal records/s ratios. Falls back to records × value size.
/** kbak dump → disk's summaries on a shape, and the raw bytes of one record there. */
function shapeBytes(shape) {
  const n = SHAPE_INFO[shape]?.records ?? N;
  const summaries = runs.filter((r) => r.shape === shape && r.tool === 'kbak-dump-disk' && r.json).map((r) => r.json);
  const raw = summaries.length ? median(summaries.map((s) => s.rawBytes)) : n * S;
  return { summaries, rawBytes: raw, perRecordBytes: raw / n };
}
const { summaries: dumpSummaries, rawBytes, perRecordBytes } = shapeBytes('default');
// The Avro topic's records (masked restore) as the unmasked restore of it counts them.
const avroSummaries = runs.filter((r) => r.tool === 'kbak-restore-avro' && r.json).map((r) => r.json);
const avroRecordBytes = avroSummaries.length ? median(avroSummaries.map((j) => j.bytes / j.records)) : NaN;

function stats(tool, shape = 'default', recordBytes = perRecordBytes) {
  const rs = runs.filter((r) => r.tool === tool && r.shape === shape);
  if (rs.length === 0) return null;
  const walls = rs.map((r) => r.wall);
  const rss = rs.map((r) => r.rssKiB / 1024);
  const s = {
    runs: rs.length,
    wall: median(walls),
    wallMin: Math.min(...walls),
    wallMax: Math.max(...walls),
    records: median(rs.map((r) => r.records)),
    recordsPerSec: median(rs.map((r) => r.records / r.wall)),
    rssMiB: median(rss),
    rssMinMiB: Math.min(...rss),
    rssMaxMiB: Math.max(...rss),
    cpu: median(rs.map((r) => r.cpu)),
    outBytes: median(rs.map((r) => r.outBytes)),
    json: rs.map((r) => r.json).filter(Boolean),
  };
  s.mbPerSec = (s.recordsPerSec * (TOOLS[tool].side === 'masked' ? avroRecordBytes : recordBytes)) / 1e6;
  return s;
}
const st = Object.fromEntries(Object.keys(TOOLS).map((t) => [t, stats(t)]));
const rps = (t) => st[t]?.recordsPerSec ?? NaN;
const rss = (t) => st[t]?.rssMiB ?? NaN;
const fromJson = (t, f) => (st[t] ? median(st[t].json.map(f)) : NaN);

// Every shape's rows (the default's are `st`), its ratios and issue 22's targets on it.
const SHAPE_TOOLS = {
  dump: ['kbak-dump-disk', 'kbak-dump-s3', 'oso-backup', 'kcat-file', 'kcat-zstd', 'kcat-nowait', 'cperf'],
  restore: ['kbak-restore', 'oso-restore', 'kcat-produce', 'pperf', 'kbak-restore-baggage'],
};
const shapes = SHAPE_NAMES.map((name) => {
  const bytes = name === 'default' ? { summaries: dumpSummaries, rawBytes, perRecordBytes } : shapeBytes(name);
  const sst = name === 'default' ? st : Object.fromEntries([...SHAPE_TOOLS.dump, ...SHAPE_TOOLS.restore].map((t) => [t, stats(t, name, bytes.perRecordBytes)]));
  const r = (t) => sst[t]?.recordsPerSec ?? NaN;
  const m = (t) => sst[t]?.rssMiB ?? NaN;
  const ratios = {
    dumpDiskVsKcat: ratioOf(r('kbak-dump-disk'), r('kcat-file')),
    dumpDiskVsOso: ratioOf(r('kbak-dump-disk'), r('oso-backup')),
    dumpS3VsKcat: ratioOf(r('kbak-dump-s3'), r('kcat-file')),
    dumpS3VsOso: ratioOf(r('kbak-dump-s3'), r('oso-backup')),
    dumpS3VsDumpDisk: ratioOf(r('kbak-dump-s3'), r('kbak-dump-disk')),
    restoreVsKcat: ratioOf(r('kbak-restore'), r('kcat-produce')),
    restoreVsOso: ratioOf(r('kbak-restore'), r('oso-restore')),
  };
  const worstRssMiB = Math.max(m('kbak-dump-disk'), m('kbak-dump-s3'), m('kbak-restore'));
  const target = (name, value, met) => ({ name, value, shown: fmtRatio(value), met });
  const targets = [
    target(`kbak dump → disk ≥ ${ROUND2.dumpVsKcat.toFixed(1)}× kcat -C`, ratios.dumpDiskVsKcat, ratios.dumpDiskVsKcat >= ROUND2.dumpVsKcat),
    target(`kbak dump → disk ≥ ${ROUND2.dumpVsOso.toFixed(1)}× OSO's backup`, ratios.dumpDiskVsOso, ratios.dumpDiskVsOso >= ROUND2.dumpVsOso),
    target(`kbak restore ≥ ${ROUND2.restoreVsKcat.toFixed(1)}× kcat -P (both ${CODEC})`, ratios.restoreVsKcat, ratios.restoreVsKcat >= ROUND2.restoreVsKcat),
    target(`kbak restore > ${ROUND2.restoreVsOso.toFixed(1)}× OSO's restore`, ratios.restoreVsOso, ratios.restoreVsOso > ROUND2.restoreVsOso),
    target(`kbak dump → S3 ≥ ${ROUND2.s3VsDisk.toFixed(1)}× kbak dump → disk`, ratios.dumpS3VsDumpDisk, ratios.dumpS3VsDumpDisk >= ROUND2.s3VsDisk),
    {
      name: `peak RSS ≤ ${ROUND2.rssMiB} MiB (kbak dump → disk / dump → S3 / restore)`,
      value: worstRssMiB,
      shown: `${fmt(m('kbak-dump-disk'), 0)} / ${fmt(m('kbak-dump-s3'), 0)} / ${fmt(m('kbak-restore'), 0)} MiB`,
      met: worstRssMiB <= ROUND2.rssMiB,
    },
  ].map((t) => ({ shape: name, ...t, met: Number.isFinite(t.value) ? t.met : null }));
  return { name, ...bytes, st: sst, ratios, targets };
});
const version = st['kbak-version'];
const round2Targets = [
  ...shapes.flatMap((sh) => sh.targets),
  {
    shape: '—',
    name: `\`kbak --version\` ≤ ${ROUND2.versionSeconds} s (wall, median of ${version?.runs ?? 0})`,
    value: version?.wall ?? NaN,
    shown: version ? `${fmt(version.wall, 3)} s (${fmt(version.wallMin, 3)}–${fmt(version.wallMax, 3)})` : 'n/a',
    met: version ? version.wall <= ROUND2.versionSeconds : null,
  },
];

const groupSeedMs = fromJson('kbak-restore-groups', (j) => j.groupsDurationMs);
// The default shape's ratios are computed once, above; round 1's list adds the other peers'.
const defaultRatios = shapes.find((sh) => sh.name === 'default').ratios;
const ratios = {
  dumpDiskVsKcat: defaultRatios.dumpDiskVsKcat,
  dumpS3VsKcat: defaultRatios.dumpS3VsKcat,
  dumpDiskVsKcatZstd: ratioOf(rps('kbak-dump-disk'), rps('kcat-zstd')),
  dumpDiskVsKcatNoWait: ratioOf(rps('kbak-dump-disk'), rps('kcat-nowait')),
  dumpDiskVsConsumerPerformance: ratioOf(rps('kbak-dump-disk'), rps('cperf')),
  restoreVsKcat: defaultRatios.restoreVsKcat,
  restoreVsProducerPerformance: ratioOf(rps('kbak-restore'), rps('pperf')),
  restoreBaggageVsRestore: ratioOf(rps('kbak-restore-baggage'), rps('kbak-restore')),
  maskedVsUnmaskedRestore: ratioOf(rps('kbak-restore-masked'), rps('kbak-restore-avro')),
};
const maskedRssOver = rss('kbak-restore-masked') - rss('kbak-restore-avro');
const targets = [
  {
    name: 'kbak dump → disk ≥ 0.8× kcat -C (records/s)',
    value: ratios.dumpDiskVsKcat,
    shown: fmtRatio(ratios.dumpDiskVsKcat),
    met: ratios.dumpDiskVsKcat >= 0.8,
  },
  {
    name: 'kbak dump → disk ≥ 0.5× ConsumerPerformance (records/s)',
    value: ratios.dumpDiskVsConsumerPerformance,
    shown: fmtRatio(ratios.dumpDiskVsConsumerPerformance),
    met: ratios.dumpDiskVsConsumerPerformance >= 0.5,
  },
  {
    name: `kbak restore ≥ 0.5× kcat -P (records/s, both ${CODEC})`,
    value: ratios.restoreVsKcat,
    shown: fmtRatio(ratios.restoreVsKcat),
    met: ratios.restoreVsKcat >= 0.5,
  },
  {
    name: 'kbak restore --lane-baggage ≥ 0.8× kbak restore without it (records/s)',
    value: ratios.restoreBaggageVsRestore,
    shown: fmtRatio(ratios.restoreBaggageVsRestore),
    met: ratios.restoreBaggageVsRestore >= 0.8,
  },
  ...(st['kbak-restore-masked']
    ? [
        {
          name: 'kbak restore --policy ≥ 0.5× the unmasked restore of the same Avro backup (source records/s)',
          value: ratios.maskedVsUnmaskedRestore,
          shown: fmtRatio(ratios.maskedVsUnmaskedRestore),
          met: ratios.maskedVsUnmaskedRestore >= 0.5,
        },
        {
          name: `kbak restore --policy peak RSS ≤ the unmasked restore's + ${MASK_RSS_MARGIN_MIB} MiB`,
          value: maskedRssOver,
          shown: `${fmt(rss('kbak-restore-masked'), 0)} MiB (${maskedRssOver >= 0 ? '+' : ''}${fmt(maskedRssOver, 0)} MiB)`,
          met: maskedRssOver <= MASK_RSS_MARGIN_MIB,
        },
        {
          name: 'kbak restore --policy peak RSS ≤ 256 MiB (the restore bound, unchanged)',
          value: rss('kbak-restore-masked'),
          shown: `${fmt(rss('kbak-restore-masked'), 0)} MiB`,
          met: rss('kbak-restore-masked') <= 256,
        },
      ]
    : []),
  { name: `${G} consumer groups seeded < 1 s`, value: groupSeedMs / 1000, shown: `${fmt(groupSeedMs / 1000, 2)} s`, met: groupSeedMs < 1000 },
  {
    name: 'kbak dump → disk peak RSS ≤ 256 MiB',
    value: rss('kbak-dump-disk'),
    shown: `${fmt(rss('kbak-dump-disk'), 0)} MiB`,
    met: rss('kbak-dump-disk') <= 256,
  },
  { name: 'kbak dump → S3 peak RSS ≤ 256 MiB', value: rss('kbak-dump-s3'), shown: `${fmt(rss('kbak-dump-s3'), 0)} MiB`, met: rss('kbak-dump-s3') <= 256 },
  { name: 'kbak restore peak RSS ≤ 256 MiB', value: rss('kbak-restore'), shown: `${fmt(rss('kbak-restore'), 0)} MiB`, met: rss('kbak-restore') <= 256 },
];
// Flat memory: the largest peak RSS of each job over the main topic and every memory shape.
const shapesRun = Object.keys(SHAPES).filter((shape) => st[`mem-${shape}-dump-disk`]);
const worstRss = {};
if (shapesRun.length > 0) {
  for (const [job, label] of Object.entries(JOBS)) {
    const main = job === 'restore' ? 'kbak-restore' : `kbak-${job}`;
    const all = [rss(main), ...shapesRun.map((shape) => rss(`mem-${shape}-${job}`))].filter(Number.isFinite);
    const worst = Math.max(...all);
    worstRss[job] = { worst, spread: worst / Math.min(...all) };
    targets.push({
      name: `${label} peak RSS ≤ 256 MiB on every shape (main, ${shapesRun.join(', ')})`,
      value: worst,
      shown: `${fmt(worst, 0)} MiB (largest ÷ smallest ${fmt(worstRss[job].spread, 2)})`,
      met: worst <= 256,
    });
  }
}
const targetsOut = targets.map((t) => ({ ...t, met: Number.isFinite(t.value) ? t.met : null }));

const notes = [
  "Wall time includes process start-up (node for kbak, the JVM for Kafka's tools, none to speak of for kcat); peak RSS is that of the largest process (`/usr/bin/time -v`), for a pipeline not the sum; CPU s is user + system time of the tool and its children (a pipeline's sum), not the broker's, which shares the same 2 cores.",
  'Tools alternate within each repetition, in an order rotated every repetition. The broker runs on the same machine and shares its CPUs with every tool: compare ratios, not absolute figures.',
  'kcat and kbak read every partition to its end; ConsumerPerformance stops after N records. kbak runs with its defaults (dump `--concurrency 2`, restore `--concurrency 4`), every peer with its own defaults (acks=all for all producers).',
  `Restore side: every producer writes into a new topic with the same partitions, and the topic's creation is inside every tool's time: kbak's and OSO's restores create theirs in their run; kcat -P and ProducerPerformance cannot, so the milliseconds the topic's CreateTopics and the wait for its leaders took (measured in-process by scripts/bench/admin.cjs, connecting left out; median ${fmt(median(runs.filter((r) => r.json && r.json.createMs !== undefined).map((r) => r.json.createMs)), 0)} ms) are added to their wall time. kbak restore and kcat -P write the same records (keys, values, 3 headers); ProducerPerformance cannot set headers.`,
  ...(env.BENCH_OSO
    ? [
        `OSO: ${env.BENCH_OSO}, built with cargo --release; its backup and restore run with the crate's defaults (backup: zstd level 3, 8 partitions at a time, stop at the end offsets taken at start; restore: its own producer settings, not BENCH_CODEC). Its backup adds \`x-original-offset\` and \`x-original-timestamp\` headers to every record (\`include_offset_headers\`, on by default) and its restore writes them, so its restored records carry 2 headers more than the source's. Its records are counted outside the timing by its own reader (\`oso-bench verify\`, backup) and from the topic's offsets (restore). Its restore source is one OSO backup made before the measurements, as kbak's is one kbak backup. Its peak RSS is reported, with no target on it.`,
      ]
    : []),
  ...(fs.existsSync(notesPath) ? fs.readFileSync(notesPath, 'utf8').split('\n').filter(Boolean) : []),
];
if (N < 100000 || R < 5 || (SHAPE_NAMES.includes('small') && SMALL_N < 1000000)) {
  notes.unshift(
    `**Small configuration (${fmtInt(N)} records, ${R} repetition${R === 1 ? '' : 's'}): start-up costs dominate; these figures validate the script, they are not the reference measurement (default: 200 000 records, 1 000 000 on the small shape, 5 repetitions).**`,
  );
}

// ---------------------------------------------------------------- markdown
const out = [];
const p = (s = '') => out.push(s);
const row = (t, extra, sst = st) => {
  const s = sst[t];
  if (!s) return p(`| ${TOOLS[t].label} | skipped | | | | | ${extra.map(() => '').join(' | ')} |`);
  p(
    `| ${TOOLS[t].label} | ${fmt(s.wall, 2)} (${fmt(s.wallMin, 2)}–${fmt(s.wallMax, 2)}) | ${fmtInt(s.recordsPerSec)} | ${fmt(s.mbPerSec)} | ${fmt(s.rssMiB, 0)} (${fmt(s.rssMinMiB, 0)}–${fmt(s.rssMaxMiB, 0)}) | ${fmt(s.cpu, 2)} | ${extra.map((f) => f(s)).join(' | ')} |`,
  );
};

p('# Benchmarks');
p();
p(`Written by \`npm run bench\` (scripts/bench.sh) on ${env.BENCH_DATE}; every run rewrites this file and BENCHMARKS.json.`);
p();
p(
  `- topic: ${fmtInt(N)} records, ${S} B values, keys, 3 tracing headers, ${env.BENCH_PARTITIONS} partitions (${fmtInt(rawBytes)} B of records as kbak counts them, ${fmt(perRecordBytes, 0)} B/record), filled by kcat -P in ${fmt(Number(env.BENCH_PRODUCE_S), 1)} s`,
);
p(
  `- every figure: median of ${R} run${R === 1 ? '' : 's'} (min–max in brackets); MB/s = the shape's B/record (kbak's count of key, value and headers) × records/s (MB = 10^6 B), the same byte count for every tool on a shape; ratios are kbak ÷ tool in records/s (> 1: kbak faster), tools alternating in an order rotated every repetition`,
);
p(
  `- shapes (each its own topic, same partitions and headers, filled by kcat -P): ${shapes
    .map(
      (sh) =>
        `**${sh.name}** ${fmtInt(SHAPE_INFO[sh.name].records)} records, ${SHAPE_INFO[sh.name].what} (${fmt(sh.perRecordBytes, 0)} B/record${Number.isFinite(FILL_S[sh.name]) ? `, filled in ${fmt(FILL_S[sh.name], 1)} s` : ''})`,
    )
    .join('; ')}; the default shape gets every row, the others the rows of the targets and their peers`,
);
p(`- restore codec: ${CODEC} for kbak (\`--compression ${CODEC}\`), kcat (\`-z ${CODEC}\`) and ProducerPerformance (\`compression.type=${CODEC}\`)`);
p();
p('## Machine and versions');
p();
p(`- ${env.BENCH_CPUS} CPUs (${env.BENCH_CPU_MODEL}), ${env.BENCH_MEM} RAM, ${env.BENCH_KERNEL}, host ${env.BENCH_HOST}, load before start ${env.BENCH_LOAD}`);
p(
  `- kbak ${env.BENCH_KBAK_VERSION} at ${env.BENCH_COMMIT}, node ${env.BENCH_NODE} (Node 24 as CI installs it, scripts/lib/node-bin.sh), kafkajs ${env.BENCH_KAFKAJS}`,
);
p(`- ${env.BENCH_OSO || "OSO's kafka-backup-core: not run (no binary; see the notes)"}`);
p(
  `- Kafka ${env.KAFKA_VERSION || '?'} (single-node KRaft broker of the local stack, same machine), ${env.BENCH_KCAT || 'kcat ?'}, ${env.BENCH_ZSTD || 'zstd ?'}, ${env.BENCH_JAVA || 'java ?'}`,
);
p();
p('## Targets (issue 22, "Performance, round 2")');
p();
p(
  `Per shape, kbak ÷ tool in records/s (> 1: kbak faster), medians of ${R} runs in the same run${env.BENCH_OSO ? '' : "; OSO's rows were skipped (see the notes)"}.`,
);
p();
p('| shape | target | measured | met |');
p('| --- | --- | ---: | :---: |');
const metCell = (met) => (met === null ? 'n/a' : met ? 'yes' : '**no**');
for (const t of round2Targets) p(`| ${t.shape} | ${t.name} | ${t.shown} | ${metCell(t.met)} |`);
p();
p('## Targets (issue "Performance", round 1; default shape)');
p();
p('| target | measured | met |');
p('| --- | ---: | :---: |');
for (const t of targetsOut) p(`| ${t.name} | ${t.shown} | ${metCell(t.met)} |`);
p();
for (const sh of shapes) {
  const sst = sh.st;
  const r = (t) => sst[t]?.recordsPerSec ?? NaN;
  const vs = (ref) => (s) => fmtRatio(ratioOf(s.recordsPerSec, r(ref)));
  const info = SHAPE_INFO[sh.name];
  const fromShape = (t, f) => (sst[t] ? median(sst[t].json.map(f)) : NaN);
  p(`## Dump side (shape ${sh.name})`);
  p();
  p(
    `${fmtInt(info.records)} records: ${info.what}, keys, 3 tracing headers, ${env.BENCH_PARTITIONS} partitions, ${fmt(sh.perRecordBytes, 0)} B/record as kbak counts them. The ÷ columns divide the row's records/s by kcat -C's and by OSO's backup's: on kbak's rows they are kbak ÷ kcat and kbak ÷ OSO.`,
  );
  p();
  p('| tool | wall s | records/s | MB/s | peak RSS MiB | CPU s | ÷ kcat -C | ÷ OSO backup |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const t of SHAPE_TOOLS.dump)
    if (sst[t] || sh.name === 'default' || ['kcat-file', 'oso-backup'].includes(t)) row(t, [vs('kcat-file'), vs('oso-backup')], sst);
  p();
  if (sh.summaries.length) {
    const m = (f) => median(sh.summaries.map(f));
    p(
      `- kbak's own timer (no node start-up): ${fmt(m((s) => s.durationMs) / 1000, 2)} s, ${fmtInt(m((s) => s.recordsPerSecond))} records/s → disk; ${fmt(fromShape('kbak-dump-s3', (s) => s.durationMs) / 1000, 2)} s → S3`,
    );
    p(
      `- stored: ${fmtInt(m((s) => s.storedBytes))} B (ratio ${fmt(
        m((s) => s.compressionRatio),
        2,
      )}, zstd segments); ${sst['oso-backup'] ? `OSO's backup: ${fmtInt(sst['oso-backup'].outBytes)} B; ` : ''}kcat text \`%k\\t%s\\t%h\`: ${fmtInt(sst['kcat-file']?.outBytes)} B${sst['kcat-zstd'] ? `, through \`zstd -3\`: ${fmtInt(sst['kcat-zstd'].outBytes)} B` : ''}`,
    );
  }
  if (sst.cperf) {
    p(
      `- ConsumerPerformance's own figures (no JVM start-up): ${fmtInt(fromJson('cperf', (j) => j.selfRecordsPerSec))} records/s overall, ${fmtInt(fromJson('cperf', (j) => j.fetchRecordsPerSec))} records/s excluding the group join`,
    );
  }
  p();
  p(`## Restore side (shape ${sh.name})`);
  p();
  p("The ÷ columns divide the row's records/s by kcat -P's and by OSO's restore's: on kbak's rows they are kbak ÷ kcat and kbak ÷ OSO.");
  p();
  p('| tool | wall s | records/s | MB/s | peak RSS MiB | CPU s | ÷ kcat -P | ÷ OSO restore |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const t of SHAPE_TOOLS.restore)
    if (sst[t] || sh.name === 'default' || ['kcat-produce', 'oso-restore'].includes(t)) row(t, [vs('kcat-produce'), vs('oso-restore')], sst);
  p();
  if (sst['kbak-restore'])
    p(
      `- kbak's own timer (no node start-up): ${fmt(fromShape('kbak-restore', (j) => j.durationMs) / 1000, 2)} s, ${fmtInt(fromShape('kbak-restore', (j) => j.recordsPerSecond))} records/s`,
    );
  if (sst.pperf) p(`- ProducerPerformance's own figure (no JVM start-up): ${fmtInt(fromJson('pperf', (j) => j.selfRecordsPerSec))} records/s`);
  if (sst['kbak-restore-baggage'])
    p(
      `- with \`--lane-baggage\` (a \`baggage\` header added to every record): **${fmtRatio(ratios.restoreBaggageVsRestore)}** the records/s of the restore without it (target ≥ 0.8×), ${fmt(st['kbak-restore-baggage'].cpu, 2)} CPU s against ${fmt(st['kbak-restore']?.cpu, 2)}`,
    );
  p();
}
if (version) {
  p('## Start-up');
  p();
  p(
    `- \`node bin/kbak.js --version\`, ${version.runs} cold runs: **${fmt(version.wall, 3)} s** (min–max ${fmt(version.wallMin, 3)}–${fmt(version.wallMax, 3)} s; target ≤ ${ROUND2.versionSeconds} s: ${version.wall <= ROUND2.versionSeconds ? 'met' : '**missed**'}), peak RSS ${fmt(version.rssMiB, 0)} MiB`,
  );
  p();
}
if (st['kbak-restore-groups']) {
  const s = st['kbak-restore-groups'];
  const seeds = s.json.map((j) => j.groupsDurationMs);
  p(`## Restore with ${G} consumer groups`);
  p();
  p(
    `The same topic backed up with ${G} consumer groups (each committed at the middle of every partition), restored into a new lane ${s.runs} time${s.runs === 1 ? '' : 's'}.`,
  );
  p();
  p(
    `- seeding the ${G} lane groups: **${fmt(groupSeedMs / 1000, 2)} s** (min–max ${fmt(Math.min(...seeds) / 1000, 2)}–${fmt(Math.max(...seeds) / 1000, 2)} s; kbak's \`groupsDurationMs\`), groups seeded ${fmtInt(fromJson('kbak-restore-groups', (j) => j.groupsSeeded))}`,
  );
  p(`- whole restore: ${fmt(s.wall, 2)} s wall, peak RSS ${fmt(s.rssMiB, 0)} MiB (without groups: ${fmt(st['kbak-restore']?.wall, 2)} s)`);
  p();
}
if (st['kbak-restore-masked']) {
  const a = st['kbak-restore-avro'];
  const m = st['kbak-restore-masked'];
  const written = fromJson('kbak-restore-masked', (j) => j.records);
  const sampledOut = fromJson('kbak-restore-masked', (j) => j.sampledOut);
  p('## Masked restore');
  p();
  p(
    `Seeding a lane from production (\`kbak restore --policy\`): a second topic of ${fmtInt(N)} Avro records (${fmt(avroRecordBytes, 0)} B/record as kbak counts them: key, magic byte, schema ID, body; scripts/bench/gen-avro.cjs), ${env.BENCH_PARTITIONS} partitions, backed up once, restored unmasked and through a policy with 3 masked fields (\`email\` fake email, \`name\` hash, \`card\` partial last4) and \`sample: { fraction: 0.9, by: key }\` over 20 000 customers.`,
  );
  p();
  p('| tool | wall s | source records/s | MB/s | peak RSS MiB | CPU s | records written | ÷ unmasked (records/s) | RSS − unmasked MiB |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const t of ['kbak-restore-avro', 'kbak-restore-avro-records', 'kbak-restore-masked']) {
    const s = st[t];
    if (!s) continue;
    p(
      `| ${TOOLS[t].label} | ${fmt(s.wall, 2)} (${fmt(s.wallMin, 2)}–${fmt(s.wallMax, 2)}) | ${fmtInt(s.recordsPerSec)} | ${fmt(s.mbPerSec)} | ${fmt(s.rssMiB, 0)} (${fmt(s.rssMinMiB, 0)}–${fmt(s.rssMaxMiB, 0)}) | ${fmt(s.cpu, 2)} | ${fmtInt(fromJson(t, (j) => j.records))} | ${fmtRatio(ratioOf(s.recordsPerSec, rps('kbak-restore-avro')))} | ${fmt(s.rssMiB - rss('kbak-restore-avro'), 0)} |`,
    );
  }
  p();
  p(
    `- **${fmtRatio(ratios.maskedVsUnmaskedRestore)}** the unmasked restore's records/s (target ≥ 0.5×: ${ratios.maskedVsUnmaskedRestore >= 0.5 ? 'met' : '**missed**'}). Both count SOURCE records per second (${fmtInt(N)} / wall): the masked restore writes only ${fmtInt(written)} (${fmtInt(sampledOut)} left out by the sample), so records written per second would flatter it.`,
  );
  p(
    `- peak RSS ${fmt(m.rssMiB, 0)} MiB against ${fmt(a?.rssMiB, 0)} MiB unmasked (${maskedRssOver >= 0 ? '+' : ''}${fmt(maskedRssOver, 0)} MiB; bound: the unmasked restore's + ${MASK_RSS_MARGIN_MIB} MiB for the policy's code loaded once: ${maskedRssOver <= MASK_RSS_MARGIN_MIB ? 'met' : '**missed**'}); CPU ${fmt(m.cpu, 2)} s against ${fmt(a?.cpu, 2)} s`,
  );
  const w = st['kbak-restore-avro-records'];
  if (w)
    p(
      `- record by record without masking (a policy turns the whole-block transcoder off, as \`--since\` does): ${fmtRatio(ratioOf(w.recordsPerSec, rps('kbak-restore-avro')))} the unmasked restore's records/s, peak RSS ${fmt(w.rssMiB, 0)} MiB; the masking itself: ${fmtRatio(ratioOf(m.recordsPerSec, w.recordsPerSec))} of that path's records/s, ${m.rssMiB - w.rssMiB >= 0 ? '+' : ''}${fmt(m.rssMiB - w.rssMiB, 0)} MiB peak RSS`,
    );
  p(
    `- kbak's own timer (no node start-up): ${fmt(fromJson('kbak-restore-masked', (j) => j.durationMs) / 1000, 2)} s masked, ${fmt(fromJson('kbak-restore-avro', (j) => j.durationMs) / 1000, 2)} s unmasked${w ? `, ${fmt(fromJson('kbak-restore-avro-records', (j) => j.durationMs) / 1000, 2)} s unmasked record by record` : ''}`,
  );
  p();
}
if (shapesRun.length > 0) {
  p('## Memory versus size and partitions');
  p();
  p(
    "Peak RSS of each kbak job on the main topic and on each memory shape (`BENCH_MEMORY`; one run per shape). Memory should be bounded by kbak's budgets, not by the topic's size or partition count.",
  );
  p();
  p('| topic | dump → disk MiB | dump → S3 MiB | restore MiB | dump → disk wall s | restore wall s |');
  p('| --- | ---: | ---: | ---: | ---: | ---: |');
  p(
    `| main: ${fmtInt(N)} records, ${env.BENCH_PARTITIONS} partitions (medians) | ${fmt(rss('kbak-dump-disk'), 0)} | ${fmt(rss('kbak-dump-s3'), 0)} | ${fmt(rss('kbak-restore'), 0)} | ${fmt(st['kbak-dump-disk']?.wall, 2)} | ${fmt(st['kbak-restore']?.wall, 2)} |`,
  );
  for (const shape of shapesRun) {
    const g = (job) => st[`mem-${shape}-${job}`];
    p(
      `| ${shape}: ${SHAPES[shape]} | ${fmt(g('dump-disk')?.rssMiB, 0)} | ${fmt(g('dump-s3')?.rssMiB, 0)} | ${fmt(g('restore')?.rssMiB, 0)} | ${fmt(g('dump-disk')?.wall, 2)} | ${fmt(g('restore')?.wall, 2)} |`,
    );
  }
  p();
}
p('## Commands');
p();
p(
  `The first run of each tool on the default shape, exactly as executed (paths and names of that run)${SHAPE_NAMES.length > 1 ? '; the other shapes run the same commands on their own topic (<topic>-small, <topic>-compressible), records file and backups' : ''}:`,
);
p();
p('```sh');
for (const t of Object.keys(TOOLS)) if (commands.has(t)) p(`# ${t}\n${commands.get(t)}`);
p('```');
p();
p('## Notes');
p();
for (const n of notes) p(`- ${n}`);
p();
const profile = profilePath && fs.existsSync(profilePath) ? fs.readFileSync(profilePath, 'utf8').trim() : '';
if (profile) {
  p(profile);
  p();
}
fs.writeFileSync(mdPath, out.join('\n'));

// ---------------------------------------------------------------- JSON
/** A shape's rows for BENCHMARKS.json: per tool its medians and every run. */
function toolsJson(shape, sst) {
  return Object.fromEntries(
    Object.entries(sst)
      .filter(([, s]) => s)
      .map(([t, s]) => [
        t,
        {
          label: TOOLS[t].label.replace(/\*\*/g, '').replace(/\\\|/g, '|'),
          side: TOOLS[t].side,
          command: shape === 'default' ? (commands.get(t) ?? null) : null,
          median: {
            wallSeconds: round(s.wall, 3),
            recordsPerSec: round(s.recordsPerSec, 0),
            mbPerSec: round(s.mbPerSec, 2),
            peakRssMiB: round(s.rssMiB, 1),
            cpuSeconds: round(s.cpu, 2),
          },
          runs: runs
            .filter((r) => r.tool === t && r.shape === shape)
            .map((r) => ({
              repeat: r.rep,
              wallSeconds: r.wall,
              peakRssMiB: round(r.rssKiB / 1024, 1),
              cpuSeconds: round(r.cpu, 2),
              records: r.records,
              details: r.json,
            })),
        },
      ]),
  );
}
const json = {
  generatedAt: env.BENCH_DATE,
  config: {
    records: N,
    valueBytes: S,
    partitions: Number(env.BENCH_PARTITIONS),
    repeat: R,
    groups: G,
    codec: CODEC,
    recordBytes: round(perRecordBytes, 1),
    shapes: SHAPE_NAMES,
    smallRecords: SMALL_N,
  },
  machine: {
    cpus: Number(env.BENCH_CPUS),
    cpuModel: env.BENCH_CPU_MODEL,
    memory: env.BENCH_MEM,
    kernel: env.BENCH_KERNEL,
    host: env.BENCH_HOST,
    loadBefore: env.BENCH_LOAD,
  },
  versions: {
    oso: env.BENCH_OSO || null,
    kbak: env.BENCH_KBAK_VERSION,
    commit: env.BENCH_COMMIT,
    node: env.BENCH_NODE,
    kafkajs: env.BENCH_KAFKAJS,
    kafka: env.KAFKA_VERSION,
    kcat: env.BENCH_KCAT,
    zstd: env.BENCH_ZSTD,
    java: env.BENCH_JAVA,
  },
  shapes: Object.fromEntries(
    shapes.map((sh) => [
      sh.name,
      {
        records: SHAPE_INFO[sh.name].records,
        values: SHAPE_INFO[sh.name].what,
        recordBytes: round(sh.perRecordBytes, 1),
        fillSeconds: round(FILL_S[sh.name], 3),
        tools: toolsJson(sh.name, sh.st),
        ratios: Object.fromEntries(Object.entries(sh.ratios).map(([k, v]) => [k, round(v, 3)])),
      },
    ]),
  ),
  kbakVersion: version
    ? {
        runs: version.runs,
        medianSeconds: round(version.wall, 3),
        minSeconds: version.wallMin,
        maxSeconds: version.wallMax,
        targetSeconds: ROUND2.versionSeconds,
      }
    : null,
  ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v, 3)])),
  groupSeedSeconds: round(groupSeedMs / 1000, 3),
  maskedRestore: st['kbak-restore-masked']
    ? {
        policy: 'email fake email, name hash, card partial last4; sample fraction 0.9 by key',
        recordBytes: round(avroRecordBytes, 1),
        sourceRecordsPerSec: {
          unmasked: round(rps('kbak-restore-avro'), 0),
          unmaskedRecordByRecord: round(rps('kbak-restore-avro-records'), 0),
          masked: round(rps('kbak-restore-masked'), 0),
        },
        recordsWritten: fromJson('kbak-restore-masked', (j) => j.records),
        sampledOut: fromJson('kbak-restore-masked', (j) => j.sampledOut),
        ratio: round(ratios.maskedVsUnmaskedRestore, 3),
        ratioTarget: 0.5,
        ratioMet: Number.isFinite(ratios.maskedVsUnmaskedRestore) ? ratios.maskedVsUnmaskedRestore >= 0.5 : null,
        peakRssMiB: {
          unmasked: round(rss('kbak-restore-avro'), 1),
          unmaskedRecordByRecord: round(rss('kbak-restore-avro-records'), 1),
          masked: round(rss('kbak-restore-masked'), 1),
        },
        rssMarginMiB: MASK_RSS_MARGIN_MIB,
        rssMet: Number.isFinite(maskedRssOver) ? maskedRssOver <= MASK_RSS_MARGIN_MIB : null,
      }
    : null,
  worstPeakRssMiB: Object.fromEntries(Object.entries(worstRss).map(([k, v]) => [k, { worst: round(v.worst, 1), spread: round(v.spread, 3) }])),
  targetsRound2: round2Targets.map((t) => ({ shape: t.shape, name: t.name, value: round(t.value, 3), met: t.met })),
  targets: targetsOut.map((t) => ({ name: t.name, value: round(t.value, 3), met: t.met })),
  notes,
};
fs.writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
