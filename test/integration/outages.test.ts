/**
 * Outages (issue 8, item 5): S3 slow, briefly unreachable and gone mid-upload, the registry
 * down during dump and restore, the broker restarted mid-dump and mid-restore. Every run
 * either completes or fails with one line, and the rerun (or --resume) completes with
 * nothing lost or duplicated: backups are checked with the independent decoder, lanes with
 * kcat. S3 and the registry are reached through test/support/fault-proxy.ts; the broker is
 * really stopped and started (its clients follow advertised addresses, a proxy cannot sit
 * in front of it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from '../support/kafkajs-copy';
import { ExitCode } from '../../src/errors';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { listBackupsOnDisk, verifyBackupOnDisk, type DecodedRecord } from '../support/format-decoder';
import { startKbak, type CliResult } from '../support/kbak-cli';
import { readTopicWithKcat, type KcatTopicRecord } from '../support/kcat';
import { createTopic, produce } from '../support/produce';
import { downloadS3, listS3 } from '../support/s3-objects';
import { startKafka, stopKafka } from '../support/stack-control';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const kafka = testKafka('kbak-outages');
let admin: Admin;
let topic: string;
let framedTopic: string;
let s3: FaultProxy;
let registry: FaultProxy;
const tmpDirs: string[] = [];
const PARTITIONS = 3;
const RECORDS = 1800;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What each fault did to the run that met it, for RELIABILITY.md (OUTAGES_REPORT=FILE). */
const outcomes: Array<{ fault: string; firstRun: string; reruns: number }> = [];
function record(fault: string, r: CliResult, reruns: number): void {
  outcomes.push({ fault, firstRun: r.code === 0 ? 'completed' : `failed: ${r.stderr.trim()}`, reruns });
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbak-outage-'));
  tmpDirs.push(d);
  return d;
}

/** kbak with S3 and (optionally) the registry behind the fault proxies. */
function kbak(args: string[], opts: { registry?: boolean } = {}): { done: Promise<CliResult> } {
  return startKbak([...args, '--quiet', '--json'], {
    KBAK_S3_ENDPOINT: `http://${s3.address}`,
    KBAK_SCHEMA_REGISTRY_URL: opts.registry ? `http://${registry.address}${new URL(stackEnv().registryUrl).pathname}` : undefined,
  });
}

function oneLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kbak: /);
  expect(r.stdout).toBe('');
  return lines[0]!;
}

const canonKcat = (r: KcatTopicRecord): string => JSON.stringify([r.key, r.value, r.headers]);
const canonDecoded = (r: DecodedRecord): string => {
  const headers: Array<string | null> = [];
  for (const [k, v] of r.headers) headers.push(k, v === null ? null : v.toString('utf8'));
  return JSON.stringify([r.key?.toString('utf8') ?? null, r.value?.toString('utf8') ?? null, headers]);
};

function sourceRecords(t: string): Map<number, string[]> {
  return new Map([...readTopicWithKcat(t)].map(([p, rs]) => [p, rs.map(canonKcat)]));
}

/** The S3 prefix holds exactly one backup, it verifies independently and equals the source topic. */
async function expectOneGoodBackup(prefix: string): Promise<void> {
  const dir = tempDir();
  await downloadS3(prefix, dir);
  const backups = listBackupsOnDisk(dir);
  expect(backups).toHaveLength(1);
  const records = verifyBackupOnDisk(dir, backups[0]!);
  for (const [p, rs] of sourceRecords(topic)) expect((records.get(`${topic}/${p}`) ?? []).map(canonDecoded)).toEqual(rs);
}

async function expectNoManifest(prefix: string): Promise<void> {
  expect((await listS3(prefix)).filter((k) => k.endsWith('manifest.json'))).toEqual([]);
}

/** Every lane partition holds the source partition's records exactly once, in order. */
function expectLaneEqualsSource(lane: string): void {
  const src = sourceRecords(topic);
  const got = sourceRecords(`${lane}.${topic}`);
  for (const [p, rs] of src) expect(got.get(p) ?? []).toEqual(rs);
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  const s3url = new URL(stackEnv().s3Endpoint);
  s3 = await startFaultProxy(s3url.hostname, Number(s3url.port));
  const regUrl = new URL(stackEnv().registryUrl);
  registry = await startFaultProxy(regUrl.hostname, Number(regUrl.port));
  topic = uniqueName('outage');
  await createTopic(kafka, topic, PARTITIONS);
  // Hex text values (kcat prints them as-is) that compress only 2:1, so a dump writes
  // tens of 64 KiB segments: enough traffic to cut in the middle of.
  await produce(
    kafka,
    topic,
    Array.from({ length: RECORDS }, (_, i) => ({
      partition: i % PARTITIONS,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(randomBytes(300).toString('hex')),
      headers: [{ key: 'traceparent', value: Buffer.from(`00-${String(i).padStart(32, '0')}-${String(i).padStart(16, '0')}-01`) }],
      timestamp: String(Date.now() - 600_000 + i),
    })),
  );
  // A small topic whose values reference a registered schema, so dumps and restores need the registry.
  framedTopic = uniqueName('outage-framed');
  const res = await fetch(`${stackEnv().registryUrl}/subjects/${framedTopic}-value/versions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'O', namespace: 'kbak.outage', fields: [{ name: 'n', type: 'string' }] }) }),
  });
  const { id } = (await res.json()) as { id: number };
  await createTopic(kafka, framedTopic, 1);
  const framed = (i: number): Buffer =>
    Buffer.concat([Buffer.from([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255, 4]), Buffer.from(`n${i % 10}`)]);
  await produce(
    kafka,
    framedTopic,
    Array.from({ length: 10 }, (_, i) => ({ partition: 0, key: null, value: framed(i), headers: [], timestamp: String(Date.now()) })),
  );
});

afterEach(() => {
  s3.setMode('pass');
  s3.setLatency(0);
  registry.setMode('pass');
  registry.setLatency(0);
});

afterAll(async () => {
  if (process.env.OUTAGES_REPORT) writeFileSync(process.env.OUTAGES_REPORT, `${JSON.stringify(outcomes, null, 2)}\n`);
  await admin.disconnect();
  await s3?.close();
  await registry?.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

const dumpArgs = (prefix: string, ...more: string[]): string[] => [
  'dump',
  '--topic',
  topic,
  ...more,
  '--to',
  `s3://${stackEnv().s3Bucket}/${prefix}`,
  '--name',
  'outage',
  '--segment-bytes',
  '65536',
  '--concurrency',
  '2',
];

describe('S3 outages mid-upload', () => {
  it('completes when S3 is slow', async () => {
    const prefix = uniqueName('s3-slow');
    s3.setLatency(40);
    const r = await kbak(dumpArgs(prefix)).done;
    record('S3 +40 ms latency per chunk during a dump', r, 0);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expectOneGoodBackup(prefix);
  });

  it('retries through a short S3 outage and completes', async () => {
    const prefix = uniqueName('s3-blip');
    const before = s3.bytesUp;
    const run = kbak(dumpArgs(prefix));
    await s3.whenBytesUp(before + 100_000, () => s3.setMode('refuse'));
    await sleep(3000);
    s3.setMode('pass');
    const r = await run.done;
    record('S3 refusing/resetting connections for 3 s mid-upload', r, 0);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expectOneGoodBackup(prefix);
  });

  it('fails with one line and no manifest when S3 stays down, and the rerun completes', async () => {
    const prefix = uniqueName('s3-down');
    const before = s3.bytesUp;
    const run = kbak(dumpArgs(prefix));
    await s3.whenBytesUp(before + 100_000, () => s3.setMode('refuse'));
    const r = await run.done;
    record('S3 down for good mid-upload (rerun once it is back)', r, 1);
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(oneLine(r)).toMatch(/cannot reach S3 .* while writing .*\(check the S3 endpoint; see --s3-endpoint/);
    s3.setMode('pass');
    await expectNoManifest(prefix);
    const again = await kbak(dumpArgs(prefix)).done;
    // The failed dump could not delete its lock while S3 was down; its process is gone, so the
    // rerun removes that lock at once (same host, dead pid) and says so — and nothing else.
    const warnings = again.stderr.split('\n').filter((l) => l.trim().length > 0);
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!).msg).toMatch(/^removing a stale shared lock of kbak dump .* stale: its process is gone/);
    expect(again.code).toBe(0);
    await expectOneGoodBackup(prefix);
  });
});

describe('schema registry down', () => {
  let backupPrefix: string;

  it('during a dump: fails with one line and no manifest, and the rerun completes', async () => {
    backupPrefix = uniqueName('reg-down');
    // Slow S3 keeps the dump busy after its registry check, until schemas are resolved at the end.
    s3.setLatency(40);
    const before = s3.bytesUp;
    const run = kbak(dumpArgs(backupPrefix, '--topic', framedTopic), { registry: true });
    await s3.whenBytesUp(before + 20_000, () => registry.setMode('refuse'));
    const r = await run.done;
    record('registry down during a dump, after its start-up check', r, 1);
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(oneLine(r)).toMatch(/cannot reach the schema registry/);
    await expectNoManifest(backupPrefix);
    registry.setMode('pass');
    s3.setLatency(0);
    const again = await kbak(dumpArgs(backupPrefix, '--topic', framedTopic), { registry: true }).done;
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toMatchObject({ schemas: 1 });
    await expectOneGoodBackup(backupPrefix);
  });

  it('for a few seconds during a dump: retries and completes', async () => {
    const prefix = uniqueName('reg-blip');
    s3.setLatency(40);
    const before = s3.bytesUp;
    const run = kbak(dumpArgs(prefix, '--topic', framedTopic), { registry: true });
    await s3.waitForBytesUp(before + 20_000);
    const refusedBefore = registry.refused;
    registry.setMode('refuse');
    // Down until the dump has really met the outage (a refused connection), then 1.5 s more.
    const deadline = Date.now() + 60_000;
    while (registry.refused === refusedBefore && Date.now() < deadline) await sleep(20);
    expect(registry.refused).toBeGreaterThan(refusedBefore);
    await sleep(1500);
    registry.setMode('pass');
    const r = await run.done;
    record('registry refusing connections mid-dump until the dump meets it, then 1.5 s more', r, 0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ schemas: 1 });
    await expectOneGoodBackup(prefix);
  });

  it('during a restore: fails with one line before touching Kafka, and the rerun completes', async () => {
    const lane = uniqueName('rd').slice(0, 30);
    const restore = ['restore', '--lane', lane, '--source', `s3://${stackEnv().s3Bucket}/${backupPrefix}`, '--name', 'outage'];
    registry.setMode('refuse');
    const r = await kbak(restore, { registry: true }).done;
    record('registry down during a restore', r, 1);
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(oneLine(r)).toMatch(/cannot reach the schema registry/);
    expect(await admin.listTopics()).not.toContain(`${lane}.${topic}`);
    registry.setMode('pass');
    const again = await kbak(restore, { registry: true }).done;
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toMatchObject({ records: RECORDS + 10, subjectsRegistered: 1 });
    expectLaneEqualsSource(lane);
    expect(readTopicWithKcat(`${lane}.${framedTopic}`).get(0)).toHaveLength(10);
  });
});

describe('broker restarted', () => {
  let backupPrefix: string;

  afterAll(async () => {
    // Whatever happened, leave a running broker for the next test file.
    await startKafka();
  });

  it('mid-dump: the run completes or fails with one line, and the rerun completes', async () => {
    backupPrefix = uniqueName('broker-dump');
    s3.setLatency(60);
    const before = s3.bytesUp;
    const run = kbak(dumpArgs(backupPrefix));
    await s3.waitForBytesUp(before + 30_000);
    await stopKafka();
    await startKafka();
    const r = await run.done;
    record('broker stopped and restarted mid-dump', r, r.code === 0 ? 0 : 1);
    s3.setLatency(0);
    if (r.code !== 0) {
      expect(oneLine(r)).toMatch(/Kafka/);
      await expectNoManifest(backupPrefix);
      const again = await kbak(dumpArgs(backupPrefix)).done;
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    } else {
      expect(r.stderr).toBe('');
    }
    await expectOneGoodBackup(backupPrefix);
  });

  it('mid-restore: the run completes or fails with one line, and --resume completes exactly once', async () => {
    const lane = uniqueName('br').slice(0, 30);
    const restore = ['restore', '--lane', lane, '--source', `s3://${stackEnv().s3Bucket}/${backupPrefix}`, '--name', 'outage', '--concurrency', '1'];
    // Slow reads from S3 keep the restore writing while the broker goes away.
    s3.setLatency(60);
    const run = kbak(restore);
    const laneTopic = `${lane}.${topic}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      // Leaders of the just-created lane topic may not be served yet: ask again.
      const offsets = await admin
        .listTopics()
        .then((topics) => (topics.includes(laneTopic) ? admin.fetchTopicOffsets(laneTopic) : []))
        .catch(() => []);
      if (offsets.some((o) => Number(o.high) > 0)) break;
      if (Date.now() > deadline) throw new Error('the restore wrote nothing within 60 s');
      await sleep(100);
    }
    await stopKafka();
    await startKafka();
    const r = await run.done;
    s3.setLatency(0);
    let runs = 1;
    let last = r;
    while (last.code !== 0 && runs < 3) {
      expect(oneLine(last)).toMatch(/Kafka|lane/);
      last = await kbak([...restore, '--resume']).done;
      runs++;
    }
    record('broker stopped and restarted mid-restore (rerun with --resume)', r, runs - 1);
    expect(last.stderr).toBe('');
    expect(last.code).toBe(0);
    expectLaneEqualsSource(lane);
  });
});
