/**
 * A scheduled backup's pod is stopped with SIGTERM (Ctrl-C sends SIGINT): kbak releases its
 * store lock, says so in one line, exits 130 and leaves no backup visible. A program using
 * the library stops a dump with an AbortSignal: the call releases its lock and ends with
 * InterruptedError, and nothing becomes visible later from what was still in flight. The
 * store is S3 behind a slow proxy so the dump is certainly still running, lock held, when
 * the signal arrives; what is left in the bucket is read with the S3 client, not with kbak.
 */
import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { dump } from '../../src/api';
import { ExitCode, InterruptedError } from '../../src/errors';
import { S3Store } from '../../src/store/s3';
import { KBAK_BIN, startKbak } from '../support/kbak-cli';
import { runInPty } from '../support/pty';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { createTopic, produce } from '../support/produce';
import { listS3 } from '../support/s3-objects';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

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

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
    // Piped (a CronJob's log), the one line is a JSON log line like every other stderr line.
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    const stop = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(stop).toMatchObject({ level: 40, app: 'kbak', signal, locksReleased: 1, locksNotReleased: 0, exitCode: 130 });
    expect(stop.msg).toMatch(new RegExp(`^stopped by ${signal} \\(1 store lock released\\); `));
    const left = await listS3(`${prefix}/`);
    expect(left.filter((k) => k.includes('/locks/'))).toEqual([]);
    expect(left.filter((k) => k.endsWith('manifest.json'))).toEqual([]);
  });
});

describe('kbak dump stopped by Ctrl-C on a terminal', () => {
  it('ends the progress bar, then says so on a line of its own, in words', async () => {
    const prefix = uniqueName('interrupt-tty');
    s3.setLatency(150);
    const r = await runInPty(
      [process.execPath, KBAK_BIN, 'dump', '--topic', topic, '--to', `s3://${stackEnv().s3Bucket}/${prefix}`, '--segment-bytes', '65536', '--concurrency', '1'],
      // Ctrl-C once a bar with its totals is drawn (the dump holds its lock by then).
      {
        columns: 120,
        env: { ...stackEnv().env, KBAK_S3_ENDPOINT: `http://${s3.address}` },
        input: { text: '\u0003', when: (out) => / records \| /.test(out) },
      },
    );
    s3.setLatency(0);
    expect(r.code).toBe(130);
    // Lines as the terminal shows them: what a redraw (cursor to column 1) overwrote is gone.
    const screen = r.output.split('\n').map((l) =>
      l
        .split('\u001b[1G')
        .pop()!
        // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are what is stripped
        .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, ''),
    );
    const at = screen.findIndex((l) => l.includes('stopped by SIGINT'));
    expect(at).toBeGreaterThan(0);
    expect(screen[at]).toMatch(/^kbak: stopped by SIGINT \(1 store lock released\); nothing incomplete became visible/);
    // The bar's last state stays above it, whole: its totals out of the plan (offsets, an upper bound).
    expect(screen[at - 1]).toMatch(new RegExp(`^ ${topic.slice(0, 20)}\\s*\\[.*\\]\\s+\\d+\\.\\d% (ETA .+|done) \\| \\d+/~600 records \\| `));
    expect(screen.filter((l) => l.includes('rec/s') && l.includes('stopped'))).toEqual([]);
    const left = await listS3(`${prefix}/`);
    expect(left.filter((k) => k.includes('/locks/'))).toEqual([]);
    expect(left.filter((k) => k.endsWith('manifest.json'))).toEqual([]);
  });
});

describe('the library', () => {
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
});
