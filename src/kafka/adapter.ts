/**
 * What kbak needs from a Kafka cluster, in kbak's own terms: bigint offsets, records with
 * byte-exact headers, plain data instead of client objects. Dump, restore and the lane
 * commands depend on this interface only; src/kafka/kafkajs-adapter.ts implements it with
 * kafkajs, src/kafka/memory.ts in memory for tests, and a faster client (one that decodes
 * fetch responses itself) can implement it later without touching them.
 *
 * Every method throws kbak errors: ServiceError('kafka') (a KafkaServiceError with the
 * broker's error code when there is one) for anything the cluster or the connection did,
 * with `retriable` saying whether the same call can succeed when repeated (a leader moving,
 * a connection dropped: yes; access denied, a refused request: no). Callers retry with
 * src/util/retry.ts on that field alone and never look at a client library's errors.
 * test/support/adapter-conformance.ts is the contract every adapter passes.
 */
import { ServiceError, type KbakErrorOptions } from '../errors';
import type { PartitionOffsets } from '../model/offsets';
import type { BackupRecord } from '../segment/record';
import type { BatchHeader } from './protocol/batch-decoder';
import type { CodecName } from './protocol/codecs';
import type { PlacedRecordSet } from './protocol/record-batch';
import type { WireHeader } from './protocol/record';

export type { PlacedRecordSet, WireHeader };

/**
 * Kafka error codes that go away by themselves, under their current and their older names
 * (kafkajs uses the older): a leader moving or being elected, metadata settling, a group
 * coordinator moving or loading, replicas catching up, a fetch session expiring. Kafka's
 * protocol marks them retriable; REBALANCE_IN_PROGRESS is added: a group's rebalance ends
 * by itself too.
 */
export const RETRIABLE_KAFKA_CODES: ReadonlySet<string> = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'REPLICA_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_CONTROLLER',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FETCH_SESSION_ID_NOT_FOUND',
  'INVALID_FETCH_SESSION_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'CONCURRENT_TRANSACTIONS',
  'UNSTABLE_OFFSET_COMMIT',
  'REBALANCE_IN_PROGRESS',
]);

/**
 * A failure the cluster reported, with Kafka's error code (`TOPIC_ALREADY_EXISTS`, ...) when it
 * sent one. Retriable by default when the code is one of RETRIABLE_KAFKA_CODES, not when it is
 * another code, and (as any ServiceError) when there is none; the raiser may say otherwise.
 */
export class KafkaServiceError extends ServiceError {
  constructor(
    message: string,
    readonly kafkaCode: string | undefined,
    hint?: string,
    opts?: KbakErrorOptions,
  ) {
    super('kafka', message, hint, { ...opts, retriable: opts?.retriable ?? (kafkaCode === undefined ? undefined : RETRIABLE_KAFKA_CODES.has(kafkaCode)) });
  }
}

/** A record as kbak reads it from Kafka: offset, timestamp (type), key, value, headers in wire order. */
export type KafkaRecord = BackupRecord;

export interface ClusterInfo {
  clusterId: string;
  /** Live brokers. */
  brokers: number;
}

export interface PartitionInfo {
  partition: number;
  /** Leader broker id, -1 while there is none. */
  leader: number;
  replicas: number[];
}

export interface TopicInfo {
  name: string;
  partitions: PartitionInfo[];
}

export interface TopicConfigEntry {
  name: string;
  /** null for sensitive values, which brokers never return. */
  value: string | null;
  /** `topic`: set on the topic itself; anything else comes from broker or default configs. */
  source: 'topic' | 'other';
  sensitive: boolean;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** Kafka's ACL operations that apply to a topic (AclOperation codes 3-8, 10, 11). */
export type TopicOperation = 'READ' | 'WRITE' | 'CREATE' | 'DELETE' | 'ALTER' | 'DESCRIBE' | 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS';

/** What the connected principal may do on one topic. */
export interface TopicAccess {
  /**
   * `exists`: the topic exists and `operations` are those the principal may perform on it;
   * `missing`: no such topic (operations empty); `denied`: the principal may not even
   * describe the topic (TOPIC_AUTHORIZATION_FAILED; operations empty).
   */
  state: 'exists' | 'missing' | 'denied';
  operations: ReadonlySet<TopicOperation>;
}

/** The resource types whose ACLs a dump captures. */
export type AclResourceType = 'TOPIC' | 'GROUP';

/** Which bindings describeAcls returns: every binding of the resource type, whatever its name, pattern, principal, host, operation. */
export interface AclFilter {
  resourceType: AclResourceType;
}

/**
 * One ACL binding as the broker reports it (DescribeAcls). Kafka's own names; an operation
 * code kbak does not know is `UNKNOWN(<code>)`, for the caller to leave out.
 */
export interface AclBindingInfo {
  resourceType: AclResourceType;
  resourceName: string;
  patternType: 'LITERAL' | 'PREFIXED';
  principal: string;
  host: string;
  operation: string;
  permissionType: 'ALLOW' | 'DENY';
}

export interface TimestampOffset {
  partition: number;
  /** First offset with a timestamp at or after the asked time; the partition's end (last stable) offset when there is none. */
  offset: bigint;
}

/** Offsets [start, end) of one partition. */
export interface RangeTarget {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** A Kafka record batch as fetched: header and the records section, decompressed. */
export interface KafkaRecordBatch {
  header: BatchHeader;
  records: Buffer;
}

export interface RangeHandlers {
  /** Awaited: a slow sink slows the fetch loop down (bounded memory). For handlers without onBatch. */
  onRecord(target: RangeTarget, record: KafkaRecord): Promise<void>;
  /**
   * The fast path, for handlers that read record batches themselves (dump): when a handler
   * has it, every adapter hands it every data batch (read_committed filtering done, control
   * batches left out) and never calls onRecord. The batch is what Kafka stores: it can start
   * before `from` and end past the target's end, and its offsets can have gaps (compaction).
   * The handler takes the records with offsets from `from` and below the target's end,
   * moving `from` past each one it takes, and returns where it got to: what onRecord's reader
   * would have advanced to. The adapter then moves past the batch's last offset. Awaited.
   */
  onBatch?(target: RangeTarget, batch: KafkaRecordBatch, from: bigint): Promise<bigint>;
  onPartitionDone(target: RangeTarget): Promise<void>;
  /** The next offset to read (gaps included), for progress. */
  onPosition?(target: RangeTarget, nextOffset: bigint): void;
}

export interface ReadOptions {
  /** Partitions fetched and handled at once. */
  concurrency: number;
  /** Fail when no partition makes progress for this long. */
  stallTimeoutMs: number;
}

/** A record to produce; the broker assigns the offset. */
export interface ProduceRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: bigint;
  headers: readonly WireHeader[];
}

export interface ProducerOptions {
  /** Codec of the produced record batches. */
  compression: CodecName;
}

/**
 * Writes records in order, acknowledged by all in-sync replicas, idempotently (no
 * duplicates on retry): each send is one record batch, appended whole or not at all. Sends to
 * one partition may overlap up to maxInFlight; they are written in call order.
 */
export interface RecordProducer {
  /** Sends one partition takes before the first is acknowledged (absent: 1). */
  readonly maxInFlight?: number;
  send(topic: string, partition: number, records: readonly ProduceRecord[], opts: ProducerOptions): Promise<void>;
  /**
   * Bytes a PlacedRecordSet for `topic` should leave free in front of its records, so that
   * the producer can frame the request and batch header there without copying the records.
   */
  headroom(topic: string): number;
  /**
   * The fast path (restore's transcoder): like send, for records already encoded as a Kafka
   * v2 records section (offset deltas 0..count-1, timestamp deltas from firstTimestamp) at
   * set.buf[start, end). The producer may write into set.buf before `start` and, to compress
   * in place, over the records. Resolves to whether set.buf may be reused for the next set:
   * not while an abandoned (retried) request might still be writing from it.
   */
  sendPlaced(topic: string, partition: number, set: PlacedRecordSet, opts: ProducerOptions): Promise<boolean>;
  close(): Promise<void>;
}

export interface GroupListing {
  groupId: string;
  /** `consumer` for groups that commit offsets, '' for simple (admin-only) groups. */
  protocolType: string;
}

export interface GroupDescription {
  groupId: string;
  /** Kafka's group state: `Empty` (no members), `Stable`, `PreparingRebalance`, ..., `Dead` for a group that does not exist. */
  state: string;
  members: Array<{ memberId: string; clientId: string }>;
}

export interface GroupOffset {
  topic: string;
  partition: number;
  /** -1 when the group has no position on the partition. */
  offset: bigint;
  metadata: string | null;
}

export interface KafkaAdapter {
  /** Bootstrap addresses, for messages. */
  readonly brokers: readonly string[];
  /** The client id kbak connects with (its group members carry it). */
  readonly clientId: string;

  cluster(): Promise<ClusterInfo>;
  listTopics(): Promise<string[]>;
  /** Metadata of existing topics (unknown names are left out). */
  describeTopics(topics: readonly string[]): Promise<TopicInfo[]>;
  /** Every config of each topic, by topic; an unknown topic fails the call (UNKNOWN_TOPIC_OR_PARTITION). */
  describeTopicConfigs(topics: readonly string[]): Promise<Map<string, TopicConfigEntry[]>>;
  /**
   * Creates the topics and returns once the controller accepted them, before their leaders are
   * elected: callers wait for leaders with lane-ops waitForLeaders, which checks more (every
   * partition answers ListOffsets) than kafkajs's own wait, a metadata poll with a 100 ms sleep.
   */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  /**
   * Asks whether createTopics(specs) would be accepted, creating nothing (CreateTopics with
   * validate_only): fails as createTopics would (TOPIC_AUTHORIZATION_FAILED or
   * CLUSTER_AUTHORIZATION_FAILED without the right to create, TOPIC_ALREADY_EXISTS,
   * INVALID_REPLICATION_FACTOR, a policy's refusal), resolves when the controller would create them.
   */
  validateCreateTopics(specs: readonly TopicSpec[]): Promise<void>;
  /**
   * Replaces the topic-level configs of a topic with exactly `configs` (AlterConfigs: a config
   * left out returns to the broker's default). Recovery writes a topic first and gives it its
   * retention, timestamp and compaction settings afterwards. An unknown topic fails the call.
   */
  setTopicConfigs(topic: string, configs: Readonly<Record<string, string>>): Promise<void>;
  /**
   * What the connected principal may do on each topic, from the Metadata response's authorized
   * operations (Metadata v10+, asked with include_topic_authorized_operations): by topic, every
   * name asked for. Changes nothing; a broker's authorizer decides, so no authorizer means every operation.
   */
  topicAccess(topics: readonly string[]): Promise<Map<string, TopicAccess>>;
  /** Deletes the topics and waits until the cluster no longer lists them (a KafkaServiceError, retriable, after timeoutMs). */
  deleteTopics(topics: readonly string[], timeoutMs: number): Promise<void>;
  /**
   * Kafka topic IDs of the topics that exist (unknown names are left out). A topic deleted
   * and recreated under the same name gets a new ID: lanes own their topics by ID.
   */
  topicIds(topics: readonly string[]): Promise<Map<string, string>>;
  /**
   * The ACL bindings the filter selects (DescribeAcls; changes nothing). Fails with the broker's
   * code when it cannot answer: SECURITY_DISABLED (no authorizer), CLUSTER_AUTHORIZATION_FAILED
   * (the principal may not describe ACLs: DESCRIBE on the cluster).
   */
  describeAcls(filter: AclFilter): Promise<AclBindingInfo[]>;
  /**
   * Creates the ACL bindings (CreateAcls; an empty list sends nothing). A binding the cluster
   * already has is kept once, so creating again is harmless. Fails with the broker's code:
   * SECURITY_DISABLED (no authorizer), CLUSTER_AUTHORIZATION_FAILED (the principal may not
   * alter ACLs: ALTER on the cluster), INVALID_REQUEST (a binding Kafka refuses); Kafka takes
   * each binding alone, so those it accepted before a refusal stay. An operation that is not
   * one of Kafka's (protocol/acl-codes.ts) is a UsageError, before anything is sent.
   */
  createAcls(bindings: readonly AclBindingInfo[]): Promise<void>;
  /** A broker config's effective value (of the first broker), null when it has none. */
  brokerConfig(name: string): Promise<string | null>;

  /**
   * Bytes on disk of each partition's largest replica (DescribeLogDirs), keyed by
   * model/partition-key.ts's partitionKey(topic, partition), for every partition of the topics
   * that exist (unknown names are left out). Null when the cluster does not say: the principal
   * may not (DescribeLogDirs needs DESCRIBE on the cluster) or the brokers do not speak it;
   * never an error for that. For balancing work by bytes; not exact (segment and index overhead).
   */
  partitionSizes(topics: readonly string[]): Promise<Map<string, bigint> | null>;

  /** Log start and last stable offset of every partition of a topic, by partition. */
  listOffsets(topic: string): Promise<PartitionOffsets[]>;
  offsetsForTimestamp(topic: string, timestampMs: number): Promise<TimestampOffset[]>;

  /**
   * Reads every target's committed records in offset order and stops each partition at its
   * end, by offset (gaps from compaction, markers and aborted records included), even while
   * producers keep writing.
   */
  readRanges(targets: readonly RangeTarget[], opts: ReadOptions, handlers: RangeHandlers): Promise<void>;
  producer(): Promise<RecordProducer>;

  listGroups(): Promise<GroupListing[]>;
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  /** The group's position on every partition of the topics (-1 where it has none, and for an unknown group). */
  fetchGroupOffsets(groupId: string, topics: readonly string[]): Promise<GroupOffset[]>;
  /**
   * Sets a group's offsets without joining it (the group becomes or stays a simple group,
   * protocol type ''). Refused for a group with members (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION
   * or REBALANCE_IN_PROGRESS), so a running consumer is never overruled.
   */
  commitGroupOffsets(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: bigint }>): Promise<void>;
  /** Deletes the groups and their offsets; an unknown group fails the call with GROUP_ID_NOT_FOUND (the others are deleted). */
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  /**
   * Groups kbak's own reads used to create (`kbak-dump-<hex>` and the like, before reads went
   * straight to the partition leaders) and a killed run may have left: never user data.
   */
  isInternalGroup(groupId: string): boolean;

  close(): Promise<void>;
}

/** The names of the groups kbak's reads used to create (KafkaAdapter.isInternalGroup). */
export function isKbakInternalGroup(groupId: string): boolean {
  return /^kbak-(dump|restore|verify)-[0-9a-f]{16}$/.test(groupId);
}
