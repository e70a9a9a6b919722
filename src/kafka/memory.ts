/**
 * A KafkaAdapter over an in-memory cluster: partitions are arrays of records with offsets,
 * a log start (retention) and no transactions. It follows the same contract as the kafkajs
 * adapter so restore planning, safety, offset translation and resume can be tested without
 * a broker; `failNext` injects failures the way a broker or network would.
 */
import { randomBytes } from 'node:crypto';
import { partitionKey } from '../model/partition-key';
import { TimestampType } from '../segment/record';
import type { PartitionOffsets } from '../model/offsets';
import {
  KafkaServiceError,
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
  type TopicConfigEntry,
  type TopicInfo,
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

type Operation = keyof KafkaAdapter | 'send';

export class MemoryKafka implements KafkaAdapter {
  readonly brokers = ['memory:9092'];
  readonly clientId: string;
  readonly topics = new Map<string, MemoryTopic>();
  readonly groups = new Map<string, MemoryGroup>();
  /** Every call, in order, for tests that check what was (not) done. */
  readonly calls: Operation[] = [];
  private readonly failures = new Map<Operation, Array<{ after: number; error: Error }>>();

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
    list!.shift();
    throw f.error;
  }

  private partition(topic: string, partition: number): MemoryPartition {
    const p = this.topics.get(topic)?.partitions[partition];
    if (!p) throw new KafkaServiceError(`unknown topic or partition ${topic}/${partition}`, 'UNKNOWN_TOPIC_OR_PARTITION');
    return p;
  }

  /** Test helper: appends records as a producer would; returns their offsets. */
  append(
    topic: string,
    partition: number,
    records: ReadonlyArray<Omit<KafkaRecord, 'offset' | 'timestampType'> & { timestampType?: TimestampType }>,
  ): bigint[] {
    const p = this.partition(topic, partition);
    return records.map((r) => {
      const offset = p.next++;
      p.records.push({ ...r, offset, timestampType: r.timestampType ?? TimestampType.CreateTime, headers: r.headers.map((h) => ({ ...h })) });
      return offset;
    });
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
      if (!t) continue;
      out.set(name, [
        ...Object.entries(t.configs).map(([k, value]): TopicConfigEntry => ({ name: k, value, source: 'topic', sensitive: false })),
        { name: 'segment.bytes', value: '1073741824', source: 'other', sensitive: false },
      ]);
    }
    return out;
  }

  async createTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.enter('createTopics');
    const taken = specs.filter((s) => this.topics.has(s.topic));
    if (taken.length > 0) throw new KafkaServiceError(`Kafka failed while creating topics: topic ${taken[0]!.topic} already exists`, 'TOPIC_ALREADY_EXISTS');
    for (const s of specs) {
      if (s.replicationFactor > this.brokerCount)
        throw new KafkaServiceError(`replication factor ${s.replicationFactor} is larger than ${this.brokerCount} brokers`, 'INVALID_REPLICATION_FACTOR');
      this.topics.set(s.topic, {
        id: randomBytes(16).toString('base64url'),
        partitions: Array.from({ length: s.partitions }, () => ({ records: [], logStart: 0n, next: 0n })),
        replicationFactor: s.replicationFactor,
        configs: { ...s.configs },
      });
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
    return t.partitions.map((p, partition) => ({ partition, offset: p.records.find((r) => r.timestamp >= BigInt(timestampMs))?.offset ?? -1n }));
  }

  async readRanges(targets: readonly RangeTarget[], _opts: ReadOptions, handlers: RangeHandlers): Promise<void> {
    this.enter('readRanges');
    for (const t of targets) {
      const p = this.partition(t.topic, t.partition);
      for (const r of p.records) {
        if (r.offset < t.start || r.offset >= t.end) continue;
        await handlers.onRecord(t, { ...r, headers: r.headers.map((h) => ({ ...h })) });
      }
      handlers.onPosition?.(t, t.end);
      await handlers.onPartitionDone(t);
    }
  }

  async producer(): Promise<RecordProducer> {
    this.enter('producer');
    return {
      send: async (topic: string, partition: number, records: readonly ProduceRecord[]) => {
        this.enter('send');
        this.append(
          topic,
          partition,
          records.map((r) => ({ timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers.map((h) => ({ ...h })) })),
        );
      },
      close: async () => undefined,
    };
  }

  async listGroups(): Promise<GroupListing[]> {
    this.enter('listGroups');
    return [...this.groups.keys()].map((groupId) => ({ groupId, protocolType: 'consumer' }));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    this.enter('describeGroups');
    return groupIds.map((groupId) => {
      const g = this.groups.get(groupId);
      return { groupId, state: g && g.members.length > 0 ? 'Stable' : 'Empty', members: g ? g.members.map((m) => ({ ...m })) : [] };
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
    for (const g of groupIds) this.groups.delete(g);
  }

  isInternalGroup(): boolean {
    return false;
  }

  async close(): Promise<void> {}
}
