#!/usr/bin/env node
// The "Recovery of a 1 GiB backup" part of BENCHMARKS.md and BENCHMARKS.json (issue 20, item 6),
// measured by scripts/bench-recover.sh. BENCHMARKS.json's `recovery` key is the source; the
// markdown section is rendered from it, so `npm run bench` (which rewrites both files) can put the
// last recovery figures back instead of losing them:
//   node scripts/bench/recovery-section.cjs extract BENCHMARKS.json         → the `recovery` value (nothing if none)
//   node scripts/bench/recovery-section.cjs write BENCHMARKS.md BENCHMARKS.json RESULT.json
//        sets `recovery` to RESULT.json and replaces (or appends) the markdown section
'use strict';

const { sectionMain } = require('./section-file.cjs');

const TITLE = '## Recovery of a 1 GiB backup';

const fmt = (n, d = 1) => Number(n).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const fmtInt = (n) => Math.round(Number(n)).toLocaleString('en-US');

function render(r) {
  const out = [];
  const p = (s = '') => out.push(s);
  const gib = r.records * r.recordBytes;
  p(TITLE);
  p();
  p(
    `Written by \`npm run bench:recover\` (scripts/bench-recover.sh) on ${r.date}, kbak at ${r.commit}; \`npm run bench\` keeps this section (from BENCHMARKS.json \`recovery\`) and rewrites the rest.`,
  );
  p();
  p(
    `- backup: ${fmtInt(r.records)} records × ${r.recordBytes} B values (${fmt(gib / 2 ** 30, 2)} GiB, ${fmt(gib / 1e9, 2)} GB of values), keys, 3 tracing headers, ${r.partitions} partitions, ${r.groups} consumer group${r.groups === 1 ? '' : 's'}; dumped from the primary stack to local disk (${fmt(r.dump.backupBytes / 2 ** 20, 0)} MiB of segments) in ${fmt(r.dump.wallSeconds, 1)} s`,
  );
  // The issue's "1 GiB": 1 000 000 × 1 KiB (0.95 GiB, 1.02 GB of values).
  if (r.records < 1e6 || r.recordBytes < 1024)
    p(`- **a smaller run than the issue's 1 000 000 × 1 KiB** (BENCH_RECOVER_RECORDS / BENCH_RECORD_BYTES were set)`);
  p(
    `- target: a fresh cluster, a second local stack (Kafka ${r.target.kafkaVersion}, Apicurio ${r.target.registryVersion}) started for the run on the same machine (${fmt(r.target.startSeconds, 1)} s to start, not measured) and purged after`,
  );
  p(`- machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memory}, load before start ${r.machine.load}; node ${r.versions.node}`);
  p(
    `- checked: the target topic holds ${fmtInt(r.verified.recordsOnTarget)} records, and each partition's first record (key, value, headers, timestamp) as kcat reads it is the source's`,
  );
  p();
  p('| step | wall s | records/s | MB/s (values) | peak RSS MiB | CPU s |');
  p('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [label, s] of [
    ['kbak dump → disk (primary)', r.dump],
    ['kbak recover → fresh cluster', r.recover],
  ]) {
    const rps = r.records / s.wallSeconds;
    p(`| ${label} | ${fmt(s.wallSeconds, 2)} | ${fmtInt(rps)} | ${fmt((rps * r.recordBytes) / 1e6)} | ${fmt(s.rssKiB / 1024, 0)} | ${fmt(s.cpuSeconds, 2)} |`);
  }
  if (r.recover.summary) {
    const k = r.recover.summary;
    p();
    p(
      `kbak's own summary (\`-o json\`): ${fmtInt(k.records)} records in ${fmt(k.durationMs / 1000, 2)} s, ${fmtInt(k.recordsPerSecond)} records/s${k.groups === null ? '' : `, ${k.groups} consumer group${k.groups === 1 ? '' : 's'} at translated offsets`}; the wall time above also counts starting node and connecting to both services.`,
    );
  }
  p();
  p('Commands:');
  p();
  p('```');
  p(r.dump.command);
  p(r.recover.command);
  p('```');
  p();
  return out.join('\n');
}

sectionMain({ script: 'recovery-section.cjs', title: TITLE, key: 'recovery', render }, process.argv.slice(2));
