/**
 * Every valid UTF-8 header key reaches the lane byte for byte (issue 15, defect 10): keys
 * with a leading byte order mark (EF BB BF, which a default TextDecoder drops), empty keys,
 * NUL characters and thousands of non-ASCII characters, produced by a real producer, dumped
 * and restored by the built CLI, on the transcoder path (also with --lane-header) and on the
 * per-record path (a time window), and read back from the lane by readers that share no code with kbak:
 * kcat (librdkafka), and for keys with a NUL character, which librdkafka hands to kcat as a
 * C string cut at the NUL, a kafkajs consumer (kafkajs's own record decoder, in kbak's copy of
 * kafkajs: the unpatched npm package read nothing from the stack's broker within 30 s). Both
 * give keys as text; valid UTF-8 round-trips through text exactly, so comparing the
 * re-encoded bytes compares the bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKbak } from '../support/kbak-cli';
import { kcatRead } from '../support/kcat';
import { createTopic, produce } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';

jest.setTimeout(180_000);

const kafka = testKafka('kbak-header-keys');
const KEYS = ['\uFEFF', '\uFEFFbom', '\uFEFF\uFEFFtwice', 'mid\uFEFFdle', '', 'a\u0000b', '\u0000', 'ключ-'.repeat(800), '🎉'.repeat(1500), 'plain'];
let topic = '';
let dest = '';

beforeAll(async () => {
  topic = uniqueName('hk');
  dest = mkdtempSync(join(tmpdir(), 'kbak-hk-'));
  await createTopic(kafka, topic, 1, { 'retention.ms': '-1' });
  // One record per key, and one record with all of them in order.
  const records = [...KEYS.map((key, i) => [{ key, value: Buffer.from(`v${i}`) }]), KEYS.map((key) => ({ key, value: null }))].map((headers, i) => ({
    partition: 0,
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`value ${i}`),
    headers,
    timestamp: String(Date.now()),
  }));
  await produce(kafka, topic, records);
  const dump = await runKbak(['dump', '--topic', topic, '--to', dest, '--name', 'hk']);
  expect({ code: dump.code, stderr: dump.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
});

afterAll(() => rmSync(dest, { recursive: true, force: true }));

const bytes = (k: string): Buffer => Buffer.from(k, 'utf8');
/** Header keys per record, in order, as the records were produced. */
const want = (): Buffer[][] => [...KEYS.map((k) => [bytes(k)]), KEYS.map(bytes)];
const hasNul = (k: Buffer): boolean => k.includes(0);

/** Header keys per record read by a kafkajs consumer (kafkajs's own header decoder; headers as an object, so one record per key here). */
async function kafkajsKeys(t: string, count: number): Promise<Buffer[][]> {
  const consumer = kafka.consumer({ groupId: uniqueName('hk-read') });
  await consumer.connect();
  const got: Buffer[][] = [];
  try {
    await consumer.subscribe({ topic: t, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} records read`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(Object.keys(message.headers ?? {}).map(bytes));
          if (got.length === count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

it.each([
  ['the transcoder', []],
  ['the transcoder with --lane-header', ['--lane-header', 'x-lane']],
  // A time window (here: every record) takes the per-record path.
  ['the per-record path (--since)', ['--lane-header', 'x-lane', '--since', '2000-01-01T00:00:00Z']],
])('restore through %s delivers every key byte for byte', async (_path, extra) => {
  const lane = uniqueName('hk').toLowerCase().slice(0, 30);
  const laneTopic = `${lane}.${topic}`;
  const r = await runKbak(['restore', '--source', dest, '--lane', lane, ...extra]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  // kcat: every key without a NUL, byte for byte, in order.
  const kcat = kcatRead(laneTopic, 0).map((rec) => rec.headers.filter(([k]) => k !== 'x-lane').map(([k]) => bytes(k)));
  // Positions whose produced key has a NUL are left to the kafkajs check below.
  const noNul = (recs: Buffer[][]): Buffer[][] => recs.map((keys, i) => keys.filter((_, j) => !hasNul(want()[i]![j]!)));
  expect(kcat.map((keys) => keys.length)).toEqual(want().map((keys) => keys.length));
  expect(noNul(kcat)).toEqual(noNul(want()));
  // kcat shows the source's NUL keys cut the same way: the cut is kcat's, not kbak's.
  expect(kcatRead(topic, 0).map((rec) => rec.headers.map(([k]) => bytes(k)))).toEqual(kcat);
  // The kafkajs consumer: every single-key record, NUL keys included, byte for byte.
  const plain = (await kafkajsKeys(laneTopic, want().length)).slice(0, KEYS.length).map((keys) => keys.filter((k) => k.toString() !== 'x-lane'));
  expect(plain).toEqual(want().slice(0, KEYS.length));
  expect(want().flat().filter(hasNul).length).toBeGreaterThan(0);
});
