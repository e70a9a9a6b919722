/**
 * `kbak recover` in the backup's own cluster (the accidental-deletion case) against the real
 * stack: a topic with keys, trace headers, old timestamps and a consumer group is dumped,
 * deleted, and recovered under its own name; kcat (not kbak) reads it back and Kafka's own
 * admin API reads its configs and the group's offsets. Then the refusals: the topic still
 * exists, lane flags, a rename of a topic not in the backup, `--resume` with nothing to resume.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes } from 'kafkajs';
import { kcatOffsetForTime, kcatReadBytes } from '../support/kcat';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { createTopic, produce, TRACE_HEADERS, type TestRecord } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';

jest.setTimeout(180_000);

const kafka = testKafka('kbak-recover-test');
const admin = kafka.admin();
const dirs: string[] = [];

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function store(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbak-recover-'));
  dirs.push(d);
  return d;
}

const DAY = 86_400_000;
/** Old timestamps (a year back), not in order within a partition: recovery keeps them as they were. */
function records(n: number, partitions: number): TestRecord[] {
  const base = Date.now() - 365 * DAY;
  return Array.from({ length: n }, (_, i) => ({
    partition: i % partitions,
    key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 11 === 0 ? null : Buffer.from(`value-${i}-${'x'.repeat(i % 50)}`),
    headers: TRACE_HEADERS(i),
    timestamp: String(base + ((i * 7919) % 1000) * 1000),
  }));
}

async function topicConfigs(topic: string): Promise<Record<string, string>> {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  const out: Record<string, string> = {};
  for (const e of res.resources[0]!.configEntries)
    if (!e.isDefault && (e as unknown as { configSource?: number }).configSource === 1) out[e.configName] = e.configValue;
  return out;
}

const ok = (r: CliResult): CliResult => {
  if (r.code !== 0) throw new Error(`kbak exited ${r.code}: ${r.stderr}`);
  return r;
};

/** What kcat reads of each partition, without offsets (the recovered topic may start elsewhere). */
function readAll(topic: string, partitions: number): Array<Array<Omit<ReturnType<typeof kcatReadBytes>[number], 'offset'>>> {
  return Array.from({ length: partitions }, (_, p) => kcatReadBytes(topic, p).map(({ offset: _offset, ...rest }) => rest));
}

describe('kbak recover into the backup’s own cluster', () => {
  const topic = uniqueName('rec-orders');
  const group = uniqueName('rec-group');
  const dir = store();
  let before: ReturnType<typeof readAll>;

  beforeAll(async () => {
    await createTopic(kafka, topic, 3, { 'retention.ms': String(400 * DAY), 'cleanup.policy': 'delete', 'max.message.bytes': '2000000' });
    await produce(kafka, topic, records(300, 3));
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1, 2].map((p) => ({ partition: p, offset: String(40 + p) })) });
    ok(await runKbak(['dump', '--topic', topic, '--to', dir, '--quiet']));
    before = readAll(topic, 3);
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    // Kafka drops a deleted topic's committed offsets; wait until the topic is gone from metadata.
    for (let i = 0; i < 50 && (await admin.listTopics()).includes(topic); i++) await new Promise((r) => setTimeout(r, 200));
  });

  it('plans first (--dry-run changes nothing and says the target is the backup’s own cluster)', async () => {
    const r = ok(await runKbak(['recover', '--source', dir, '--topic', topic, '--dry-run']));
    expect(r.stdout).toContain("target: the backup's own cluster");
    expect(r.stdout).toContain(`${topic} [create]`);
    expect(r.stdout).toContain('configs once written: ');
    expect(await admin.listTopics()).not.toContain(topic);
  });

  it('recreates the deleted topic: the same records per partition (kcat), its configs, the group at translated offsets', async () => {
    const r = ok(await runKbak(['recover', '--source', dir, '--topic', topic, '-o', 'json', '--quiet']));
    const summary = JSON.parse(r.stdout) as { records: number; inPlace: boolean; topics: Array<{ action: string }>; recoveryId: string };
    expect(summary).toMatchObject({ records: 300, inPlace: true, topics: [{ action: 'create' }] });

    expect(readAll(topic, 3)).toEqual(before);
    const cfg = await topicConfigs(topic);
    // The backup's own retention and timestamp type, set after the write (not the permissive create-time ones).
    expect(cfg['retention.ms']).toBe(String(400 * DAY));
    expect(cfg['max.message.bytes']).toBe('2000000');
    expect(cfg['message.timestamp.before.max.ms']).toBeUndefined();

    const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    // The recovered topic starts at offset 0 like the original, so the translated offsets equal the source's.
    expect(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '40'],
      [1, '41'],
      [2, '42'],
    ]);

    // The recovery ledger records it as done, read with a plain consumer.
    const ledger = kcatReadBytes('__kbak_recoveries', 0).map((x) => JSON.parse(x.value!.toString('utf8')) as { id: string; state: string });
    expect(ledger.filter((e) => e.id === summary.recoveryId).at(-1)?.state).toBe('done');
  });

  it('refuses, with exit 6 and nothing written, to recover a topic that exists in its own cluster', async () => {
    const r = await runKbak(['recover', '--source', dir, '--topic', topic]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`topic "${topic}" still exists in the backup's own cluster (300 records)`);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('kbak:')),
    ).toHaveLength(1);
  });

  it('recovers next to the original with --rename, and the copy reads the same', async () => {
    const copy = `${topic}-recovered`;
    ok(await runKbak(['recover', '--source', dir, '--topic', topic, '--rename', `${topic}=${copy}`, '--quiet']));
    expect(readAll(copy, 3)).toEqual(before);
    // The group's offsets were on the original topic; recovering the copy commits the same group on the copy.
    const offsets = await admin.fetchOffsets({ groupId: group, topics: [copy] });
    expect(offsets[0]!.partitions.map((p) => p.offset).sort()).toEqual(['40', '41', '42']);
  });

  it('refuses lane flags, a rename of a topic the backup lacks and --resume with nothing to resume (exit 2)', async () => {
    const lane = await runKbak(['recover', '--source', dir, '--lane', 'feature-x']);
    expect(lane.code).toBe(2);
    expect(lane.stderr).toContain('kbak recover does not take --lane');
    const policy = await runKbak(['recover', '--source', dir, '--policy', 'seed.yaml']);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain('does not take --policy');
    const rename = await runKbak(['recover', '--source', dir, '--rename', 'nosuch=other']);
    expect(rename.code).toBe(2);
    expect(rename.stderr).toContain('--rename nosuch=other: topic "nosuch" is not in the backup');
    const resume = await runKbak(['recover', '--source', dir, '--topic', topic, '--rename', `${topic}=${topic}-never`, '--resume']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('no interrupted recovery of these topics is recorded');
  });
});

describe('kbak recover --at: a point in time across a full and two incremental backups', () => {
  const topic = uniqueName('rec-pit');
  const group = uniqueName('rec-pit-group');
  const dir = store();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const batch = (from: number, n: number): TestRecord[] =>
    Array.from({ length: n }, (_, i) => ({
      partition: (from + i) % 2,
      key: Buffer.from(`k${from + i}`),
      value: Buffer.from(`v${from + i}`),
      headers: [],
      timestamp: String(Date.now()),
    }));
  let at = 0;

  beforeAll(async () => {
    await createTopic(kafka, topic, 2);
    await produce(kafka, topic, batch(0, 20));
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1].map((p) => ({ partition: p, offset: '5' })) });
    ok(await runKbak(['dump', '--topic', topic, '--to', dir, '--quiet']));
    await sleep(50);
    // The point in time falls between two halves of the second batch, and so between the first two cuts.
    await produce(kafka, topic, batch(20, 10));
    await sleep(50);
    at = Date.now();
    await sleep(50);
    await produce(kafka, topic, batch(30, 10));
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1].map((p) => ({ partition: p, offset: '15' })) });
    ok(await runKbak(['dump', '--incremental', '--topic', topic, '--to', dir, '--quiet']));
    await produce(kafka, topic, batch(40, 20));
    ok(await runKbak(['dump', '--incremental', '--topic', topic, '--to', dir, '--quiet']));
  });

  it('recovers each partition as Kafka’s ListOffsets by timestamp (kcat -Q) defines it at that time, groups from the backup before it', async () => {
    const copy = `${topic}-at`;
    const iso = new Date(at).toISOString();
    const plan = ok(await runKbak(['recover', '--source', dir, '--topic', topic, '--rename', `${topic}=${copy}`, '--at', iso, '--dry-run', '-o', 'json']));
    const planned = JSON.parse(plan.stdout) as { at: string; backupId: string; groupsFrom: string };
    expect(planned.at).toBe(iso);
    // Read from the second backup (the first cut at or after the time), groups from the first.
    expect(planned.groupsFrom < planned.backupId).toBe(true);
    ok(await runKbak(['recover', '--source', dir, '--topic', topic, '--rename', `${topic}=${copy}`, '--at', iso, '--quiet']));
    for (const p of [0, 1]) {
      const end = kcatOffsetForTime(topic, p, BigInt(at))!;
      const expected = kcatReadBytes(topic, p)
        .filter((r) => r.offset < end)
        .map(({ offset: _o, ...r }) => r);
      expect(expected.length).toBe(15); // 10 of the first batch and 5 of the second's first half on each partition
      expect(kcatReadBytes(copy, p).map(({ offset: _o, ...r }) => r)).toEqual(expected);
    }
    const offsets = await admin.fetchOffsets({ groupId: group, topics: [copy] });
    expect(offsets[0]!.partitions.map((x) => x.offset)).toEqual(['5', '5']);
  });

  it('refuses a time before the first backed-up record, naming the range (exit 2)', async () => {
    const r = await runKbak(['recover', '--source', dir, '--topic', topic, '--rename', `${topic}=${topic}-early`, '--at', '2020-01-01T00:00:00Z']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/before the first record .*\d{4}-\d\d-\d\dT/);
    expect(await admin.listTopics()).not.toContain(`${topic}-early`);
  });
});
