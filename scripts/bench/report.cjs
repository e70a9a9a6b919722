#!/usr/bin/env node
// Writes BENCHMARKS.md and BENCHMARKS.json from the measurements of scripts/bench.sh:
//   node scripts/bench/report.cjs MEASUREMENTS.tsv COMMANDS.tsv NOTES.txt PROFILE.md OUT.md OUT.json
// MEASUREMENTS.tsv: one line per run: tool, repeat, wall seconds, peak RSS KiB, records, output
// bytes (or -), JSON (kbak's --json summary, a peer's own figures, or -), CPU seconds (user + system).
// COMMANDS.tsv: tool, the exact command line of its first run. Run metadata comes from BENCH_*.
// Every figure is the median over the repeats; ratios compare tools measured in the same run.
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
  'kbak-restore': { side: 'restore', label: `**kbak restore → new lane** (--compression ${CODEC})` },
  'kcat-produce': { side: 'restore', label: `kcat -P -z ${CODEC} (same records, 3 headers)` },
  pperf: { side: 'restore', label: `Kafka ProducerPerformance, compression.type=${CODEC} (keys, no headers)` },
  'kbak-restore-baggage': { side: 'restore', label: `**kbak restore → new lane --lane-baggage lane** (--compression ${CODEC})` },
  'kbak-restore-groups': { side: 'groups', label: `**kbak restore → new lane, ${G} consumer groups**` },
  'kbak-restore-avro': { side: 'masked', label: `**kbak restore → new lane**, Avro topic, unmasked (--compression ${CODEC})` },
  'kbak-restore-avro-records': {
    side: 'masked',
    label: `kbak restore → new lane, Avro topic, unmasked, record by record (--since 2000-01-01: no whole-block transcoding, as with --policy)`,
  },
  'kbak-restore-masked': { side: 'masked', label: `**kbak restore → new lane --policy**, Avro topic, 3 masked fields, 90 % sample (--compression ${CODEC})` },
};
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
    const [tool, rep, wall, rss, records, outBytes, json, cpu] = l.split('\t');
    return {
      tool,
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
const dumpSummaries = runs.filter((r) => r.tool === 'kbak-dump-disk' && r.json).map((r) => r.json);
const rawBytes = dumpSummaries.length ? median(dumpSummaries.map((s) => s.rawBytes)) : N * S;
const perRecordBytes = rawBytes / N;
// The Avro topic's records (masked restore) as the unmasked restore of it counts them.
const avroSummaries = runs.filter((r) => r.tool === 'kbak-restore-avro' && r.json).map((r) => r.json);
const avroRecordBytes = avroSummaries.length ? median(avroSummaries.map((j) => j.bytes / j.records)) : NaN;

function stats(tool) {
  const rs = runs.filter((r) => r.tool === tool);
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
  s.mbPerSec = (s.recordsPerSec * (TOOLS[tool].side === 'masked' ? avroRecordBytes : perRecordBytes)) / 1e6;
  return s;
}
const st = Object.fromEntries(Object.keys(TOOLS).map((t) => [t, stats(t)]));
const rps = (t) => st[t]?.recordsPerSec ?? NaN;
const rss = (t) => st[t]?.rssMiB ?? NaN;
const fromJson = (t, f) => (st[t] ? median(st[t].json.map(f)) : NaN);

const groupSeedMs = fromJson('kbak-restore-groups', (j) => j.groupsDurationMs);
const ratios = {
  dumpDiskVsKcat: ratioOf(rps('kbak-dump-disk'), rps('kcat-file')),
  dumpS3VsKcat: ratioOf(rps('kbak-dump-s3'), rps('kcat-file')),
  dumpDiskVsKcatZstd: ratioOf(rps('kbak-dump-disk'), rps('kcat-zstd')),
  dumpDiskVsKcatNoWait: ratioOf(rps('kbak-dump-disk'), rps('kcat-nowait')),
  dumpDiskVsConsumerPerformance: ratioOf(rps('kbak-dump-disk'), rps('cperf')),
  restoreVsKcat: ratioOf(rps('kbak-restore'), rps('kcat-produce')),
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
  "Restore side: every producer writes into a new topic with the same partitions; kbak creates its lane topic inside its measured time, the peers' topics are created before theirs. kbak restore and kcat -P write the same records (keys, values, 3 headers); ProducerPerformance cannot set headers.",
  ...(fs.existsSync(notesPath) ? fs.readFileSync(notesPath, 'utf8').split('\n').filter(Boolean) : []),
];
if (N < 100000 || R < 3) {
  notes.unshift(
    `**Small configuration (${fmtInt(N)} records, ${R} repetition${R === 1 ? '' : 's'}): start-up costs dominate; these figures validate the script, they are not the reference measurement (default: 200 000 records, 3 repetitions).**`,
  );
}

// ---------------------------------------------------------------- markdown
const out = [];
const p = (s = '') => out.push(s);
const row = (t, extra) => {
  const s = st[t];
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
  `- every figure: median of ${R} run${R === 1 ? '' : 's'} (min–max in brackets); MB/s = ${fmt(perRecordBytes, 0)} B/record × records/s (MB = 10^6 B), the same byte count for every tool; ratios are kbak ÷ tool (> 1: kbak faster or, for RSS, larger)`,
);
p(`- restore codec: ${CODEC} for kbak (\`--compression ${CODEC}\`), kcat (\`-z ${CODEC}\`) and ProducerPerformance (\`compression.type=${CODEC}\`)`);
p();
p('## Machine and versions');
p();
p(`- ${env.BENCH_CPUS} CPUs (${env.BENCH_CPU_MODEL}), ${env.BENCH_MEM} RAM, ${env.BENCH_KERNEL}, host ${env.BENCH_HOST}, load before start ${env.BENCH_LOAD}`);
p(`- kbak ${env.BENCH_KBAK_VERSION} at ${env.BENCH_COMMIT}, node ${env.BENCH_NODE}, kafkajs ${env.BENCH_KAFKAJS}`);
p(
  `- Kafka ${env.KAFKA_VERSION || '?'} (single-node KRaft broker of the local stack, same machine), ${env.BENCH_KCAT || 'kcat ?'}, ${env.BENCH_ZSTD || 'zstd ?'}, ${env.BENCH_JAVA || 'java ?'}`,
);
p();
p('## Targets (issue "Performance")');
p();
p('| target | measured | met |');
p('| --- | ---: | :---: |');
for (const t of targetsOut) p(`| ${t.name} | ${t.shown} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
p();
p('## Dump side');
p();
p('| tool | wall s | records/s | MB/s | peak RSS MiB | CPU s | kbak→disk ÷ tool | kbak→S3 ÷ tool | RSS kbak→disk ÷ tool |');
p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const t of ['kbak-dump-disk', 'kbak-dump-s3', 'kcat-file', 'kcat-zstd', 'kcat-nowait', 'cperf']) {
  row(t, [
    (s) => fmtRatio(ratioOf(rps('kbak-dump-disk'), s.recordsPerSec)),
    (s) => fmtRatio(ratioOf(rps('kbak-dump-s3'), s.recordsPerSec)),
    (s) => fmtRatio(ratioOf(rss('kbak-dump-disk'), s.rssMiB)),
  ]);
}
p();
if (dumpSummaries.length) {
  const m = (f) => median(dumpSummaries.map(f));
  p(
    `- kbak's own timer (no node start-up): ${fmt(m((s) => s.durationMs) / 1000, 2)} s, ${fmtInt(m((s) => s.recordsPerSecond))} records/s → disk; ${fmt(fromJson('kbak-dump-s3', (s) => s.durationMs) / 1000, 2)} s → S3`,
  );
  p(
    `- stored: ${fmtInt(m((s) => s.storedBytes))} B (ratio ${fmt(
      m((s) => s.compressionRatio),
      2,
    )}, zstd segments); kcat text \`%k\\t%s\\t%h\`: ${fmtInt(st['kcat-file']?.outBytes)} B, through \`zstd -3\`: ${fmtInt(st['kcat-zstd']?.outBytes)} B`,
  );
}
if (st.cperf) {
  p(
    `- ConsumerPerformance's own figures (no JVM start-up): ${fmtInt(fromJson('cperf', (j) => j.selfRecordsPerSec))} records/s overall, ${fmtInt(fromJson('cperf', (j) => j.fetchRecordsPerSec))} records/s excluding the group join`,
  );
}
p();
p('## Restore side');
p();
p('| tool | wall s | records/s | MB/s | peak RSS MiB | CPU s | kbak restore ÷ tool | RSS kbak ÷ tool |');
p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const t of ['kbak-restore', 'kcat-produce', 'pperf', 'kbak-restore-baggage']) {
  row(t, [(s) => fmtRatio(ratioOf(rps('kbak-restore'), s.recordsPerSec)), (s) => fmtRatio(ratioOf(rss('kbak-restore'), s.rssMiB))]);
}
p();
if (st['kbak-restore'])
  p(
    `- kbak's own timer (no node start-up): ${fmt(fromJson('kbak-restore', (j) => j.durationMs) / 1000, 2)} s, ${fmtInt(fromJson('kbak-restore', (j) => j.recordsPerSecond))} records/s`,
  );
if (st.pperf) p(`- ProducerPerformance's own figure (no JVM start-up): ${fmtInt(fromJson('pperf', (j) => j.selfRecordsPerSec))} records/s`);
if (st['kbak-restore-baggage'])
  p(
    `- with \`--lane-baggage\` (a \`baggage\` header added to every record): **${fmtRatio(ratios.restoreBaggageVsRestore)}** the records/s of the restore without it (target ≥ 0.8×), ${fmt(st['kbak-restore-baggage'].cpu, 2)} CPU s against ${fmt(st['kbak-restore']?.cpu, 2)}`,
  );
p();
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
p('The first run of each tool, exactly as executed (paths and names of that run):');
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
const json = {
  generatedAt: env.BENCH_DATE,
  config: { records: N, valueBytes: S, partitions: Number(env.BENCH_PARTITIONS), repeat: R, groups: G, codec: CODEC, recordBytes: round(perRecordBytes, 1) },
  machine: {
    cpus: Number(env.BENCH_CPUS),
    cpuModel: env.BENCH_CPU_MODEL,
    memory: env.BENCH_MEM,
    kernel: env.BENCH_KERNEL,
    host: env.BENCH_HOST,
    loadBefore: env.BENCH_LOAD,
  },
  versions: {
    kbak: env.BENCH_KBAK_VERSION,
    commit: env.BENCH_COMMIT,
    node: env.BENCH_NODE,
    kafkajs: env.BENCH_KAFKAJS,
    kafka: env.KAFKA_VERSION,
    kcat: env.BENCH_KCAT,
    zstd: env.BENCH_ZSTD,
    java: env.BENCH_JAVA,
  },
  tools: Object.fromEntries(
    Object.entries(st)
      .filter(([, s]) => s)
      .map(([t, s]) => [
        t,
        {
          label: TOOLS[t].label.replace(/\*\*/g, '').replace(/\\\|/g, '|'),
          side: TOOLS[t].side,
          command: commands.get(t) ?? null,
          median: {
            wallSeconds: round(s.wall, 3),
            recordsPerSec: round(s.recordsPerSec, 0),
            mbPerSec: round(s.mbPerSec, 2),
            peakRssMiB: round(s.rssMiB, 1),
            cpuSeconds: round(s.cpu, 2),
          },
          runs: runs
            .filter((r) => r.tool === t)
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
  ),
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
  targets: targetsOut.map((t) => ({ name: t.name, value: round(t.value, 3), met: t.met })),
  notes,
};
fs.writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
