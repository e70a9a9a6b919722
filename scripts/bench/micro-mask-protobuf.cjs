#!/usr/bin/env node
/**
 * Micro-measurement of the Protobuf body masker (src/mask/protobuf-body.ts, issue 19) on a
 * build (`npm run build`):
 *
 *   node --max-semi-space-size=256 --min-semi-space-size=256 scripts/bench/micro-mask-protobuf.cjs [distDir]
 *
 * A ~1 KiB message with 3 masked string fields (hash, hash, partial), against protobufjs
 * decoding and re-encoding the same body (what a decode-mask-encode masker would at least
 * pay), and the masker with no rules (the walk alone). Per path: ns per record (fastest pass,
 * median) and bytes allocated per record (micro-measure.cjs); and the three leaf masks called
 * on the same values without a walk (the HMACs' share).
 */
const path = require('node:path');
const protobuf = require('protobufjs');
const { measure } = require('./micro-measure.cjs');

const dist = path.resolve(process.argv[2] ?? 'dist');
const { compileProtobufBody } = require(path.join(dist, 'mask/protobuf-body.js'));
const { parseFieldPath, formatFieldPath } = require(path.join(dist, 'mask/path.js'));
const { leafMasker } = require(path.join(dist, 'mask/leaf.js'));

const PROTO = `
syntax = "proto3";
package bench;
message Order {
  string id = 1;
  Customer customer = 2;
  repeated Item items = 3;
  map<string, string> attrs = 4;
  string description = 5;
  int64 created = 6;
  double total = 7;
  message Item { string sku = 1; int32 qty = 2; string card = 3; }
}
message Customer { string email = 1; string name = 2; string street = 3; string city = 4; }
`;
const root = protobuf.parse(PROTO, { keepCase: true }).root.resolveAll();
const Order = root.lookupType('bench.Order');
const messages = [Order, root.lookupType('bench.Customer')];

const RECORDS = 2000;
const PASSES = 25;
const KEY = Buffer.alloc(32, 7);

function order(i) {
  return {
    id: `order-${i}-${'x'.repeat(20)}`,
    customer: { email: `user${i}@example.com`, name: `Customer Number ${i}`, street: `${i} Long Street Name`, city: 'Springfield' },
    // one card per order: exactly 3 masked values per body
    items: [0, 1, 2, 3].map((k) => ({ sku: `SKU-${k}-${i}`, qty: k + 1, ...(k === 0 ? { card: `41111111111${String(i).padStart(5, '0')}` } : {}) })),
    attrs: { channel: 'web', campaign: `spring-${i % 7}`, region: 'eu-west' },
    description: 'lorem ipsum dolor sit amet '.repeat(25),
    created: 1700000000000 + i,
    total: i * 1.25,
  };
}
const bodies = Array.from({ length: RECORDS }, (_, i) => Buffer.concat([Buffer.from([0]), Buffer.from(Order.encode(Order.fromObject(order(i))).finish())]));
const avg = bodies.reduce((n, b) => n + b.length, 0) / bodies.length;

const rule = (text, action) => {
  const p = parseFieldPath(text);
  return { path: p, pathText: formatFieldPath(p), action, optional: false, at: 'bench' };
};
const compile = (rules) => {
  const c = compileProtobufBody(messages, rules, KEY);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  return c.masker;
};
const masked = compile([
  rule('customer.email', { kind: 'hash' }),
  rule('customer.name', { kind: 'hash' }),
  rule('items[*].card', { kind: 'partial', first: 0, last: 4 }),
]);
const walkOnly = compile([]);

// The three leaf masks called directly on the same values: the share of the cost the walk does not control.
const str = { kind: 'string', nullable: false, label: 'string' };
const [hashMask, partialMask] = [leafMasker({ kind: 'hash' }, str, KEY), leafMasker({ kind: 'partial', first: 0, last: 4 }, str, KEY)];
const values = bodies.map((_, i) => order(i)).map((o) => [o.customer.email, o.customer.name, o.items[0].card]);

let sink = 0;
(async () => {
  console.log(`${RECORDS} bodies of ${avg.toFixed(0)} bytes on average; 3 masked string fields (hash, hash, partial) per body`);
  await measure('mask-3-fields', () => bodies.forEach((b) => (sink += masked.mask(b).length)), { per: RECORDS, passes: PASSES, warmups: 5 });
  await measure('leaf-masks-only', () => values.forEach(([e, n, c]) => (sink += hashMask(e).length + hashMask(n).length + partialMask(c).length)), {
    per: RECORDS,
    passes: PASSES,
    warmups: 5,
  });
  await measure('mask-no-rules', () => bodies.forEach((b) => (sink += walkOnly.mask(b).length)), { per: RECORDS, passes: PASSES, warmups: 5 });
  await measure('pbjs-decode+enc', () => bodies.forEach((b) => (sink += Order.encode(Order.decode(b.subarray(1))).finish().length)), {
    per: RECORDS,
    passes: PASSES,
    warmups: 5,
  });
  if (sink === 0) console.log('');
})();
