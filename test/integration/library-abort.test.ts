/**
 * Cancellation through the library: a program aborts a running dump to S3 with an
 * AbortSignal. The call must end with InterruptedError (exit code 130) after releasing its
 * store lock, and nothing may become visible, not even later from what was still in flight.
 * S3 sits behind a slow proxy so the dump is certainly running, lock held, at the abort;
 * what is left in the bucket is read with the S3 client, not with kbak.
 */
import { randomBytes } from 'node:crypto';
import { dump } from '../../src/api';
import { ExitCode, InterruptedError } from '../../src/errors';
import { S3Store } from '../../src/store/s3';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { createTopic, produce } from '../support/produce';
import { listS3 } from '../support/s3-objects';
import { stackEnv, testKafka, uniqueName } from '../support/stack';
import { waitFor } from '../support/wait';

const kafka = testKafka('kbak-library-abort');
let s3: FaultProxy;
let topic: string;

beforeAll(async () => {
  const url = new URL(stackEnv().s3Endpoint);
  s3 = await startFaultProxy(url.hostname, Number(url.port));
  topic = uniqueName('library-abort');
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: 600 }, (_, i) => ({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: randomBytes(400),
      headers: [],
      timestamp: String(Date.now()),
    })),
  );
});

afterAll(async () => {
  await s3.close();
});

it('dump({ signal }) aborted mid-run: InterruptedError, lock released, no backup ever appears', async () => {
  const prefix = uniqueName('library-abort');
  const store = new S3Store({ bucket: stackEnv().s3Bucket, prefix, endpoint: `http://${s3.address}`, forcePathStyle: true, region: 'us-east-1' });
  s3.setLatency(150);
  const controller = new AbortController();
  const call = dump({
    kafka: { brokers: stackEnv().brokers },
    store,
    topics: [topic],
    clusterName: 'abort',
    segmentBytes: 65536,
    blockBytes: 16384,
    concurrency: 1,
    signal: controller.signal,
  });
  call.catch(() => undefined);
  await waitFor('the dump to take its lock', async () => (await listS3(`${prefix}/`)).some((k) => /\/locks\/[^/]+\.json$/.test(k)));
  controller.abort('SIGTERM');
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InterruptedError);
  expect((err as InterruptedError).exitCode).toBe(ExitCode.INTERRUPTED);
  expect((err as InterruptedError).message).toMatch(/^stopped by SIGTERM \(1 store lock released\); nothing incomplete became visible$/);
  expect((await listS3(`${prefix}/`)).filter((k) => k.includes('/locks/'))).toEqual([]);
  // What was in flight settles in the background, slowly: it must neither commit nor take a lock again.
  await new Promise((r) => setTimeout(r, 3000));
  s3.setLatency(0);
  const left = await listS3(`${prefix}/`);
  expect(left.filter((k) => k.includes('/locks/'))).toEqual([]);
  expect(left.filter((k) => k.endsWith('manifest.json'))).toEqual([]);
});
