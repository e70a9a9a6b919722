#!/usr/bin/env node
// Writes N lines "key<TAB>value" to stdout for `kcat -P -K '\t'` (BENCH_PRODUCER=kcat):
//   node scripts/bench/gen-records.cjs N VALUE_BYTES
// Values are random upper-case letters like ProducerPerformance's --record-size payloads
// (so compressibility is comparable); keys are "key-<0..99999>".
'use strict';

const n = Number(process.argv[2]);
const size = Number(process.argv[3]);
if (!Number.isInteger(n) || n < 0 || !Number.isInteger(size) || size < 1) {
  process.stderr.write('usage: gen-records.cjs N VALUE_BYTES\n');
  process.exit(2);
}

// Fresh random letters for every value (no repeats across records, so zstd finds no
// long-range matches a real topic would not have either).
const { randomFillSync } = require('crypto');

const out = process.stdout;
let i = 0;
const CHUNK = 2000;
function write() {
  while (i < n) {
    const end = Math.min(n, i + CHUNK);
    const letters = randomFillSync(Buffer.allocUnsafe((end - i) * size));
    for (let j = 0; j < letters.length; j++) letters[j] = 65 + (letters[j] % 26);
    const parts = [];
    for (let k = 0; i < end; i++, k++) {
      parts.push(Buffer.from(`key-${Math.floor(Math.random() * 100000)}\t`), letters.subarray(k * size, (k + 1) * size), Buffer.from('\n'));
    }
    if (!out.write(Buffer.concat(parts))) {
      out.once('drain', write);
      return;
    }
  }
}
write();
