#!/usr/bin/env node
// Fills the masked-restore bench topic (scripts/bench.sh) with Avro orders framed for the schema
// registry, the shape a seed-from-production restore masks:
//   node scripts/bench/gen-avro.cjs TOPIC N VALUE_BYTES
// Registers the Order schema under TOPIC-value (KBAK_SCHEMA_REGISTRY_URL) and produces N records
// (key = customerId, value = magic byte 0, schema ID, Avro body of about VALUE_BYTES bytes) to the
// existing TOPIC (KBAK_BROKERS), in batches of 1000, acks -1, uncompressed. Customers are drawn from
// 20 000 ids, each with a fixed e-mail, name and card, so orders of one customer repeat them as in
// a real topic (and the maskers' per-value work is not flattered by unique inputs only); `note` is
// random letters padding the body to VALUE_BYTES, like gen-records.cjs's values. Prints one line
// with the schema ID and the body size to stderr.
'use strict';
const { req, kafka } = require('./clients.cjs');
const { randomFillSync } = require('crypto');

const avro = req('avsc');
const { CompressionTypes } = req('kafkajs');
const { SchemaRegistry, SchemaType } = req('@kafkajs/confluent-schema-registry');

const [topic, nArg, sizeArg] = process.argv.slice(2);
const N = Number(nArg);
const SIZE = Number(sizeArg);
if (!topic || !Number.isInteger(N) || N < 1 || !Number.isInteger(SIZE) || SIZE < 1) {
  process.stderr.write('usage: gen-avro.cjs TOPIC N VALUE_BYTES\n');
  process.exit(2);
}
const env = process.env;
if (!env.KBAK_SCHEMA_REGISTRY_URL) {
  process.stderr.write('gen-avro: KBAK_SCHEMA_REGISTRY_URL is not set (source the stack env: .stack/env)\n');
  process.exit(2);
}

const CUSTOMERS = 20000;
const BATCH = 1000;
const IN_FLIGHT = 4;

const ORDER_SCHEMA = {
  type: 'record',
  name: 'Order',
  namespace: 'bench.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'card', type: 'string' },
    { name: 'note', type: 'string' },
    { name: 'amountCents', type: 'long' },
  ],
};
const type = avro.Type.forSchema(ORDER_SCHEMA);

// A fixed seed: the same customers and orders every run (mulberry32).
let seed = 0x6b62616b;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'Dennis', 'Radia', 'Leslie'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen', 'Ritchie', 'Perlman', 'Lamport'];
function customer(i) {
  const first = FIRST[i % FIRST.length];
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
  const digits = String(4000000000000000 + ((i * 7919 + 104729) % 1000000000000)).padStart(16, '0');
  return {
    customerId: `cust-${String(i).padStart(6, '0')}`,
    email: `${first}.${last}${i}@example.org`.toLowerCase(),
    name: `${first} ${last}`,
    card: `${digits.slice(0, 4)}-${digits.slice(4, 8)}-${digits.slice(8, 12)}-${digits.slice(12)}`,
  };
}
const customers = Array.from({ length: CUSTOMERS }, (_, i) => customer(i));

// The note's length that brings the body to SIZE bytes: an empty note is 1 length byte, a note
// of 64..8191 characters 2.
const base = type.toBuffer({ orderId: `o-${String(N).padStart(9, '0')}`, ...customers[CUSTOMERS - 1], note: '', amountCents: 99999 }).length;
const NOTE = Math.max(0, SIZE - base - (SIZE - base - 1 >= 64 ? 1 : 0));

async function main() {
  const registry = new SchemaRegistry({ host: env.KBAK_SCHEMA_REGISTRY_URL });
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_SCHEMA) }, { subject: `${topic}-value` });
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(id, 1);

  const producer = kafka('kbak-bench-avro').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const letters = Buffer.allocUnsafe(BATCH * NOTE);
  let bodyBytes = 0;
  const batch = (from) => {
    const to = Math.min(N, from + BATCH);
    randomFillSync(letters);
    for (let j = 0; j < letters.length; j++) letters[j] = 97 + (letters[j] % 26);
    const messages = [];
    for (let i = from; i < to; i++) {
      const c = customers[Math.floor(rand() * CUSTOMERS)];
      const k = i - from;
      const body = type.toBuffer({
        orderId: `o-${String(i).padStart(9, '0')}`,
        ...c,
        note: letters.toString('latin1', k * NOTE, (k + 1) * NOTE),
        amountCents: 100 + Math.floor(rand() * 100000),
      });
      bodyBytes += body.length;
      messages.push({ key: c.customerId, value: Buffer.concat([frame, body]) });
    }
    return producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
  };
  // Up to IN_FLIGHT batches at once: the topic's order does not matter to the bench.
  const pending = new Set();
  for (let from = 0; from < N; from += BATCH) {
    const p = batch(from).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  }
  await Promise.all(pending);
  await producer.disconnect();
  process.stderr.write(`gen-avro: ${N} Avro records into ${topic} (schema id ${id}, subject ${topic}-value), body ${Math.round(bodyBytes / N)} B on average\n`);
}

main().catch((err) => {
  process.stderr.write(`gen-avro: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
