/**
 * The KafkaAdapter contract (test/support/adapter-conformance.ts) on MemoryKafka: the same
 * suite the kafkajs adapter passes against the stack (test/integration/adapter-conformance.test.ts).
 */
import { openBackup } from '../../src/backup/catalog';
import { DumpRun } from '../../src/dump/dump';
import type { KafkaRecord, KafkaRecordBatch, RangeTarget } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { RestoreRun, type RestoreOptions } from '../../src/restore/restore';
import { MemoryStore } from '../../src/store/memory';
import { describeAdapterConformance, hardRecords, type AdapterFixture } from '../support/adapter-conformance';

describeAdapterConformance(
  'MemoryKafka',
  async (): Promise<AdapterFixture> => {
    const kafka = new MemoryKafka({ clientId: 'kbak-conformance' });
    kafka.brokerConfigs.set('min.insync.replicas', '1');
    const partition = (topic: string, p: number) => kafka.topics.get(topic)!.partitions[p]!;
    return {
      adapter: kafka,
      seed: async (topic, p, records) =>
        void kafka.append(
          topic,
          p,
          records.map((r) => ({ ...r, headers: [...r.headers] })),
        ),
      gap: async (topic, p) => {
        kafka.skipOffsets(topic, p, 2);
        return 2;
      },
      deleteRecordsBefore: async (topic, p, offset) => kafka.deleteRecordsBefore(topic, p, offset),
      readBack: async (topic, p) =>
        partition(topic, p).records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers })),
      liveMember: async (groupId) => {
        kafka.addMember(groupId, 'lane-service');
        return async () => void (kafka.groups.get(groupId)!.members.length = 0);
      },
      // MemoryKafka's ACLs are denied operations only: what is not denied is allowed.
      restricted: async (acls) => {
        const added = acls.flatMap((a) => a.deny.map((op) => `${op}:${a.topic}` as const));
        for (const d of added) kafka.deniedOperations.add(d);
        return { adapter: kafka, release: async () => void added.forEach((d) => kafka.deniedOperations.delete(d)) };
      },
      addAcls: async (bindings) => {
        kafka.aclBindings.push(...bindings.map((x) => ({ ...x })));
        return async () => {
          const gone = new Set(bindings.map((x) => JSON.stringify(x)));
          const kept = kafka.aclBindings.filter((x) => !gone.has(JSON.stringify(x)));
          kafka.aclBindings.splice(0, kafka.aclBindings.length, ...kept);
        };
      },
      aclsHidden: async () => {
        const hidden = new MemoryKafka();
        hidden.describeAclsRefusal = 'CLUSTER_AUTHORIZATION_FAILED';
        return { adapter: hidden, release: () => hidden.close() };
      },
      readAcls: async (principal) => kafka.aclBindings.filter((x) => x.principal === principal).map((x) => ({ ...x })),
      dropAcls: async (principal) => {
        const kept = kafka.aclBindings.filter((x) => x.principal !== principal);
        kafka.aclBindings.splice(0, kafka.aclBindings.length, ...kept);
      },
      // The same cluster, refusing to alter ACLs until released.
      aclsLocked: async () => {
        kafka.createAclsRefusal = 'CLUSTER_AUTHORIZATION_FAILED';
        return { adapter: kafka, release: async () => void (kafka.createAclsRefusal = null) };
      },
      close: () => kafka.close(),
    };
  },
  {
    transactions: 'MemoryKafka has no transactions: no markers, nothing aborted, every record is committed',
    unreachable: 'MemoryKafka is always reachable',
    denied: 'MemoryKafka has no authentication',
  },
);

describe('MemoryKafka runs the production fast paths', () => {
  it('a dump reads it batch by batch (onBatch) and a restore writes to it through sendPlaced, byte for byte', async () => {
    const kafka = new MemoryKafka();
    await kafka.createTopics([{ topic: 'orders', partitions: 1, replicationFactor: 1, configs: { 'compression.type': 'zstd' } }]);
    const source = hardRecords(1_700_000_000_000n, 12);
    kafka.append(
      'orders',
      0,
      source.slice(0, 7).map((r) => ({ ...r, headers: [...r.headers] })),
    );
    kafka.skipOffsets('orders', 0, 3);
    kafka.append(
      'orders',
      0,
      source.slice(7).map((r) => ({ ...r, headers: [...r.headers] })),
    );

    const used = { onBatch: 0, onRecord: 0, sendPlaced: 0, send: 0 };
    const read = kafka.readRanges.bind(kafka);
    kafka.readRanges = (targets, opts, handlers) =>
      read(targets, opts, {
        ...handlers,
        onRecord: async (t, r) => {
          used.onRecord++;
          await handlers.onRecord(t, r);
        },
        ...(handlers.onBatch && {
          onBatch: (t: RangeTarget, b: KafkaRecordBatch, from: bigint) => {
            used.onBatch++;
            return handlers.onBatch!(t, b, from);
          },
        }),
      });
    const connect = kafka.producer.bind(kafka);
    kafka.producer = async () => {
      const p = await connect();
      return {
        ...p,
        send: (...a) => {
          used.send++;
          return p.send(...a);
        },
        sendPlaced: (...a) => {
          used.sendPlaced++;
          return p.sendPlaced(...a);
        },
      };
    };

    const store = new MemoryStore();
    const logger = silentLogger();
    const window = { since: null, until: null };
    await new DumpRun(
      { kafka, store, registry: null, logger },
      { selection: { topics: ['orders'] }, window, maxRecordsPerPartition: null, segmentBytes: 64 * 1024, concurrency: 1, stallTimeoutMs: 1000 },
    ).run();
    expect(used).toMatchObject({ onBatch: 2, onRecord: 0 });
    const backup = await openBackup(store, 'latest');
    const opts: RestoreOptions = {
      lane: 'fast',
      topics: [],
      replicationFactor: null,
      window,
      maxRecordsPerPartition: null,
      mode: 'new',
      laneHeader: null,
      concurrency: 1,
    };
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts).run();
    // Records go through sendPlaced; send writes only the lane ledger's entries.
    expect(used.sendPlaced).toBeGreaterThanOrEqual(1);
    const lane = kafka.topics.get('fast.orders')!.partitions[0]!.records;
    const fields = (r: KafkaRecord) => ({
      timestamp: r.timestamp,
      key: r.key?.toString('hex'),
      value: r.value?.toString('hex'),
      headers: r.headers.map((x) => [x.key, x.value?.toString('hex') ?? null]),
    });
    expect(lane.map(fields)).toEqual(kafka.topics.get('orders')!.partitions[0]!.records.map(fields));
    expect(lane.map((r) => r.offset)).toEqual(source.map((_, i) => BigInt(i)));
  });
});
