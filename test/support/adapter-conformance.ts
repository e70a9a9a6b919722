/**
 * One behaviour suite for every KafkaAdapter (as test/support/store-conformance.ts is for
 * stores): test/unit/adapter-conformance.test.ts runs it on MemoryKafka, the integration
 * project on the kafkajs adapter against the stack's broker. What an adapter cannot model is
 * skipped for it, with the reason in the test's name.
 *
 * Records are put in by another client than the adapter (the fixture's `seed`: the kafkajs
 * producer, or MemoryKafka's own partitions) and what the adapter wrote is read back without
 * it (`readBack`: kcat, or the partitions), so a read and a write are never only checked
 * against each other.
 */
import { randomBytes } from 'node:crypto';
import { KbakError, ServiceError, UsageError } from '../../src/errors';
import {
  KafkaServiceError,
  RETRIABLE_KAFKA_CODES,
  type AclBindingInfo,
  type KafkaAdapter,
  type KafkaRecord,
  type KafkaRecordBatch,
  type ProduceRecord,
  type RangeHandlers,
  type RangeTarget,
  type RecordProducer,
  type TopicOperation,
  type WireHeader,
} from '../../src/kafka/adapter';
import { BatchRecords } from '../../src/kafka/protocol/batch-decoder';
import { aclBinding } from './acl-binding';
import { CODEC_NAMES } from '../../src/kafka/protocol/codecs';
import { waitForLeaders } from '../../src/lane/kafka-ops';
import { encodeRecordSet, type PlacedRecordSet } from '../../src/kafka/protocol/record-batch';
import { TimestampType } from '../../src/segment/record';
import { partitionKey } from '../../src/model/partition-key';

/** A record as stored in a partition, read back without the adapter. */
export interface StoredRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: WireHeader[];
}

/** Checks the suite cannot run on every adapter. */
export type Capability = 'transactions' | 'unreachable' | 'denied' | 'acls';

/** Capabilities an adapter does not model, each with the reason (the skipped tests' names carry it). */
export type Cannot = Partial<Record<Capability, string>>;

export interface AdapterFixture {
  readonly adapter: KafkaAdapter;
  /** Appends the records to the partition as one batch, through another client than the adapter. */
  seed(topic: string, partition: number, records: readonly ProduceRecord[]): Promise<void>;
  /** Leaves offsets no read_committed reader sees (a transaction marker, compaction); resolves to how many. */
  gap(topic: string, partition: number): Promise<number>;
  /** Retention: deletes the partition's records below `offset`. */
  deleteRecordsBefore(topic: string, partition: number, offset: bigint): Promise<void>;
  /** Every committed record of the partition, in offset order, read without the adapter. */
  readBack(topic: string, partition: number): Promise<StoredRecord[]>;
  /** Puts a running consumer into the group, subscribed to the topic; resolves to its stop. */
  liveMember(groupId: string, topic: string): Promise<() => Promise<void>>;
  /** Records in a transaction by another client, committed or aborted (capability `transactions`). */
  transaction?(topic: string, partition: number, records: readonly ProduceRecord[], outcome: 'commit' | 'abort'): Promise<void>;
  /** An adapter for a cluster that cannot be reached (capability `unreachable`). */
  unreachable?(): KafkaAdapter;
  /** An adapter whose credentials the cluster refuses (capability `denied`). */
  denied?(): KafkaAdapter;
  /**
   * An adapter of a principal with these ACLs on these topics (literal names; capability
   * `acls`): `allow` operations granted, `deny` refused; `release` removes them.
   */
  restricted?(
    acls: ReadonlyArray<{ topic: string; allow: TopicOperation[]; deny: TopicOperation[] }>,
  ): Promise<{ adapter: KafkaAdapter; release(): Promise<void> }>;
  /**
   * Creates the ACL bindings through another client than the adapter (capability `acls`);
   * resolves to their removal.
   */
  addAcls?(bindings: readonly AclBindingInfo[]): Promise<() => Promise<void>>;
  /** An adapter of a principal that may not describe ACLs (no DESCRIBE on the cluster; capability `acls`). */
  aclsHidden?(): Promise<{ adapter: KafkaAdapter; release(): Promise<void> }>;
  /** Every ACL binding of the principal, read through another client than the adapter (capability `acls`). */
  readAcls?(principal: string): Promise<AclBindingInfo[]>;
  /** Removes the principal's ACL bindings through another client than the adapter (capability `acls`). */
  dropAcls?(principal: string): Promise<void>;
  /** An adapter of a principal that may not create ACLs (no ALTER on the cluster; capability `acls`). */
  aclsLocked?(): Promise<{ adapter: KafkaAdapter; release(): Promise<void> }>;
  close(): Promise<void>;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const h = (key: string, value: string | Buffer | null): WireHeader => ({ key, value: typeof value === 'string' ? b(value) : value });

/**
 * Records with every shape the contract keeps byte for byte: null and empty keys and values,
 * binary bytes, headers repeated, interleaved, with null and empty values, non-ASCII keys,
 * timestamps out of order.
 */
export function hardRecords(base: bigint, n = 6, tag = 'r'): ProduceRecord[] {
  const shapes: Array<Omit<ProduceRecord, 'timestamp'>> = [
    { key: null, value: b(`${tag}0`), headers: [h('dup', 'first'), h('x', null), h('dup', 'second'), h('dup', '')] },
    { key: Buffer.alloc(0), value: null, headers: [] },
    {
      key: b(`${tag}-k2`),
      value: Buffer.from([0x00, 0xff, 0x80, 0x0a, 0x7f]),
      headers: [h('ключ', 'значение'), h('traceparent', `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`)],
    },
    { key: b(`${tag}-k3`), value: Buffer.alloc(0), headers: [h('', 'empty key'), h('b3', null)] },
    { key: Buffer.from([0xfe, 0x00]), value: b(`${tag}4 ${'v'.repeat(300)}`), headers: [h('7', Buffer.from([1, 2, 3])), h('7', Buffer.from([1, 2, 3]))] },
    { key: b(`${tag}-k5`), value: b(`${tag}5`), headers: [h('last', 'header')] },
  ];
  return Array.from({ length: n }, (_, i) => ({ ...shapes[i % shapes.length]!, timestamp: base + BigInt(i % 3 === 1 ? -i : i * 10) }));
}

/** A record as a reader must give it back: the fields that were produced. */
const fields = (r: { timestamp: bigint; key: Buffer | null; value: Buffer | null; headers: readonly WireHeader[] }) => ({
  timestamp: r.timestamp,
  key: r.key === null ? null : r.key.toString('hex'),
  value: r.value === null ? null : r.value.toString('hex'),
  headers: r.headers.map((x) => [x.key, x.value === null ? null : x.value.toString('hex')]),
});

/** Every range read handler call, in order. */
interface ReadLog {
  records: Map<string, KafkaRecord[]>;
  batches: Map<string, Array<{ batch: KafkaRecordBatch; from: bigint }>>;
  done: string[];
  positions: Map<string, bigint[]>;
}

const targetKey = (t: RangeTarget): string => `${t.topic}/${t.partition}`;

/**
 * Reads the targets with onRecord, or with onBatch (decoding each batch the way dump's
 * transcoder does: the records in [from, end), from moving past each one taken).
 */
async function read(adapter: KafkaAdapter, targets: RangeTarget[], mode: 'records' | 'batches', concurrency = 2): Promise<ReadLog> {
  const log: ReadLog = { records: new Map(), batches: new Map(), done: [], positions: new Map() };
  const push = <T>(m: Map<string, T[]>, k: string, v: T): void => void m.set(k, [...(m.get(k) ?? []), v]);
  const handlers: RangeHandlers = {
    onRecord: async (t, r) => {
      if (mode === 'batches') throw new Error('onRecord called for a handler with onBatch');
      // Copies: a reader may hand over views of buffers it reuses.
      push(log.records, targetKey(t), {
        ...r,
        key: r.key && Buffer.from(r.key),
        value: r.value && Buffer.from(r.value),
        headers: r.headers.map((x) => ({ ...x })),
      });
    },
    onPartitionDone: async (t) => void log.done.push(targetKey(t)),
    onPosition: (t, next) => push(log.positions, targetKey(t), next),
  };
  if (mode === 'batches') {
    handlers.onBatch = async (t, batch, from) => {
      push(log.batches, targetKey(t), { batch: { header: batch.header, records: Buffer.from(batch.records) }, from });
      const it = new BatchRecords(batch.header, batch.records);
      let next = from;
      for (let r = it.next(); r !== null; r = it.next()) {
        if (r.offset < next) continue;
        if (r.offset >= t.end) break;
        push(log.records, targetKey(t), {
          ...r,
          key: r.key && Buffer.from(r.key),
          value: r.value && Buffer.from(r.value),
          headers: r.headers.map((x) => ({ ...x })),
        });
        next = r.offset + 1n;
      }
      return next;
    };
  }
  await adapter.readRanges(targets, { concurrency, stallTimeoutMs: 30_000 }, handlers);
  return log;
}

/**
 * A placed record set as restore's transcoder builds one: the records `headroom` bytes into a
 * buffer, shared memory when a worker thread may compress it in place.
 */
function placed(records: readonly ProduceRecord[], headroom: number, shared = false): PlacedRecordSet {
  const set = encodeRecordSet(records);
  const size = headroom + set.records.length;
  const buf = shared ? Buffer.from(new SharedArrayBuffer(size)).fill(0xee) : Buffer.alloc(size, 0xee);
  set.records.copy(buf, headroom);
  return { buf, start: headroom, end: headroom + set.records.length, count: set.count, firstTimestamp: set.firstTimestamp, maxTimestamp: set.maxTimestamp };
}

/** Settles to the error the call failed with (fails the test when it succeeds). */
async function failure(p: Promise<unknown>): Promise<KbakError> {
  const outcome = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(KbakError);
  const err = outcome as KbakError;
  expect(typeof err.retriable).toBe('boolean');
  return err;
}

/** Kafka refused the request: a KafkaServiceError with the code, retriable as Kafka's code says. */
function expectRefusal(err: KbakError, codes: string[]): void {
  expect(err).toBeInstanceOf(KafkaServiceError);
  const code = (err as KafkaServiceError).kafkaCode ?? '';
  expect(codes).toContain(code);
  expect(err.retriable).toBe(RETRIABLE_KAFKA_CODES.has(code));
}

const sortedOffsets = (records: Array<{ offset: bigint }>): bigint[] => records.map((r) => r.offset);

export function describeAdapterConformance(name: string, make: () => Promise<AdapterFixture>, cannot: Cannot = {}): void {
  describe(`KafkaAdapter conformance: ${name}`, () => {
    let f: AdapterFixture;
    let kafka: KafkaAdapter;
    const created: string[] = [];
    const producers: RecordProducer[] = [];
    const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    let n = 0;

    beforeAll(async () => {
      f = await make();
      kafka = f.adapter;
    });
    afterAll(async () => {
      await Promise.all(producers.map((p) => p.close()));
      const left = new Set(await kafka.listTopics());
      await kafka.deleteTopics(
        created.filter((t) => left.has(t)),
        30_000,
      );
      await kafka.close();
      await f.close();
    });

    /** A new topic, its leaders served. */
    async function topic(partitions = 1, configs: Record<string, string> = {}): Promise<string> {
      const t = `conf-${run}-${++n}`;
      await kafka.createTopics([{ topic: t, partitions, replicationFactor: 1, configs }]);
      created.push(t);
      await waitForLeaders(kafka, [{ name: t, partitions }]);
      return t;
    }
    async function producer(): Promise<RecordProducer> {
      const p = await kafka.producer();
      producers.push(p);
      return p;
    }
    /** A test of a capability: skipped, with the reason in its name, on an adapter that does not model it. */
    const capTest = (cap: Capability, title: string, fn: () => Promise<void>, timeout?: number): void => {
      const reason = cannot[cap];
      if (reason) it.skip(`${title} (not modelled: ${reason})`, fn);
      else it(title, fn, timeout);
    };

    describe('cluster and topics', () => {
      it('describes the cluster', async () => {
        const c = await kafka.cluster();
        expect(c.clusterId).toMatch(/\S/);
        expect(c.brokers).toBeGreaterThanOrEqual(1);
      });

      it('creates, lists, describes (partitions, leaders, replicas, configs) and deletes topics', async () => {
        const t = await topic(3, { 'retention.ms': '3600000', 'cleanup.policy': 'delete' });
        const missing = `conf-${run}-missing`;
        expect(await kafka.listTopics()).toContain(t);
        const [info, ...rest] = await kafka.describeTopics([t, missing]);
        expect(rest).toEqual([]);
        expect(info!.name).toBe(t);
        expect(info!.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
        for (const p of info!.partitions) {
          expect(p.leader).toBeGreaterThanOrEqual(0);
          expect(p.replicas).toHaveLength(1);
        }
        const configs = (await kafka.describeTopicConfigs([t])).get(t)!;
        expect(configs.find((c) => c.name === 'retention.ms')).toEqual({ name: 'retention.ms', value: '3600000', source: 'topic', sensitive: false });
        expect(configs.find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'delete', source: 'topic' });
        expect(configs.some((c) => c.source === 'other')).toBe(true);
        await kafka.deleteTopics([t], 30_000);
        expect(await kafka.listTopics()).not.toContain(t);
        expect(await kafka.describeTopics([t])).toEqual([]);
      });

      it('refuses to create a topic that exists (TOPIC_ALREADY_EXISTS, not retriable) and to describe the configs of one that does not', async () => {
        const t = await topic();
        expectRefusal(await failure(kafka.createTopics([{ topic: t, partitions: 1, replicationFactor: 1, configs: {} }])), ['TOPIC_ALREADY_EXISTS']);
        const unknown = await failure(kafka.describeTopicConfigs([`conf-${run}-missing`]));
        expect(unknown).toBeInstanceOf(KafkaServiceError);
        expect((unknown as KafkaServiceError).kafkaCode).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      });

      it("sets a topic's configs to exactly the given ones (a config left out returns to its default)", async () => {
        const fresh = `conf-${run}-${++n}`;
        await kafka.createTopics([{ topic: fresh, partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '-1', 'max.message.bytes': '2000000' } }]);
        await waitForLeaders(kafka, [{ name: fresh, partitions: 1 }]);
        await kafka.setTopicConfigs(fresh, { 'retention.ms': '86400000', 'cleanup.policy': 'compact' });
        const topicLevel = (await kafka.describeTopicConfigs([fresh])).get(fresh)!.filter((c) => c.source === 'topic');
        expect(Object.fromEntries(topicLevel.filter((c) => c.name !== 'min.insync.replicas').map((c) => [c.name, c.value]))).toEqual({
          'retention.ms': '86400000',
          'cleanup.policy': 'compact',
        });
        const missing = await failure(kafka.setTopicConfigs(`conf-${run}-missing`, { 'retention.ms': '1000' }));
        expect(missing).toBeInstanceOf(KafkaServiceError);
        await kafka.deleteTopics([fresh], 30_000);
      });

      it('gives topic IDs of existing topics (unknown names left out), a new one when a topic is recreated', async () => {
        const t = await topic();
        const ids = await kafka.topicIds([t, `conf-${run}-missing`]);
        expect([...ids.keys()]).toEqual([t]);
        expect(ids.get(t)).toMatch(/^[A-Za-z0-9_-]{22}$/);
        await kafka.deleteTopics([t], 30_000);
        await kafka.createTopics([{ topic: t, partitions: 1, replicationFactor: 1, configs: {} }]);
        await waitForLeaders(kafka, [{ name: t, partitions: 1 }]);
        const again = await kafka.topicIds([t]);
        expect(again.get(t)).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(again.get(t)).not.toBe(ids.get(t));
      });

      it('validates a creation without creating anything: allowed, an existing topic (TOPIC_ALREADY_EXISTS), too many replicas', async () => {
        const fresh = `conf-${run}-${++n}`;
        await kafka.validateCreateTopics([{ topic: fresh, partitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } }]);
        expect(await kafka.listTopics()).not.toContain(fresh);
        const t = await topic();
        expectRefusal(await failure(kafka.validateCreateTopics([{ topic: t, partitions: 1, replicationFactor: 1, configs: {} }])), ['TOPIC_ALREADY_EXISTS']);
        const { brokers } = await kafka.cluster();
        expectRefusal(await failure(kafka.validateCreateTopics([{ topic: fresh, partitions: 1, replicationFactor: brokers + 1, configs: {} }])), [
          'INVALID_REPLICATION_FACTOR',
        ]);
        expect(await kafka.listTopics()).not.toContain(fresh);
      });

      it("gives a topic's authorized operations (all of them without ACLs), 'missing' for an absent one", async () => {
        const t = await topic();
        const missing = `conf-${run}-missing`;
        const access = await kafka.topicAccess([t, missing]);
        expect([...access.keys()].sort()).toEqual([t, missing].sort());
        expect(access.get(t)!.state).toBe('exists');
        for (const op of ['READ', 'WRITE', 'CREATE', 'DELETE', 'DESCRIBE'] as const) expect(access.get(t)!.operations.has(op)).toBe(true);
        expect(access.get(missing)).toEqual({ state: 'missing', operations: new Set() });
      });

      capTest(
        'acls',
        "reports what a principal's ACLs allow and refuses a creation they deny (TOPIC_AUTHORIZATION_FAILED, not retriable), changing nothing",
        async () => {
          const readOnly = await topic();
          const hidden = await topic();
          const fresh = `conf-${run}-${++n}`;
          const r = await f.restricted!([
            { topic: readOnly, allow: ['READ', 'DESCRIBE'], deny: ['WRITE'] },
            { topic: hidden, allow: [], deny: ['DESCRIBE'] },
            { topic: fresh, allow: ['DESCRIBE'], deny: ['CREATE'] },
          ]);
          try {
            const access = await r.adapter.topicAccess([readOnly, hidden, fresh]);
            expect(access.get(readOnly)!.state).toBe('exists');
            expect(access.get(readOnly)!.operations.has('READ')).toBe(true);
            expect(access.get(readOnly)!.operations.has('WRITE')).toBe(false);
            expect(access.get(hidden)).toEqual({ state: 'denied', operations: new Set() });
            expect(access.get(fresh)!.state).toBe('missing');
            const err = await failure(r.adapter.validateCreateTopics([{ topic: fresh, partitions: 1, replicationFactor: 1, configs: {} }]));
            expectRefusal(err, ['TOPIC_AUTHORIZATION_FAILED']);
            expect(await kafka.listTopics()).not.toContain(fresh);
          } finally {
            await r.release();
          }
        },
        60_000,
      );

      capTest(
        'acls',
        'describes the ACL bindings of topics and of groups, each type apart, as another client created them; a principal without DESCRIBE on the cluster is refused (CLUSTER_AUTHORIZATION_FAILED, not retriable)',
        async () => {
          const t = `conf-${run}-acl`;
          const acl = (over: Partial<AclBindingInfo>): AclBindingInfo => ({
            resourceType: 'TOPIC',
            resourceName: t,
            patternType: 'LITERAL',
            principal: `User:conf-${run}`,
            host: '*',
            operation: 'READ',
            permissionType: 'ALLOW',
            ...over,
          });
          const mine = [
            acl({}),
            acl({ resourceName: `conf-${run}-`, patternType: 'PREFIXED', operation: 'WRITE', permissionType: 'DENY' }),
            acl({ host: '10.1.2.3', operation: 'DESCRIBE_CONFIGS' }),
            acl({ resourceType: 'GROUP', resourceName: `conf-${run}-group`, operation: 'DELETE' }),
          ];
          const remove = await f.addAcls!(mine);
          try {
            const own = (list: AclBindingInfo[]): AclBindingInfo[] =>
              list.filter((x) => x.principal === `User:conf-${run}`).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
            const sorted = (list: AclBindingInfo[]): AclBindingInfo[] => [...list].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
            expect(own(await kafka.describeAcls({ resourceType: 'TOPIC' }))).toEqual(sorted(mine.filter((x) => x.resourceType === 'TOPIC')));
            expect(own(await kafka.describeAcls({ resourceType: 'GROUP' }))).toEqual(sorted(mine.filter((x) => x.resourceType === 'GROUP')));
          } finally {
            await remove();
          }
          expect((await kafka.describeAcls({ resourceType: 'TOPIC' })).filter((x) => x.principal === `User:conf-${run}`)).toEqual([]);
          const hidden = await f.aclsHidden!();
          try {
            const err = await failure(hidden.adapter.describeAcls({ resourceType: 'TOPIC' }));
            expectRefusal(err, ['CLUSTER_AUTHORIZATION_FAILED']);
          } finally {
            await hidden.release();
          }
        },
        60_000,
      );

      capTest(
        'acls',
        'creates ACL bindings as another client reads them back (literal, prefixed, DENY, a host, a group, CREATE_TOKENS that kafkajs lacks), each once when created again; refuses an operation Kafka does not have and a principal without ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED, not retriable), creating nothing',
        async () => {
          const who = `User:conf-${run}-create`;
          const t = `conf-${run}-created`;
          const acl = (over: Partial<AclBindingInfo>): AclBindingInfo => aclBinding({ resourceName: t, principal: who, ...over });
          const wanted = [
            acl({}),
            acl({ resourceName: `conf-${run}-cr`, patternType: 'PREFIXED', operation: 'WRITE', permissionType: 'DENY' }),
            acl({ host: '10.1.2.3', operation: 'DESCRIBE_CONFIGS' }),
            acl({ operation: 'CREATE_TOKENS' }),
            acl({ resourceType: 'GROUP', resourceName: `conf-${run}-created-group`, operation: 'READ' }),
          ];
          const sorted = (list: AclBindingInfo[]): AclBindingInfo[] => [...list].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
          try {
            await kafka.createAcls([]);
            expect(await f.readAcls!(who)).toEqual([]);
            await kafka.createAcls(wanted);
            expect(sorted(await f.readAcls!(who))).toEqual(sorted(wanted));
            // Again, and one more: the cluster holds each binding once.
            const more = acl({ operation: 'DESCRIBE' });
            await kafka.createAcls([...wanted, more]);
            expect(sorted(await f.readAcls!(who))).toEqual(sorted([...wanted, more]));
            // An operation Kafka does not have is the caller's mistake, found before anything is sent.
            const bogus = acl({ resourceName: `conf-${run}-bogus`, operation: 'UNKNOWN(99)' });
            const usage = await failure(kafka.createAcls([acl({ resourceName: `conf-${run}-bogus` }), bogus]));
            expect(usage).toBeInstanceOf(UsageError);
            expect(usage.message).toContain('"UNKNOWN(99)"');
            expect((await f.readAcls!(who)).filter((x) => x.resourceName === `conf-${run}-bogus`)).toEqual([]);
          } finally {
            await f.dropAcls!(who);
          }
          const locked = await f.aclsLocked!();
          try {
            const err = await failure(locked.adapter.createAcls([acl({ resourceName: `conf-${run}-locked` })]));
            expectRefusal(err, ['CLUSTER_AUTHORIZATION_FAILED']);
            expect(await f.readAcls!(who)).toEqual([]);
          } finally {
            await locked.release();
          }
        },
        60_000,
      );

      it("gives each partition's bytes on disk, more for more records, every partition of a topic; none for an unknown topic", async () => {
        const t = await topic(3);
        // Sizes out of partition order: 30 records on 0, 3 on 1, 10 on 2, each send one batch.
        const counts = [30, 3, 10];
        for (const [p, count] of counts.entries()) await f.seed(t, p, hardRecords(1_700_000_000_000n, count, `p${p}`));
        const sizes = await kafka.partitionSizes([t, `conf-${run}-missing`]);
        expect(sizes).not.toBeNull();
        expect([...sizes!.keys()].sort()).toEqual([0, 1, 2].map((p) => partitionKey(t, p)).sort());
        const size = (p: number): bigint => sizes!.get(partitionKey(t, p))!;
        expect(size(1)).toBeGreaterThan(0n);
        expect(size(1) < size(2) && size(2) < size(0)).toBe(true);
        expect(await kafka.partitionSizes([`conf-${run}-missing`])).toEqual(new Map());
      });

      capTest(
        'acls',
        'answers null for the partition sizes of a principal without DESCRIBE on the cluster, never an error',
        async () => {
          const t = await topic(2);
          await f.seed(t, 0, hardRecords(1_700_000_000_000n, 3));
          const hidden = await f.aclsHidden!();
          try {
            expect(await hidden.adapter.partitionSizes([t])).toBeNull();
          } finally {
            await hidden.release();
          }
        },
        60_000,
      );

      it("reads a broker config's value, null for a config the broker does not have", async () => {
        expect(await kafka.brokerConfig('min.insync.replicas')).toMatch(/^\d+$/);
        expect(await kafka.brokerConfig('kbak.no.such.config')).toBeNull();
      });
    });

    describe('offsets', () => {
      it('lists log start and end offsets by partition: gaps count, retention moves the start', async () => {
        const t = await topic(2);
        expect(await kafka.listOffsets(t)).toEqual([
          { partition: 0, low: 0n, high: 0n },
          { partition: 1, low: 0n, high: 0n },
        ]);
        await f.seed(t, 0, hardRecords(1_700_000_000_000n, 3));
        const g = await f.gap(t, 0);
        await f.seed(t, 0, hardRecords(1_700_000_001_000n, 2));
        expect(await kafka.listOffsets(t)).toEqual([
          { partition: 0, low: 0n, high: BigInt(5 + g) },
          { partition: 1, low: 0n, high: 0n },
        ]);
        await f.deleteRecordsBefore(t, 0, 2n);
        expect((await kafka.listOffsets(t))[0]).toEqual({ partition: 0, low: 2n, high: BigInt(5 + g) });
      });

      it('finds the first offset at or after a time, the end offset past the last record', async () => {
        const t = await topic(2);
        const t0 = 1_700_000_000_000n;
        await f.seed(
          t,
          0,
          [0n, 10n, 20n, 30n].map((d) => ({ key: null, value: b(`at ${d}`), timestamp: t0 + d, headers: [] })),
        );
        const at = async (ms: bigint) => (await kafka.offsetsForTimestamp(t, Number(ms))).sort((x, y) => x.partition - y.partition).map((o) => o.offset);
        expect(await at(t0 - 1000n)).toEqual([0n, 0n]);
        expect(await at(t0 + 10n)).toEqual([1n, 0n]);
        expect(await at(t0 + 15n)).toEqual([2n, 0n]);
        expect(await at(t0 + 1000n)).toEqual([4n, 0n]);
      });
    });

    describe('reading ranges', () => {
      /** A partition of two batches around a gap: offsets 0..5, a gap, then 6+g..9+g. */
      async function twoBatches(): Promise<{ t: string; g: number; records: ProduceRecord[] }> {
        const t = await topic(2);
        const first = hardRecords(1_700_000_000_000n, 6, 'a');
        const second = hardRecords(1_700_000_005_000n, 4, 'b');
        await f.seed(t, 0, first);
        const g = await f.gap(t, 0);
        await f.seed(t, 0, second);
        return { t, g, records: [...first, ...second] };
      }

      for (const mode of ['records', 'batches'] as const) {
        describe(mode === 'records' ? 'record by record (onRecord)' : 'batch by batch (onBatch)', () => {
          it('reads every record of a range once, in offset order, byte for byte, headers in wire order with duplicates', async () => {
            const { t, g, records } = await twoBatches();
            const end = BigInt(10 + g);
            const log = await read(kafka, [{ topic: t, partition: 0, start: 0n, end }], mode);
            const got = log.records.get(`${t}/0`) ?? [];
            expect(got.map(fields)).toEqual(records.map(fields));
            expect(sortedOffsets(got)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, ...[6, 7, 8, 9].map((o) => BigInt(o + g))]);
            expect(got.every((r) => r.timestampType === TimestampType.CreateTime)).toBe(true);
            expect(log.done).toEqual([`${t}/0`]);
            const positions = log.positions.get(`${t}/0`) ?? [];
            expect(positions[positions.length - 1]).toBe(end);
            expect([...positions].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(positions);
            expect(positions.every((p) => p <= end)).toBe(true);
          });

          it('reads a range that starts and ends inside batches, and one across the gap', async () => {
            const { t, g, records } = await twoBatches();
            const inside = await read(kafka, [{ topic: t, partition: 0, start: 2n, end: 4n }], mode);
            expect((inside.records.get(`${t}/0`) ?? []).map(fields)).toEqual(records.slice(2, 4).map(fields));
            const across = await read(kafka, [{ topic: t, partition: 0, start: 4n, end: BigInt(8 + g) }], mode);
            expect(sortedOffsets(across.records.get(`${t}/0`) ?? [])).toEqual([4n, 5n, BigInt(6 + g), BigInt(7 + g)]);
            expect(across.done).toEqual([`${t}/0`]);
            // A range inside the gap holds nothing and is still done.
            if (g > 0) {
              const gap = await read(kafka, [{ topic: t, partition: 0, start: 6n, end: BigInt(6 + g) }], mode);
              expect(gap.records.get(`${t}/0`) ?? []).toEqual([]);
              expect(gap.done).toEqual([`${t}/0`]);
            }
          });

          it('completes an empty range without reading, and several targets at once, each once', async () => {
            const { t, g } = await twoBatches();
            const other = await topic(1);
            await f.seed(other, 0, hardRecords(1_700_000_000_000n, 3, 'o'));
            await f.seed(t, 1, hardRecords(1_700_000_000_000n, 2, 'p'));
            const log = await read(
              kafka,
              [
                { topic: t, partition: 0, start: 1n, end: BigInt(10 + g) },
                { topic: t, partition: 1, start: 0n, end: 2n },
                { topic: other, partition: 0, start: 0n, end: 3n },
                { topic: other, partition: 0, start: 3n, end: 3n },
              ],
              mode,
              2,
            );
            expect([...log.done].sort()).toEqual([`${other}/0`, `${other}/0`, `${t}/0`, `${t}/1`].sort());
            expect(log.records.get(`${t}/0`)).toHaveLength(9);
            expect(log.records.get(`${t}/1`)).toHaveLength(2);
            expect(log.records.get(`${other}/0`)).toHaveLength(3);
          });
        });
      }

      it('hands a batch handler whole data batches in offset order, never onRecord', async () => {
        const { t, g } = await twoBatches();
        const log = await read(kafka, [{ topic: t, partition: 0, start: 3n, end: BigInt(8 + g) }], 'batches');
        const batches = log.batches.get(`${t}/0`) ?? [];
        expect(batches.length).toBeGreaterThanOrEqual(2);
        let prevLast = -1n;
        for (const [i, { batch, from }] of batches.entries()) {
          const { header } = batch;
          expect(header.isControl).toBe(false);
          expect(header.recordCount).toBeGreaterThanOrEqual(1);
          expect(header.lastOffset).toBeGreaterThanOrEqual(header.baseOffset);
          expect(header.baseOffset).toBeGreaterThan(prevLast);
          // The first batch starts before the range: the handler is told where the range starts.
          // After it, the position moved past every batch before (gaps included), never into this one.
          if (i === 0) expect(from).toBe(3n);
          else expect(from > prevLast && from <= header.baseOffset).toBe(true);
          prevLast = header.lastOffset;
        }
        // The first batch is the seeded one, whole: it starts before the range.
        expect(batches[0]!.batch.header.baseOffset).toBe(0n);
        expect(batches[0]!.batch.header.recordCount).toBe(6);
      });

      capTest('transactions', 'read_committed: aborted records and markers are gaps, committed records are read', async () => {
        const t = await topic(1);
        await f.transaction!(t, 0, hardRecords(1_700_000_000_000n, 2, 'aborted'), 'abort');
        const committed = hardRecords(1_700_000_001_000n, 2, 'committed');
        await f.transaction!(t, 0, committed, 'commit');
        const after = hardRecords(1_700_000_002_000n, 1, 'after');
        await f.seed(t, 0, after);
        // Offsets: 0, 1 aborted, 2 its marker, 3, 4 committed, 5 its marker, 6.
        expect((await kafka.listOffsets(t))[0]).toEqual({ partition: 0, low: 0n, high: 7n });
        for (const mode of ['records', 'batches'] as const) {
          const log = await read(kafka, [{ topic: t, partition: 0, start: 0n, end: 7n }], mode);
          expect(sortedOffsets(log.records.get(`${t}/0`) ?? [])).toEqual([3n, 4n, 6n]);
          expect((log.records.get(`${t}/0`) ?? []).map(fields)).toEqual([...committed, ...after].map(fields));
          expect(log.done).toEqual([`${t}/0`]);
        }
        expect((await f.readBack(t, 0)).map((r) => r.offset)).toEqual([3n, 4n, 6n]);
      });
    });

    describe('producing', () => {
      it('send: appends each send in order, byte for byte, as another client reads it back', async () => {
        const t = await topic(2);
        const p = await producer();
        const records = hardRecords(1_700_000_000_000n, 9, 's');
        await p.send(t, 1, records.slice(0, 6), { compression: 'none' });
        await p.send(t, 1, records.slice(6, 8), { compression: 'lz4' });
        await p.send(t, 1, records.slice(8), { compression: 'zstd' });
        await p.send(t, 1, [], { compression: 'none' });
        const back = await f.readBack(t, 1);
        expect(back.map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
        expect(back.map(fields)).toEqual(records.map(fields));
        expect(await f.readBack(t, 0)).toEqual([]);
      });

      it('sendPlaced: a record set encoded in place lands as sent, with every codec, after what was there', async () => {
        const t = await topic(1);
        const p = await producer();
        const head = p.headroom(t);
        expect(head).toBeGreaterThanOrEqual(0);
        await f.seed(t, 0, hardRecords(1_700_000_000_000n, 2, 'seeded'));
        const sent: ProduceRecord[] = [];
        for (const codec of CODEC_NAMES) {
          const records = hardRecords(1_700_000_100_000n, 4, codec);
          expect(typeof (await p.sendPlaced(t, 0, placed(records, head, codec !== 'none'), { compression: codec }))).toBe('boolean');
          sent.push(...records);
        }
        const back = await f.readBack(t, 0);
        expect(back.map((r) => r.offset)).toEqual(Array.from({ length: 2 + sent.length }, (_, i) => BigInt(i)));
        expect(back.slice(2).map(fields)).toEqual(sent.map(fields));
      });

      it('writes each send as one batch, appended whole, by an idempotent producer (one producer id per producer)', async () => {
        const t = await topic(1);
        const first = await producer();
        const second = await producer();
        const sizes = [3, 1, 5];
        let at = 0n;
        for (const [i, size] of sizes.entries()) {
          const records = hardRecords(1_700_000_000_000n + BigInt(i) * 1000n, size, `b${i}`);
          if (i === 1) await first.sendPlaced(t, 0, placed(records, first.headroom(t)), { compression: 'gzip' });
          else await first.send(t, 0, records, { compression: 'none' });
          at += BigInt(size);
        }
        await second.send(t, 0, hardRecords(1_700_000_009_000n, 2, 'second'), { compression: 'none' });
        const log = await read(kafka, [{ topic: t, partition: 0, start: 0n, end: at + 2n }], 'batches');
        const headers = (log.batches.get(`${t}/0`) ?? []).map((x) => x.batch.header);
        expect(headers.map((x) => [x.baseOffset, x.recordCount])).toEqual([
          [0n, 3],
          [3n, 1],
          [4n, 5],
          [9n, 2],
        ]);
        const ids = headers.map((x) => x.producerId);
        expect(ids[0]).toBeGreaterThanOrEqual(0n);
        expect(new Set(ids.slice(0, 3)).size).toBe(1);
        expect(ids[3]).not.toBe(ids[0]);
      });

      it("stamps the batches of a LogAppendTime topic with the broker's time", async () => {
        const t = await topic(1, { 'message.timestamp.type': 'LogAppendTime' });
        const p = await producer();
        const before = BigInt(Date.now()) - 5000n;
        await p.send(t, 0, hardRecords(1_000n, 3, 'la'), { compression: 'none' });
        const after = BigInt(Date.now()) + 5000n;
        for (const mode of ['records', 'batches'] as const) {
          const got = (await read(kafka, [{ topic: t, partition: 0, start: 0n, end: 3n }], mode)).records.get(`${t}/0`) ?? [];
          expect(got).toHaveLength(3);
          expect(got.every((r) => r.timestampType === TimestampType.LogAppendTime)).toBe(true);
          expect(new Set(got.map((r) => r.timestamp)).size).toBe(1);
          expect(got[0]!.timestamp >= before && got[0]!.timestamp <= after).toBe(true);
        }
      });

      it('refuses a send after close, not retriable', async () => {
        const t = await topic(1);
        const p = await kafka.producer();
        await p.send(t, 0, hardRecords(1n, 1), { compression: 'none' });
        await p.close();
        const err = await failure(p.send(t, 0, hardRecords(2n, 1), { compression: 'none' }));
        expect(err).toBeInstanceOf(ServiceError);
        expect(err.retriable).toBe(false);
        expect((await f.readBack(t, 0)).map((r) => r.offset)).toEqual([0n]);
      });
    });

    describe('consumer groups', () => {
      it('commits offsets without joining, fetches, lists, describes and deletes the group', async () => {
        const t = await topic(3);
        const g = `conf-${run}-g${++n}`;
        await kafka.commitGroupOffsets(g, t, [
          { partition: 0, offset: 5n },
          { partition: 2, offset: 0n },
        ]);
        const offsets = await kafka.fetchGroupOffsets(g, [t]);
        expect(offsets.sort((x, y) => x.partition - y.partition)).toEqual([
          { topic: t, partition: 0, offset: 5n, metadata: null },
          { topic: t, partition: 1, offset: -1n, metadata: null },
          { topic: t, partition: 2, offset: 0n, metadata: null },
        ]);
        // A second commit overwrites the first.
        await kafka.commitGroupOffsets(g, t, [{ partition: 0, offset: 7n }]);
        expect((await kafka.fetchGroupOffsets(g, [t])).find((o) => o.partition === 0)!.offset).toBe(7n);
        expect((await kafka.listGroups()).filter((x) => x.groupId === g)).toEqual([{ groupId: g, protocolType: '' }]);
        expect(await kafka.describeGroups([g, `${g}-unknown`])).toEqual([
          { groupId: g, state: 'Empty', members: [] },
          { groupId: `${g}-unknown`, state: 'Dead', members: [] },
        ]);
        await kafka.deleteGroups([g]);
        expect((await kafka.listGroups()).map((x) => x.groupId)).not.toContain(g);
        expect((await kafka.fetchGroupOffsets(g, [t])).map((o) => o.offset)).toEqual([-1n, -1n, -1n]);
        expectRefusal(await failure(kafka.deleteGroups([g])), ['GROUP_ID_NOT_FOUND']);
      });

      it('refuses to commit for a group with a running member, leaving its offsets alone', async () => {
        const t = await topic(1);
        const g = `conf-${run}-live${++n}`;
        const stop = await f.liveMember(g, t);
        try {
          const [described] = await kafka.describeGroups([g]);
          expect(described!.members.length).toBeGreaterThanOrEqual(1);
          expectRefusal(await failure(kafka.commitGroupOffsets(g, t, [{ partition: 0, offset: 1n }])), [
            'UNKNOWN_MEMBER_ID',
            'ILLEGAL_GENERATION',
            'REBALANCE_IN_PROGRESS',
          ]);
          expect((await kafka.fetchGroupOffsets(g, [t])).map((o) => o.offset)).toEqual([-1n]);
        } finally {
          await stop();
        }
      }, 60_000);

      it("knows kbak's own read groups, and no user's", () => {
        expect(kafka.isInternalGroup('kbak-dump-0123456789abcdef')).toBe(true);
        expect(kafka.isInternalGroup('kbak-restore-fedcba9876543210')).toBe(true);
        expect(kafka.isInternalGroup('billing')).toBe(false);
        expect(kafka.isInternalGroup('kbak-dump-billing')).toBe(false);
      });
    });

    describe('errors', () => {
      const refusedConnections: Array<{ cap: Capability; title: string; open: () => KafkaAdapter; option: string }> = [
        { cap: 'unreachable', title: 'an unreachable cluster', open: () => f.unreachable!(), option: 'kafka.brokers' },
        { cap: 'denied', title: 'refused credentials', open: () => f.denied!(), option: 'kafka.sasl' },
      ];
      for (const c of refusedConnections) {
        capTest(
          c.cap,
          `${c.title}: a Kafka ServiceError, not retriable, naming ${c.option}`,
          async () => {
            const adapter = c.open();
            try {
              const err = await failure(adapter.listTopics());
              expect(err).toBeInstanceOf(ServiceError);
              expect((err as ServiceError).service).toBe('kafka');
              expect(err.retriable).toBe(false);
              expect(err.options).toEqual([c.option]);
            } finally {
              await adapter.close();
            }
          },
          60_000,
        );
      }
    });
  });
}
