/**
 * Crash loop (see test/support/crash-loop.ts): kbak dump (incremental chains, now and then a
 * full dump), kbak prune and kbak restore SIGKILLed at random moments, rerun after each kill,
 * everything checked with an independent format decoder and kcat. CI runs CRASH_LOOP_N
 * (default 5) iterations; scripts/crash-loop.sh runs many by hand. CRASH_LOOP_SEED replays a
 * run; CRASH_LOOP_REPORT=FILE writes the figures as JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from '../support/kafkajs-copy';
import { runCrashLoop } from '../support/crash-loop';
import { createTopic, produce, TRACE_HEADERS, type TestRecord } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';

const N = Number(process.env.CRASH_LOOP_N ?? 5);
const SEED = Number(process.env.CRASH_LOOP_SEED ?? Math.floor(Math.random() * 2 ** 31));
const kafka = testKafka('kbak-crash-loop');
let admin: Admin;
let store: string;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  store = mkdtempSync(join(tmpdir(), 'kbak-crash-'));
});

afterAll(async () => {
  await admin.disconnect();
  rmSync(store, { recursive: true, force: true });
});

/** Records the loop appends to the source before each iteration's dumps (an incremental dump has something new to add). */
const APPEND = 60;
const INITIAL = 3000;

/** Text keys, values and headers (kcat prints them as JSON strings), varied sizes, null keys and values. */
const record = (i: number): TestRecord => ({
  partition: i % 3,
  key: i % 17 === 0 ? null : Buffer.from(`key-${i}`),
  value: i % 29 === 0 ? null : Buffer.from(`value-${i}-${'x'.repeat((i * 37) % 300)}`),
  headers: TRACE_HEADERS(i).filter((h) => h.key !== '7'),
  timestamp: String(Date.now() - 600_000 + i),
});

it(
  `survives ${N} random SIGKILLs of dump, prune and restore (seed ${SEED})`,
  async () => {
    const topic = uniqueName('crash');
    await createTopic(kafka, topic, 3);
    // Enough records that a full dump writes several 64 KiB segments and a kill lands mid-way.
    await produce(
      kafka,
      topic,
      Array.from({ length: INITIAL }, (_, i) => record(i)),
    );
    const stats = await runCrashLoop({
      iterations: N,
      sourceTopic: topic,
      store,
      seed: SEED,
      appendToSource: (i) =>
        produce(
          kafka,
          topic,
          Array.from({ length: APPEND }, (_, j) => record(INITIAL + i * APPEND + j)),
        ),
      deleteTopic: (t) => admin.deleteTopics({ topics: [t] }),
      onIteration: (i, s) => {
        if (process.env.CRASH_LOOP_VERBOSE) process.stderr.write(`crash loop ${i + 1}/${N}: ${JSON.stringify(s)}\n`);
      },
    });
    if (process.env.CRASH_LOOP_REPORT) writeFileSync(process.env.CRASH_LOOP_REPORT, `${JSON.stringify(stats, null, 2)}\n`);
    expect(stats.unexpectedFailures).toEqual([]);
    expect(stats.iterations).toBe(N);
    expect(stats.lanesChecked).toBe(N);
    // Lane i holds the initial records plus i + 1 appends: every one compared.
    expect(stats.recordsCheckedInLanes).toBe(N * INITIAL + APPEND * ((N * (N + 1)) / 2));
    expect(stats.fullDumps + stats.incrementalDumps).toBe(N);
    expect(stats.prunesCompleted).toBe(N);
    // The first dump plus one complete rerun per iteration, at least.
    expect(stats.backupsVerified).toBeGreaterThanOrEqual(N + 1);
  },
  120_000 + N * 120_000,
);
