#!/usr/bin/env node
// End-to-end check of a running local stack, using the same client libraries
// kbak uses (kafkajs, @aws-sdk/client-s3, @aws-sdk/lib-storage, fetch):
//   node scripts/stack/smoke.cjs            (after `npm run stack:up`)
// Reads connection settings from $KBAK_STACK_DIR/env (default .stack/env);
// variables already set in the environment win. Exits non-zero on the first
// failed check. Creates uniquely named topics/subjects/objects and deletes
// what it can afterwards.
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const fs = require('fs');
const path = require('path');
const assert = require('assert/strict');

const repo = path.resolve(__dirname, '..', '..');
const envFile = path.join(process.env.KBAK_STACK_DIR || path.join(repo, '.stack'), 'env');
if (fs.existsSync(envFile)) {
  for (const line of fs.readFileSync(envFile, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}
const env = process.env;
const req = (m) => require(require.resolve(m, { paths: [repo] }));
const { Kafka, logLevel } = req('kafkajs');
const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectsCommand, ListBucketsCommand } = req('@aws-sdk/client-s3');
const { Upload } = req('@aws-sdk/lib-storage');

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ok = (what) => console.log(`ok   ${what}`);

async function consumeAll(kafka, topic, groupId, want, timeoutMs = 20000) {
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  const got = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push(message);
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (got.length < want && Date.now() < deadline) await sleep(100);
  await sleep(500); // catch anything unexpected beyond `want`
  await consumer.disconnect();
  return got;
}

async function kafkaChecks() {
  const kafka = new Kafka({ clientId: 'kbak-smoke', brokers: env.KBAK_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const plain = `smoke-${run}`;
  const txn = `smoke-txn-${run}`;
  const compacted = `smoke-compact-${run}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: plain, numPartitions: 1 },
      { topic: txn, numPartitions: 1 },
      {
        topic: compacted,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.ms', value: '100' },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          { name: 'delete.retention.ms', value: '100' },
        ],
      },
    ],
  });
  ok(`kafka: created topics ${plain}, ${txn}, ${compacted}`);

  // Plain produce + consume with headers.
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: plain, messages: [{ key: 'k1', value: 'hello', headers: { 'x-kbak': 'h1', bin: Buffer.from([0, 1, 2]) } }] });
  await producer.disconnect();
  const [m] = await consumeAll(kafka, plain, `smoke-g-${run}`, 1);
  assert.ok(m, 'no message consumed');
  assert.equal(m.key.toString(), 'k1');
  assert.equal(m.value.toString(), 'hello');
  assert.equal(m.headers['x-kbak'].toString(), 'h1');
  assert.deepEqual([...m.headers.bin], [0, 1, 2]);
  ok('kafka: produced and consumed one record with headers');

  // Transactions: one committed, one aborted; read_committed sees only the first.
  const tp = kafka.producer({ transactionalId: `smoke-tx-${run}`, idempotent: true, maxInFlightRequests: 1 });
  await tp.connect();
  let t = await tp.transaction();
  await t.send({ topic: txn, messages: [{ key: 'a', value: 'committed' }] });
  await t.commit();
  t = await tp.transaction();
  await t.send({ topic: txn, messages: [{ key: 'b', value: 'aborted' }] });
  await t.abort();
  await tp.disconnect();
  const txMsgs = await consumeAll(kafka, txn, `smoke-gt-${run}`, 1);
  assert.deepEqual(
    txMsgs.map((x) => x.value.toString()),
    ['committed'],
  );
  ok('kafka: transactional producer committed one transaction (and an aborted one stayed invisible)');

  // Group offsets were committed (the coordinator works on one node).
  const offs = await admin.fetchOffsets({ groupId: `smoke-gt-${run}`, topics: [txn] });
  assert.ok(Number(offs[0].partitions[0].offset) > 0, 'no committed group offset');
  ok(`kafka: consumer group offset committed (${offs[0].partitions[0].offset})`);

  // Compaction: several values per key; the log cleaner must drop the old ones.
  const cp = kafka.producer();
  await cp.connect();
  for (let i = 0; i < 5; i++) {
    await cp.send({
      topic: compacted,
      messages: [
        { key: 'same', value: `v${i}` },
        { key: `k${i}`, value: 'x' },
      ],
    });
    await sleep(150); // > segment.ms, so each batch lands in a new segment
  }
  let seen = [];
  const deadline = Date.now() + 30000;
  for (;;) {
    await cp.send({ topic: compacted, messages: [{ key: 'roll', value: String(Date.now()) }] });
    const c = kafka.consumer({ groupId: `smoke-gc-${run}-${Date.now()}` });
    seen = [];
    await c.connect();
    await c.subscribe({ topic: compacted, fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) => {
        if (message.key.toString() === 'same') seen.push(message.value.toString());
      },
    });
    await sleep(1500);
    await c.disconnect();
    if (seen.length === 1 || Date.now() > deadline) break;
    await sleep(1000);
  }
  await cp.disconnect();
  assert.deepEqual(seen, ['v4'], `log cleaner did not compact within 30s (saw ${seen})`);
  ok('kafka: log compaction removed superseded values');

  await admin.deleteTopics({ topics: [plain, txn, compacted] });
  await admin.disconnect();
}

async function registryChecks() {
  const base = env.KBAK_SCHEMA_REGISTRY_URL;
  const ct = { 'Content-Type': 'application/vnd.schemaregistry.v1+json' };
  const call = async (method, p, body) => {
    const r = await fetch(base + p, { method, headers: ct, body: body && JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const avro = JSON.stringify({ type: 'record', name: `R${run}`, fields: [{ name: 'x', type: 'int' }] });
  const s1 = `smoke-${run}-a-value`;
  const s2 = `smoke-${run}-b-value`;
  const r1 = await call('POST', `/subjects/${s1}/versions`, { schema: avro });
  const r2 = await call('POST', `/subjects/${s2}/versions`, { schema: avro });
  assert.equal(r1.status, 200);
  assert.equal(r1.body.id, r2.body.id, 'identical schema got different ids under two subjects');
  ok(`registry: same AVRO schema under two subjects -> same id ${r1.body.id}`);
  const byId = await call('GET', `/schemas/ids/${r1.body.id}`);
  assert.equal(byId.body.schema, avro);
  const versions = await call('GET', `/schemas/ids/${r1.body.id}/versions`);
  assert.deepEqual(versions.body.map((v) => v.subject).sort(), [s1, s2]);
  ok('registry: GET /schemas/ids/{id} and /schemas/ids/{id}/versions');

  const dep = `smoke-${run}-addr.proto`;
  const d = await call('POST', `/subjects/${dep}/versions`, {
    schemaType: 'PROTOBUF',
    schema: `syntax = "proto3";\npackage s${run};\nmessage Address { string city = 1; }\n`,
  });
  const p = await call('POST', `/subjects/smoke-${run}-person-value/versions`, {
    schemaType: 'PROTOBUF',
    schema: `syntax = "proto3";\npackage s${run};\nimport "addr.proto";\nmessage Person { string name = 1; Address addr = 2; }\n`,
    references: [{ name: 'addr.proto', subject: dep, version: 1 }],
  });
  assert.equal(d.status, 200);
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const pv = await call('GET', `/schemas/ids/${p.body.id}`);
  assert.deepEqual(pv.body.references, [{ name: 'addr.proto', subject: dep, version: 1 }]);
  ok('registry: PROTOBUF schema with a reference registered and returned with its references');

  const put = await call('PUT', `/config/${s1}`, { compatibility: 'FULL' });
  assert.equal(put.status, 200);
  const get = await call('GET', `/config/${s1}`);
  assert.equal(get.body.compatibilityLevel, 'FULL');
  ok('registry: PUT/GET /config/{subject}');

  for (const s of [s1, s2, `smoke-${run}-person-value`, dep]) {
    const del = await call('DELETE', `/subjects/${s}`);
    assert.equal(del.status, 200, `${s}: ${JSON.stringify(del.body)}`);
    await call('DELETE', `/subjects/${s}?permanent=true`);
  }
  ok('registry: DELETE /subjects/{s} (soft, then permanent)');
}

async function s3Checks() {
  const s3 = new S3Client({
    endpoint: env.KBAK_S3_ENDPOINT,
    forcePathStyle: env.KBAK_S3_FORCE_PATH_STYLE === 'true',
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  const Bucket = env.KBAK_S3_BUCKET;
  const buckets = await s3.send(new ListBucketsCommand({}));
  assert.ok(
    buckets.Buckets.some((b) => b.Name === Bucket),
    `bucket ${Bucket} not listed`,
  );
  ok(`s3: bucket ${Bucket} listed`);
  const prefix = `smoke-${run}/`;
  await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}small.txt`, Body: 'hello s3', Metadata: { kbak: 'yes' } }));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}small.txt` }));
  assert.equal(await got.Body.transformToString(), 'hello s3');
  assert.equal(got.Metadata.kbak, 'yes');
  ok('s3: put/get object with metadata');

  const big = Buffer.alloc(12 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
  const up = new Upload({ client: s3, params: { Bucket, Key: `${prefix}big.bin`, Body: big }, partSize: 5 * 1024 * 1024, queueSize: 2 });
  await up.done();
  const back = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}big.bin` }))).Body.transformToByteArray());
  assert.ok(back.equals(big), 'multipart object differs');
  ok('s3: 12 MiB multipart upload (3 parts) read back identical');

  const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
  assert.deepEqual(list.Contents.map((o) => o.Key).sort(), [`${prefix}big.bin`, `${prefix}small.txt`]);
  ok('s3: ListObjectsV2 with prefix');
  await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: list.Contents.map((o) => ({ Key: o.Key })) } }));
}

(async () => {
  const only = process.argv.slice(2);
  const checks = { kafka: kafkaChecks, registry: registryChecks, s3: s3Checks };
  for (const [name, fn] of Object.entries(checks)) {
    if (only.length && !only.includes(name)) continue;
    await fn();
  }
  console.log('smoke: all checks passed');
})().catch((e) => {
  console.error(`smoke: FAILED: ${e.stack || e}`);
  process.exit(1);
});
