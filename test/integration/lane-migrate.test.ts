/**
 * Lane migration against the real broker and registry, through the CLI: `kbak lane
 * snapshot` (base names, the lane in the manifest, read back with FORMAT.md's independent
 * decoder), its restore into another lane (not nested), `kbak lane clone` and `kbak lane
 * reset` (after a producer wrote extra records and a group moved on, exactly the seed again;
 * a pruned seed is exit 3 naming it). Lane records are read with kcat (keys and values byte
 * for byte, headers, partitions, offsets, timestamps), subjects through the registry's REST
 * API, group offsets with the kafkajs admin.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry as SchemaRegistryLib, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Admin, Message } from '../support/kafkajs-copy';
import { orderedHeaders } from '../support/kafkajs-wire-patch';
import { listBackupsOnDisk, verifyBackupOnDisk } from '../support/format-decoder';
import { kcatReadBytes, type KcatBytesRecord } from '../support/kcat';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const kafka = testKafka('kbak-lane-migrate-test');
const ledger = uniqueName('__kbak_lanes_migrate');
const dest = mkdtempSync(join(tmpdir(), 'kbak-lane-migrate-'));
const orders = uniqueName('orders');
const billing = uniqueName('billing');
const svc = uniqueName('svc');
const PARTITIONS: Record<string, number> = { [orders]: 2, [billing]: 1 };
const laneName = (): string => uniqueName('ln').slice(0, 30);
const laneA = laneName();
let admin: Admin;
let seedId: string;

const kb = (...args: string[]): Promise<CliResult> => runKbak([...args, '--ledger-topic', ledger]);
const oneLine = (r: CliResult): string => {
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
};

async function produce(topic: string, messages: Message[]): Promise<void> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  try {
    await p.send({ topic, acks: -1, messages });
  } finally {
    await p.disconnect();
  }
}

/** The registry's REST API: a subject's versions and a version's schema and ID. */
async function registryGet<T>(path: string): Promise<T> {
  const res = await fetch(`${stackEnv().registryUrl.replace(/\/$/, '')}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
const subjectVersion = (subject: string, v: number | 'latest'): Promise<{ id: number; schema: string; version: number }> =>
  registryGet(`/subjects/${encodeURIComponent(subject)}/versions/${v}`);

/** A lane topic's records by partition, read by kcat. */
const laneRecords = (laneTopic: string, base: string): KcatBytesRecord[][] => Array.from({ length: PARTITIONS[base]! }, (_, p) => kcatReadBytes(laneTopic, p));

/** Framed values (Confluent header) compared without the schema ID, which each lane's registration may change. */
const comparable = (parts: KcatBytesRecord[][]): unknown[][] =>
  parts.map((rs) =>
    rs.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key?.toString('hex') ?? null,
      body: r.value && r.value[0] === 0 ? r.value.subarray(5).toString('hex') : (r.value?.toString('hex') ?? null),
      headers: r.headers.map((h) => `${h.key}=${h.value?.toString() ?? ''}`),
    })),
  );

/** The schema IDs a lane topic's framed values carry. */
const framedIds = (parts: KcatBytesRecord[][]): Set<number> =>
  new Set(parts.flat().flatMap((r) => (r.value && r.value[0] === 0 ? [r.value.readUInt32BE(1)] : [])));

async function groupOffsets(group: string, lane: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await admin.fetchOffsets({ groupId: group, topics: [`${lane}.${orders}`, `${lane}.${billing}`] })) {
    for (const p of t.partitions) if (p.offset !== '-1') out[`${t.topic.slice(lane.length + 1)}/${p.partition}`] = p.offset;
  }
  return out;
}

/** Lane `other`'s topics hold the same records as lane A's, its subject the same schema (its own ID), its group the same offsets. */
async function expectSameAsA(other: string): Promise<void> {
  for (const base of [orders, billing]) {
    const a = laneRecords(`${laneA}.${base}`, base);
    const b = laneRecords(`${other}.${base}`, base);
    expect(b.flat().length).toBeGreaterThan(0);
    expect(comparable(b)).toEqual(comparable(a));
  }
  const subject = await subjectVersion(`${other}.${orders}-value`, 'latest');
  expect(subject.schema).toBe((await subjectVersion(`${laneA}.${orders}-value`, 'latest')).schema);
  expect(framedIds(laneRecords(`${other}.${orders}`, orders))).toEqual(new Set([subject.id]));
  expect(await groupOffsets(`${other}.${svc}`, other)).toEqual(await groupOffsets(`${laneA}.${svc}`, laneA));
}

beforeAll(async () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: orders, numPartitions: 2, replicationFactor: 1 },
      { topic: billing, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  const lib = new SchemaRegistryLib({ host: stackEnv().registryUrl });
  const { id } = await lib.register(
    { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Order', namespace: 'kbak.migrate', fields: [{ name: 'n', type: 'int' }] }) },
    { subject: `${orders}-value` },
  );
  const t0 = Date.now() - 3_600_000;
  const om: Message[] = [];
  for (let i = 0; i < 30; i++)
    om.push({
      partition: i % 2,
      key: Buffer.from(`o${i}`),
      value: await lib.encode(id, { n: i }),
      timestamp: String(t0 + i * 1000),
      headers: orderedHeaders([
        { key: 'traceparent', value: Buffer.from(`00-${String(i).padStart(32, '0')}-00f067aa0ba902b7-01`) },
        { key: 'n', value: Buffer.from(String(i)) },
      ]),
    });
  await produce(orders, om);
  await produce(
    billing,
    Array.from({ length: 7 }, (_, i) => ({ key: i % 2 ? null : `b${i}`, value: `bill ${i}`, timestamp: String(t0 + 500 + i) })),
  );
  await admin.setOffsets({
    groupId: svc,
    topic: orders,
    partitions: [
      { partition: 0, offset: '4' },
      { partition: 1, offset: '9' },
    ],
  });
  await admin.setOffsets({ groupId: svc, topic: billing, partitions: [{ partition: 0, offset: '3' }] });
  const dump = await runKbak(['dump', '--topic', orders, '--topic', billing, '--to', dest, '--name', 'prod', '--quiet', '--json']);
  if (dump.code !== 0) throw new Error(`dump failed: ${dump.stderr}`);
  seedId = (JSON.parse(dump.stdout) as { backupId: string }).backupId;
  const r = await kb('restore', '--lane', laneA, '--source', dest, '--name', 'prod', '--ttl', '2h', '--quiet');
  if (r.code !== 0) throw new Error(`restore failed: ${r.stderr}`);
});

afterAll(async () => {
  await admin.disconnect();
  rmSync(dest, { recursive: true, force: true });
});

describe('kbak lane snapshot', () => {
  it('backs up lane A under base names; restored into lane B it gives B.orders, B.billing, equal to A', async () => {
    const snap = await kb('lane', 'snapshot', laneA, '--to', dest, '--json');
    expect(snap.stderr).toBe('');
    expect(snap.code).toBe(0);
    const s = JSON.parse(snap.stdout) as {
      cluster: string;
      backupId: string;
      topics: Array<{ lane: string; base: string }>;
      subjects: Array<{ lane: string; base: string }>;
      groups: Array<{ lane: string; base: string }>;
    };
    expect(s.cluster).toBe(`lane-${laneA}`);
    expect(s.topics.map((t) => [t.lane, t.base]).sort()).toEqual(
      [
        [`${laneA}.${billing}`, billing],
        [`${laneA}.${orders}`, orders],
      ].sort(),
    );
    expect(s.subjects).toEqual([{ lane: `${laneA}.${orders}-value`, base: `${orders}-value` }]);
    expect(s.groups).toEqual([{ lane: `${laneA}.${svc}`, base: svc }]);

    // The backup as FORMAT.md's independent decoder reads it: base names, the lane recorded.
    const onDisk = listBackupsOnDisk(dest).find((b) => b.cluster === `lane-${laneA}`)!;
    const decoded = verifyBackupOnDisk(dest, onDisk);
    expect([...decoded.keys()].sort()).toEqual([`${billing}/0`, `${orders}/0`, `${orders}/1`].sort());
    const manifest = JSON.parse(readFileSync(join(dest, `lane-${laneA}`, s.backupId, 'manifest.json'), 'utf8')) as {
      lane: unknown;
      subjects: Array<{ subject: string }>;
      consumerGroups: Array<{ groupId: string; offsets: Array<{ topic: string }> }>;
    };
    expect(manifest.lane).toEqual({ name: laneA, templates: { topic: '{lane}.{topic}', subject: '{lane}.{subject}', group: '{lane}.{group}' } });
    expect(manifest.subjects.map((x) => x.subject)).toEqual([`${orders}-value`]);
    expect(manifest.consumerGroups.map((g) => [g.groupId, [...new Set(g.offsets.map((o) => o.topic))].sort()])).toEqual([[svc, [billing, orders].sort()]]);

    const laneB = laneName();
    const r = await kb('restore', '--lane', laneB, '--source', dest, '--name', `lane-${laneA}`, '--from', s.backupId, '--quiet', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { laneTopics: string[] }).laneTopics.sort()).toEqual([`${laneB}.${billing}`, `${laneB}.${orders}`].sort());
    const all = await admin.listTopics();
    expect(all.filter((t) => t.startsWith(`${laneB}.`)).sort()).toEqual([`${laneB}.${billing}`, `${laneB}.${orders}`].sort());
    await expectSameAsA(laneB);
    // Production's latest is still production's backup, not the newer snapshot.
    const listed = await runKbak(['list', '--source', dest, '--name', 'prod', '--json']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(seedId);
    expect(listed.stdout).not.toContain(s.backupId);
  });
});

describe('kbak lane clone', () => {
  it('copies lane A into lane C in one step, through a temporary store', async () => {
    const laneC = laneName();
    const r = await kb('lane', 'clone', laneA, laneC, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      snapshot: { kept: boolean; location: string | null };
      created: { topics: string[]; subjects: string[]; groups: string[] };
    };
    expect(out.snapshot).toMatchObject({ kept: false, location: null });
    expect(out.created.topics.sort()).toEqual([`${laneC}.${billing}`, `${laneC}.${orders}`].sort());
    expect(out.created.subjects).toEqual([`${laneC}.${orders}-value`]);
    expect(out.created.groups).toEqual([`${laneC}.${svc}`]);
    await expectSameAsA(laneC);
  });
});

describe('kbak lane reset', () => {
  it('after a producer wrote into the lane and its group moved on, brings back exactly the seed and keeps the expiry', async () => {
    const lane = laneName();
    expect((await kb('restore', '--lane', lane, '--source', dest, '--name', 'prod', '--ttl', '3h', '--quiet')).code).toBe(0);
    const seeded = { orders: comparable(laneRecords(`${lane}.${orders}`, orders)), billing: comparable(laneRecords(`${lane}.${billing}`, billing)) };
    const seededGroups = await groupOffsets(`${lane}.${svc}`, lane);
    const before = JSON.parse((await kb('lane', 'describe', lane, '--json')).stdout) as { expiresAt: string };

    await produce(`${lane}.${orders}`, [
      { partition: 0, key: 'extra', value: 'extra' },
      { partition: 1, key: 'extra', value: 'extra' },
    ]);
    await produce(`${lane}.${billing}`, [{ key: 'extra', value: 'extra' }]);
    await admin.setOffsets({ groupId: `${lane}.${svc}`, topic: `${lane}.${orders}`, partitions: [{ partition: 0, offset: '16' }] });
    expect(comparable(laneRecords(`${lane}.${orders}`, orders))).not.toEqual(seeded.orders);

    const r = await kb('lane', 'reset', lane, '--source', dest, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { seed: { cluster: string; backupId: string }; created: { topics: string[] } };
    expect(out.seed).toEqual({ cluster: 'prod', backupId: seedId });
    expect(out.created.topics.sort()).toEqual([`${lane}.${billing}`, `${lane}.${orders}`].sort());
    expect(comparable(laneRecords(`${lane}.${orders}`, orders))).toEqual(seeded.orders);
    expect(comparable(laneRecords(`${lane}.${billing}`, billing))).toEqual(seeded.billing);
    expect(await groupOffsets(`${lane}.${svc}`, lane)).toEqual(seededGroups);
    const after = JSON.parse((await kb('lane', 'describe', lane, '--json')).stdout) as { expiresAt: string; state: string };
    expect(after).toMatchObject({ expiresAt: before.expiresAt, state: 'ready' });
  });

  it('a seed that has since been pruned is exit 3 naming it', async () => {
    const store = mkdtempSync(join(tmpdir(), 'kbak-lane-pruned-'));
    try {
      const first = await runKbak(['dump', '--topic', billing, '--to', store, '--name', 'prod2', '--quiet', '--json']);
      expect(first.code).toBe(0);
      const pruned = (JSON.parse(first.stdout) as { backupId: string }).backupId;
      const lane = laneName();
      expect((await kb('restore', '--lane', lane, '--source', store, '--quiet')).code).toBe(0);
      await new Promise((res) => setTimeout(res, 5));
      expect((await runKbak(['dump', '--topic', billing, '--to', store, '--name', 'prod2', '--quiet'])).code).toBe(0);
      expect((await runKbak(['prune', '--source', store, '--name', 'prod2', '--keep-last', '1', '--quiet'])).code).toBe(0);
      const r = await kb('lane', 'reset', lane, '--source', store);
      expect(r.code).toBe(3);
      expect(oneLine(r)).toContain(`backup prod2/${pruned}`);
      // Nothing was touched: the lane still has its records.
      expect(kcatReadBytes(`${lane}.${billing}`, 0)).toHaveLength(7);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });
});
