/**
 * The sharded restore against the real broker and registry (issue 21 item 4, restore side):
 * `kbak restore --lane X --shard I/3` run as three processes at once gives the lane the
 * source holds (read back with kcat: keys, values with their schema IDs rewritten, headers,
 * timestamps), the lane groups at the translated offsets, and a ledger entry that is ready
 * with no lease, no done record and no claim left (the ledger read with kcat too). A shard
 * SIGKILLed mid-write and rerun alone still gives the same lane.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry as SchemaRegistryLib, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Admin, Message } from '../support/kafkajs-copy';
import { orderedHeaders } from '../support/kafkajs-wire-patch';
import { runKbak, startKbak, type CliResult } from '../support/kbak-cli';
import { kcatReadBytes, type KcatBytesRecord } from '../support/kcat';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const kafka = testKafka('kbak-restore-sharded-test');
const ledger = uniqueName('__kbak_lanes_sharded');
const dest = mkdtempSync(join(tmpdir(), 'kbak-sharded-restore-'));
const orders = uniqueName('orders');
const billing = uniqueName('billing');
const PARTITIONS = 6;
/** Per partition: enough that a shard writes for a while (the kill test needs a moment mid-write). */
const PER_PARTITION = 3000;
let admin: Admin;
let schemaId: number;

const restoreArgs = (lane: string, ...extra: string[]): string[] => [
  'restore',
  '--lane',
  lane,
  '--source',
  dest,
  '--ledger-topic',
  ledger,
  '--quiet',
  ...extra,
];
const shardArgs = (lane: string, shard: string, ...extra: string[]): string[] => restoreArgs(lane, '--shard', shard, '--json', ...extra);
const laneName = (): string => uniqueName('sh').slice(0, 30);

function ok(r: CliResult): void {
  if (r.code !== 0) throw new Error(`kbak exited ${r.code ?? r.signal}: ${r.stderr}`);
}

/** The ledger as kcat reads it: the last record per key, tombstones remove. */
function kcatLedger(): Map<string, Record<string, unknown>> {
  const out = execFileSync('kcat', ['-C', '-b', stackEnv().brokers.join(','), '-t', ledger, '-o', 'beginning', '-e', '-q', '-J'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const m = new Map<string, Record<string, unknown>>();
  for (const line of out.split('\n').filter((l) => l.trim().length > 0)) {
    const r = JSON.parse(line) as { key: string; payload: string | null };
    if (r.payload === null) m.delete(r.key);
    else m.set(r.key, JSON.parse(r.payload) as Record<string, unknown>);
  }
  return m;
}

/** The lane subject's schema ID, asked of the registry over HTTP. */
async function laneSchemaId(subject: string): Promise<number> {
  const res = await fetch(`${stackEnv().registryUrl}/subjects/${subject}/versions/latest`);
  if (!res.ok) throw new Error(`GET ${subject}: HTTP ${res.status}`);
  return ((await res.json()) as { id: number }).id;
}

/** The lane equals the source, partition by partition, read with kcat; the groups sit at the translated offsets; the ledger is clean. */
async function expectLaneEqualsSource(lane: string): Promise<void> {
  const laneTopic = `${lane}.${orders}`;
  const laneId = await laneSchemaId(`${laneTopic}-value`);
  const body = (r: KcatBytesRecord) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key?.toString('hex'),
    // The Confluent frame: magic byte, schema ID, payload; the ID is the lane's.
    magic: r.value![0],
    payload: r.value!.subarray(5).toString('hex'),
    headers: r.headers.map((h) => [h.key, h.value?.toString('hex') ?? null]),
  });
  for (let p = 0; p < PARTITIONS; p++) {
    const src = kcatReadBytes(orders, p);
    const dst = kcatReadBytes(laneTopic, p);
    expect(src).toHaveLength(PER_PARTITION);
    expect(dst.map(body)).toEqual(src.map(body));
    expect(new Set(src.map((r) => r.value!.readUInt32BE(1)))).toEqual(new Set([schemaId]));
    expect(new Set(dst.map((r) => r.value!.readUInt32BE(1)))).toEqual(new Set([laneId]));
  }
  // No gaps in the source: each committed offset is the same offset in the lane.
  const [committed] = await admin.fetchOffsets({ groupId: `${lane}.${billing}`, topics: [laneTopic] });
  expect(committed!.partitions.map((x) => [x.partition, x.offset]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(
    Array.from({ length: PARTITIONS }, (_, p) => [p, String(committedAt(p))]),
  );
  const read = kcatLedger();
  expect(read.get(lane)).toMatchObject({ state: 'ready', intent: null, leases: [], failure: null });
  expect([...read.keys()].filter((k) => k.startsWith(`${lane}/`))).toEqual([]);
}

const committedAt = (p: number): number => 100 * (p + 1);

beforeAll(async () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: orders, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  const lib = new SchemaRegistryLib({ host: stackEnv().registryUrl });
  ({ id: schemaId } = await lib.register(
    {
      type: SchemaType.AVRO,
      schema: JSON.stringify({
        type: 'record',
        name: 'Order',
        namespace: 'kbak.sharded',
        fields: [
          { name: 'n', type: 'int' },
          { name: 'note', type: 'string' },
        ],
      }),
    },
    { subject: `${orders}-value` },
  ));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const base = Date.now() - 3_600_000;
  for (let p = 0; p < PARTITIONS; p++) {
    const messages: Message[] = [];
    for (let i = 0; i < PER_PARTITION; i++) {
      messages.push({
        partition: p,
        key: Buffer.from(`k${p}-${i}`),
        value: await lib.encode(schemaId, { n: i, note: `order ${p}/${i} `.repeat(20) }),
        timestamp: String(base + p * 10_000 + i),
        headers: orderedHeaders([
          { key: 'traceparent', value: Buffer.from(`00-${String(i).padStart(32, '0')}-00f067aa0ba902b7-01`) },
          { key: 'dup', value: Buffer.from('a') },
          { key: 'dup', value: null },
        ]),
      });
    }
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: orders, acks: -1, messages: messages.slice(i, i + 500) });
  }
  await producer.disconnect();
  await admin.setOffsets({
    groupId: billing,
    topic: orders,
    partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, offset: String(committedAt(p)) })),
  });
  ok(await runKbak(['dump', '--topic', orders, '--to', dest, '--quiet']));
}, 240_000);

afterAll(async () => {
  await admin?.disconnect();
  rmSync(dest, { recursive: true, force: true });
});

describe('kbak restore --shard I/3 (three processes)', () => {
  it('three shards started at once give the lane the source holds; groups translated; the ledger ends ready with nothing left', async () => {
    const lane = laneName();
    const runs = [0, 1, 2].map((i) => startKbak(shardArgs(lane, `${i}/3`)));
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) ok(r);
    const summaries = results.map(
      (r) => JSON.parse(r.stdout) as { records: number; partitions: number; shard: { index: number; finalised: boolean; plan: string } },
    );
    // Every shard counted only its own partitions; together, every record once.
    expect(summaries.reduce((n, s) => n + s.records, 0)).toBe(PARTITIONS * PER_PARTITION);
    expect(summaries.reduce((n, s) => n + s.partitions, 0)).toBe(PARTITIONS);
    expect(new Set(summaries.map((s) => s.shard.plan)).size).toBe(1);
    expect(summaries.some((s) => s.shard.finalised)).toBe(true);
    await expectLaneEqualsSource(lane);
    // A rerun of any shard after the plan finished has nothing to do.
    const again = await runKbak(shardArgs(lane, '1/3'));
    ok(again);
    expect(JSON.parse(again.stdout)).toMatchObject({ records: 0, shard: { outcome: 'already-restored' } });
  }, 240_000);

  it('a shard SIGKILLed mid-write and rerun alone still gives the same lane', async () => {
    const lane = laneName();
    const laneTopic = `${lane}.${orders}`;
    // The preparation as a step of its own, then shard 1 alone, killed once its first records are in the lane.
    ok(await runKbak(shardArgs(lane, '0/3', '--prepare')));
    const { child, done } = startKbak(shardArgs(lane, '1/3', '--concurrency', '1'));
    let exited = false;
    void done.then(() => (exited = true));
    const written = async (): Promise<number> => (await admin.fetchTopicOffsets(laneTopic)).reduce((n, o) => n + Number(o.high), 0);
    while (!exited && (await written()) === 0) await new Promise((res) => setTimeout(res, 10));
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const partial = await written();
    console.log(`shard 1 SIGKILLed with ${partial} of its records in the lane`);
    // A killed shard leaves the plan's entry as it was: restoring, lease prepared, no done record of its own.
    const mid = kcatLedger();
    expect(mid.get(lane)).toMatchObject({ state: 'restoring', leases: [expect.objectContaining({ shards: 3, prepared: true })] });
    expect([...mid.keys()].filter((k) => k.startsWith(`${lane}/shard/`))).toEqual([]);

    const rerun = await runKbak(shardArgs(lane, '1/3'));
    ok(rerun);
    const s1 = JSON.parse(rerun.stdout) as { records: number; skippedExisting: number };
    expect(s1.skippedExisting).toBe(partial);
    const rest = await Promise.all([startKbak(shardArgs(lane, '0/3')).done, startKbak(shardArgs(lane, '2/3')).done]);
    for (const r of rest) ok(r);
    const all = [s1, ...rest.map((r) => JSON.parse(r.stdout) as { records: number })];
    // Nothing written twice: the shards together wrote every record once, the killed run's counted as already there.
    expect(all.reduce((n, s) => n + s.records, 0) + s1.skippedExisting).toBe(PARTITIONS * PER_PARTITION);
    await expectLaneEqualsSource(lane);
  }, 240_000);

  it('a shard of another plan (other N) is refused with one line naming the mismatch (exit 8)', async () => {
    const lane = laneName();
    ok(await runKbak(shardArgs(lane, '0/3', '--prepare')));
    const r = await runKbak(restoreArgs(lane, '--shard', '1/4', '--prepare-timeout', '5s'));
    expect(r.code).toBe(8);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/another sharded plan \([0-9a-f]{16}\): 3 shards there, 4 here \(--shard 1\/4\)/);
  }, 120_000);
});
