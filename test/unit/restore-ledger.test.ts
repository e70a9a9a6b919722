/**
 * What a restore writes to the lane ledger around its work (lane/claim.ts, LEDGER.md): the
 * claim, the intent and its heartbeat, `failed` with the reason when it fails after the
 * intent, and the refusal of a lane another run holds. Against the in-memory Kafka adapter;
 * the ledger is read back record by record, not through the restore.
 */
import { openBackup } from '../../src/backup/catalog';
import { DumpRun } from '../../src/dump/dump';
import { ConflictError, ServiceError } from '../../src/errors';
import { KafkaServiceError, type RecordProducer } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { writeLedgerEntry } from '../../src/lane/kafka-ops';
import { DEFAULT_LEDGER_TOPIC, type LedgerEntry } from '../../src/lane/ledger';
import { laneTemplates } from '../../src/lane/ownership';
import { silentLogger } from '../../src/output/logger';
import { RestoreRun, type RestoreOptions } from '../../src/restore/restore';
import { MemoryStore } from '../../src/store/memory';
import { thisProcess } from '../../src/util/holder';

const logger = silentLogger();

function cluster(): MemoryKafka {
  const k = new MemoryKafka();
  k.topics.set('orders', { partitions: [{ records: [], logStart: 0n, next: 0n }], replicationFactor: 1, configs: {} });
  for (let i = 0; i < 6; i++)
    k.append('orders', 0, [{ timestamp: BigInt(1_700_000_000_000 + i), key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: [] }]);
  return k;
}

async function backupOf(kafka: MemoryKafka) {
  const store = new MemoryStore();
  await new DumpRun(
    { kafka, store, registry: null, logger },
    {
      selection: { topics: ['orders'] },
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      segmentBytes: 64 * 1024,
      concurrency: 1,
      stallTimeoutMs: 1000,
    },
  ).run();
  return openBackup(store, 'latest');
}

const opts = (over: Partial<RestoreOptions> = {}): RestoreOptions => ({
  lane: 'fx',
  topics: [],
  replicationFactor: null,
  window: { since: null, until: null },
  maxRecordsPerPartition: null,
  mode: 'new',
  laneHeader: null,
  concurrency: 1,
  ...over,
});

/** Every ledger record, in order, as JSON (null for a tombstone). */
function ledgerRecords(kafka: MemoryKafka): Array<{ key: string; value: (LedgerEntry & { claim?: { id: string } }) | null }> {
  const p = kafka.topics.get(DEFAULT_LEDGER_TOPIC)!.partitions[0]!;
  return p.records.map((r) => ({ key: r.key!.toString(), value: r.value === null ? null : (JSON.parse(r.value.toString()) as LedgerEntry) }));
}

describe('the restore and the lane ledger', () => {
  it('claims, writes its intent, heartbeats while it runs, ends ready and withdraws its claim', async () => {
    const kafka = cluster();
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
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ heartbeatMs: 100 })).run();
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
    const kafka = cluster();
    const backup = await backupOf(kafka);
    // The first CreateTopics makes the ledger topic; the second, of the lane topic, is refused.
    kafka.failNext('createTopics', {
      after: 1,
      error: new KafkaServiceError('CreateTopics refused: POLICY_VIOLATION\nsecond line', 'POLICY_VIOLATION', undefined, { retriable: false }),
    });
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    const records = ledgerRecords(kafka);
    const last = records.filter((r) => r.key === 'fx').at(-1)!.value!;
    expect(last).toMatchObject({ state: 'failed', intent: null, failure: { reason: 'CreateTopics refused: POLICY_VIOLATION\\u000asecond line' } });
    expect(records.at(-1)!.value).toBeNull();
    expect(kafka.topics.has('fx.orders')).toBe(false);
  });

  it('refuses a lane another live run holds (exit 8) without writing anything; takes over one whose holder is gone', async () => {
    const kafka = cluster();
    const backup = await backupOf(kafka);
    // The ledger holds a restore of this lane by another, live process of this host (this test's own parent).
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run();
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
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ mode: 'resume' })).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).exitCode).toBe(8);
    expect((err as Error).message).toBe(
      `lane fx is being restored by restore --lane fx --resume on ${thisProcess().host} (pid ${process.ppid}) since ${held.intent!.startedAt}`,
    );
    expect(ledgerRecords(kafka)).toHaveLength(before);

    // Its heartbeat lapsed: --resume takes over at once.
    await writeLedgerEntry(producer, DEFAULT_LEDGER_TOPIC, { ...held, intent: { ...held.intent!, heartbeatAt: new Date(Date.now() - 60_000).toISOString() } });
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts({ mode: 'resume' })).run();
    expect(
      ledgerRecords(kafka)
        .filter((r) => r.key === 'fx')
        .at(-1)!.value,
    ).toMatchObject({ state: 'ready', intent: null });
    expect(kafka.topics.get('fx.orders')!.partitions[0]!.records).toHaveLength(6);
    await producer.close();
  });
});
