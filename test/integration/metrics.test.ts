/**
 * --metrics-push against a small HTTP server standing in for a Pushgateway: the success
 * push (per-topic records and bytes, duration, last success time), the failure push, the
 * final JSON summary line in the job log, and human log lines with --log-format human.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';
import { newDestination } from '../support/stores';

const kafka = testKafka();
let server: Server;
let url: string;
const pushes: Array<{ method: string; path: string; body: string }> = [];
let topic: string;

/** The exposition format read by hand: `name{labels} value` → value, keyed by `name{labels}`. */
function samples(body: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of body.split('\n')) {
    const hit = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (hit) m.set(hit[1]!, Number(hit[2]));
  }
  return m;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      pushes.push({ method: req.method!, path: req.url!, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  topic = uniqueName('metrics');
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: 12 }, (_, i) => ({ partition: i % 2, key: null, value: Buffer.from(`m${i}`), headers: [], timestamp: String(Date.now()) })),
  );
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('a successful dump pushes its metrics and logs one JSON summary line', async () => {
  pushes.length = 0;
  const { dest } = newDestination('disk', 'metrics');
  const t0 = Date.now() / 1000;
  const r = await runKbak(['dump', '--incremental', '--topic', topic, '--to', dest, '--name', 'mx', '--metrics-push', `${url}/`], { KBAK_LOG_LEVEL: 'info' });
  expect(r.code).toBe(0);
  expect(pushes).toHaveLength(1);
  expect(pushes[0]).toMatchObject({ method: 'POST', path: '/metrics/job/kbak/command/dump/cluster/mx' });
  const s = samples(pushes[0]!.body);
  expect(s.get('kbak_dump_success')).toBe(1);
  expect(s.get('kbak_dump_exit_code')).toBe(0);
  expect(s.get(`kbak_dump_records{topic="${topic}"}`)).toBe(12);
  expect(s.get(`kbak_dump_stored_bytes{topic="${topic}"}`)).toBeGreaterThan(16);
  expect(s.get('kbak_dump_last_success_timestamp_seconds')).toBeGreaterThanOrEqual(t0);
  expect(s.get('kbak_dump_duration_seconds')).toBeGreaterThan(0);
  expect(pushes[0]!.body).toContain('# TYPE kbak_dump_records gauge');
  // stderr is not a terminal: JSON log lines, the last one the run's summary.
  const lines = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; summary?: { records: number; cluster: string } });
  const last = lines[lines.length - 1]!;
  expect(last.summary).toMatchObject({ records: 12, cluster: 'mx' });
});

test('a failed dump pushes a failure metric with its exit code', async () => {
  pushes.length = 0;
  const { dest } = newDestination('disk', 'metrics');
  const r = await runKbak(['dump', '--topic', 'no-such-topic-kbak-metrics', '--to', dest, '--name', 'mx', '--metrics-push', url]);
  expect(r.code).not.toBe(0);
  expect(pushes).toHaveLength(1);
  const s = samples(pushes[0]!.body);
  expect(s.get('kbak_dump_success')).toBe(0);
  expect(s.get('kbak_dump_exit_code')).toBe(r.code);
  expect(s.has('kbak_dump_last_success_timestamp_seconds')).toBe(false);
});

test('prune pushes too; --log-format human writes plain lines, never JSON', async () => {
  pushes.length = 0;
  const { dest } = newDestination('disk', 'metrics');
  expect((await runKbak(['dump', '--topic', topic, '--to', dest, '--name', 'mx'])).code).toBe(0);
  const r = await runKbak(['--log-format', 'human', 'prune', '--keep-last', '1', '--source', dest, '--metrics-push', url], { KBAK_LOG_LEVEL: 'info' });
  expect(r.code).toBe(0);
  expect(samples(pushes[0]!.body).get('kbak_prune_success')).toBe(1);
  expect(r.stderr.length).toBeGreaterThan(0);
  for (const line of r.stderr.trim().split('\n')) expect(line).toMatch(/^kbak: [^{]/);
});

test('a sharded dump: each shard pushes under its own shard label, the finaliser also the backup’s kbak_dump_*', async () => {
  pushes.length = 0;
  const { dest } = newDestination('disk', 'metrics');
  const id = new Date(Date.now() - 60_000)
    .toISOString()
    .replace(/[-:.]/g, '')
    .replace(/^(\d{8}T\d{6})(\d{3})Z$/, '$1$2Z');
  const args = (i: number) => ['dump', '--topic', topic, '--to', dest, '--name', 'mx', '--shard', `${i}/2`, '--backup-id', id, '--metrics-push', url];
  expect((await runKbak(args(0))).code).toBe(0);
  expect(pushes.map((p) => p.path)).toEqual(['/metrics/job/kbak/command/dump_shard/cluster/mx/shard/0']);
  expect(samples(pushes[0]!.body).get('kbak_dump_shard_success')).toBe(1);
  // The second shard finishes the backup: its own push, and the backup's under the plain dump grouping.
  expect((await runKbak(args(1))).code).toBe(0);
  expect(pushes.map((p) => p.path).sort()).toEqual([
    '/metrics/job/kbak/command/dump/cluster/mx',
    '/metrics/job/kbak/command/dump_shard/cluster/mx/shard/0',
    '/metrics/job/kbak/command/dump_shard/cluster/mx/shard/1',
  ]);
  const backup = samples(pushes.find((p) => p.path.endsWith('/command/dump/cluster/mx'))!.body);
  expect(backup.get('kbak_dump_success')).toBe(1);
  expect(backup.get(`kbak_dump_records{topic="${topic}"}`)).toBe(12);
  expect(backup.get('kbak_dump_backup_records')).toBe(12);
});
