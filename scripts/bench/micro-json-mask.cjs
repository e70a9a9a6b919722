#!/usr/bin/env node
/**
 * Micro-measurement of the JSON body masker (issue 19, src/mask/json-body.ts): ns per record
 * for ~1 KiB JSON values. Runs on a build (`npm run build`):
 *
 *   node --max-semi-space-size=256 --min-semi-space-size=256 scripts/bench/micro-json-mask.cjs [distDir]
 *
 * - parse-stringify: JSON.parse + JSON.stringify of the value (what a parse-and-rewrite masker would cost at least).
 * - scan-only: the masker with no rules (the validating scan alone; the body comes back as it is).
 * - mask-redact-3: three string fields redacted (the scan plus the edits, the cheapest action).
 * - mask-mixed-3: three string fields: hash, partial, fake email (the scan plus the actions' own cost).
 * - plain-mixed-3: the same rules on the same values, without a schema (plain JSON: bound by runtime type).
 */
const path = require('node:path');
const { measure } = require('./micro-measure.cjs');

const dist = path.resolve(process.argv[2] ?? 'dist');
const load = (m) => require(path.join(dist, m));
const { compileJsonSchemaBody, compilePlainJsonBody } = load('mask/json-body.js');
const { parseFieldPath, formatFieldPath } = load('mask/path.js');

const RECORDS = 2000;
const PASSES = 15;
const KEY = Buffer.alloc(32, 7);

function value(i) {
  return {
    id: `ord-${i}`,
    createdAt: '2026-12-06T11:50:05.123Z',
    customer: { name: `Customer Number ${i}`, email: `customer${i}@example.com`, phone: '+1 555 0100', tier: 'gold', since: 2019 },
    items: [
      { sku: 'SKU-000123', qty: 2, price: 19.99, card: `41111111111${String(i % 100000).padStart(5, '0')}` },
      { sku: 'SKU-000456', qty: 1, price: 5.0 },
      { sku: 'SKU-000789', qty: 3, price: 1.25 },
    ],
    shipping: { street: '1 Main Street', city: 'Springfield', zip: '12345', country: 'US', notes: 'Leave at the door, ring twice. '.repeat(4) },
    flags: { gift: false, express: true, fragile: false },
    totals: { net: 50.72, tax: 4.06, gross: 54.78, currency: 'USD' },
    tags: ['web', 'promo-2026', 'returning'],
    meta: { source: 'checkout-service', version: '3.14.1', trace: 'a'.repeat(64) },
  };
}

const texts = Array.from({ length: RECORDS }, (_, i) => JSON.stringify(value(i), null, 1));
const bodies = texts.map((t) => Buffer.from(t));
const avg = bodies.reduce((s, b) => s + b.length, 0) / bodies.length;

const str = { type: 'string' };
const schema = {
  type: 'object',
  properties: {
    id: str,
    createdAt: { type: 'string', format: 'date-time' },
    customer: {
      type: 'object',
      properties: { name: str, email: { type: 'string', format: 'email' }, phone: str, tier: { enum: ['gold', 'silver'] }, since: { type: 'integer' } },
    },
    items: { type: 'array', items: { type: 'object', properties: { sku: str, qty: { type: 'integer' }, price: { type: 'number' }, card: str } } },
    shipping: { type: 'object', additionalProperties: str },
    flags: { type: 'object', additionalProperties: { type: 'boolean' } },
    totals: { type: 'object', properties: { net: { type: 'number' }, tax: { type: 'number' }, gross: { type: 'number' }, currency: str } },
    tags: { type: 'array', items: str },
    meta: { type: 'object', additionalProperties: str },
  },
};

const rule = (text, action) => {
  const p = parseFieldPath(text);
  return { path: p, pathText: formatFieldPath(p), action, optional: false, at: 'bench' };
};
const redact = [rule('customer.name', { kind: 'redact' }), rule('customer.email', { kind: 'redact' }), rule('items[*].card', { kind: 'redact' })];
const mixed = [
  rule('customer.name', { kind: 'hash' }),
  rule('customer.email', { kind: 'fake', fake: 'email' }),
  rule('items[*].card', { kind: 'partial', first: 0, last: 4 }),
];

const compile = (rules) => {
  const c = compileJsonSchemaBody(schema, new Map(), rules, KEY);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  return c.masker;
};
const none = compile([]);
const redactMasker = compile(redact);
const mixedMasker = compile(mixed);
const plainMixed = compilePlainJsonBody(mixed, KEY);

let sink = 0;
const paths = {
  'parse-stringify': () => {
    for (const t of texts) sink += JSON.stringify(JSON.parse(t)).length;
  },
  'scan-only': () => {
    for (const b of bodies) if (none.mask(b) !== b) throw new Error('scan-only changed the body');
  },
  'mask-redact-3': () => {
    for (const b of bodies) sink += redactMasker.mask(b).length;
  },
  'mask-mixed-3': () => {
    for (const b of bodies) sink += mixedMasker.mask(b).length;
  },
  'plain-mixed-3': () => {
    for (const b of bodies) sink += plainMixed.mask(b).length;
  },
};

(async () => {
  console.log(`${RECORDS} JSON values of ${avg.toFixed(0)} bytes on average; fastest of ${PASSES} passes`);
  const only = process.argv[3];
  for (const [name, fn] of Object.entries(paths)) {
    if (only && name !== only) continue;
    await measure(name, fn, { per: RECORDS, passes: PASSES, warmups: 3 });
  }
  if (sink === 0) console.log('');
})();
