/**
 * A scheduled backup's pod is stopped with SIGTERM (Ctrl-C sends SIGINT): kbak releases its
 * store lock, says so in one line, exits 130 and leaves no backup visible. The store is S3
 * behind a slow proxy so the dump is certainly still running, lock held, when the signal
 * arrives; what is left in the bucket is read with the S3 client, not with kbak.
 */
import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { startKbak } from '../support/kbak-cli';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { createTopic, produce } from '../support/produce';
import { listS3 } from '../support/s3-objects';
import { stackEnv, testKafka, uniqueName } from '../support/stack';
import { waitFor } from '../support/wait';

const kafka = testKafka('kbak-interrupt');
let admin: Admin;
let s3: FaultProxy;
let topic: string;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  const url = new URL(stackEnv().s3Endpoint);
  s3 = await startFaultProxy(url.hostname, Number(url.port));
  topic = uniqueName('interrupt');
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: 600 }, (_, i) => ({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(randomBytes(400).toString('hex')),
      headers: [],
      timestamp: String(Date.now()),
    })),
  );
});

afterAll(async () => {
  await s3.close();
  await admin.disconnect();
});

describe.each(['SIGTERM', 'SIGINT'] as const)('kbak dump stopped by %s', (signal) => {
  it('releases its store lock, exits 130 with one line and leaves no backup', async () => {
    const prefix = uniqueName(`interrupt-${signal.toLowerCase()}`);
    s3.setLatency(150);
    const run = startKbak(
      ['dump', '--topic', topic, '--to', `s3://${stackEnv().s3Bucket}/${prefix}`, '--segment-bytes', '65536', '--concurrency', '1', '--quiet'],
      {
        KBAK_S3_ENDPOINT: `http://${s3.address}`,
      },
    );
    await waitFor('the dump to take its lock', async () => (await listS3(`${prefix}/`)).some((k) => /\/locks\/[^/]+\.json$/.test(k)));
    run.child.kill(signal);
    const r = await run.done;
    s3.setLatency(0);

    expect(r.code).toBe(130);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^kbak: stopped by ${signal} \\(1 store lock released\\); `))]);
    const left = await listS3(`${prefix}/`);
    expect(left.filter((k) => k.includes('/locks/'))).toEqual([]);
    expect(left.filter((k) => k.endsWith('manifest.json'))).toEqual([]);
  });
});
