/**
 * Compressed topics as production writes them: batches compressed by librdkafka (kcat) and by
 * Kafka's Java producer with every codec, mixed within each partition. `kbak dump` must keep
 * every record; `kbak restore --compression X` must write X-compressed batches that every
 * client reads back byte for byte. The oracles are kcat (records) and the broker's own
 * DumpLogSegments (the codec of each stored batch), not kbak's reader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackup } from '../../src/backup/catalog';
import { openStore } from '../../src/store/open';
import { runKbak } from '../support/kbak-cli';
import { javaProduce, kcatConsume, kcatProduce, storedCodecs, type PeerRecord } from '../support/peers';
import { createTopic } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const PARTITIONS = 3;
const kafka = testKafka('kbak-codecs-test');
let dest: string;
let source: string;
let sourceRecords: PeerRecord[];

/** What must survive a round trip: everything but the partition-local offset numbering. */
const comparable = (r: PeerRecord): Omit<PeerRecord, 'offset'> => ({
  partition: r.partition,
  timestamp: r.timestamp,
  key: r.key,
  value: r.value,
  headers: r.headers,
});

beforeAll(async () => {
  dest = mkdtempSync(join(tmpdir(), 'kbak-codecs-'));
  source = uniqueName('codecs');
  await createTopic(kafka, source, PARTITIONS);
  // Each codec twice per partition, interleaved, so one partition holds batches of every kind.
  for (const round of [0, 1]) {
    for (const codec of CODECS) {
      for (let p = 0; p < PARTITIONS; p++) {
        const lines = Array.from({ length: 40 }, (_, i) =>
          i % 10 === 0 ? `:null-key ${codec} r${round} p${p} #${i}` : `k-${i}:${codec} r${round} p${p} #${i} ${'x'.repeat(i * 7)}`,
        );
        kcatProduce(source, p, lines, { codec, headers: { traceparent: `00-${codec}${round}-01`, b3: `b3-${p}`, dup: 'one' } });
      }
    }
  }
  // Kafka's Java producer: what most production topics are written by.
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) javaProduce(source, 300, codec);
  sourceRecords = kcatConsume(source);
}, 300_000);

afterAll(() => rmSync(dest, { recursive: true, force: true }));

test('the source really holds batches of every codec in every partition', () => {
  const codecs = storedCodecs(source, [0, 1, 2]);
  expect(new Set(codecs)).toEqual(new Set(CODECS));
  expect(sourceRecords.length).toBe(2 * CODECS.length * PARTITIONS * 40 + 4 * 300);
});

test('kbak dump keeps every record of every codec, byte for byte', async () => {
  const r = await runKbak(['dump', '--topic', source, '--to', dest, '--json', '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.stdout) as { records: number };
  expect(summary.records).toBe(sourceRecords.length);

  const backup = await openBackup(openStore(dest, { forcePathStyle: true }), 'latest');
  const dumped: PeerRecord[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for await (const rec of backup.records(source, p)) {
      dumped.push({
        partition: p,
        offset: Number(rec.offset),
        timestamp: rec.timestamp.toString(),
        key: rec.key === null ? null : rec.key.toString('utf8'),
        value: rec.value === null ? null : rec.value.toString('utf8'),
        headers: rec.headers.map((h) => `${h.key}=${h.value?.toString('utf8') ?? ''}`).join(','),
      });
    }
  }
  expect(dumped).toEqual(sourceRecords);
});

describe.each(CODECS)('kbak restore --compression %s', (codec) => {
  test('writes batches with that codec, and kcat reads back the source records', async () => {
    const lane = uniqueName(`c${codec}`).slice(0, 24);
    const r = await runKbak(['restore', '--lane', lane, '--source', dest, '--compression', codec, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const laneTopic = `${lane}.${source}`;
    expect(kcatConsume(laneTopic).map(comparable)).toEqual(sourceRecords.map(comparable));
    const stored = storedCodecs(laneTopic, [0, 1, 2]);
    expect(stored.length).toBeGreaterThan(0);
    expect(new Set(stored)).toEqual(new Set([codec]));
  });
});

test('without --compression the lane uses lz4 when the source topic names no codec, and the plan says so', async () => {
  const lane = uniqueName('cdef').slice(0, 24);
  const plan = await runKbak(['restore', '--lane', lane, '--source', dest, '--dry-run', '--json']);
  expect(plan.code).toBe(0);
  expect((JSON.parse(plan.stdout) as { topics: Array<{ compression: string }> }).topics[0]!.compression).toBe('lz4');
});

test('an unknown codec is refused before anything is done', async () => {
  const r = await runKbak(['restore', '--lane', 'nope', '--source', dest, '--compression', 'brotli']);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe('kbak: --compression brotli is not a Kafka codec (use one of none, gzip, snappy, lz4, zstd)');
});
