/**
 * Restore planning, safety, offset translation and resume without a broker: dump and restore
 * run against the in-memory Kafka adapter and the in-memory store.
 */
import { openBackup } from '../../src/backup/catalog';
import { DumpRun } from '../../src/dump/dump';
import { ExitCode, SafetyError, ServiceError } from '../../src/errors';
import type { KafkaRecord } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { RestoreRun, type RestoreOptions } from '../../src/restore/restore';
import { MemoryStore } from '../../src/store/memory';
import { dumpTopics, laneOptions } from '../support/memory-backup';

const logger = silentLogger();
const h = (key: string, value: string | null) => ({ key, value: value === null ? null : Buffer.from(value) });

/** Source cluster: `orders` with 2 partitions, duplicate/null headers, gaps, one consumer group. */
function source(): MemoryKafka {
  const k = new MemoryKafka();
  k.topics.set('orders', { partitions: [], replicationFactor: 1, configs: { 'cleanup.policy': 'delete', 'retention.ms': '86400000' } });
  k.topics.get('orders')!.partitions.push({ records: [], logStart: 0n, next: 0n }, { records: [], logStart: 0n, next: 0n });
  for (let i = 0; i < 10; i++) {
    const p = i % 2;
    k.append('orders', p, [
      {
        timestamp: BigInt(1_700_000_000_000 + i),
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
        headers: [h('b3', `t${i}`), h('x', null), h('b3', 'again')],
      },
    ]);
    if (i === 4) k.skipOffsets('orders', p, 3); // a gap, as compaction leaves
  }
  // MemoryKafka applies it before its promise settles: source() stays synchronous.
  void k.commitGroupOffsets('billing', 'orders', [
    { partition: 0, offset: 4n }, // inside the gap-free prefix
    { partition: 1, offset: 5n },
  ]);
  return k;
}

const opts = (over: Partial<RestoreOptions> = {}): RestoreOptions => laneOptions('feature-x', over);

async function backupOf(kafka: MemoryKafka, store = new MemoryStore()) {
  await dumpTopics(kafka, store, ['orders']);
  return openBackup(store, 'latest');
}

const strip = (r: KafkaRecord) => ({
  timestamp: r.timestamp,
  key: r.key?.toString(),
  value: r.value?.toString(),
  headers: r.headers.map((x) => [x.key, x.value?.toString() ?? null]),
});

describe('restore into the in-memory cluster', () => {
  it('copies records byte for byte, configs and translated group offsets', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    const summary = await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run();
    expect(summary).toMatchObject({ records: 10, topicsCreated: 1, groupsSeeded: 1 });
    const lane = kafka.topics.get('feature-x.orders')!;
    // Lane topics keep their seed for the lane's life and accept any timestamp.
    expect(lane.configs).toEqual({
      'cleanup.policy': 'delete',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'message.timestamp.type': 'CreateTime',
      'message.timestamp.before.max.ms': '9223372036854775807',
      'message.timestamp.after.max.ms': '9223372036854775807',
    });
    for (const p of [0, 1]) {
      const src = kafka.topics.get('orders')!.partitions[p]!.records;
      const dst = lane.partitions[p]!.records;
      expect(dst.map(strip)).toEqual(src.map(strip));
      // Lane offsets are dense: the gap is gone.
      expect(dst.map((r) => r.offset)).toEqual(src.map((_, i) => BigInt(i)));
    }
    // Partition 0 holds source offsets 0, 1, 2, 6, 7: committed 4 (in the gap) means "next is 6", lane offset 3.
    // Partition 1 holds 0..4: committed 5 is its end, the lane's end.
    const committed = await kafka.fetchGroupOffsets('feature-x.billing', ['feature-x.orders']);
    expect(committed.map((c) => [c.partition, c.offset])).toEqual([
      [0, 3n],
      [1, 5n],
    ]);
  });

  it('refuses a lane topic with data (safety, exit 6) and writes nothing', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run();
    const before = kafka.calls.filter((c) => c === 'send').length;
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyError);
    expect((err as SafetyError).exitCode).toBe(ExitCode.SAFETY);
    expect((err as SafetyError).options).toEqual(['mode=resume', 'mode=replace']);
    expect(kafka.calls.filter((c) => c === 'send').length).toBe(before);
  });

  it('resumes after a failed write: every record exactly once, offsets still translated', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    kafka.failNext('send', { after: 1 });
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ concurrency: 1 })).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    const partial = kafka.topics.get('feature-x.orders')!.partitions.map((p) => p.records.length);
    expect(partial.reduce((a, b) => a + b, 0)).toBeLessThan(10);
    const summary = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ mode: 'resume' })).run();
    expect(summary.skippedExisting).toBe(partial.reduce((a, b) => a + b, 0));
    for (const p of [0, 1]) {
      expect(kafka.topics.get('feature-x.orders')!.partitions[p]!.records.map(strip)).toEqual(kafka.topics.get('orders')!.partitions[p]!.records.map(strip));
    }
    expect((await kafka.fetchGroupOffsets('feature-x.billing', ['feature-x.orders'])).map((c) => c.offset)).toEqual([3n, 5n]);
  });

  it('refuses to resume into a lane partition someone else wrote to', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run();
    kafka.append('feature-x.orders', 0, [{ timestamp: 1n, key: null, value: Buffer.from('foreign'), headers: [] }]);
    await expect(new RestoreRun({ kafka, backup, registry: null, logger }, opts({ mode: 'resume' })).run()).rejects.toThrow(
      /cannot resume feature-x.orders\/0/,
    );
  });

  it('replace deletes and recreates only the lane topics', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run();
    kafka.append('feature-x.orders', 0, [{ timestamp: 1n, key: null, value: Buffer.from('foreign'), headers: [] }]);
    const summary = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ mode: 'replace' })).run();
    expect(summary.topics).toEqual([expect.objectContaining({ action: 'replace', records: 10 })]);
    expect(kafka.topics.get('feature-x.orders')!.partitions[0]!.records).toHaveLength(5);
    expect(kafka.topics.get('orders')!.partitions[0]!.records).toHaveLength(5);
  });

  it('leaves a lane group with running consumers alone', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run();
    kafka.addMember('feature-x.billing', 'lane-service');
    kafka.calls.splice(0);
    const summary = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ mode: 'resume' })).run();
    expect(summary.groupsSeeded).toBe(0);
    expect(kafka.calls).not.toContain('commitGroupOffsets');
  });

  it('refuses a lane group it did not create, before creating anything', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    kafka.addMember('feature-x.billing', 'lane-service');
    kafka.calls.splice(0);
    await expect(new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run()).rejects.toThrow(
      'consumer group "feature-x.billing" exists but lane feature-x did not create it',
    );
    expect(kafka.calls).not.toContain('createTopics');
  });

  it('dry run plans from the cluster state and changes nothing', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    const dry = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ maxRecordsPerPartition: 2 })).dryRun();
    expect(dry.json).toMatchObject({ dryRun: true, topics: [expect.objectContaining({ lane: 'feature-x.orders', records: 4, state: 'create' })] });
    expect(kafka.topics.has('feature-x.orders')).toBe(false);
    expect(kafka.calls).not.toContain('createTopics');
  });

  it('restores only the newest N records and points groups at the lane equivalent', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ maxRecordsPerPartition: 2 })).run();
    const lane = kafka.topics.get('feature-x.orders')!;
    expect(lane.partitions.map((p) => p.records.map((r) => r.key!.toString()))).toEqual([
      ['k6', 'k8'],
      ['k7', 'k9'],
    ]);
    // Partition 0's group stood before the restored records (lane start); partition 1's at the end (lane end).
    expect((await kafka.fetchGroupOffsets('feature-x.billing', ['feature-x.orders'])).map((c) => c.offset)).toEqual([0n, 2n]);
  });
});

describe('dump of the in-memory cluster', () => {
  it('fails, leaving nothing in the store, when the group offsets read alongside the records cannot be read', async () => {
    const kafka = source();
    kafka.failNext('listGroups');
    const store = new MemoryStore();
    const run = new DumpRun(
      { kafka, store, registry: null, logger },
      {
        selection: { topics: ['orders'] },
        window: { since: null, until: null },
        maxRecordsPerPartition: null,
        segmentBytes: 64 * 1024,
        concurrency: 2,
        stallTimeoutMs: 1000,
      },
    );
    await expect(run.run()).rejects.toThrow(/injected failure of listGroups/);
    expect(kafka.calls).toContain('readRanges');
    const left: string[] = [];
    for await (const key of store.list('')) left.push(key);
    expect(left).toEqual([]);
  });
});
