// Seeds the demo topic `orders`: several partitions, Avro values registered in the schema
// registry, keys, and the tracing headers a mesh puts on requests. Idempotent: an existing
// topic with data is left as it is.
'use strict';
const { Kafka, logLevel } = require('../../dist/kafka/transport/kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const TOPIC = process.env.DEMO_TOPIC || 'orders';
const PARTITIONS = 6;
const RECORDS = Number(process.env.DEMO_RECORDS || 30000);

const ORDER_SCHEMA = {
  type: 'record',
  name: 'Order',
  namespace: 'shop.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amountCents', type: 'long' },
    { name: 'currency', type: 'string' },
    { name: 'items', type: { type: 'array', items: 'string' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED', 'CANCELLED'] } },
  ],
};

function hex(n, len) {
  return n.toString(16).padStart(len, '0').slice(-len);
}

async function main() {
  const kafka = new Kafka({ clientId: 'kbak-demo', brokers: (process.env.KBAK_BROKERS || '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics = await admin.listTopics();
  let exists = topics.includes(TOPIC);
  if (exists) {
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    const subject = await fetch(`${process.env.KBAK_SCHEMA_REGISTRY_URL}/subjects/${TOPIC}-value/versions/latest`);
    if (total > 0 && subject.ok) {
      console.log(`demo: topic ${TOPIC} already holds ${total} records, not seeding again`);
      await admin.disconnect();
      return;
    }
    if (total > 0) {
      // The local registry keeps schemas in memory: after a stack restart the records'
      // schema IDs point nowhere, so the demo topic is seeded afresh.
      console.log(`demo: ${TOPIC}-value is gone from the registry (restarted?), seeding ${TOPIC} again`);
      await admin.deleteTopics({ topics: [TOPIC], timeout: 30000 });
      while ((await admin.listTopics()).includes(TOPIC)) await new Promise((r) => setTimeout(r, 200));
      exists = false;
    }
  }
  if (!exists) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '604800000' }] }],
    });
  }
  const registry = new SchemaRegistry({ host: process.env.KBAK_SCHEMA_REGISTRY_URL });
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_SCHEMA) }, { subject: `${TOPIC}-value` });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const statuses = ['NEW', 'PAID', 'SHIPPED', 'CANCELLED'];
  const start = Date.now() - RECORDS * 100;
  for (let i = 0; i < RECORDS; i += 500) {
    const messages = [];
    for (let j = i; j < Math.min(RECORDS, i + 500); j++) {
      const traceId = hex(j * 2654435761, 16) + hex(j * 40503, 16);
      const spanId = hex(j * 97531, 16);
      const value = await registry.encode(id, {
        orderId: `o-${j}`,
        customer: `customer-${j % 997}`,
        amountCents: 100 + ((j * 7919) % 100000),
        currency: j % 3 === 0 ? 'EUR' : 'USD',
        items: Array.from({ length: 1 + (j % 4) }, (_, k) => `sku-${(j + k) % 500}`),
        status: statuses[j % 4],
      });
      messages.push({
        key: `customer-${j % 997}`,
        value,
        timestamp: String(start + j * 100),
        // Distinct, non-numeric keys: kafkajs writes an object's headers in this order.
        headers: {
          traceparent: Buffer.from(`00-${traceId}-${spanId}-01`),
          tracestate: Buffer.from('shop=checkout'),
          baggage: Buffer.from('lane=baseline'),
          b3: Buffer.from(`${traceId}-${spanId}-1`),
          'uber-trace-id': Buffer.from(`${traceId}:${spanId}:0:1`),
        },
      });
    }
    await producer.send({ topic: TOPIC, acks: -1, messages });
  }
  await producer.disconnect();
  // A consumer group with committed positions, so the lane gets translated offsets.
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  await admin.setOffsets({
    groupId: 'billing',
    topic: TOPIC,
    partitions: offsets.map((o) => ({ partition: o.partition, offset: String(Math.floor(Number(o.high) / 2)) })),
  });
  await admin.disconnect();
  console.log(
    `demo: seeded ${RECORDS} Avro records (schema id ${id}, subject ${TOPIC}-value) into ${TOPIC} (${PARTITIONS} partitions) with tracing headers; group billing at half of each partition`,
  );
}

main().catch((err) => {
  console.error(`demo: seeding failed: ${err.message}`);
  process.exit(1);
});
