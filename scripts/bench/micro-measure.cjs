/**
 * The measuring loop of the micro-benchmarks (micro-records.cjs, micro-write-partition.cjs).
 * Run them with a young generation large enough that a pass sees no scavenge
 * (`--max-semi-space-size=256 --min-semi-space-size=256`): the heap growth over such a pass
 * is what the pass allocated; passes that saw a GC are left out of the allocation figure.
 * The machine may be shared: the fastest pass is the cost, the median says how noisy it was.
 */
let gcs = 0;
new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `fn` (one pass over `per` records) `warmups` times, then `passes` times measured; prints one line. */
async function measure(name, fn, { per, passes, warmups }) {
  for (let i = 0; i < warmups; i++) await fn();
  const ns = [];
  const bytes = [];
  for (let i = 0; i < passes; i++) {
    const g0 = gcs;
    const h0 = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    await fn();
    const t1 = process.hrtime.bigint();
    const h1 = process.memoryUsage().heapUsed;
    // The observer reports asynchronously: let it run before reading the count.
    await new Promise((r) => setImmediate(r));
    ns.push(Number(t1 - t0) / per);
    if (gcs === g0) bytes.push((h1 - h0) / per);
  }
  const alloc = bytes.length > 0 ? median(bytes).toFixed(1) : 'n/a';
  console.log(
    `${name.padEnd(18)} ${Math.min(...ns)
      .toFixed(1)
      .padStart(
        8,
      )} ns/record (median ${median(ns).toFixed(1).padStart(7)})  ${String(alloc).padStart(7)} bytes/record  (${bytes.length}/${passes} passes without GC)`,
  );
}

module.exports = { measure };
