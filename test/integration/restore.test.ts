/**
 * `kbak restore --lane` against the real local stack: dump a source topic, restore it into
 * a lane, and check the lane with an independent consumer and the registry.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry as SchemaRegistryLib, SchemaType } from '@kafkajs/confluent-schema-registry';
import { openBackup } from '../../src/backup/catalog';
import { loadSettings, type Settings } from '../../src/config/settings';
import { DumpRun, type DumpSummary } from '../../src/dump/dump';
import { openKafka, type KafkaAdapter } from '../../src/kafka';
import type { Admin, Message } from '../support/kafkajs-copy';
import { orderedHeaders, type WireHeader } from '../support/kafkajs-wire-patch';
import { silentLogger } from '../../src/output/logger';
import { RestoreRun, type RestoreOptions, type RestoreSummary } from '../../src/restore/restore';
import { RegistryClient } from '../../src/schema/registry-client';
import { openStore } from '../../src/store/open';
import { stackEnv, testKafka, uniqueName, waitForLastStable } from '../support/stack';
import { laneOptions } from '../support/memory-backup';

const ROOT = join(__dirname, '..', '..');
const logger = silentLogger();
let settings: Settings;
let admin: Admin;
let adapter: KafkaAdapter;
const kafka = testKafka('kbak-restore-test');
const tmpDirs: string[] = [];

beforeAll(async () => {
  settings = loadSettings({}, stackEnv().env);
  adapter = openKafka(settings.kafka, logger);
  admin = kafka.admin();
  await admin.connect();
  // The CLI tests run the built kbak.
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
});

afterAll(async () => {
  await admin.disconnect();
  await adapter.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbak-restore-'));
  tmpDirs.push(d);
  return d;
}

/** A lane name: short, unique per test run. */
function laneName(): string {
  return uniqueName('ln').slice(0, 30);
}

async function createTopic(topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
  });
}

async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
  } finally {
    await producer.disconnect();
  }
}

async function dump(topics: string[], dest: string): Promise<DumpSummary> {
  const run = new DumpRun(
    { kafka: adapter, store: openStore(dest, settings.s3), registry: settings.registry ? new RegistryClient(settings.registry) : null, logger },
    {
      selection: { topics },
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      segmentBytes: 1024 * 1024,
      concurrency: 4,
      stallTimeoutMs: 60_000,
    },
  );
  return (await run.run()).summary;
}

function restoreRun(dest: string, opts: Partial<RestoreOptions> & { lane: string }): Promise<RestoreRun> {
  return openBackup(openStore(dest, settings.s3), 'latest').then(
    (backup) =>
      new RestoreRun(
        { kafka: adapter, backup, registry: settings.registry ? new RegistryClient(settings.registry) : null, logger },
        laneOptions(opts.lane, { concurrency: 4, ...opts }),
      ),
  );
}

async function restore(dest: string, opts: Partial<RestoreOptions> & { lane: string }): Promise<RestoreSummary> {
  return (await restoreRun(dest, opts)).run();
}

interface ReadRecord {
  partition: number;
  offset: bigint;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: WireHeader[];
}

/** An independent read of a whole topic (every partition, committed records only), by partition in offset order. */
async function readTopic(topic: string): Promise<Map<number, ReadRecord[]>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const remaining = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  const out = new Map<number, ReadRecord[]>(offsets.map((o) => [o.partition, []]));
  if (remaining.size === 0) return out;
  const groupId = uniqueName('kbak-test-read');
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out; missing ${[...remaining.keys()].join(',')}`)), 90_000);
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const p = e.payload as { partition: number; lastOffset: string };
      const end = remaining.get(p.partition);
      if (end !== undefined && BigInt(p.lastOffset) + 1n >= end) remaining.delete(p.partition);
      if (remaining.size === 0) {
        clearTimeout(timer);
        resolve();
      }
    });
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          out.get(partition)!.push({
            partition,
            offset: BigInt(message.offset),
            timestamp: message.timestamp,
            key: message.key,
            value: message.value,
            headers: ((message as unknown as { headerList?: WireHeader[] }).headerList ?? []).map((h) => ({ key: h.key, value: h.value })),
          });
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return out;
}

function tracingHeaders(i: number): WireHeader[] {
  const trace = i.toString(16).padStart(32, '0');
  return [
    { key: 'traceparent', value: Buffer.from(`00-${trace}-00f067aa0ba902b7-01`) },
    { key: 'x-dup', value: Buffer.from('first') },
    { key: 'tracestate', value: Buffer.from('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7') },
    { key: 'baggage', value: Buffer.from(`userId=u${i},lane=baseline`) },
    { key: 'b3', value: Buffer.from(`${trace}-e457b5a2e4d86bd1-1`) },
    { key: 'X-B3-TraceId', value: Buffer.from(trace) },
    { key: 'uber-trace-id', value: Buffer.from(`${trace}:e457b5a2e4d86bd1:0:1`) },
    { key: 'x-dup', value: Buffer.from('second') },
    { key: '1', value: null },
    { key: 'bin', value: Buffer.from([0, 255, 1, 254]) },
  ];
}

/** Field-by-field equality, value compared except bytes 1-4 (the schema ID) when framed. */
function expectSameRecords(source: Map<number, ReadRecord[]>, lane: Map<number, ReadRecord[]>, opts: { framedValues: boolean }): void {
  expect([...lane.keys()].sort()).toEqual([...source.keys()].sort());
  for (const [p, src] of source) {
    const dst = lane.get(p)!;
    expect(dst.length).toBe(src.length);
    src.forEach((s, i) => {
      const d = dst[i]!;
      expect(d.partition).toBe(s.partition);
      expect(d.timestamp).toBe(s.timestamp);
      expect(d.key).toEqual(s.key);
      expect(d.headers).toEqual(s.headers);
      if (s.value === null) expect(d.value).toBeNull();
      else if (opts.framedValues && s.value[0] === 0) {
        expect(d.value!.length).toBe(s.value.length);
        expect(d.value![0]).toBe(0);
        expect(d.value!.subarray(5)).toEqual(s.value.subarray(5));
      } else expect(d.value).toEqual(s.value);
    });
  }
}

function count(m: Map<number, ReadRecord[]>): number {
  return [...m.values()].reduce((n, l) => n + l.length, 0);
}

async function topicExists(topic: string): Promise<boolean> {
  return (await admin.listTopics()).includes(topic);
}

async function groupOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(res[0]!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kbakEnv(): NodeJS.ProcessEnv {
  const e = stackEnv().env;
  return { ...process.env, ...Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('KBAK_') || k.startsWith('AWS_'))), KBAK_LOG_LEVEL: 'warn' };
}

function cli(args: string[]): CliResult {
  const r = spawnSync('node', ['bin/kbak.js', ...args], { cwd: ROOT, encoding: 'utf8', env: kbakEnv(), timeout: 170_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kbak restore', () => {
  it('round-trips a multi-partition Avro topic with tracing headers into a lane', async () => {
    const topic = uniqueName('orders');
    const lane = laneName();
    await createTopic(topic, 3);
    const registry = new SchemaRegistryLib({ host: stackEnv().registryUrl });
    const schema = {
      type: 'record',
      name: 'Order',
      namespace: 'kbak.test',
      fields: [
        { name: 'id', type: 'int' },
        { name: 'customer', type: 'string' },
        { name: 'amount', type: 'double' },
      ],
    };
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });
    const base = Date.now() - 3_600_000;
    const messages: Message[] = [];
    for (let i = 0; i < 300; i++) {
      messages.push({
        partition: i % 3,
        key: i % 50 === 7 ? null : Buffer.from(`order-${i}`),
        value: i % 97 === 5 ? null : await registry.encode(id, { id: i, customer: `c${i % 17}`, amount: i * 1.5 }),
        timestamp: String(base + i * 1000),
        headers: orderedHeaders(tracingHeaders(i)),
      });
    }
    await produce(topic, messages);
    const group = uniqueName('billing');
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '10' },
        { partition: 1, offset: '100' },
        { partition: 2, offset: '0' },
      ],
    });

    const dest = tempDir();
    const dumped = await dump([topic], dest);
    expect(dumped.records).toBe(300);

    const summary = await restore(dest, { lane, laneHeader: null });
    const laneTopic = `${lane}.${topic}`;
    expect(summary.topics).toEqual([{ source: topic, lane: laneTopic, action: 'create', partitions: 3, records: 300, skippedExisting: 0 }]);
    expect(summary.topicsCreated).toBe(1);
    expect(summary.subjectsRegistered).toBe(1);
    expect(summary.idsRewritten).toBe(300 - messages.filter((m) => m.value === null).length);
    expect(Object.keys(summary.idMap)).toEqual([String(id)]);
    expect(summary.groupsSeeded).toBe(1);

    const source = await readTopic(topic);
    const laneRecords = await readTopic(laneTopic);
    expectSameRecords(source, laneRecords, { framedValues: true });
    // Every lane value decodes through the registry, with the lane ID.
    const laneId = summary.idMap[String(id)]!;
    for (const list of laneRecords.values()) {
      for (const r of list) {
        if (r.value === null) continue;
        expect(r.value.readUInt32BE(1)).toBe(laneId);
        const decoded = (await registry.decode(r.value)) as { id: number };
        expect(Buffer.from(`order-${decoded.id}`)).toEqual(r.key ?? Buffer.from(`order-${decoded.id}`));
      }
    }
    const rc = new RegistryClient(settings.registry!);
    const laneSubject = await rc.subjectVersion(`${laneTopic}-value`, 'latest');
    expect(laneSubject).not.toBeNull();
    expect(laneSubject!.id).toBe(laneId);
    expect(JSON.parse(laneSubject!.schema)).toEqual(JSON.parse((await rc.schemaById(id))!.schema));

    // Group offsets: the source partitions have no gaps, so the lane offsets are equal.
    const laneGroup = await groupOffsets(`${lane}.${group}`, laneTopic);
    expect(laneGroup).toEqual(
      new Map([
        [0, 10n],
        [1, 100n],
        [2, 0n],
      ]),
    );

    // A rerun with --resume writes nothing and registers nothing new.
    const again = await restore(dest, { lane, mode: 'resume' });
    expect(again.records).toBe(0);
    expect(again.skippedExisting).toBe(300);
    expect(again.schemaVersionsCreated).toBe(0);
    expect(count(await readTopic(laneTopic))).toBe(300);
  });
});

describe('kbak restore: schemas with references, plain topics, S3, filters', () => {
  it('registers a Protobuf schema with a reference under lane subjects, references first', async () => {
    const topic = uniqueName('shipments');
    const lane = laneName();
    await createTopic(topic, 2);
    const rc = new RegistryClient(settings.registry!);
    const commonSubject = uniqueName('common');
    const common = 'syntax = "proto3";\npackage kbak.common;\nmessage Money { string currency = 1; int64 units = 2; }\n';
    const order = 'syntax = "proto3";\npackage kbak.orders;\nimport "common.proto";\nmessage Shipment { string id = 1; kbak.common.Money price = 2; }\n';
    const commonId = await rc.register(commonSubject, { schemaType: 'PROTOBUF', schema: common, references: [] });
    const refs = [{ name: 'common.proto', subject: commonSubject, version: 1 }];
    const orderId = await rc.register(`${topic}-value`, { schemaType: 'PROTOBUF', schema: order, references: refs });
    const frame = (id: number, body: Buffer): Buffer => {
      const head = Buffer.alloc(6);
      head.writeUInt32BE(id, 1); // byte 0: magic 0; byte 5: message index list [0]
      return Buffer.concat([head, body]);
    };
    const messages: Message[] = [];
    for (let i = 0; i < 40; i++) {
      messages.push({
        partition: i % 2,
        key: Buffer.from(`s${i}`),
        value: frame(orderId, Buffer.from([0x0a, 0x02, 0x73, 0x30 + (i % 10)])),
        timestamp: String(Date.now() - 1000 + i),
      });
    }
    await produce(topic, messages);
    const dest = tempDir();
    await dump([topic], dest);

    const summary = await restore(dest, { lane });
    const laneTopic = `${lane}.${topic}`;
    const laneCommon = `${lane}.${commonSubject}`;
    expect(summary.subjectsRegistered).toBe(2);
    const laneCommonVersion = await rc.subjectVersion(laneCommon, 'latest');
    expect(laneCommonVersion).toMatchObject({ schemaType: 'PROTOBUF', references: [] });
    const laneOrder = await rc.subjectVersion(`${laneTopic}-value`, 'latest');
    expect(laneOrder).not.toBeNull();
    expect(laneOrder!.schemaType).toBe('PROTOBUF');
    expect(laneOrder!.references).toEqual([{ name: 'common.proto', subject: laneCommon, version: laneCommonVersion!.version }]);
    expect(summary.idMap[String(orderId)]).toBe(laneOrder!.id);
    expect(commonId).toBeGreaterThan(0);
    expect(summary.idsRewritten).toBe(40);

    const source = await readTopic(topic);
    const laneRecords = await readTopic(laneTopic);
    expectSameRecords(source, laneRecords, { framedValues: true });
    for (const list of laneRecords.values()) for (const r of list) expect(r.value!.readUInt32BE(1)).toBe(laneOrder!.id);
  });

  it('restores a topic without schemas from S3, keeping tombstones, configs and group offsets; filters cut it down consistently', async () => {
    const topic = uniqueName('plain');
    await createTopic(topic, 2, { 'retention.ms': '604800000', 'max.message.bytes': '2000000' });
    const base = Date.now() - 100_000;
    const messages: Message[] = [];
    for (let i = 0; i < 100; i++) {
      // A leading 0 byte in a plain value must not be taken for a schema ID.
      const value = i % 10 === 3 ? null : i % 10 === 4 ? Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 9, 9]) : Buffer.from(`v${i}`);
      messages.push({ partition: i % 2, key: Buffer.from(`k${i}`), value, timestamp: String(base + i * 1000) });
    }
    await produce(topic, messages);
    const group = uniqueName('reader');
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '20' },
        { partition: 1, offset: '45' },
      ],
    });
    const dest = `s3://${stackEnv().s3Bucket}/${uniqueName('restore-test')}`;
    await dump([topic], dest);

    const lane = laneName();
    const summary = await restore(dest, { lane });
    const laneTopic = `${lane}.${topic}`;
    expect(summary.records).toBe(100);
    expect(summary.subjectsRegistered).toBe(0);
    expect(summary.idsRewritten).toBe(0);
    expectSameRecords(await readTopic(topic), await readTopic(laneTopic), { framedValues: false });
    expect(await groupOffsets(`${lane}.${group}`, laneTopic)).toEqual(
      new Map([
        [0, 20n],
        [1, 45n],
      ]),
    );
    const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: laneTopic }] });
    const entries = new Map(cfg.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    // Lane topics keep their seed for the lane's life; other source configs are kept.
    expect(entries.get('retention.ms')).toBe('-1');
    expect(entries.get('retention.bytes')).toBe('-1');
    expect(entries.get('message.timestamp.type')).toBe('CreateTime');
    expect(entries.get('max.message.bytes')).toBe('2000000');

    // --max-records-per-partition 10 keeps the newest 10 of each partition (source offsets 40-49);
    // --since drops the first 30 s (records 0-29, source offsets 0-14 of each partition).
    const small = laneName();
    const cut = await restore(dest, { lane: small, maxRecordsPerPartition: 10, laneRetention: { kind: 'source' } });
    expect(cut.records).toBe(20);
    const smallTopic = `${small}.${topic}`;
    const smallCfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: smallTopic, configNames: ['retention.ms'] }] });
    expect(smallCfg.resources[0]!.configEntries[0]!.configValue).toBe('604800000');
    const smallRecords = await readTopic(smallTopic);
    expect(smallRecords.get(0)!.map((r) => r.key!.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `k${80 + 2 * i}`));
    // Offset 20 of partition 0 is before the kept records: the group starts at the first of them.
    // Offset 45 of partition 1 is kept record 5.
    expect(await groupOffsets(`${small}.${group}`, smallTopic)).toEqual(
      new Map([
        [0, 0n],
        [1, 5n],
      ]),
    );

    const windowed = laneName();
    const w = await restore(dest, { lane: windowed, window: { since: new Date(base + 30_000), until: new Date(base + 90_000) } });
    expect(w.records).toBe(60);
    const wRecords = await readTopic(`${windowed}.${topic}`);
    expect(wRecords.get(0)!.map((r) => r.key!.toString())[0]).toBe('k30');
    // Partition 0: kept source offsets 15..44, committed 20 → lane 5. Partition 1: committed 45 is past the window → end (30).
    expect(await groupOffsets(`${windowed}.${group}`, `${windowed}.${topic}`)).toEqual(
      new Map([
        [0, 5n],
        [1, 30n],
      ]),
    );
  });
});

/** Lane offset a committed source offset must translate to: restored records before it. */
function expectedLaneOffset(committed: bigint, restoredSourceOffsets: bigint[]): bigint {
  return BigInt(restoredSourceOffsets.filter((o) => o < committed).length);
}

describe('kbak restore: group offsets across gaps', () => {
  it('translates group offsets on a transactional topic (aborted records and markers)', async () => {
    const topic = uniqueName('txn');
    await createTopic(topic, 1);
    const producer = kafka.producer({ transactionalId: uniqueName('kbak-test-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const batch = (from: number): Message[] =>
      Array.from({ length: 5 }, (_, i) => ({ partition: 0, key: Buffer.from(`k${from + i}`), value: Buffer.from(`v${from + i}`) }));
    for (const [from, commit] of [
      [0, true],
      [5, false],
      [10, true],
      [15, false],
      [20, true],
    ] as const) {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: batch(from) });
      if (commit) await tx.commit();
      else await tx.abort();
    }
    await producer.disconnect();
    expect(await waitForLastStable(admin, topic, 0, '30')).toBe('30');
    // 0-4 committed, 5 marker, 6-10 aborted, 11 marker, 12-16, 17, 18-22 aborted, 23, 24-28, 29 marker.
    const source = (await readTopic(topic)).get(0)!;
    const restored = source.map((r) => r.offset);
    expect(restored).toEqual([0n, 1n, 2n, 3n, 4n, 12n, 13n, 14n, 15n, 16n, 24n, 25n, 26n, 27n, 28n]);
    const committed = [0n, 3n, 5n, 8n, 11n, 12n, 17n, 20n, 24n, 29n, 30n];
    const groups = committed.map((c) => ({ group: uniqueName(`g${c}`), offset: c }));
    await Promise.all(groups.map((g) => admin.setOffsets({ groupId: g.group, topic, partitions: [{ partition: 0, offset: g.offset.toString() }] })));
    const dest = tempDir();
    await dump([topic], dest);
    const lane = laneName();
    const summary = await restore(dest, { lane });
    expect(summary.records).toBe(15);
    expect(summary.groupsSeeded).toBe(groups.length);
    const laneTopic = `${lane}.${topic}`;
    expect((await readTopic(laneTopic)).get(0)!.map((r) => r.value!.toString())).toEqual(source.map((r) => r.value!.toString()));
    for (const g of groups) {
      expect([g.offset, (await groupOffsets(`${lane}.${g.group}`, laneTopic)).get(0)]).toEqual([g.offset, expectedLaneOffset(g.offset, restored)]);
    }
  });

  it('translates group offsets on a compacted topic with gaps', async () => {
    const topic = uniqueName('compacted');
    await createTopic(topic, 1, { 'cleanup.policy': 'compact', 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '100' });
    for (let round = 0; round < 8; round++) {
      await produce(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(`r${round}-${i}`) })),
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    // Wait for the cleaner to leave gaps.
    let source: ReadRecord[] = [];
    const deadline = Date.now() + 90_000;
    for (;;) {
      source = (await readTopic(topic)).get(0)!;
      if (source.length < 80 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2000));
      await produce(topic, [{ partition: 0, key: Buffer.from('roll'), value: Buffer.from(String(Date.now())) }]);
    }
    const restored = source.map((r) => r.offset);
    const end = restored[restored.length - 1]! + 1n;
    expect(BigInt(restored.length)).toBeLessThan(end); // there are gaps
    const gaps = [];
    for (let o = 0n; o < end; o++) if (!restored.includes(o)) gaps.push(o);
    const committed = [...new Set([0n, gaps[0]!, gaps[Math.floor(gaps.length / 2)]!, gaps[gaps.length - 1]!, restored[1]!, end])];
    const groups = committed.map((c) => ({ group: uniqueName(`g${c}`), offset: c }));
    await Promise.all(groups.map((g) => admin.setOffsets({ groupId: g.group, topic, partitions: [{ partition: 0, offset: g.offset.toString() }] })));
    const dest = tempDir();
    await dump([topic], dest);
    const backupOffsets: bigint[] = [];
    const backup = await openBackup(openStore(dest, settings.s3), 'latest');
    for await (const r of backup.records(topic, 0)) backupOffsets.push(r.offset);
    const lane = laneName();
    const summary = await restore(dest, { lane });
    expect(summary.records).toBe(backupOffsets.length);
    const laneTopic = `${lane}.${topic}`;
    const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: laneTopic }] });
    expect(cfg.resources[0]!.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue).toBe('compact');
    for (const g of groups) {
      expect([g.offset, (await groupOffsets(`${lane}.${g.group}`, laneTopic)).get(0)]).toEqual([g.offset, expectedLaneOffset(g.offset, backupOffsets)]);
    }
  });
});

describe('kbak restore: safety (CLI)', () => {
  const topic = uniqueName('safe');
  const lane = laneName();
  let dest = '';
  let other = '';

  beforeAll(async () => {
    other = `${topic}.${lane}`;
    await createTopic(topic, 2);
    await createTopic(other, 1);
    const registry = new SchemaRegistryLib({ host: stackEnv().registryUrl });
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Safe', namespace: 'kbak.safety', fields: [{ name: 'n', type: 'int' }] }) },
      { subject: `${topic}-value` },
    );
    const messages: Message[] = [];
    for (let i = 0; i < 20; i++) messages.push({ partition: i % 2, key: Buffer.from(`k${i}`), value: await registry.encode(id, { n: i }) });
    await produce(topic, messages);
    await produce(other, [{ partition: 0, key: null, value: Buffer.from('x') }]);
    dest = tempDir();
    await dump([topic, other], dest);
  });

  const args = (...extra: string[]): string[] => ['restore', '--source', dest, '--quiet', ...extra];
  const oneLine = (r: CliResult): string => {
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    return r.stderr.trim();
  };

  it('dry-run prints the plan and changes nothing', async () => {
    const r = cli(args('--lane', lane, '--topic', topic, '--dry-run', '--json'));
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      dryRun: boolean;
      topics: Array<{ lane: string; partitionCount: number; records: number; state: string }>;
      subjects: Array<{ source: string; lane: string }>;
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.topics).toMatchObject([{ lane: `${lane}.${topic}`, partitionCount: 2, records: 20, state: 'create' }]);
    expect(plan.subjects).toEqual([expect.objectContaining({ source: `${topic}-value`, lane: `${lane}.${topic}-value` })]);
    const text = cli(args('--lane', lane, '--topic', topic, '--dry-run'));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${topic} -> ${lane}.${topic}`);
    expect(await topicExists(`${lane}.${topic}`)).toBe(false);
    const rc = new RegistryClient(settings.registry!);
    expect(await rc.subjectVersions(`${lane}.${topic}-value`)).toEqual([]);
  });

  it('refuses an invalid lane name', () => {
    const r = cli(args('--lane', 'Feature_X'));
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/^kbak: lane name "Feature_X" is invalid/);
  });

  it('refuses --resume with --replace', () => {
    const r = cli(args('--lane', lane, '--resume', '--replace'));
    expect(r.code).toBe(2);
    expect(oneLine(r)).toContain('--resume and --replace cannot be used together');
  });

  it('refuses a topic that is not in the backup', () => {
    const r = cli(args('--lane', lane, '--topic', 'no-such-topic'));
    expect(r.code).toBe(3);
    expect(oneLine(r)).toContain('topic "no-such-topic" is not in backup');
  });

  it('refuses a template that maps a topic onto a source topic', async () => {
    const all = cli(args('--lane', lane, '--topic-template', '{topic}.{lane}'));
    expect(all.code).toBe(6);
    expect(oneLine(all)).toContain(`is "${other}", which is also a source topic being restored`);
    const one = cli(args('--lane', lane, '--topic', topic, '--topic-template', '{topic}.{lane}'));
    expect(one.code).toBe(6);
    expect(oneLine(one)).toContain(`is "${other}", which is a source topic in backup`);
    // Nothing was written into the source topic.
    expect(count(await readTopic(other))).toBe(1);
  });

  it('refuses an existing lane topic with data unless --resume or --replace, and --replace starts over', async () => {
    const l = laneName();
    const first = cli(args('--lane', l, '--topic', topic, '--json'));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ records: 20, topicsCreated: 1 });
    const again = cli(args('--lane', l, '--topic', topic));
    expect(again.code).toBe(6);
    expect(oneLine(again)).toMatch(new RegExp(`lane topic "${l}\\.${topic}" already exists with data \\(20 records\\).*--resume.*--replace`));
    const replaced = cli(args('--lane', l, '--topic', topic, '--replace', '--json'));
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ records: 20, topicsCreated: 1, topics: [expect.objectContaining({ action: 'replace' })] });
    expectSameRecords(await readTopic(topic), await readTopic(`${l}.${topic}`), { framedValues: true });
    // The other topics were not touched by --replace.
    expect(count(await readTopic(other))).toBe(1);
  });

  it('refuses a pre-created topic with a lane name, empty or not, whatever its shape: it is not adopted', async () => {
    for (const partitions of [3, 2]) {
      const l = laneName();
      await createTopic(`${l}.${topic}`, partitions);
      for (const mode of [[], ['--resume'], ['--replace']]) {
        const r = cli(args('--lane', l, '--topic', topic, ...mode));
        expect(r.code).toBe(6);
        expect(oneLine(r)).toBe(
          `kbak: topic "${l}.${topic}" exists but lane ${l} did not create it (not in the lane ledger) (kbak only writes to, replaces or deletes what this lane created: remove or rename it yourself, or use another lane name)`,
        );
      }
      expect(await topicExists(`${l}.${topic}`)).toBe(true);
      expect((await admin.fetchTopicOffsets(`${l}.${topic}`)).every((o) => o.high === '0')).toBe(true);
    }
  });
});

describe('kbak restore: kill and --resume', () => {
  it('ends with every record exactly once and in order after SIGKILLs at several points', async () => {
    const topic = uniqueName('big');
    await createTopic(topic, 4);
    const total = 20_000;
    const pad = 'x'.repeat(150);
    const messages: Message[] = [];
    for (let i = 0; i < total; i++)
      messages.push({
        partition: i % 4,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`${i}:${pad}`),
        headers: orderedHeaders([{ key: 'traceparent', value: Buffer.from(`t${i}`) }]),
      });
    await produce(topic, messages);
    const group = uniqueName('consumer');
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1, 2, 3].map((p) => ({ partition: p, offset: String(1000 * (p + 1)) })) });
    const dest = tempDir();
    await dump([topic], dest);
    const lane = laneName();
    const laneTopic = `${lane}.${topic}`;
    const laneCount = async (): Promise<number> => {
      // Right after creation the partitions may have no leader yet: count that as nothing written.
      if (!(await topicExists(laneTopic))) return 0;
      try {
        return (await admin.fetchTopicOffsets(laneTopic)).reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
      } catch {
        return 0;
      }
    };

    // Kill points: during start-up (nothing written yet), then three times in the middle of
    // writing, watched through the lane's end offsets (each run resumes the previous one).
    const killAt: Array<{ delayMs?: number; records?: number }> = [{ delayMs: 300 }, { records: 3000 }, { records: 9000 }, { records: 15000 }];
    const seen: number[] = [];
    for (const [i, point] of killAt.entries()) {
      const child = spawn(
        'node',
        ['bin/kbak.js', 'restore', '--lane', lane, '--source', dest, '--concurrency', '1', '--quiet', ...(i > 0 ? ['--resume'] : [])],
        { cwd: ROOT, env: kbakEnv(), stdio: 'ignore' },
      );
      let exitedEarly = false;
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      void exited.then(() => (exitedEarly = true));
      if (point.delayMs !== undefined) await new Promise((r) => setTimeout(r, point.delayMs));
      else while (!exitedEarly && (await laneCount()) < point.records!) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await exited;
      seen.push(await laneCount());
    }
    console.log(`lane records after each kill: ${seen.join(', ')} of ${total}`);
    expect(seen[0]).toBe(0);
    expect(seen.slice(1).every((n) => n > 0 && n < total)).toBe(true);

    const done = cli(['restore', '--lane', lane, '--source', dest, '--resume', '--quiet', '--json']);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const summary = JSON.parse(done.stdout) as RestoreSummary;
    expect(summary.records + summary.skippedExisting).toBe(total);

    const source = await readTopic(topic);
    const laneRecords = await readTopic(laneTopic);
    expectSameRecords(source, laneRecords, { framedValues: false });
    expect(await groupOffsets(`${lane}.${group}`, laneTopic)).toEqual(
      new Map([
        [0, 1000n],
        [1, 2000n],
        [2, 3000n],
        [3, 4000n],
      ]),
    );
    // Five restores of 20 000 records on a shared 2-core machine: more than the default 180 s at times.
  }, 300_000);
});
