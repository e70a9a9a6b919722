#!/usr/bin/env node
// Small admin helper for scripts/bench.sh, using the same client libraries kbak uses:
//   node scripts/bench/admin.cjs create-topic TOPIC PARTITIONS [MS_FILE]
//                                                            (MS_FILE: gets the milliseconds the
//                                                             CreateTopics and the wait for its
//                                                             leaders took, measured in-process)
//   node scripts/bench/admin.cjs delete-topic TOPIC
//   node scripts/bench/admin.cjs delete-topics-containing TEXT (every topic whose name contains TEXT)
//   node scripts/bench/admin.cjs seed-groups TOPIC PREFIX N   (groups PREFIX-1..N, each committed at
//                                                               the middle of every partition)
//   node scripts/bench/admin.cjs delete-groups PREFIX        (every group whose id starts with PREFIX)
//   node scripts/bench/admin.cjs topic-records TOPIC          (prints the sum of end-start offsets)
//   node scripts/bench/admin.cjs s3-rm BUCKET PREFIX          (deletes every object under PREFIX)
//   node scripts/bench/admin.cjs delete-subjects-containing TEXT (every registry subject whose name
//                                                               contains TEXT, permanently)
// Connection settings come from the environment (.stack/env, sourced by bench.sh).
'use strict';
const fs = require('fs');
const { req, kafka } = require('./clients.cjs');

const env = process.env;

async function withAdmin(fn) {
  const admin = kafka('kbak-bench').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function s3rm(bucket, prefix) {
  const { S3Client, ListObjectsV2Command, DeleteObjectsCommand } = req('@aws-sdk/client-s3');
  const s3 = new S3Client({
    endpoint: env.KBAK_S3_ENDPOINT,
    region: env.AWS_REGION || 'us-east-1',
    forcePathStyle: env.KBAK_S3_FORCE_PATH_STYLE === 'true',
  });
  let token;
  let n = 0;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const keys = (page.Contents || []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      n += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return n;
}

// Soft delete, then permanent (the Confluent API refuses a permanent delete of a live subject).
async function deleteSubjectsContaining(text) {
  if (!text || text.length < 8) throw new Error('delete-subjects-containing needs a distinctive text');
  const base = env.KBAK_SCHEMA_REGISTRY_URL;
  if (!base) return;
  const call = async (method, p) => {
    const res = await fetch(`${base}${p}`, { method });
    if (!res.ok && res.status !== 404) throw new Error(`${method} ${p}: HTTP ${res.status}`);
    return res.ok ? res.json() : null;
  };
  const subjects = ((await call('GET', '/subjects?deleted=true')) || []).filter((s) => s.includes(text));
  for (const s of subjects) {
    await call('DELETE', `/subjects/${encodeURIComponent(s)}`);
    await call('DELETE', `/subjects/${encodeURIComponent(s)}?permanent=true`);
  }
}

async function main(argv) {
  const [cmd, a, b] = argv;
  switch (cmd) {
    case 'create-topic':
      await withAdmin(async (admin) => {
        // The peers that cannot create their topic (kcat -P, ProducerPerformance) get this added to
        // their wall time, so topic creation is inside every restore-side tool's time, as it is in
        // kbak's and OSO's restore. Connecting is left out: the tools connect on their own anyway.
        const t0 = performance.now();
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: a, numPartitions: Number(b), replicationFactor: 1 }] });
        if (argv[3]) fs.writeFileSync(argv[3], `${(performance.now() - t0).toFixed(1)}\n`);
      });
      return;
    case 'delete-topic':
      await withAdmin(async (admin) => {
        const topics = await admin.listTopics();
        if (topics.includes(a)) await admin.deleteTopics({ topics: [a] });
      });
      return;
    case 'delete-topics-containing':
      await withAdmin(async (admin) => {
        if (!a || a.length < 8) throw new Error('delete-topics-containing needs a distinctive text');
        const topics = (await admin.listTopics()).filter((t) => t.includes(a));
        if (topics.length > 0) await admin.deleteTopics({ topics });
      });
      return;
    case 'seed-groups':
      await withAdmin(async (admin) => {
        const offs = await admin.fetchTopicOffsets(a);
        const partitions = offs.map((o) => ({ partition: o.partition, offset: String((BigInt(o.low) + BigInt(o.high)) / 2n) }));
        const n = Number(argv[3]);
        // setOffsets joins each group once; in parallel so 20 groups do not take 20 joins in a row.
        await Promise.all(Array.from({ length: n }, (_, i) => admin.setOffsets({ groupId: `${b}-${i + 1}`, topic: a, partitions })));
      });
      return;
    case 'delete-groups':
      await withAdmin(async (admin) => {
        const { groups } = await admin.listGroups();
        const ids = groups.map((g) => g.groupId).filter((g) => g.startsWith(a));
        if (ids.length > 0) await admin.deleteGroups(ids);
      });
      return;
    case 'topic-records':
      await withAdmin(async (admin) => {
        const offs = await admin.fetchTopicOffsets(a);
        const n = offs.reduce((s, p) => s + (BigInt(p.high) - BigInt(p.low)), 0n);
        process.stdout.write(`${n}\n`);
      });
      return;
    case 's3-rm':
      await s3rm(a, b);
      return;
    case 'delete-subjects-containing':
      await deleteSubjectsContaining(a);
      return;
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench admin: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
