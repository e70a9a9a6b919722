/**
 * A topic with a large max.message.bytes keeps dumping and restoring (issue 8): a record
 * larger than any compressed block (4 MiB) is written as a stored block of its own and
 * read back one record at a time. Checked with a plain kafkajs consumer on the lane.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Codec, FILE_HEADER_SIZE } from '../../src/segment/format';
import { runKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';

jest.setTimeout(180_000);

const kafka = testKafka();
const sha = (b: Buffer | null): string =>
  createHash('sha256')
    .update(b ?? Buffer.alloc(0))
    .digest('hex');

it('dumps and restores a 6 MiB record between small ones, byte for byte', async () => {
  const topic = uniqueName('large');
  await createTopic(kafka, topic, 1, { 'max.message.bytes': String(12 * 1024 * 1024) });
  // Larger than any compressed block (4 MiB), whatever it compresses to.
  const big = Buffer.alloc(6 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 12)) & 0xff;
  big[0] = 1; // not 0x00: the value must not look Confluent-framed

  const values = [Buffer.from('before'), big, Buffer.from('after')];
  await produce(
    kafka,
    topic,
    values.map((v, i) => ({
      partition: 0,
      key: Buffer.from(`k${i}`),
      value: v,
      headers: [{ key: 'n', value: Buffer.from(String(i)) }],
      timestamp: String(Date.now()),
    })),
  );

  const dir = mkdtempSync(join(tmpdir(), 'kbak-large-'));
  const d = await runKbak(['dump', '--topic', topic, '--to', dir, '--name', 'large', '--json', '--quiet']);
  expect(d.stderr).toBe('');
  expect(JSON.parse(d.stdout)).toMatchObject({ records: 3 });

  // The segment holds the big record in a stored (codec 0) block of its own (hand-walked headers).
  const seg = readdirSync(dir, { recursive: true })
    .map(String)
    .find((f) => f.endsWith('.kseg'))!;
  const file = readFileSync(join(dir, seg));
  const blocks: Array<{ codec: number; records: number; raw: number }> = [];
  for (let p = FILE_HEADER_SIZE; p < file.length; p += 20 + file.readUInt32BE(p + 8)) {
    blocks.push({ codec: file.readUInt8(p), raw: file.readUInt32BE(p + 4), records: file.readUInt32BE(p + 12) });
  }
  expect(blocks.some((b) => b.codec === (Codec.Stored as number) && b.records === 1 && b.raw > big.length)).toBe(true);

  const lane = uniqueName('lg').toLowerCase();
  const r = await runKbak(['restore', '--source', dir, '--lane', lane, '--json', '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);

  const consumer = kafka.consumer({ groupId: uniqueName('large-read'), maxBytesPerPartition: 16 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 });
  await consumer.connect();
  const got: Array<{ key: string; value: string; n: string }> = [];
  try {
    await consumer.subscribe({ topic: `${lane}.${topic}`, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} records read`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push({ key: String(message.key), value: sha(message.value), n: String(message.headers?.n) });
          if (got.length === 3) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  expect(got).toEqual(values.map((v, i) => ({ key: `k${i}`, value: sha(v), n: String(i) })));
});
