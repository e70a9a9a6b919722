#!/usr/bin/env node
// The "Sharded dump: scaling" part of BENCHMARKS.md and BENCHMARKS.json (issue 21, item 5),
// measured by scripts/bench/shard-scaling.sh. BENCHMARKS.json's `shardScaling` key is the source;
// the markdown section (the measured 1/2/4-process figures and the 10 TB estimate with its
// assumptions) is rendered from it, so `npm run bench` (which rewrites both files) can put it back:
//   node scripts/bench/shard-section.cjs extract BENCHMARKS.json         → the `shardScaling` value (nothing if none)
//   node scripts/bench/shard-section.cjs write BENCHMARKS.md BENCHMARKS.json RESULT.json
//        sets `shardScaling` to RESULT.json and replaces (or appends) the markdown section
'use strict';

const { sectionMain } = require('./section-file.cjs');

const TITLE = '## Sharded dump: scaling';
const KEY = 'shardScaling';

const fmt = (n, d = 1) => Number(n).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const fmtInt = (n) => Math.round(Number(n)).toLocaleString('en-US');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The assumptions of the 10 TB estimate: every number the estimate uses that was not measured here. */
const ASSUME = {
  totalBytes: 10e12, // 10 TB of record values (what the MB/s columns count)
  shards: 100,
  brokers: 10,
  brokerEgressLow: 200e6, // bytes/s per broker left for one extra consumer, after replication and the live consumers
  brokerEgressHigh: 400e6,
  podCores: 2, // each shard pod: 2 dedicated cores (requests = limits), the broker elsewhere
  segmentBytes: 64 * 2 ** 20, // kbak's default --segment-bytes (stored bytes)
  partBytes: 5 * 2 ** 20, // kbak's S3 multipart part size (src/store/s3.ts PART_SIZE)
  putLimit: 3500, // S3 PUT/COPY/POST/DELETE per second per partitioned prefix
  getLimit: 5500, // S3 GET/HEAD per second per partitioned prefix
};

/** Per process count: medians over the repetitions. */
function summarise(r) {
  const bytes = r.records * r.recordBytes;
  const byProcs = new Map();
  for (const run of r.runs) {
    if (!byProcs.has(run.procs)) byProcs.set(run.procs, []);
    byProcs.get(run.procs).push(run);
  }
  const rows = [];
  for (const [procs, runs] of [...byProcs].sort((a, b) => a[0] - b[0])) {
    const wall = median(runs.map((x) => x.wallSeconds));
    const cpu = median(runs.map((x) => x.processes.reduce((a, p) => a + p.userSeconds + p.systemSeconds, 0)));
    rows.push({
      procs,
      wall,
      wallMin: Math.min(...runs.map((x) => x.wallSeconds)),
      wallMax: Math.max(...runs.map((x) => x.wallSeconds)),
      recordsPerSecond: r.records / wall,
      mbPerSecond: bytes / wall / 1e6,
      rssMiB: Math.max(...runs.flatMap((x) => x.processes.map((p) => p.rssKiB))) / 1024,
      kbakCpu: cpu,
      brokerCpu: median(runs.map((x) => x.brokerCpuSeconds)),
      busy: median(runs.map((x) => x.machineBusyShare)),
      // CPU the machine spent on neither kbak nor the broker (other work on a shared machine).
      otherCpu: median(
        runs.map((x) =>
          Math.max(
            0,
            x.machineBusyShare * r.machine.cpus * x.wallSeconds - x.brokerCpuSeconds - x.processes.reduce((a, q) => a + q.userSeconds + q.systemSeconds, 0),
          ),
        ),
      ),
      storedRatio: median(runs.map((x) => x.storedBytes)) / bytes,
    });
  }
  return rows;
}

function render(r) {
  const out = [];
  const p = (s = '') => out.push(s);
  const rows = summarise(r);
  const one = rows.find((x) => x.procs === 1) ?? rows[0];
  const bytes = r.records * r.recordBytes;
  const cores = r.machine.cpus;
  p(TITLE);
  p();
  p(
    `Written by \`bash scripts/bench/shard-scaling.sh\` on ${r.date}, kbak at ${r.commit}; \`npm run bench\` keeps this section (from BENCHMARKS.json \`${KEY}\`) and rewrites the rest.`,
  );
  p();
  p(
    `- topic: ${fmtInt(r.records)} records × ${r.recordBytes} B values (random letters, ${fmt(bytes / 1e9, 2)} GB of values), keys, 1 header, ${r.partitions} partitions, ${r.groups} consumer groups; dumped to local disk`,
  );
  p(
    `- machine: ${cores} CPUs (${r.machine.cpuModel}), ${r.machine.memory}, load before start ${r.machine.load}; node ${r.versions.node}, Kafka ${r.versions.kafka} (one broker on the same machine: **the shards and the broker share the ${cores} cores**)`,
  );
  p(
    `- each row: the median of ${r.repeat} runs (wall min–max beside it); N processes started at once; wall = start to the last process's exit (the last shard writes manifest.json just before it exits); every run checked to leave exactly one manifest of all ${fmtInt(r.records)} records and no plan`,
  );
  p();
  p(
    '| processes | wall s (min–max) | records/s | MB/s (values) | speed-up | peak RSS per process MiB | kbak CPU s (all processes) | kbak cores used | broker CPU s | other CPU s | machine busy |',
  );
  p('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const x of rows) {
    p(
      `| ${x.procs} | ${fmt(x.wall, 2)} (${fmt(x.wallMin, 2)}–${fmt(x.wallMax, 2)}) | ${fmtInt(x.recordsPerSecond)} | ${fmt(x.mbPerSecond)} | ${fmt(one.wall / x.wall, 2)}× | ${fmt(x.rssMiB, 0)} | ${fmt(x.kbakCpu, 1)} | ${fmt(x.kbakCpu / x.wall, 2)} | ${fmt(x.brokerCpu, 1)} | ${fmt(x.otherCpu, 1)} | ${fmt(x.busy * 100, 0)} % |`,
    );
  }
  p();
  p('Commands:');
  p();
  p('```');
  p(r.commands.single);
  p(r.commands.shard);
  p('```');
  p();
  // What limits it: CPU seconds against what the machine has.
  const last = rows[rows.length - 1];
  const cpuPerGB = one.kbakCpu / (bytes / 1e9);
  p('### What limits scaling on this machine');
  p();
  p(
    `One process: kbak used ${fmt(one.kbakCpu, 1)} CPU s in ${fmt(one.wall, 1)} s of wall time (${fmt(one.kbakCpu / one.wall, 2)} cores), the broker ${fmt(one.brokerCpu, 1)} CPU s (it sends the fetched log with zero-copy sendfile: almost no CPU), and other work on this shared machine ${fmt(one.otherCpu, 1)} CPU s; the machine was ${fmt(one.busy * 100, 0)} % busy. ` +
      `With ${last.procs} processes kbak needs ${fmt(last.kbakCpu, 1)} CPU s in all (${fmt(one.kbakCpu, 1)} for one: each shard also pays for its own start, connections and the plan) and ${last.busy > 0.85 ? `the ${cores} cores are ${fmt(last.busy * 100, 0)} % busy: there is no spare core to run the extra processes on` : `the machine was ${fmt(last.busy * 100, 0)} % busy`}, so ${last.procs} processes give ${fmt(one.wall / last.wall, 2)}× here. ` +
      `The dump is CPU-bound (decompressing fetched batches, encoding and zstd-compressing segments, SHA-256): about ${fmt(cpuPerGB, 1)} kbak CPU s per GB of values, and one process already uses ${fmt(one.kbakCpu / one.wall, 2)} of the ${cores} cores, so no number of processes could do better than ${fmt(cores / ((one.kbakCpu + one.brokerCpu + one.otherCpu) / one.wall), 2)}× here (every core busy, no per-shard cost). Sharding pays off where each shard has cores of its own, i.e. one pod per shard; on one 2-core machine at most 2 processes' worth of CPU exists, shared with the broker and everything else.`,
  );
  if (one.otherCpu > 0.2 * one.kbakCpu)
    p(
      `**The machine was not quiet during these runs**: other work took ${fmt(one.otherCpu, 1)} CPU s of the one-process run (${fmt(one.otherCpu / one.wall, 2)} cores), so kbak had about ${fmt(cores - one.otherCpu / one.wall, 1)} cores, and the rates above are lower than on a quiet machine. That changes the figures, not the conclusion: the processes compete for the same cores.`,
    );
  p();
  // The estimate.
  const a = ASSUME;
  const podRate = one.mbPerSecond * 1e6; // bytes/s of one pod: the single process measured here (see the assumption)
  const perShard = a.totalBytes / a.shards;
  const podBound = perShard / podRate;
  const demand = a.shards * podRate;
  const brokerLow = a.brokers * a.brokerEgressLow;
  const brokerHigh = a.brokers * a.brokerEgressHigh;
  const hours = (s) => `${fmt(s / 3600, 1)} h`;
  const ratio = one.storedRatio;
  const storeRate = Math.min(demand, brokerHigh) * ratio;
  const segPerSec = storeRate / a.segmentBytes;
  const reqPerSeg = Math.ceil(a.segmentBytes / a.partBytes) + 2;
  p('### To scale: 10 TB over 100 shards (an estimate, not a measurement)');
  p();
  p('Assumptions (each one a number the estimate uses that was not measured here):');
  p();
  p(
    `- 10 TB = ${fmt(a.totalBytes / 1e12, 0)} × 10¹² bytes of record values, in enough partitions (thousands) that LPT by bytes gives each of ${a.shards} shards about ${fmt(perShard / 1e9, 0)} GB, and no single partition holds more than that (one partition is read by one shard).`,
  );
  p(
    `- One shard pod has ${a.podCores} dedicated cores and the broker is elsewhere. Measured here: ${fmt(cpuPerGB, 1)} kbak CPU s per GB, so ${a.podCores} cores fully used would allow at most ${fmt((a.podCores / cpuPerGB) * 1000, 0)} MB/s; one kbak process used ${fmt(one.kbakCpu / one.wall, 2)} cores here. The estimate takes the single-process rate measured here, where it shared the cores with the broker (a pod of its own is likely somewhat faster, so this is conservative): **${fmt(podRate / 1e6, 0)} MB/s per pod**.`,
  );
  p(
    `- ${a.brokers} brokers, each able to serve ${fmt(a.brokerEgressLow / 1e6, 0)}–${fmt(a.brokerEgressHigh / 1e6, 0)} MB/s to the backup on top of replication and the live consumers (a 10 Gbit/s NIC is 1 250 MB/s; replication of a replication-factor-3 cluster and the production consumers take most of it). Partition leaders spread evenly over the brokers.`,
  );
  p(
    `- S3: ${fmt(a.putLimit, 0)} PUT and ${fmt(a.getLimit, 0)} GET requests per second per partitioned prefix (AWS's documented rates; S3 adds prefixes' partitions as load grows). kbak writes a segment of ${fmt(a.segmentBytes / 2 ** 20, 0)} MiB (default --segment-bytes, stored bytes) as a multipart upload of ${fmt(a.partBytes / 2 ** 20, 0)} MiB parts: ${reqPerSeg} requests (create, ${reqPerSeg - 2} parts, complete). Stored/value bytes measured here: ${fmt(ratio, 2)} (random letters; real data compresses differently).`,
  );
  p();
  p('Estimate:');
  p();
  p(
    `- **pods alone**: ${fmt(perShard / 1e9, 0)} GB per shard at ${fmt(podRate / 1e6, 0)} MB/s = ${hours(podBound)}, if nothing else limited it; together the ${a.shards} pods would ask for ${fmt(demand / 1e9, 1)} GB/s.`,
  );
  p(
    `- **brokers**: ${a.brokers} × ${fmt(a.brokerEgressLow / 1e6, 0)}–${fmt(a.brokerEgressHigh / 1e6, 0)} MB/s = ${fmt(brokerLow / 1e9, 1)}–${fmt(brokerHigh / 1e9, 1)} GB/s, so 10 TB takes **${hours(a.totalBytes / brokerHigh)}–${hours(a.totalBytes / brokerLow)}** at best. ${demand > brokerLow ? `That is the limit: ${fmt(demand / 1e9, 1)} GB/s of demand is more than the brokers can spare, and ${Math.ceil(brokerLow / podRate)}–${Math.ceil(brokerHigh / podRate)} pods would already saturate them; more shards add no speed, only load on the brokers.` : 'The pods, not the brokers, are the limit: more shards (or pods with more cores) go faster until the brokers saturate.'}`,
  );
  p(
    `- **S3**: at ${fmt(storeRate / 1e9, 2)} GB/s stored (${fmt(Math.min(demand, brokerHigh) / 1e9, 1)} GB/s of values × ${fmt(ratio, 2)}), kbak closes ${fmt(segPerSec, 0)} segments/s, about **${fmtInt(segPerSec * reqPerSeg)} PUT-class requests/s** over the whole bucket, spread over one prefix per partition (\`<cluster>/segments/<topic>/<partition>/\`): far below ${fmt(a.putLimit, 0)}/s even if every request went to one prefix. The plan, the ${a.shards} partial manifests and the manifest are a few hundred small requests per backup. A restore reads the same segments with a GET or a few each, also far from ${fmt(a.getLimit, 0)}/s. S3 request rates are not the limit; the brokers' spare egress is.`,
  );
  p(
    `- **so**: 10 TB in about ${hours(Math.max(podBound, a.totalBytes / brokerHigh))}–${hours(Math.max(podBound, a.totalBytes / brokerLow))} with ${a.shards} shards, ${demand > brokerLow ? `set by the brokers; fewer shards (about ${Math.ceil(brokerHigh / podRate)}) reach the same time with less load on them.` : 'set by the pods.'} Each shard pod needs about ${fmt(Math.max(...rows.map((x) => x.rssMiB)), 0)} MiB of memory (peak RSS measured here; it does not grow with the data).`,
  );
  p();
  return out.join('\n');
}

sectionMain({ script: 'shard-section.cjs', title: TITLE, key: KEY, render }, process.argv.slice(2));
