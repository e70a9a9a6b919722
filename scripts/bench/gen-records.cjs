#!/usr/bin/env node
// Writes N lines "key<TAB>value" to stdout for `kcat -P -K '\t'`:
//   node scripts/bench/gen-records.cjs N VALUE_BYTES [KIND]
// Keys are "key-<0..99999>". KIND (the bench's shapes, scripts/bench.sh BENCH_SHAPES):
//   random        (default) VALUE_BYTES random upper-case letters, like ProducerPerformance's
//                 --record-size payloads (zstd gets ~2× out of them, as from typical payloads)
//   json          small JSON events of about VALUE_BYTES (± 10 %), e.g.
//                 {"id":123,"user":"u-4711","event":"click","amount":12.34,"ts":...,"sid":"..."}:
//                 every field varies, padded by a random session id; per-record cost dominates
//   compressible  JSON-ish log lines of exactly VALUE_BYTES: a few varying fields (id, time,
//                 customer, amount) in a fixed text, so zstd compresses them well over 5×
'use strict';

const n = Number(process.argv[2]);
const size = Number(process.argv[3]);
const kind = process.argv[4] || 'random';
if (!Number.isInteger(n) || n < 0 || !Number.isInteger(size) || size < 1 || !['random', 'json', 'compressible'].includes(kind)) {
  process.stderr.write('usage: gen-records.cjs N VALUE_BYTES [random|json|compressible]\n');
  process.exit(2);
}

const { randomFillSync, randomInt } = require('crypto');

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const EVENTS = ['click', 'view', 'add_to_cart', 'purchase', 'login', 'logout', 'search', 'share'];
const T0 = Date.UTC(2026, 0, 1);
const randomText = (len) => {
  const b = randomFillSync(Buffer.allocUnsafe(len));
  let s = '';
  for (let j = 0; j < len; j++) s += ALNUM[b[j] % ALNUM.length];
  return s;
};

/** A small JSON event of about `size` bytes (the random session id pads it). */
function jsonValue(i) {
  const base = `{"id":${i},"user":"u-${randomInt(100000)}","event":"${EVENTS[randomInt(EVENTS.length)]}","amount":${(randomInt(1000000) / 100).toFixed(2)},"ts":${T0 + i * 7 + randomInt(7)},"sid":""}`;
  const target = size + randomInt(-Math.floor(size / 10), Math.floor(size / 10) + 1);
  const pad = Math.max(4, target - base.length);
  return `${base.slice(0, -2)}${randomText(pad)}"}`;
}

const FILLER =
  ' "service":"checkout","region":"eu-west-1","level":"INFO","logger":"com.example.shop.checkout.OrderService","message":"order accepted; payment authorised; inventory reserved; shipment scheduled","tags":["web","eu","checkout"],';
/** A JSON-ish log line of exactly `size` bytes: a few varying fields, the rest fixed text. */
function compressibleValue(i) {
  const head = `{"id":${i},"ts":${T0 + i * 3},"customer":"c-${randomInt(20000)}","amount":${(randomInt(100000) / 100).toFixed(2)},`;
  let s = head;
  while (s.length < size - 2) s += FILLER;
  return `${s.slice(0, size - 2)}"}`;
}

const out = process.stdout;
let i = 0;
const CHUNK = 2000;
function write() {
  while (i < n) {
    const end = Math.min(n, i + CHUNK);
    const parts = [];
    if (kind === 'random') {
      // Fresh random letters for every value (no repeats across records, so zstd finds no
      // long-range matches a real topic would not have either).
      const letters = randomFillSync(Buffer.allocUnsafe((end - i) * size));
      for (let j = 0; j < letters.length; j++) letters[j] = 65 + (letters[j] % 26);
      for (let k = 0; i < end; i++, k++) {
        parts.push(Buffer.from(`key-${Math.floor(Math.random() * 100000)}\t`), letters.subarray(k * size, (k + 1) * size), Buffer.from('\n'));
      }
    } else {
      const value = kind === 'json' ? jsonValue : compressibleValue;
      let text = '';
      for (; i < end; i++) text += `key-${randomInt(100000)}\t${value(i)}\n`;
      parts.push(Buffer.from(text));
    }
    if (!out.write(Buffer.concat(parts))) {
      out.once('drain', write);
      return;
    }
  }
}
write();
