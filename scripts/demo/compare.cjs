// Prints the source topic and the lane side by side: topic, subject, schema ID, one decoded
// record and its trace header, record counts and the translated consumer-group position.
'use strict';
const { Kafka, logLevel } = require('../../dist/kafka/transport/kafkajs');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

const LANE = process.argv[2] || 'feature-x';
const TOPIC = process.argv[3] || 'orders';
const LANE_TOPIC = `${LANE}.${TOPIC}`;

// A throw-away group that commits nothing and is deleted afterwards: the next `kbak dump`
// of the topic must not find it among the source's consumer groups.
async function firstRecord(kafka, admin, topic) {
  const groupId = `kbak-demo-peek-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const msg = await new Promise((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (partition === 0) resolve(message);
      },
    });
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return msg;
}

async function latestSubject(url, subject) {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  return res.ok ? res.json() : null;
}

async function main() {
  const kafka = new Kafka({ clientId: 'kbak-demo', brokers: (process.env.KBAK_BROKERS || '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: process.env.KBAK_SCHEMA_REGISTRY_URL });
  const admin = kafka.admin();
  await admin.connect();
  const rows = [];
  for (const [side, topic] of [
    ['source', TOPIC],
    ['lane', LANE_TOPIC],
  ]) {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const offsets = await admin.fetchTopicOffsets(topic);
    const subject = await latestSubject(process.env.KBAK_SCHEMA_REGISTRY_URL, `${topic}-value`);
    const msg = await firstRecord(kafka, admin, topic);
    const decoded = await registry.decode(msg.value);
    const group = side === 'source' ? 'billing' : `${LANE}.billing`;
    const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const p0 = committed[0].partitions.find((p) => p.partition === 0);
    rows.push({
      side,
      topic,
      partitions: meta.topics[0].partitions.length,
      records: offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0),
      subject: subject ? `${subject.subject} v${subject.version}` : '(none)',
      schemaId: msg.value.readUInt32BE(1),
      record: `key=${msg.key} ${JSON.stringify(decoded)}`,
      traceparent: msg.headers.traceparent?.toString(),
      group: `${group} p0@${p0 ? p0.offset : '-'}`,
    });
  }
  await admin.disconnect();
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
