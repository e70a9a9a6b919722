/**
 * kbak dump against the real broker, registry and S3 server: what goes in comes back out
 * of the backup, exactly, at the cut.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { DumpRun, type DumpOptions } from '../../src/dump/dump';
import { openBackup, listBackups, type Backup } from '../../src/backup/catalog';
import { DiskStore } from '../../src/store/disk';
import { S3Store } from '../../src/store/s3';
import { kcatRead, type KcatRecord } from '../support/kcat';
import type { ObjectStore } from '../../src/store/store';
import { RegistryClient } from '../../src/schema/registry-client';
import { framedSchemaId } from '../../src/schema/framing';
import { silentLogger } from '../../src/output/logger';
import { IntegrityError } from '../../src/errors';
import { openKafka } from '../../src/kafka';
import { loadSettings } from '../../src/config/settings';
import type { BackupRecord } from '../../src/segment/record';
import { stackEnv, testKafka, uniqueName, waitForLastStable } from '../support/stack';
import { createTopic, produce, TRACE_HEADERS, type TestRecord } from '../support/produce';

const kafka = testKafka();
const adapter = openKafka(loadSettings({}, stackEnv().env).kafka, silentLogger());
afterAll(() => adapter.close());

function options(over: Partial<DumpOptions> & { topics: string[] }): DumpOptions {
  const { topics, ...rest } = over;
  return {
    selection: { topics },
    window: { since: null, until: null },
    maxRecordsPerPartition: null,
    segmentBytes: 64 * 1024,
    concurrency: 3,
    stallTimeoutMs: 60_000,
    ...rest,
  };
}

async function dump(store: ObjectStore, opts: DumpOptions, registry = true): Promise<Backup> {
  const env = stackEnv();
  const run = new DumpRun({ kafka: adapter, store, registry: registry ? new RegistryClient({ url: env.registryUrl }) : null, logger: silentLogger() }, opts);
  const { summary } = await run.run();
  return openBackup(store, summary.backupId);
}

async function allRecords(b: Backup, topic: string, partition: number): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  for await (const r of b.records(topic, partition)) out.push(r);
  return out;
}

function tempStore(): DiskStore {
  return new DiskStore(mkdtempSync(join(tmpdir(), 'kbak-dump-')));
}

describe('dump of a multi-partition topic with schemas and tracing headers', () => {
  const topic = uniqueName('orders');
  const partitions = 3;
  const produced: TestRecord[] = [];
  let schemaId = 0;

  beforeAll(async () => {
    // The records carry 2023 timestamps and the stack checks retention every 2 s: keep them.
    await createTopic(kafka, topic, partitions, { 'retention.ms': '-1' });
    const registry = new SchemaRegistry({ host: stackEnv().registryUrl });
    const schema = {
      type: 'record',
      name: 'Order',
      namespace: 'kbak.test',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'item', type: 'string' },
      ],
    };
    schemaId = (await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` })).id;
    for (let i = 0; i < 600; i++) {
      const p = i % partitions;
      const key = i % 10 === 0 ? null : Buffer.from(`order-${i % 50}`);
      let value: Buffer | null = await registry.encode(schemaId, { id: i, item: `item-${i}-${'x'.repeat(i % 200)}` });
      if (i % 37 === 0) value = null; // tombstone
      if (i % 41 === 0) value = Buffer.alloc(0); // empty, not null
      produced.push({ partition: p, key, value, headers: TRACE_HEADERS(i), timestamp: String(1_700_000_000_000 + i * 1000) });
    }
    await produce(kafka, topic, produced);
  });

  it('keeps every record: partition, order, offset, timestamp, key, value, headers', async () => {
    const store = tempStore();
    const backup = await dump(store, options({ topics: [topic] }));
    for (let p = 0; p < partitions; p++) {
      const expected = produced.filter((r) => r.partition === p);
      const got = await allRecords(backup, topic, p);
      expect(got).toHaveLength(expected.length);
      got.forEach((r, i) => {
        const e = expected[i]!;
        expect(r.offset).toBe(BigInt(i));
        expect(r.timestamp.toString()).toBe(e.timestamp);
        expect(r.key).toEqual(e.key);
        expect(r.value).toEqual(e.value);
        expect(r.headers).toEqual(e.headers);
      });
      // Segments are bounded: 64 KiB segments for ~40 KiB+ of data per partition.
      expect(backup.partition(topic, p).segments.length).toBeGreaterThanOrEqual(1);
    }
    const nulls = (await allRecords(backup, topic, 0)).filter((r) => r.key === null).length;
    expect(nulls).toBeGreaterThan(0);
  });

  it('stores the schema, its subjects and versions, and the topic shape in the manifest', async () => {
    const store = tempStore();
    const backup = await dump(store, options({ topics: [topic] }));
    const m = backup.manifest;
    const entry = m.schemas.find((s) => s.id === schemaId);
    expect(entry).toBeDefined();
    expect(entry!.schemaType).toBe('AVRO');
    expect(JSON.parse(entry!.schema).name).toBe('Order');
    expect(entry!.registrations).toContainEqual({ subject: `${topic}-value`, version: 1 });
    expect(m.subjects.map((s) => s.subject)).toContain(`${topic}-value`);
    const t = m.topics.find((x) => x.name === topic)!;
    expect(t.partitionCount).toBe(partitions);
    expect(t.replicationFactor).toBe(1);
    expect(m.stats.records).toBe(produced.length);
    const framed = (await allRecords(backup, topic, 1)).filter((r) => framedSchemaId(r.value) !== null);
    expect(framed.every((r) => framedSchemaId(r.value) === schemaId)).toBe(true);
  });

  it('dumps only the selected partitions', async () => {
    const backup = await dump(tempStore(), options({ topics: [topic], selection: { topics: [topic], partitions: [0, 2] } }));
    expect(backup.manifest.topics[0]!.partitions.map((p) => p.partition)).toEqual([0, 2]);
  });

  it('writes identical record streams to disk and to S3', async () => {
    const env = stackEnv();
    const disk = await dump(tempStore(), options({ topics: [topic] }));
    const s3 = await dump(
      new S3Store({ bucket: env.s3Bucket, prefix: uniqueName('dump-test'), endpoint: env.s3Endpoint, forcePathStyle: true }),
      options({ topics: [topic] }),
    );
    for (let p = 0; p < partitions; p++) {
      expect(await allRecords(s3, topic, p)).toEqual(await allRecords(disk, topic, p));
    }
    expect(s3.manifest.topics[0]!.partitions.map((p) => p.segments.map((s) => s.sha256))).toEqual(
      disk.manifest.topics[0]!.partitions.map((p) => p.segments.map((s) => s.sha256)),
    );
  });

  it('keeps the newest N offsets with --max-records-per-partition', async () => {
    const backup = await dump(tempStore(), options({ topics: [topic], maxRecordsPerPartition: 15 }));
    for (let p = 0; p < partitions; p++) {
      const got = await allRecords(backup, topic, p);
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 15 }, (_, i) => BigInt(200 - 15 + i)));
    }
  });

  it('cuts a time window with --since/--until', async () => {
    const since = new Date(1_700_000_000_000 + 100 * 1000);
    const until = new Date(1_700_000_000_000 + 200 * 1000);
    const backup = await dump(tempStore(), options({ topics: [topic], window: { since, until } }));
    let total = 0;
    for (let p = 0; p < partitions; p++) {
      const got = await allRecords(backup, topic, p);
      total += got.length;
      for (const r of got) {
        expect(Number(r.timestamp)).toBeGreaterThanOrEqual(since.getTime());
        expect(Number(r.timestamp)).toBeLessThan(until.getTime());
      }
    }
    expect(total).toBe(100);
  });

  it('detects a corrupted segment on re-read', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kbak-corrupt-'));
    const store = new DiskStore(root);
    const backup = await dump(store, options({ topics: [topic] }));
    const seg = backup.partition(topic, 0).segments[0]!;
    const path = join(root, ...backup.storeKey(seg).split('/'));
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x5a;
    writeFileSync(path, bytes);
    await expect(allRecords(backup, topic, 0)).rejects.toThrow(IntegrityError);
  });

  it('commits nothing and leaves no consumer group behind', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const before = (await admin.listGroups()).groups.map((g) => g.groupId);
    await dump(tempStore(), options({ topics: [topic] }));
    const after = (await admin.listGroups()).groups.map((g) => g.groupId);
    await admin.disconnect();
    expect(after.filter((g) => g.startsWith('kbak-dump-'))).toEqual(before.filter((g) => g.startsWith('kbak-dump-')));
  });
});

describe('consumer group offsets', () => {
  it('stores the committed offsets of groups on the dumped partitions', async () => {
    const topic = uniqueName('grp');
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, key: null, value: Buffer.from(`v${i}`), headers: [], timestamp: String(Date.now()) })),
    );
    const admin = kafka.admin();
    await admin.connect();
    const group = uniqueName('billing');
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '4' },
        { partition: 1, offset: '7' },
      ],
    });
    await admin.disconnect();
    const backup = await dump(tempStore(), options({ topics: [topic] }));
    const g = backup.manifest.consumerGroups.find((x) => x.groupId === group);
    expect(g?.offsets.map(({ topic: t, partition, offset }) => ({ t, partition, offset }))).toEqual([
      { t: topic, partition: 0, offset: '4' },
      { t: topic, partition: 1, offset: '7' },
    ]);
  });
});

describe('transactions', () => {
  it('keeps committed and drops aborted transactional records, and reaches the cut past the markers', async () => {
    const topic = uniqueName('txn');
    await createTopic(kafka, topic, 1);
    const producer = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = async (values: string[], commit: boolean): Promise<void> => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: values.map((v) => ({ value: v })) });
      await (commit ? tx.commit() : tx.abort());
    };
    await send(['a1', 'a2'], true);
    await send(['b1', 'b2', 'b3'], false);
    await send(['c1'], true);
    await send(['d1', 'd2'], false); // the log ends with an aborted batch and its marker
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    expect(await waitForLastStable(admin, topic, 0, '12')).toBe('12');
    await admin.disconnect();
    const backup = await dump(tempStore(), options({ topics: [topic] }));
    const got = await allRecords(backup, topic, 0);
    expect(got.map((r) => r.value!.toString())).toEqual(['a1', 'a2', 'c1']);
    // Offsets keep their gaps: markers and aborted records occupy offsets.
    expect(got.map((r) => r.offset)).toEqual([0n, 1n, 7n]);
    expect(BigInt(backup.partition(topic, 0).endOffset)).toBe(12n);
  });

  it('stops at the last stable offset while a transaction is open', async () => {
    const topic = uniqueName('open-txn');
    await createTopic(kafka, topic, 1);
    await produce(kafka, topic, [{ partition: 0, key: null, value: Buffer.from('before'), headers: [], timestamp: String(Date.now()) }]);
    const producer = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ value: 'open-1' }, { value: 'open-2' }] });
    try {
      const backup = await dump(tempStore(), options({ topics: [topic] }));
      expect((await allRecords(backup, topic, 0)).map((r) => r.value!.toString())).toEqual(['before']);
      expect(backup.partition(topic, 0).endOffset).toBe('1');
    } finally {
      await tx.abort();
      await producer.disconnect();
    }
  });
});

describe('compacted topic', () => {
  it('reaches the cut across compaction gaps', async () => {
    const topic = uniqueName('compact');
    await createTopic(kafka, topic, 1, {
      'cleanup.policy': 'compact',
      'segment.ms': '100',
      'min.cleanable.dirty.ratio': '0.001',
      'min.compaction.lag.ms': '0',
      'delete.retention.ms': '100',
    });
    // Many overwrites of few keys, spread over several segments (segment.ms rolls them).
    for (let round = 0; round < 6; round++) {
      await produce(
        kafka,
        topic,
        Array.from({ length: 50 }, (_, i) => ({
          partition: 0,
          key: Buffer.from(`k${i % 5}`),
          value: Buffer.from(`r${round}-${i}`),
          headers: [],
          timestamp: String(Date.now()),
        })),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    // Wait until the cleaner has removed records: fewer records than offsets.
    let live: KcatRecord[] = [];
    const deadline = Date.now() + 90_000;
    for (;;) {
      live = kcatRead(topic, 0);
      if (live.length < 300 || Date.now() > deadline) break;
      await produce(kafka, topic, [
        { partition: 0, key: Buffer.from('roll'), value: Buffer.from(String(Date.now())), headers: [], timestamp: String(Date.now()) },
      ]);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(live.length).toBeLessThan(300);
    // The cleaner goes on removing records during the dump and after it, so no single read
    // is the truth to compare with. Nothing is produced from here on and the cleaner only
    // removes: the backup lies between a read taken before the dump and one taken after.
    const before = kcatRead(topic, 0);
    const backup = await dump(tempStore(), options({ topics: [topic] }));
    const after = kcatRead(topic, 0);
    const got = await allRecords(backup, topic, 0);
    const offsets = got.map((r) => r.offset);
    // Gaps are real (not consecutive), order is kept.
    const end = BigInt(backup.partition(topic, 0).endOffset);
    expect(end).toBe(before[before.length - 1]!.offset + 1n);
    expect(offsets.length).toBeGreaterThan(0);
    expect(BigInt(offsets.length)).toBeLessThan(end - BigInt(backup.partition(topic, 0).startOffset));
    expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
    // Every record of the backup was in the log before the dump, unchanged ...
    const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));
    const same = (r: { offset: bigint; key: string | null; value: string | null }): string => JSON.stringify([String(r.offset), r.key, r.value]);
    const beforeSet = new Set(before.map(same));
    const backupSet = new Set(got.map((r) => same({ offset: r.offset, key: text(r.key), value: text(r.value) })));
    expect([...backupSet].filter((r) => !beforeSet.has(r))).toEqual([]);
    // ... and every record still in the log after the dump, below the cut, is in the backup.
    expect(after.filter((r) => r.offset < end && !backupSet.has(same(r))).map(same)).toEqual([]);
  });
});

describe('a dump while a producer keeps writing', () => {
  it('contains exactly the offsets below the cut', async () => {
    const topic = uniqueName('busy');
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 2000 }, (_, i) => ({
        partition: i % 2,
        key: Buffer.from(`k${i}`),
        value: Buffer.alloc(200, i % 256),
        headers: [],
        timestamp: String(Date.now()),
      })),
    );
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let stop = false;
    let extra = 0;
    const writer = (async () => {
      while (!stop) {
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: Buffer.from(`late-${extra + i}`) })),
        });
        extra += 20;
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 300));
      const backup = await dump(tempStore(), options({ topics: [topic] }));
      stop = true;
      await writer;
      const admin = kafka.admin();
      await admin.connect();
      const final = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      for (let p = 0; p < 2; p++) {
        const entry = backup.partition(topic, p);
        const got = await allRecords(backup, topic, p);
        const end = BigInt(entry.endOffset);
        expect(got.length).toBe(Number(end));
        expect(got.map((r) => r.offset)).toEqual(Array.from({ length: Number(end) }, (_, i) => BigInt(i)));
        // The producer kept writing past the cut, and none of it is in the backup.
        expect(BigInt(final.find((o) => o.partition === p)!.high)).toBeGreaterThan(end);
      }
      expect(extra).toBeGreaterThan(0);
    } finally {
      stop = true;
      await writer.catch(() => undefined);
      await producer.disconnect();
    }
  });
});

describe('listing', () => {
  it('lists only complete backups, oldest first', async () => {
    const topic = uniqueName('list');
    await createTopic(kafka, topic, 1);
    await produce(kafka, topic, [{ partition: 0, key: null, value: Buffer.from('x'), headers: [], timestamp: String(Date.now()) }]);
    const root = mkdtempSync(join(tmpdir(), 'kbak-list-'));
    const store = new DiskStore(root);
    const a = await dump(store, options({ topics: [topic], clusterName: 'unit' }));
    await new Promise((r) => setTimeout(r, 5));
    const b = await dump(store, options({ topics: [topic], clusterName: 'unit' }));
    expect((await listBackups(store)).map((x) => x.backupId)).toEqual([a.ref.backupId, b.ref.backupId]);
    expect((await openBackup(store, 'latest')).ref.backupId).toBe(b.ref.backupId);
    // Two backup folders (a manifest each), the segment pool they share (format v2) and the
    // lock folder, empty again once the dumps released their locks.
    expect(readdirSync(join(root, 'unit')).sort()).toEqual([a.ref.backupId, b.ref.backupId, 'locks', 'segments']);
    expect(readdirSync(join(root, 'unit', 'locks'))).toEqual([]);
  });
});
