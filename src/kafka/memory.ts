/**
 * A KafkaAdapter over an in-memory cluster: partitions are arrays of records with offsets,
 * a log start (retention) and no transactions. It follows the same contract as the kafkajs
 * adapter (test/support/adapter-conformance.ts runs on both) so restore planning, safety,
 * offset translation and resume can be tested without a broker; `failNext` injects failures
 * the way a broker or network would.
 *
 * The fast paths are the production ones: a producer's send and sendPlaced frame a Kafka v2
 * record batch (record-batch.ts, compressed as asked) and the partition takes it apart as a
 * broker would (CRC, offsets, the records decoded by batch-decoder.ts); a read hands a
 * handler with onBatch the batches as they were written (one per send or append), encoded
 * again as the fetch reader hands them over. What it does not model: transactions (no
 * markers, nothing aborted), compaction inside a batch, several brokers and leadership,
 * retries (nothing fails unless told to).
 */
/* eslint-disable @typescript-eslint/require-await -- the KafkaAdapter's methods are async; here
   nothing needs awaiting, and `async` still turns a throw into a rejection, as the real adapter's. */
import { randomBytes } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { partitionKey } from '../model/partition-key';
import { TimestampType } from '../segment/record';
import type { PartitionOffsets } from '../model/offsets';
import { BatchRecords, splitBatches, type BatchHeader } from './protocol/batch-decoder';
import { checkAclOperations } from './protocol/acl-codes';
import { CODEC_IDS, codecById, codecs } from './protocol/codecs';
import { BATCH_HEADER_BYTES, CRC_FROM, batchBytes, encodeRecordSet, nextSequence, writeRecordBatch, type PlacedRecordSet } from './protocol/record-batch';
import {
  isKbakInternalGroup,
  KafkaServiceError,
  type AclBindingInfo,
  type AclFilter,
  type KafkaRecordBatch,
  type ProducerOptions,
  type ClusterInfo,
  type GroupDescription,
  type GroupListing,
  type GroupOffset,
  type KafkaAdapter,
  type KafkaRecord,
  type ProduceRecord,
  type RangeHandlers,
  type RangeTarget,
  type ReadOptions,
  type RecordProducer,
  type TimestampOffset,
  type TopicAccess,
  type TopicConfigEntry,
  type TopicInfo,
  type TopicOperation,
  type TopicSpec,
} from './adapter';

interface MemoryPartition {
  records: KafkaRecord[];
  logStart: bigint;
  next: bigint;
}

interface MemoryTopic {
  /** Like Kafka's topic ID: new for every creation (assigned on first look for topics tests build by hand). */
  id?: string;
  partitions: MemoryPartition[];
  replicationFactor: number;
  configs: Record<string, string>;
}

interface MemoryGroup {
  offsets: Map<string, { offset: bigint; metadata: string | null }>;
  members: Array<{ memberId: string; clientId: string }>;
}

/** `send` counts both ways of producing: send and sendPlaced. */
type Operation = keyof KafkaAdapter | 'send';

/** The batch a record was appended in (records without one, put in by hand, are batches of their own). */
interface BatchTag {
  id: number;
  producerId: bigint;
}

/** Copies a view, so that a record never shares memory with a buffer its sender reuses. */
const own = (b: Buffer | null): Buffer | null => (b === null ? null : Buffer.from(b));

/** Sorted by offset. */
function byOffset(a: KafkaRecord, b: KafkaRecord): number {
  return a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0;
}

export class MemoryKafka implements KafkaAdapter {
  readonly brokers = ['memory:9092'];
  readonly clientId: string;
  readonly topics = new Map<string, MemoryTopic>();
  readonly groups = new Map<string, MemoryGroup>();
  /** Every call, in order, for tests that check what was (not) done. */
  readonly calls: Operation[] = [];
  private readonly failures = new Map<Operation, Array<{ after: number; error: Error }>>();
  private readonly batchOf = new WeakMap<KafkaRecord, BatchTag>();
  private batches = 0;
  private producers = 0;

  constructor(opts: { clientId?: string; brokerCount?: number; clusterId?: string } = {}) {
    this.clientId = opts.clientId ?? 'kbak';
    this.brokerCount = opts.brokerCount ?? 1;
    this.clusterId = opts.clusterId ?? 'memory-cluster';
  }
  private readonly brokerCount: number;
  private readonly clusterId: string;

  /** Makes the `after`+1-th next call of `op` fail with `error` (default: a KafkaServiceError that is not retriable). */
  failNext(op: Operation, opts: { after?: number; error?: Error } = {}): void {
    const list = this.failures.get(op) ?? [];
    list.push({ after: opts.after ?? 0, error: opts.error ?? new KafkaServiceError(`injected failure of ${op}`, undefined, undefined, { retriable: false }) });
    this.failures.set(op, list);
  }

  private enter(op: Operation): void {
    this.calls.push(op);
    const list = this.failures.get(op);
    const f = list?.[0];
    if (!f) return;
    if (f.after > 0) {
      f.after--;
      return;
    }
    list.shift();
    throw f.error;
  }

  private partition(topic: string, partition: number): MemoryPartition {
    const p = this.topics.get(topic)?.partitions[partition];
    if (!p) throw new KafkaServiceError(`unknown topic or partition ${topic}/${partition}`, 'UNKNOWN_TOPIC_OR_PARTITION');
    return p;
  }

  /** Test helper: appends records as one batch, as a producer would; returns their offsets. */
  append(
    topic: string,
    partition: number,
    records: ReadonlyArray<Omit<KafkaRecord, 'offset' | 'timestampType'> & { timestampType?: TimestampType }>,
    producerId = -1n,
  ): bigint[] {
    const p = this.partition(topic, partition);
    const tag: BatchTag = { id: ++this.batches, producerId };
    return records.map((r) => {
      const offset = p.next++;
      const rec: KafkaRecord = { ...r, offset, timestampType: r.timestampType ?? TimestampType.CreateTime, headers: r.headers.map((h) => ({ ...h })) };
      p.records.push(rec);
      this.batchOf.set(rec, tag);
      return offset;
    });
  }

  /**
   * Takes one produced record batch (its bytes from the base offset on) apart as a broker
   * would: one v2 batch, its CRC32C right, offset deltas 0..count-1, every byte accounted
   * for; then appends its records (copies) as one batch. A batch that fails is refused
   * whole, with CORRUPT_MESSAGE, and nothing of it is appended.
   */
  private async appendBatch(topic: string, partition: number, bytes: Buffer, producerId: bigint): Promise<void> {
    this.partition(topic, partition);
    const refuse = (why: string): KafkaServiceError =>
      new KafkaServiceError(`Kafka refused a record batch for ${topic}/${partition}: ${why}`, 'CORRUPT_MESSAGE');
    const batches = splitBatches(bytes);
    if (batches.length !== 1 || batchBytes(batches[0]!.body.length) !== bytes.length) throw refuse('not exactly one whole batch');
    const { header, body } = batches[0]!;
    if (crc32c(bytes.subarray(CRC_FROM)) >>> 0 !== bytes.readUInt32BE(17)) throw refuse('CRC32C mismatch');
    if (header.lastOffset - header.baseOffset !== BigInt(header.recordCount - 1)) throw refuse('last offset delta does not match the record count');
    const codec = codecById(header.codec);
    if (codec === undefined) throw refuse(`unknown compression codec ${header.codec}`);
    const records = codec === 'none' ? body : await codecs[codec].decompress(body);
    // A LogAppendTime topic stamps the whole batch with the broker's time.
    const appendTime = this.topics.get(topic)!.configs['message.timestamp.type'] === 'LogAppendTime' ? BigInt(Date.now()) : null;
    const it = new BatchRecords(header, records);
    const out: Array<Omit<KafkaRecord, 'offset'>> = [];
    for (let r = it.next(); r !== null; r = it.next()) {
      if (r.offset !== header.baseOffset + BigInt(out.length)) throw refuse(`record ${out.length} has offset delta ${r.offset - header.baseOffset}`);
      out.push({
        timestamp: appendTime ?? r.timestamp,
        timestampType: appendTime === null ? r.timestampType : TimestampType.LogAppendTime,
        key: own(r.key),
        value: own(r.value),
        headers: r.headers.map((h) => ({ key: h.key, value: own(h.value) })),
      });
    }
    if (out.length !== header.recordCount || it.position !== records.length) throw refuse('the record count does not match the records');
    this.append(topic, partition, out, producerId);
  }

  /**
   * The batches of a partition as a fetch returns them, in offset order: records appended
   * together, with consecutive offsets and (LogAppendTime) one timestamp, form one batch.
   */
  private *batchesOf(p: MemoryPartition): Generator<KafkaRecord[]> {
    const records = [...p.records].sort(byOffset);
    let cur: KafkaRecord[] = [];
    for (const r of records) {
      const last = cur[cur.length - 1];
      const tag = this.batchOf.get(r);
      const same =
        last !== undefined &&
        tag !== undefined &&
        this.batchOf.get(last) === tag &&
        r.offset === last.offset + 1n &&
        r.timestampType === last.timestampType &&
        (r.timestampType !== TimestampType.LogAppendTime || r.timestamp === last.timestamp);
      if (!same && cur.length > 0) {
        yield cur;
        cur = [];
      }
      cur.push(r);
    }
    if (cur.length > 0) yield cur;
  }

  /** A batch as the fetch reader hands it to onBatch: the header and the uncompressed records section. */
  private encodeBatch(records: KafkaRecord[]): KafkaRecordBatch {
    const set = encodeRecordSet(records);
    const first = records[0]!;
    const header: BatchHeader = {
      baseOffset: first.offset,
      lastOffset: records[records.length - 1]!.offset,
      magic: 2,
      codec: 0,
      timestampType: first.timestampType,
      isTransactional: false,
      isControl: false,
      baseTimestamp: set.firstTimestamp,
      maxTimestamp: set.maxTimestamp,
      producerId: this.batchOf.get(first)?.producerId ?? -1n,
      recordCount: set.count,
    };
    return { header, records: set.records };
  }

  /** Test helper: leaves a gap, as compaction or a transaction marker does. */
  skipOffsets(topic: string, partition: number, n: number): void {
    this.partition(topic, partition).next += BigInt(n);
  }

  /** Test helper: retention deletes everything before `offset`. */
  deleteRecordsBefore(topic: string, partition: number, offset: bigint): void {
    const p = this.partition(topic, partition);
    p.records = p.records.filter((r) => r.offset >= offset);
    p.logStart = offset > p.logStart ? offset : p.logStart;
  }

  /** Test helper: a running consumer in a group. */
  addMember(groupId: string, clientId: string): void {
    this.group(groupId).members.push({ memberId: `${clientId}-${this.group(groupId).members.length}`, clientId });
  }

  private group(groupId: string): MemoryGroup {
    let g = this.groups.get(groupId);
    if (!g) {
      g = { offsets: new Map(), members: [] };
      this.groups.set(groupId, g);
    }
    return g;
  }

  async cluster(): Promise<ClusterInfo> {
    this.enter('cluster');
    return { clusterId: this.clusterId, brokers: this.brokerCount };
  }

  async listTopics(): Promise<string[]> {
    this.enter('listTopics');
    return [...this.topics.keys()];
  }

  async describeTopics(topics: readonly string[]): Promise<TopicInfo[]> {
    this.enter('describeTopics');
    return topics
      .filter((t) => this.topics.has(t))
      .map((name) => {
        const t = this.topics.get(name)!;
        return {
          name,
          partitions: t.partitions.map((_, partition) => ({ partition, leader: 0, replicas: Array.from({ length: t.replicationFactor }, (_r, i) => i) })),
        };
      });
  }

  async describeTopicConfigs(topics: readonly string[]): Promise<Map<string, TopicConfigEntry[]>> {
    this.enter('describeTopicConfigs');
    const out = new Map<string, TopicConfigEntry[]>();
    for (const name of topics) {
      const t = this.topics.get(name);
      if (!t) throw new KafkaServiceError(`Kafka failed while describing topic configs: unknown topic ${name}`, 'UNKNOWN_TOPIC_OR_PARTITION');
      out.set(name, [
        ...Object.entries(t.configs).map(([k, value]): TopicConfigEntry => ({ name: k, value, source: 'topic', sensitive: false })),
        { name: 'segment.bytes', value: '1073741824', source: 'other', sensitive: false },
      ]);
    }
    return out;
  }

  /**
   * ACLs, simply: operations refused to kbak's principal on every topic (`CREATE`) or on one
   * (`CREATE:orders`); everything else is allowed. createTopics and validateCreateTopics
   * refuse CREATE (TOPIC_AUTHORIZATION_FAILED), topicAccess reports them, and a topic denied
   * DESCRIBE is `denied`. Tests add to it.
   */
  readonly deniedOperations = new Set<TopicOperation | `${TopicOperation}:${string}`>();

  private allowed(op: TopicOperation, topic: string): boolean {
    return !this.deniedOperations.has(op) && !this.deniedOperations.has(`${op}:${topic}`);
  }

  /** Refuses what CreateTopics would refuse, in Kafka's order: authorization, then each topic's checks. */
  private checkCreate(specs: readonly TopicSpec[]): void {
    const refused = specs.filter((s) => !this.allowed('CREATE', s.topic));
    if (refused.length > 0)
      throw new KafkaServiceError(
        `Kafka denied creating topics ${refused.map((s) => s.topic).join(', ')}: Not authorized to access topics`,
        'TOPIC_AUTHORIZATION_FAILED',
        undefined,
        {
          retriable: false,
        },
      );
    const taken = specs.filter((s) => this.topics.has(s.topic));
    if (taken.length > 0) throw new KafkaServiceError(`Kafka failed while creating topics: topic ${taken[0]!.topic} already exists`, 'TOPIC_ALREADY_EXISTS');
    for (const s of specs) {
      if (s.replicationFactor > this.brokerCount)
        throw new KafkaServiceError(`replication factor ${s.replicationFactor} is larger than ${this.brokerCount} brokers`, 'INVALID_REPLICATION_FACTOR');
    }
  }

  async createTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.enter('createTopics');
    this.checkCreate(specs);
    for (const s of specs) {
      this.topics.set(s.topic, {
        id: randomBytes(16).toString('base64url'),
        partitions: Array.from({ length: s.partitions }, () => ({ records: [], logStart: 0n, next: 0n })),
        replicationFactor: s.replicationFactor,
        configs: { ...s.configs },
      });
    }
  }

  async setTopicConfigs(topic: string, configs: Readonly<Record<string, string>>): Promise<void> {
    this.enter('setTopicConfigs');
    const t = this.topics.get(topic);
    if (!t) throw new KafkaServiceError(`Kafka failed while setting the configs of topic ${topic}: unknown topic`, 'UNKNOWN_TOPIC_OR_PARTITION');
    if (!this.allowed('ALTER_CONFIGS', topic))
      throw new KafkaServiceError(`Kafka denied setting the configs of topic ${topic}`, 'TOPIC_AUTHORIZATION_FAILED', undefined, { retriable: false });
    t.configs = { ...configs };
  }

  async validateCreateTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.enter('validateCreateTopics');
    this.checkCreate(specs);
  }

  async topicAccess(topics: readonly string[]): Promise<Map<string, TopicAccess>> {
    this.enter('topicAccess');
    const all: TopicOperation[] = ['READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS'];
    const out = new Map<string, TopicAccess>();
    for (const name of topics) {
      if (!this.allowed('DESCRIBE', name)) out.set(name, { state: 'denied', operations: new Set() });
      else if (!this.topics.has(name)) out.set(name, { state: 'missing', operations: new Set() });
      else out.set(name, { state: 'exists', operations: new Set(all.filter((op) => this.allowed(op, name))) });
    }
    return out;
  }

  /** The cluster's ACL bindings of topics and groups, as another client created them. Tests add to it. */
  readonly aclBindings: AclBindingInfo[] = [];
  /**
   * How describeAcls fails, or null when it answers: `SECURITY_DISABLED` (a cluster without an
   * authorizer), `CLUSTER_AUTHORIZATION_FAILED` (a principal without DESCRIBE on the cluster).
   */
  describeAclsRefusal: 'SECURITY_DISABLED' | 'CLUSTER_AUTHORIZATION_FAILED' | null = null;

  async describeAcls(filter: AclFilter): Promise<AclBindingInfo[]> {
    this.enter('describeAcls');
    if (this.describeAclsRefusal === 'SECURITY_DISABLED')
      throw new KafkaServiceError('Kafka failed while describing ACLs: Security features are disabled', 'SECURITY_DISABLED', undefined, { retriable: false });
    if (this.describeAclsRefusal === 'CLUSTER_AUTHORIZATION_FAILED')
      throw new KafkaServiceError('Kafka denied describing ACLs: Cluster authorization failed', 'CLUSTER_AUTHORIZATION_FAILED', undefined, {
        retriable: false,
      });
    return this.aclBindings.filter((b) => b.resourceType === filter.resourceType).map((b) => ({ ...b }));
  }

  /** How createAcls fails, or null when it creates: as describeAclsRefusal, for ALTER on the cluster. */
  createAclsRefusal: 'SECURITY_DISABLED' | 'CLUSTER_AUTHORIZATION_FAILED' | null = null;

  async createAcls(bindings: readonly AclBindingInfo[]): Promise<void> {
    if (bindings.length === 0) return;
    this.enter('createAcls');
    checkAclOperations(bindings);
    if (this.createAclsRefusal === 'SECURITY_DISABLED')
      throw new KafkaServiceError('Kafka failed while creating ACL bindings: Security features are disabled', 'SECURITY_DISABLED', undefined, {
        retriable: false,
      });
    if (this.createAclsRefusal === 'CLUSTER_AUTHORIZATION_FAILED')
      throw new KafkaServiceError('Kafka denied creating ACL bindings: Cluster authorization failed', 'CLUSTER_AUTHORIZATION_FAILED', undefined, {
        retriable: false,
      });
    // Kafka keeps a binding once, however often it is created.
    const key = (b: AclBindingInfo): string =>
      JSON.stringify([b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permissionType]);
    const held = new Set(this.aclBindings.map(key));
    for (const b of bindings) {
      if (held.has(key(b))) continue;
      held.add(key(b));
      this.aclBindings.push({ ...b });
    }
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    this.enter('deleteTopics');
    for (const t of topics) this.topics.delete(t);
  }

  async topicIds(topics: readonly string[]): Promise<Map<string, string>> {
    this.enter('topicIds');
    return new Map(
      topics
        .filter((t) => this.topics.has(t))
        .map((t) => {
          const topic = this.topics.get(t)!;
          topic.id ??= randomBytes(16).toString('base64url');
          return [t, topic.id];
        }),
    );
  }

  /** Broker configs brokerConfig() answers (tests set them). */
  readonly brokerConfigs = new Map<string, string>();

  async brokerConfig(name: string): Promise<string | null> {
    this.enter('brokerConfig');
    return this.brokerConfigs.get(name) ?? null;
  }

  /**
   * Whether partitionSizes says: false models brokers that do not speak DescribeLogDirs. A
   * principal without DESCRIBE on the cluster (describeAclsRefusal CLUSTER_AUTHORIZATION_FAILED,
   * the right DescribeAcls needs too) gets null as well.
   */
  reportsPartitionSizes = true;

  async partitionSizes(topics: readonly string[]): Promise<Map<string, bigint> | null> {
    this.enter('partitionSizes');
    if (!this.reportsPartitionSizes || this.describeAclsRefusal === 'CLUSTER_AUTHORIZATION_FAILED') return null;
    const out = new Map<string, bigint>();
    for (const name of new Set(topics)) {
      // The bytes of what each record carries: a stand-in for its log, which has no segments here.
      this.topics.get(name)?.partitions.forEach((p, partition) => {
        let bytes = 0;
        for (const r of p.records) {
          bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
          for (const h of r.headers) bytes += Buffer.byteLength(h.key, 'utf8') + (h.value?.length ?? 0);
        }
        out.set(partitionKey(name, partition), BigInt(bytes));
      });
    }
    return out;
  }

  async listOffsets(topic: string): Promise<PartitionOffsets[]> {
    this.enter('listOffsets');
    const t = this.topics.get(topic);
    if (!t) throw new KafkaServiceError(`unknown topic ${topic}`, 'UNKNOWN_TOPIC_OR_PARTITION');
    return t.partitions.map((p, partition) => ({ partition, low: p.logStart, high: p.next }));
  }

  async offsetsForTimestamp(topic: string, timestampMs: number): Promise<TimestampOffset[]> {
    this.enter('offsetsForTimestamp');
    const t = this.topics.get(topic);
    if (!t) throw new KafkaServiceError(`unknown topic ${topic}`, 'UNKNOWN_TOPIC_OR_PARTITION');
    return t.partitions.map((p, partition) => ({
      partition,
      offset: [...p.records].sort(byOffset).find((r) => r.timestamp >= BigInt(timestampMs))?.offset ?? p.next,
    }));
  }

  async readRanges(targets: readonly RangeTarget[], _opts: ReadOptions, handlers: RangeHandlers): Promise<void> {
    this.enter('readRanges');
    for (const t of targets) {
      // Empty ranges are complete without reading, as in the fetch reader.
      if (t.start >= t.end) {
        await handlers.onPartitionDone(t);
        continue;
      }
      const p = this.partition(t.topic, t.partition);
      let next = t.start;
      for (const batch of this.batchesOf(p)) {
        const last = batch[batch.length - 1]!.offset;
        if (last < next) continue; // before the start
        if (batch[0]!.offset >= t.end) break;
        if (handlers.onBatch) {
          next = await handlers.onBatch(t, this.encodeBatch(batch), next);
        } else {
          for (const r of batch) {
            if (r.offset < next) continue; // a batch starts before the read position
            if (r.offset >= t.end) break;
            await handlers.onRecord(t, { ...r, headers: r.headers.map((h) => ({ ...h })) });
            next = r.offset + 1n;
          }
        }
        if (last + 1n > next) next = last + 1n;
        handlers.onPosition?.(t, next > t.end ? t.end : next);
        if (next >= t.end) break;
      }
      // Offsets after the last record (skipOffsets) are a gap to the end: Kafka would have a marker there.
      if (next < t.end) handlers.onPosition?.(t, t.end);
      await handlers.onPartitionDone(t);
    }
  }

  async producer(): Promise<RecordProducer> {
    this.enter('producer');
    // An idempotent producer: its own id, and per partition the sequence of its next batch.
    const producerId = BigInt(++this.producers);
    const sequences = new Map<string, number>();
    let closed = false;
    const produce = async (topic: string, partition: number, set: PlacedRecordSet, opts: ProducerOptions): Promise<boolean> => {
      this.enter('send');
      if (closed) throw new KafkaServiceError(`the producer writing to ${topic}/${partition} was closed`, undefined, undefined, { retriable: false });
      if (set.count === 0) return true;
      const key = partitionKey(topic, partition);
      const baseSequence = sequences.get(key) ?? 0;
      const p = { producerId, producerEpoch: 0, baseSequence };
      let batch: Buffer;
      if (opts.compression === 'none' && set.start >= BATCH_HEADER_BYTES) {
        // Framed in the headroom, around the records where they are, as the lean producer does.
        batch = set.buf.subarray(set.start - BATCH_HEADER_BYTES, set.end);
        writeRecordBatch(batch, 0, set, set.buf.subarray(set.start, set.end), CODEC_IDS.none, p);
      } else {
        const records = set.buf.subarray(set.start, set.end);
        const payload = opts.compression === 'none' ? records : await codecs[opts.compression].compress(records);
        batch = Buffer.alloc(batchBytes(payload.length));
        writeRecordBatch(batch, 0, set, payload, CODEC_IDS[opts.compression], p);
      }
      await this.appendBatch(topic, partition, batch, producerId);
      sequences.set(key, nextSequence(baseSequence, set.count));
      return true;
    };
    return {
      send: async (topic: string, partition: number, records: readonly ProduceRecord[], opts: ProducerOptions) => {
        if (records.length === 0) {
          this.enter('send');
          return;
        }
        const set = encodeRecordSet(records);
        await produce(topic, partition, { ...set, buf: set.records, start: 0, end: set.records.length }, opts);
      },
      headroom: () => BATCH_HEADER_BYTES,
      sendPlaced: produce,
      close: async () => {
        closed = true;
      },
    };
  }

  async listGroups(): Promise<GroupListing[]> {
    this.enter('listGroups');
    // Groups seeded by a generation-less commit are "simple" groups ('') until a consumer joins.
    return [...this.groups].map(([groupId, g]) => ({ groupId, protocolType: g.members.length > 0 ? 'consumer' : '' }));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    this.enter('describeGroups');
    return groupIds.map((groupId) => {
      const g = this.groups.get(groupId);
      return { groupId, state: !g ? 'Dead' : g.members.length > 0 ? 'Stable' : 'Empty', members: g ? g.members.map((m) => ({ ...m })) : [] };
    });
  }

  async fetchGroupOffsets(groupId: string, topics: readonly string[]): Promise<GroupOffset[]> {
    this.enter('fetchGroupOffsets');
    const g = this.groups.get(groupId);
    const out: GroupOffset[] = [];
    for (const topic of topics) {
      const t = this.topics.get(topic);
      if (!t) continue;
      t.partitions.forEach((_, partition) => {
        const c = g?.offsets.get(partitionKey(topic, partition));
        out.push({ topic, partition, offset: c?.offset ?? -1n, metadata: c?.metadata ?? null });
      });
    }
    return out;
  }

  async commitGroupOffsets(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: bigint }>): Promise<void> {
    this.enter('commitGroupOffsets');
    const g = this.group(groupId);
    if (g.members.length > 0) throw new KafkaServiceError(`group ${groupId} has active members`, 'UNKNOWN_MEMBER_ID');
    for (const o of offsets) g.offsets.set(partitionKey(topic, o.partition), { offset: o.offset, metadata: null });
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    this.enter('deleteGroups');
    const unknown = groupIds.filter((g) => !this.groups.has(g));
    const live = groupIds.filter((g) => (this.groups.get(g)?.members.length ?? 0) > 0);
    for (const g of groupIds) if (!live.includes(g)) this.groups.delete(g);
    if (unknown.length > 0) throw new KafkaServiceError(`Kafka failed while deleting groups: group ${unknown[0]} does not exist`, 'GROUP_ID_NOT_FOUND');
    if (live.length > 0) throw new KafkaServiceError(`Kafka failed while deleting groups: group ${live[0]} has active members`, 'NON_EMPTY_GROUP');
  }

  isInternalGroup(groupId: string): boolean {
    return isKbakInternalGroup(groupId);
  }

  async close(): Promise<void> {}
}
