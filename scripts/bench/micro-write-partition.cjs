#!/usr/bin/env node
/**
 * Micro-measurement of writePartition (restore of one partition) on a build, without a
 * broker: a backup of RECORDS records dumped from the in-memory Kafka into the in-memory
 * store, restored into a producer that acknowledges at once. Issue 16 made writePartition
 * one loop over one batch sink; this shows it costs no more per record than before.
 *
 *   node --max-semi-space-size=256 --min-semi-space-size=256 scripts/bench/micro-write-partition.cjs [distDir]
 *
 * - direct: placed sends (segment blocks transcoded into the batches).
 * - baggage: the same with --lane-baggage (every other record has a baggage header with one of
 *   7 values to add the member to; the others get one appended).
 * - lane-header: the same with --lane-header.
 * - objects-baggage: --lane-baggage on the per-record path (decode, rewrite, send), what
 *   --lane-baggage cost before issue 17 (transcode: false).
 * Per path: nanoseconds per record (fastest pass, median) and heap bytes allocated per
 * record (see micro-measure.cjs; decompressed blocks are external memory, not counted).
 */
const path = require('node:path');
const { measure } = require('./micro-measure.cjs');

const dist = path.resolve(process.argv[2] ?? 'dist');
const load = (m) => require(path.join(dist, m));
const { MemoryKafka } = load('kafka/memory.js');
const { MemoryStore } = load('store/memory.js');
const { DumpRun } = load('dump/dump.js');
const { openBackup } = load('backup/catalog.js');
const { writePartition } = load('restore/write-partition.js');
const { silentLogger } = load('output/logger.js');

const RECORDS = 20_000;
const PASSES = 12;

const producer = {
  sends: 0,
  async send() {
    this.sends++;
  },
  headroom: () => 64,
  async sendPlaced() {
    this.sends++;
    return true;
  },
  async close() {},
};

(async () => {
  const kafka = new MemoryKafka();
  kafka.topics.set('t', { partitions: [{ records: [], logStart: 0n, next: 0n }], replicationFactor: 1, configs: {} });
  for (let i = 0; i < RECORDS; i++) {
    kafka.append('t', 0, [
      {
        timestamp: BigInt(1_700_000_000_000 + i),
        key: Buffer.from(`key-${i}`.padEnd(16, '.')),
        value: Buffer.alloc(200, i & 0xff),
        headers: [
          { key: 'traceparent', value: Buffer.from(`00-${i}`.padEnd(55, '0')) },
          { key: 'b3', value: null },
          ...(i % 2 === 0 ? [{ key: 'baggage', value: Buffer.from(`userId=u${i % 7},tenant=acme`) }] : []),
        ],
      },
    ]);
  }
  const store = new MemoryStore();
  const logger = silentLogger();
  await new DumpRun(
    { kafka, store, registry: null, logger },
    {
      selection: { topics: ['t'] },
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      segmentBytes: 64 * 1024 * 1024,
      concurrency: 1,
      stallTimeoutMs: 1000,
    },
  ).run();
  const backup = await openBackup(store, 'latest');
  const job = (laneTopic) => ({
    sourceTopic: 't',
    laneTopic,
    partition: 0,
    compression: 'none',
    starts: [{ laneStart: 0n, alreadyWritten: 0 }],
    laneLast: null,
    committed: [],
  });
  const paths = {
    direct: { rewrite: { laneHeader: null } },
    baggage: { rewrite: { laneHeader: null, laneBaggage: 'lane' } },
    'lane-header': { rewrite: { laneHeader: 'x-lane' } },
    'objects-baggage': { rewrite: { laneHeader: null, laneBaggage: 'lane' }, transcode: false },
  };
  console.log(`dist: ${dist}, ${RECORDS} records per pass, ${PASSES} passes`);
  for (const [name, { rewrite, transcode }] of Object.entries(paths)) {
    const run = () =>
      writePartition(job('lane.t'), {
        backup,
        producer,
        window: { since: null, until: null },
        maxRecordsPerPartition: null,
        rewrite: { ids: null, lane: 'lane', ...rewrite },
        transcode,
      });
    await measure(
      name,
      async () => {
        const r = await run();
        if (r.written !== RECORDS) throw new Error(`${name}: wrote ${r.written}`);
      },
      { per: RECORDS, passes: PASSES, warmups: 3 },
    );
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
