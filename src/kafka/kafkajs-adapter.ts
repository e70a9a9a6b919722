/**
 * KafkaAdapter over kbak's private, wire-patched kafkajs copy. Every kafkajs error is turned
 * into a ServiceError('kafka') here, at the boundary, so callers never see kafkajs types.
 */
import { KbakError } from '../errors';
import type { PartitionOffsets } from '../model/offsets';
import type { Logger } from '../output/logger';
import type {
  AclBindingInfo,
  AclFilter,
  ClusterInfo,
  GroupDescription,
  GroupListing,
  GroupOffset,
  KafkaAdapter,
  RangeHandlers,
  RangeTarget,
  ReadOptions,
  RecordProducer,
  TimestampOffset,
  TopicAccess,
  TopicConfigEntry,
  TopicInfo,
  TopicOperation,
  TopicSpec,
} from './adapter';
import { isKbakInternalGroup, KafkaServiceError } from './adapter';
import { ACL_OPERATION_CODES, checkAclOperations, isAclOperation } from './protocol/acl-codes';
import { createAclsDirect } from './client/acl-create';
import { createKafka, type KafkaConnection } from './transport/client';
import { probeBrokers } from './transport/probe';
import { kafkaError } from './transport/kafkajs-errors';
import { adminCluster, commitOffsetsDirect } from './client/group-commit';
import { ConfigResourceTypes, type Admin, type Kafka } from './transport/kafkajs';
import { readRangesDirect } from './client/fetch-reader';
import { fetchTopicIds, fetchTopicMetadata } from './client/topic-ids';
import { fetchLogDirSizes } from './client/log-dir-sizes';
import { TOPIC_OPERATION_BITS, topicOperations, type TopicMetadataWithId } from './protocol/metadata';
import { LeanProducer } from './client/lean-producer';
import { retry, type RetryPolicy } from '../util/retry';

/** Kafka error codes of a Metadata response's topic. */
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const TOPIC_AUTHORIZATION_FAILED = 29;

/** Kafka's ACL codes (AclResourceType, PatternType, AclOperation, AclPermissionType), as DescribeAcls carries them. */
const ACL_RESOURCE_CODES = { TOPIC: 2, GROUP: 3 } as const;
const ACL_PATTERN = { ANY: 1, LITERAL: 3, PREFIXED: 4 } as const;
const ACL_ANY = 1;
/** Kafka's operation names by code: protocol/acl-codes.ts's one table, turned round. */
const ACL_OPERATION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ACL_OPERATION_CODES).map(([name, code]) => [code, name]));
const ACL_PERMISSION_CODES = { DENY: 2, ALLOW: 3 } as const;
const ACL_PERMISSION_NAMES: Record<number, 'DENY' | 'ALLOW'> = { [ACL_PERMISSION_CODES.DENY]: 'DENY', [ACL_PERMISSION_CODES.ALLOW]: 'ALLOW' };

/** kafkajs ConfigSource value for a config set on the topic (DYNAMIC_TOPIC_CONFIG). */
const TOPIC_CONFIG_SOURCE = 1;

/**
 * kafkajs's admin refreshes metadata for every topic it has ever looked at; once one of them
 * is deleted (by another client, e.g. a lane delete), each refresh fails with
 * UNKNOWN_TOPIC_OR_PARTITION. A fresh admin forgets them: one more attempt, at once, with one.
 */
const STALE_ADMIN_RETRY: RetryPolicy = { initialMs: 0, maxMs: 0, attempts: 2 };
/** Deleted topics linger in the listing for a moment: looked for every 250 ms until the caller's timeout. */
const DELETED_POLL: RetryPolicy = { initialMs: 250, maxMs: 250, factor: 1 };

function isUnknownTopic(err: unknown): boolean {
  const e = err as { type?: string; message?: string; cause?: unknown; originalError?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic-partition/.test(e.message ?? '')) return true;
  return (e.cause !== undefined && isUnknownTopic(e.cause)) || (e.originalError !== undefined && isUnknownTopic(e.originalError));
}

export class KafkajsAdapter implements KafkaAdapter {
  readonly brokers: readonly string[];
  readonly clientId: string;
  private readonly kafka: Kafka;
  private admin: Promise<Admin> | null = null;
  /** The first look at the bootstrap brokers (transport/probe.ts), once per adapter. */
  private probe: Promise<void> | null = null;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly logger: Logger,
  ) {
    this.brokers = connection.brokers;
    this.clientId = connection.clientId;
    this.kafka = createKafka(connection, logger);
  }

  /** Runs one admin call; any failure becomes a ServiceError naming what kbak was doing. */
  private async call<T>(doing: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      return await retry(
        async () => {
          try {
            return await fn(await this.connectedAdmin());
          } catch (err) {
            // After a failure of the admin itself the next call starts with a fresh one.
            if (!(err instanceof KbakError)) await this.resetAdmin();
            throw err;
          }
        },
        STALE_ADMIN_RETRY,
        { retriable: (err) => !(err instanceof KbakError) && isUnknownTopic(err) },
      );
    } catch (err) {
      throw kafkaError(err, [...this.brokers], doing);
    }
  }

  private async resetAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = this.firstLook()
        .then(() => admin.connect())
        .then(() => admin);
      // A failed connect must not stick: the next call tries again.
      this.admin.catch(() => (this.admin = null));
    }
    return this.admin;
  }

  /**
   * A refused address or a listener in the other protocol, reported in about 2 s and with the
   * flag to use, before kafkajs spends its retry budget on it (transport/probe.ts).
   */
  private firstLook(): Promise<void> {
    this.probe ??= probeBrokers({ brokers: this.brokers, tls: this.connection.tls.enabled, clientId: this.clientId }).then((r) => {
      this.logger.debug({ attempts: r.attempts, problem: r.error?.message ?? null }, 'first look at the bootstrap brokers');
      if (r.error) throw r.error;
    });
    return this.probe;
  }

  cluster(): Promise<ClusterInfo> {
    return this.call('describing the cluster', async (a) => {
      const c = await a.describeCluster();
      return { clusterId: c.clusterId, brokers: c.brokers.length };
    });
  }

  listTopics(): Promise<string[]> {
    return this.call('listing topics', (a) => a.listTopics());
  }

  describeTopics(topics: readonly string[]): Promise<TopicInfo[]> {
    if (topics.length === 0) return Promise.resolve([]);
    return this.call(`describing topics ${topics.slice(0, 5).join(', ')}`, async (a) => {
      // kafkajs fails the whole call for one unknown name (and keeps asking its metadata for it
      // from then on): only names the cluster lists are asked for.
      const listed = new Set(await a.listTopics());
      const present = [...new Set(topics)].filter((t) => listed.has(t));
      if (present.length === 0) return [];
      const meta = await a.fetchTopicMetadata({ topics: present });
      return meta.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas })).sort((x, y) => x.partition - y.partition),
      }));
    });
  }

  describeTopicConfigs(topics: readonly string[]): Promise<Map<string, TopicConfigEntry[]>> {
    if (topics.length === 0) return Promise.resolve(new Map<string, TopicConfigEntry[]>());
    return this.call('describing topic configs', async (a) => {
      const res = await a.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
      const out = new Map<string, TopicConfigEntry[]>();
      for (const r of res.resources) {
        out.set(
          r.resourceName,
          r.configEntries.map((e) => {
            const source = (e as unknown as { configSource?: number }).configSource;
            const isTopicLevel = source === undefined ? !e.isDefault : source === TOPIC_CONFIG_SOURCE;
            return { name: e.configName, value: e.configValue, source: isTopicLevel ? 'topic' : 'other', sensitive: e.isSensitive };
          }),
        );
      }
      return out;
    });
  }

  createTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.create(specs, false);
  }

  setTopicConfigs(topic: string, configs: Readonly<Record<string, string>>): Promise<void> {
    return this.call(`setting the configs of topic ${topic}`, async (a) => {
      // AlterConfigs (not the incremental call): the topic's configs become exactly these.
      const res = (await a.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      })) as { resources: Array<{ errorCode: number; errorMessage: string | null }> };
      const failed = res.resources.find((r) => r.errorCode !== 0);
      if (failed)
        throw new KafkaServiceError(`Kafka refused the configs of topic ${topic}: ${failed.errorMessage ?? `error code ${failed.errorCode}`}`, undefined);
    });
  }

  validateCreateTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.create(specs, true);
  }

  private create(specs: readonly TopicSpec[], validateOnly: boolean): Promise<void> {
    if (specs.length === 0) return Promise.resolve();
    const names = specs.map((s) => s.topic).join(', ');
    return this.call(`${validateOnly ? 'validating the creation of' : 'creating'} topics ${names}`, async (a) => {
      const created = await a.createTopics({
        validateOnly,
        waitForLeaders: false,
        topics: specs.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
        })),
      });
      // kafkajs answers false, instead of failing, when every topic already exists.
      if (!created)
        throw new KafkaServiceError(
          `Kafka failed while creating topics ${names}: ${specs.length === 1 ? 'the topic already exists' : 'the topics already exist'}`,
          'TOPIC_ALREADY_EXISTS',
        );
    });
  }

  async topicAccess(topics: readonly string[]): Promise<Map<string, TopicAccess>> {
    const names = [...new Set(topics)];
    let meta: TopicMetadataWithId[];
    try {
      meta = await fetchTopicMetadata(this.kafka, names, { authorizedOperations: true });
    } catch (err) {
      if (err instanceof KbakError) throw err;
      throw kafkaError(err, [...this.brokers], 'reading the rights on topics');
    }
    const out = new Map<string, TopicAccess>();
    for (const name of names) {
      const t = meta.find((m) => m.name === name);
      if (!t || t.errorCode === UNKNOWN_TOPIC_OR_PARTITION) out.set(name, { state: 'missing', operations: new Set() });
      else if (t.errorCode === TOPIC_AUTHORIZATION_FAILED) out.set(name, { state: 'denied', operations: new Set() });
      else if (t.errorCode !== 0) throw new KafkaServiceError(`Kafka failed while reading the rights on topic ${name}: error code ${t.errorCode}`, undefined);
      // A broker that does not report them (none before Kafka 2.3) is read as allowing all: the operations themselves still check.
      else
        out.set(name, {
          state: 'exists',
          operations: new Set(topicOperations(t.authorizedOperations) ?? Object.keys(TOPIC_OPERATION_BITS)) as Set<TopicOperation>,
        });
    }
    return out;
  }

  deleteTopics(topics: readonly string[], timeoutMs: number): Promise<void> {
    if (topics.length === 0) return Promise.resolve();
    return this.call(`deleting topics ${topics.join(', ')}`, async (a) => {
      await a.deleteTopics({ topics: [...topics], timeout: timeoutMs });
      const stillListed = (e: unknown): boolean => e instanceof KafkaServiceError && e.retriable;
      await retry(
        async () => {
          const listed = new Set(await a.listTopics());
          const left = topics.filter((t) => listed.has(t));
          if (left.length > 0)
            throw new KafkaServiceError(`topics ${left.join(', ')} are still listed ${timeoutMs / 1000}s after their deletion`, undefined, 'retry');
        },
        { ...DELETED_POLL, deadlineMs: timeoutMs },
        { retriable: stillListed },
      );
    });
  }

  async topicIds(topics: readonly string[]): Promise<Map<string, string>> {
    try {
      const meta = await fetchTopicIds(this.kafka, [...topics]);
      return new Map([...meta].map(([name, m]) => [name, m.id]));
    } catch (err) {
      if (err instanceof KbakError) throw err;
      throw kafkaError(err, [...this.brokers], 'reading topic IDs');
    }
  }

  describeAcls(filter: AclFilter): Promise<AclBindingInfo[]> {
    const type = filter.resourceType;
    return this.call(`describing the ACLs of ${type === 'TOPIC' ? 'topics' : 'groups'}`, async (a) => {
      const { resources } = await a.describeAcls({
        resourceType: ACL_RESOURCE_CODES[type],
        resourcePatternType: ACL_PATTERN.ANY,
        operation: ACL_ANY,
        permissionType: ACL_ANY,
      });
      const out: AclBindingInfo[] = [];
      for (const r of resources) {
        // kafkajs types the codes as its enums; they are Kafka's numbers on the wire.
        const resourceType = Number(r.resourceType);
        const pattern = Number(r.resourcePatternType);
        // A broker answers the filter; anything else (another type, a pattern kbak does not know) is left out.
        if (resourceType !== ACL_RESOURCE_CODES[type]) continue;
        const patternType = pattern === ACL_PATTERN.LITERAL ? 'LITERAL' : pattern === ACL_PATTERN.PREFIXED ? 'PREFIXED' : null;
        if (patternType === null) continue;
        for (const acl of r.acls) {
          const permissionType = ACL_PERMISSION_NAMES[acl.permissionType];
          if (permissionType === undefined) continue;
          out.push({
            resourceType: type,
            resourceName: r.resourceName,
            patternType,
            principal: acl.principal,
            host: acl.host,
            operation: ACL_OPERATION_NAMES[acl.operation] ?? `UNKNOWN(${acl.operation})`,
            permissionType,
          });
        }
      }
      return out;
    });
  }

  async createAcls(bindings: readonly AclBindingInfo[]): Promise<void> {
    if (bindings.length === 0) return;
    checkAclOperations(bindings);
    const creations = bindings.map((b) => ({
      resourceType: ACL_RESOURCE_CODES[b.resourceType],
      resourceName: b.resourceName,
      resourcePatternType: ACL_PATTERN[b.patternType],
      principal: b.principal,
      host: b.host,
      operation: isAclOperation(b.operation) ? ACL_OPERATION_CODES[b.operation] : 0, // checked above
      permissionType: ACL_PERMISSION_CODES[b.permissionType],
    }));
    await this.call(`creating ${bindings.length} ACL binding${bindings.length === 1 ? '' : 's'}`, (a) => createAclsDirect(a, creations));
  }

  brokerConfig(name: string): Promise<string | null> {
    return this.call(`reading broker config ${name}`, async (a) => {
      const { brokers } = await a.describeCluster();
      if (brokers.length === 0) return null;
      const res = await a.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.BROKER, name: String(brokers[0]!.nodeId), configNames: [name] }],
      });
      return res.resources[0]?.configEntries.find((c) => c.configName === name)?.configValue ?? null;
    });
  }

  async partitionSizes(topics: readonly string[]): Promise<Map<string, bigint> | null> {
    // Asked by partition (DescribeLogDirs v1 names them), for the topics the cluster lists.
    const asked = (await this.describeTopics(topics)).map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => p.partition) }));
    try {
      return await fetchLogDirSizes(this.kafka, asked);
    } catch (err) {
      if (err instanceof KbakError) throw err;
      throw kafkaError(err, [...this.brokers], 'reading the sizes of partitions on disk');
    }
  }

  listOffsets(topic: string): Promise<PartitionOffsets[]> {
    // kafkajs's admin asks ListOffsets with read_committed: `high` is the last stable offset.
    return this.call(`listing offsets of ${topic}`, async (a) =>
      (await a.fetchTopicOffsets(topic))
        .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }))
        .sort((x, y) => x.partition - y.partition),
    );
  }

  offsetsForTimestamp(topic: string, timestampMs: number): Promise<TimestampOffset[]> {
    return this.call(`looking up offsets by time in ${topic}`, async (a) =>
      (await a.fetchTopicOffsetsByTimestamp(topic, timestampMs)).map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
    );
  }

  async readRanges(targets: readonly RangeTarget[], opts: ReadOptions, handlers: RangeHandlers): Promise<void> {
    // Fetch straight from the partition leaders (fetch-reader.ts): no consumer group, so
    // nothing is left behind on the cluster.
    try {
      await readRangesDirect(this.kafka, targets, { concurrency: opts.concurrency, stallTimeoutMs: opts.stallTimeoutMs, logger: this.logger }, handlers);
    } catch (err) {
      if (err instanceof KbakError) throw err;
      throw kafkaError(err, [...this.brokers], `reading ${targets.length} partitions`);
    }
  }

  producer(): Promise<RecordProducer> {
    // kbak's own batch encoder over kafkajs's connections (lean-producer.ts).
    return LeanProducer.connect(this.kafka, [...this.brokers], this.clientId);
  }

  listGroups(): Promise<GroupListing[]> {
    return this.call('listing consumer groups', async (a) => (await a.listGroups()).groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })));
  }

  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    if (groupIds.length === 0) return Promise.resolve([]);
    return this.call('describing consumer groups', async (a) =>
      (await a.describeGroups([...groupIds])).groups.map((g) => ({
        groupId: g.groupId,
        state: g.state,
        members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId })),
      })),
    );
  }

  fetchGroupOffsets(groupId: string, topics: readonly string[]): Promise<GroupOffset[]> {
    return this.call(`reading the offsets of group ${groupId}`, async (a) => {
      const out: GroupOffset[] = [];
      for (const t of await a.fetchOffsets({ groupId, topics: [...topics] })) {
        for (const p of t.partitions) out.push({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset), metadata: p.metadata ?? null });
      }
      return out;
    });
  }

  commitGroupOffsets(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: bigint }>): Promise<void> {
    // One generation-less OffsetCommit, not admin.setOffsets (which joins the group): group-commit.ts.
    return this.call(`seeding group ${groupId} on ${topic}`, (a) => commitOffsetsDirect(adminCluster(a), groupId, topic, offsets));
  }

  deleteGroups(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length === 0) return Promise.resolve();
    return this.call(`deleting groups ${groupIds.join(', ')}`, async (a) => {
      await a.deleteGroups([...groupIds]);
    });
  }

  isInternalGroup(groupId: string): boolean {
    return isKbakInternalGroup(groupId);
  }

  async close(): Promise<void> {
    await this.resetAdmin();
  }
}
