// Prints the source topic and the lane side by side: topic, subject, schema ID, one decoded
// record and its trace header, record counts and the translated consumer-group position.
'use strict';
// Read with kbak's own library (the KafkaAdapter): it reads every codec a lane may be
// written with and keeps headers as they are on the wire, and it joins no consumer group.
const { openKafka } = require('../../dist');
const pino = require('pino');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

const LANE = process.argv[2] || 'feature-x';
const TOPIC = process.argv[3] || 'orders';
const LANE_TOPIC = `${LANE}.${TOPIC}`;

/** The first record of partition 0. */
async function firstRecord(kafka, topic) {
  const p0 = (await kafka.listOffsets(topic)).find((o) => o.partition === 0);
  let first = null;
  await kafka.readRanges(
    [{ topic, partition: 0, start: p0.low, end: p0.low + 1n }],
    { concurrency: 1, stallTimeoutMs: 30000 },
    { onRecord: async (_target, record) => void (first ??= record), onPartitionDone: async () => undefined },
  );
  return first;
}

async function latestSubject(url, subject) {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  return res.ok ? res.json() : null;
}

async function main() {
  const kafka = openKafka(
    {
      brokers: (process.env.KBAK_BROKERS || '127.0.0.1:9092').split(','),
      clientId: 'kbak-demo',
      tls: { enabled: false },
      connectionTimeoutMs: 10000,
      requestTimeoutMs: 30000,
    },
    pino({ level: 'silent' }),
  );
  const registry = new SchemaRegistry({ host: process.env.KBAK_SCHEMA_REGISTRY_URL });
  const rows = [];
  try {
    for (const [side, topic] of [
      ['source', TOPIC],
      ['lane', LANE_TOPIC],
    ]) {
      const [meta] = await kafka.describeTopics([topic]);
      const offsets = await kafka.listOffsets(topic);
      const subject = await latestSubject(process.env.KBAK_SCHEMA_REGISTRY_URL, `${topic}-value`);
      const record = await firstRecord(kafka, topic);
      const decoded = await registry.decode(record.value);
      const group = side === 'source' ? 'billing' : `${LANE}.billing`;
      const p0 = (await kafka.fetchGroupOffsets(group, [topic])).find((o) => o.partition === 0);
      rows.push({
        side,
        topic,
        partitions: meta.partitions.length,
        records: offsets.reduce((n, o) => n + Number(o.high - o.low), 0),
        subject: subject ? `${subject.subject} v${subject.version}` : '(none)',
        schemaId: record.value.readUInt32BE(1),
        record: `key=${record.key} ${JSON.stringify(decoded)}`,
        traceparent: record.headers.find((h) => h.key === 'traceparent')?.value?.toString(),
        group: `${group} p0@${p0 && p0.offset >= 0n ? p0.offset : '-'}`,
      });
    }
  } finally {
    await kafka.close();
  }
  const labels = ['topic', 'partitions', 'records', 'subject', 'schemaId', 'record', 'traceparent', 'group'];
  const width = 12;
  console.log(`\n${''.padEnd(width)}| ${'SOURCE'.padEnd(60)}| LANE ${LANE}`);
  for (const l of labels) {
    const a = String(rows[0][l]);
    const b = String(rows[1][l]);
    console.log(`${l.padEnd(width)}| ${(a.length > 58 ? `${a.slice(0, 55)}...` : a).padEnd(60)}| ${b.length > 58 ? `${b.slice(0, 55)}...` : b}`);
  }
  const same = rows[0].traceparent === rows[1].traceparent && rows[0].record === rows[1].record;
  console.log(
    `\nsame record and trace header in the lane: ${same ? 'yes' : 'NO'}; schema ID ${rows[0].schemaId} -> ${rows[1].schemaId} under the lane subject`,
  );
  if (!same) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`demo: comparison failed: ${err.message}`);
  process.exit(1);
});
