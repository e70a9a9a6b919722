/**
 * Restore planning, safety, offset translation and resume without a broker: dump and restore
 * run against the in-memory Kafka adapter and the in-memory store.
 */
import { openBackup } from '../../src/backup/catalog';
import { DumpRun } from '../../src/dump/dump';
import { ConflictError, ExitCode, SafetyError, ServiceError } from '../../src/errors';
import { KafkaServiceError, type KafkaRecord, type RecordProducer } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { RestoreRun, type RestoreOptions } from '../../src/restore/restore';
import { MemoryStore } from '../../src/store/memory';
import { dumpTopics, laneOptions } from '../support/memory-backup';
import { writeLedgerEntry } from '../../src/lane/kafka-ops';
import { DEFAULT_LEDGER_TOPIC, type LedgerEntry } from '../../src/lane/ledger';
import { laneTemplates } from '../../src/lane/ownership';
import { thisProcess } from '../../src/util/holder';

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
    // The first two sends are the ledger's (the run's claim, the lane's intent); the next, a lane batch, fails.
    kafka.failNext('send', { after: 2 });
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

/** Every ledger record, in order, as JSON (null for a tombstone). */
function ledgerRecords(kafka: MemoryKafka): Array<{ key: string; value: (LedgerEntry & { claim?: { id: string } }) | null }> {
  const p = kafka.topics.get(DEFAULT_LEDGER_TOPIC)!.partitions[0]!;
  return p.records.map((r) => ({ key: r.key!.toString(), value: r.value === null ? null : (JSON.parse(r.value.toString()) as LedgerEntry) }));
}

describe('the restore and the lane ledger (lane/claim.ts, LEDGER.md)', () => {
  it('claims, writes its intent, heartbeats while it runs, ends ready and withdraws its claim', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    // Slow lane writes: the restore runs long enough for several heartbeats.
    const original = kafka.producer.bind(kafka);
    kafka.producer = async (): Promise<RecordProducer> => {
      const p = await original();
      const slow = async (): Promise<void> => new Promise((r) => setTimeout(r, 500));
      return {
        ...p,
        send: async (topic, partition, records, o) => {
          if (topic !== DEFAULT_LEDGER_TOPIC) await slow();
          return p.send(topic, partition, records, o);
        },
        sendPlaced: async (topic, partition, set, o) => {
          await slow();
          return p.sendPlaced(topic, partition, set, o);
        },
      };
    };
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ lane: 'fx', heartbeatMs: 100 })).run();
    const records = ledgerRecords(kafka);
    const claimKey = records[0]!.key;
    expect(claimKey).toMatch(/^fx\/claim\/[0-9a-f]{16}$/);
    const id = records[0]!.value!.claim!.id;
    const lane = records.filter((r) => r.key === 'fx').map((r) => r.value!);
    expect(lane[0]).toMatchObject({ format: 2, state: 'restoring', intent: { id, holder: { pid: process.pid, command: 'restore --lane fx' }, leaseMs: 600 } });
    const beats = new Set(lane.filter((e) => e.state === 'restoring').map((e) => e.intent!.heartbeatAt));
    expect(beats.size).toBeGreaterThanOrEqual(3);
    expect(lane.at(-1)).toMatchObject({ state: 'ready', intent: null, failure: null });
    // Nothing after ready but the claim's withdrawal.
    expect(records.at(-1)).toEqual({ key: claimKey, value: null });
    expect(records.slice(records.findIndex((r) => r.value?.state === 'ready') + 1)).toEqual([{ key: claimKey, value: null }]);
  });

  it('a restore failing after its intent (a topic create refused) records failed with the reason and withdraws its claim', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    // The first CreateTopics makes the ledger topic; the second, of the lane topic, is refused.
    kafka.failNext('createTopics', {
      after: 1,
      error: new KafkaServiceError('CreateTopics refused: POLICY_VIOLATION\nsecond line', 'POLICY_VIOLATION', undefined, { retriable: false }),
    });
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ lane: 'fx' })).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    const records = ledgerRecords(kafka);
    const last = records.filter((r) => r.key === 'fx').at(-1)!.value!;
    expect(last).toMatchObject({ state: 'failed', intent: null, failure: { reason: 'CreateTopics refused: POLICY_VIOLATION\\u000asecond line' } });
    expect(records.at(-1)!.value).toBeNull();
    expect(kafka.topics.has('fx.orders')).toBe(false);
  });

  it('refuses a lane another live run holds (exit 8) without writing anything; takes over one whose holder is gone', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    // The ledger holds a restore of this lane by another, live process of this host (this test's own parent).
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ lane: 'fx' })).run();
    const ready = ledgerRecords(kafka)
      .filter((r) => r.key === 'fx')
      .at(-1)!.value!;
    const held: LedgerEntry = {
      ...ready,
      state: 'restoring',
      intent: {
        id: 'abcdef0123456789',
        holder: { ...thisProcess(), pid: process.ppid, command: 'restore --lane fx --resume' },
        startedAt: new Date().toISOString(),
        heartbeatAt: new Date().toISOString(),
        leaseMs: 30_000,
      },
      templates: laneTemplates({}),
    };
    const producer = await kafka.producer();
    await writeLedgerEntry(producer, DEFAULT_LEDGER_TOPIC, held);
    const before = ledgerRecords(kafka).length;
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ lane: 'fx', mode: 'resume' })).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).exitCode).toBe(8);
    expect((err as Error).message).toBe(
      `lane fx is being restored by restore --lane fx --resume on ${thisProcess().host} (pid ${process.ppid}) since ${held.intent!.startedAt}`,
    );
    expect(ledgerRecords(kafka)).toHaveLength(before);

    // Its heartbeat lapsed: --resume takes over at once.
    await writeLedgerEntry(producer, DEFAULT_LEDGER_TOPIC, { ...held, intent: { ...held.intent!, heartbeatAt: new Date(Date.now() - 60_000).toISOString() } });
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ lane: 'fx', mode: 'resume' })).run();
    expect(
      ledgerRecords(kafka)
        .filter((r) => r.key === 'fx')
        .at(-1)!.value,
    ).toMatchObject({ state: 'ready', intent: null });
    expect(kafka.topics.get('fx.orders')!.partitions.map((p) => p.records.length)).toEqual([5, 5]);
    await producer.close();
  });
});
