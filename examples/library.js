// Back up a topic with its schemas, check the backup, seed a lane from it, look at the lane.
// Runs against the local stack (npm run stack:up; `set -a; source .stack/env; set +a` exports
// its settings): node examples/library.js (EXAMPLE_TOPIC, EXAMPLE_LANE, EXAMPLE_DEST optional).
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const kbak = require('kbak');

const kafka = { brokers: (process.env.KBAK_BROKERS || '127.0.0.1:9092').split(',') }; // also clientId, tls, sasl; or a KafkaAdapter
const registry = { url: process.env.KBAK_SCHEMA_REGISTRY_URL || 'http://127.0.0.1:8081/apis/ccompat/v7' }; // also username, password
const topic = process.env.EXAMPLE_TOPIC || 'orders';
const lane = process.env.EXAMPLE_LANE || 'example';
// Or new kbak.S3Store({ bucket: 'kbak', prefix: 'backups', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }).
const store = new kbak.DiskStore(process.env.EXAMPLE_DEST || mkdtempSync(join(tmpdir(), 'kbak-example-')));

async function main() {
  // Ctrl-C: the running call releases its store lock and throws InterruptedError (exitCode 130).
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort('SIGINT'));
  const signal = stop.signal;

  // With the registry, the backup holds the schemas, so the lane gets subjects and IDs of its own.
  const { summary } = await kbak.dump({ kafka, registry, store, topics: [topic], clusterName: 'example', signal });
  console.log(`backup ${summary.backupId}: ${summary.records} records, ${summary.schemas} schemas`);
  // Continue where the newest backup ended; wait up to a minute for a running prune.
  const next = await kbak.dump({ kafka, registry, store, topics: [topic], clusterName: 'example', incremental: true, lockWaitMs: 60_000, signal });
  console.log(`backup ${next.summary.backupId}: ${next.summary.records} new records, ${next.summary.backupRecords} in all`);

  const { backups } = await kbak.describeBackups({ store, signal });
  console.log(`store: ${backups.map((b) => `${b.id} (${b.kind})`).join(', ')} of ${(await kbak.listBackups(store)).length}`);
  for (const r of await kbak.verify({ store, all: true, signal })) console.log(`verify ${r.backupId}: ${r.ok ? 'ok' : r.problem.message}`);

  const backup = await kbak.openBackup(store, 'latest');
  for await (const r of backup.records(topic, 0)) {
    console.log(`first record of ${topic}/0: offset ${r.offset}, key ${r.key}, value of ${r.value?.length ?? 0} bytes`);
    break;
  }
  let count = 0; // records in place, a block at a time, as `kbak cat` reads them
  for await (const b of kbak.readRawRecords(backup, { topic, signal })) for (const r of b.records) if (r.valueLength >= 0) count++;
  console.log(`${count} records with a value in the latest backup`);

  const seed = { kafka, registry, backup, lane, ttlMs: 3_600_000, signal }; // the lane expires in an hour (gcLanes)
  console.log((await kbak.planRestore(seed)).text);
  try {
    const r = await kbak.restore(seed);
    console.log(`lane ${r.lane}: ${r.records} records, ${r.subjectsRegistered} subjects, schema IDs ${JSON.stringify(r.idMap)}`);
  } catch (err) {
    if (!(err instanceof kbak.SafetyError)) throw err;
    console.log(`not touching lane ${lane}: ${err.message}`); // mode: 'resume' or 'replace' to go on
  }

  const { lanes } = await kbak.listLanes({ kafka, signal });
  console.log(`lanes: ${lanes.map((l) => `${l.lane} (${l.records} records)`).join(', ')}`);
  const found = await kbak.describeLane({ kafka, lane, signal });
  console.log(`lane ${lane} topics: ${found.entry.topics.map((t) => t.name).join(', ')}`);
  const del = await kbak.deleteLane({ kafka, registry, lane, dryRun: true, signal }); // without dryRun it deletes
  console.log(`deleting lane ${lane} would remove ${del.plan.topics.join(', ')} and ${del.plan.subjects.join(', ')}`);
  console.log(`expired lanes: ${(await kbak.gcLanes({ kafka, registry, dryRun: true, signal })).expired.length}`);

  const [pruned] = await kbak.prune({ store, policy: { keepLast: 2 }, dryRun: true, signal });
  console.log(`prune would remove ${pruned.removed.length} backups`);
  console.log(`stale locks removed: ${(await kbak.breakLocks({ store, signal })).length}`); // only when their holders are dead
}

main().catch((err) => {
  console.error(`kbak: ${err.message}`);
  process.exitCode = err.exitCode ?? 1;
});
