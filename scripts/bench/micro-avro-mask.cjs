#!/usr/bin/env node
/**
 * Micro-measurement of the Avro body masker (issue 19 item 7: a masked restore of 1 KiB Avro
 * records with 3 masked fields must reach ≥ 0.5× the unmasked restore). Runs on a build
 * (`npm run build`):
 *
 *   node --max-semi-space-size=256 --min-semi-space-size=256 scripts/bench/micro-avro-mask.cjs [distDir]
 *
 * Per path: nanoseconds per record (fastest pass, median) and bytes allocated per record
 * (see micro-measure.cjs), over records of about 1 KiB:
 *
 * - mask-3-fields: AvroBodyMasker.mask with hash, fake email and partial on three string fields;
 * - mask-3-redact: the same three fields redacted (a constant): the walk's own cost when it rewrites;
 * - mask-no-rules: the same walk with no rule (checks the body, returns it as it is);
 * - values-1-path: AvroBodyMasker.values of one field (what sampling by a field reads);
 * - avsc-roundtrip: avsc's own type.fromBuffer + type.toBuffer of the same body, for scale.
 */
const path = require('node:path');
const avro = require('avsc');
const { measure } = require('./micro-measure.cjs');

const dist = path.resolve(process.argv[2] ?? 'dist');
const load = (m) => require(path.join(dist, m));
const { EXACT_AVRO_LONG } = load('backup/decode.js');
const { compileAvroBody } = load('mask/avro-body.js');
const { parseFieldPath, formatFieldPath } = load('mask/path.js');

const RECORDS = 2000;
const PASSES = 25;
const KEY = Buffer.alloc(32, 7);

const schema = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'createdAt', type: 'long' },
    {
      name: 'customer',
      type: {
        type: 'record',
        name: 'Customer',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'email', type: 'string' },
          { name: 'name', type: 'string' },
          { name: 'phone', type: ['null', 'string'] },
          { name: 'age', type: 'int' },
        ],
      },
    },
    { name: 'card', type: 'string' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Item',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'title', type: 'string' },
            { name: 'qty', type: 'int' },
            { name: 'price', type: 'double' },
          ],
        },
      },
    },
    { name: 'attributes', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'] },
  ],
};
const type = avro.Type.forSchema(schema, { registry: { long: EXACT_AVRO_LONG } });

function record(i) {
  return {
    id: BigInt(1_000_000 + i),
    createdAt: BigInt(1_700_000_000_000 + i),
    customer: {
      id: `cust-${i}`,
      email: `user${i}@example.com`,
      name: `Customer Number ${i}`,
      phone: `+1 555 01${String(i % 100).padStart(2, '0')}`,
      age: 20 + (i % 60),
    },
    card: `4111 1111 ${String(1000 + (i % 9000))} ${String(1000 + ((i * 7) % 9000))}`,
    status: 'PAID',
    items: Array.from({ length: 8 }, (_, j) => ({
      sku: `SKU-${i}-${j}`,
      title: `A product with a fairly long title ${j}`.padEnd(84, '.'),
      qty: j + 1,
      price: 9.99 * (j + 1),
    })),
    attributes: { source: 'web', campaign: `c-${i % 17}`, 10: 'ten', 2: 'two', region: 'eu-west-1' },
    note: i % 2 === 0 ? null : 'leave the parcel with the neighbour',
  };
}

const bodies = Array.from({ length: RECORDS }, (_, i) => type.toBuffer(record(i)));
const avgBytes = bodies.reduce((n, b) => n + b.length, 0) / RECORDS;

const rule = (text, action) => {
  const p = parseFieldPath(text);
  return { path: p, pathText: formatFieldPath(p), action, optional: false, at: 'bench' };
};
const compiled = (rules) => {
  const c = compileAvroBody(type, rules, KEY);
  if (!c.ok) throw new Error(JSON.stringify(c.errors.map((e) => e.problem)));
  return c.masker;
};
const masked = compiled([
  rule('customer.id', { kind: 'hash' }),
  rule('customer.email', { kind: 'fake', fake: 'email' }),
  rule('card', { kind: 'partial', first: 0, last: 4 }),
]);
const redacting = compiled([rule('customer.id', { kind: 'redact' }), rule('customer.email', { kind: 'redact' }), rule('card', { kind: 'redact' })]);
const plain = compiled([]);
const byPath = parseFieldPath('customer.id');

// The masked output must decode with the same schema (a bench of a broken walk measures nothing).
for (const b of bodies.slice(0, 50)) type.fromBuffer(masked.mask(b));

let sink = 0;
const paths = {
  'mask-3-fields': () => {
    for (const b of bodies) sink += masked.mask(b).length;
  },
  'mask-3-redact': () => {
    for (const b of bodies) sink += redacting.mask(b).length;
  },
  'mask-no-rules': () => {
    for (const b of bodies) sink += plain.mask(b).length;
  },
  'values-1-path': () => {
    for (const b of bodies) sink += plain.values(b, byPath).length;
  },
  'avsc-roundtrip': () => {
    for (const b of bodies) sink += type.toBuffer(type.fromBuffer(b)).length;
  },
};

(async () => {
  console.log(`${RECORDS} records of ${avgBytes.toFixed(0)} bytes on average, ${PASSES} passes`);
  for (const [name, fn] of Object.entries(paths)) await measure(name, fn, { per: RECORDS, passes: PASSES, warmups: 10 });
  if (sink === 0) console.log('');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
