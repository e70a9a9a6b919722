/**
 * What kbak needs from a Kafka cluster, in kbak's own terms: bigint offsets, records with
 * byte-exact headers, plain data instead of client objects. Dump, restore and the lane
 * commands depend on this interface only; src/kafka/kafkajs-adapter.ts implements it with
 * kafkajs, src/kafka/memory.ts in memory for tests, and a faster client (one that decodes
 * fetch responses itself) can implement it later without touching them.
 *
 * Every method throws kbak errors: ServiceError('kafka') (a KafkaServiceError with the
 * broker's error code when there is one) for anything the cluster or the connection did.
 */
import { ServiceError, type KbakErrorOptions } from '../errors';
import type { PartitionOffsets } from '../model/offsets';
import type { BackupRecord } from '../segment/record';
import type { BatchHeader } from './batch-decoder';
import type { CodecName } from './codecs';
import type { PlacedRecordSet } from './record-batch';
import type { WireHeader } from './wire-patch';

export type { WireHeader };

/** A failure the cluster reported, with Kafka's error code (`TOPIC_ALREADY_EXISTS`, ...) when it sent one. */
export class KafkaServiceError extends ServiceError {
  constructor(
    message: string,
    readonly kafkaCode: string | undefined,
    hint?: string,
    opts?: KbakErrorOptions,
  ) {
    super('kafka', message, hint, opts);
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

export interface TimestampOffset {
  partition: number;
  /** First offset with a timestamp at or after the asked time; -1 when there is none. */
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
  /** Awaited: a slow sink slows the fetch loop down (bounded memory). */
  onRecord(target: RangeTarget, record: KafkaRecord): Promise<void>;
  /**
   * Optional, for handlers that read record batches themselves: a reader that decodes
   * batches calls it for each data batch (read_committed filtering done) instead of
   * onRecord for each of its records. The handler takes the records with offsets from
   * `from` (a batch can start before it) and below the target's end, moving `from` past
   * each one it takes, and returns where it got to: what onRecord's reader would have
   * advanced to. Awaited, like onRecord.
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
 * duplicates on retry). One send at a time per producer.
 */
export interface RecordProducer {
  send(topic: string, partition: number, records: readonly ProduceRecord[], opts: ProducerOptions): Promise<void>;
  /**
   * Placed sends (restore's fast path), optional until every adapter has them: bytes a
   * PlacedRecordSet for `topic` needs in front of its records to be sent without a copy.
   */
  headroom?(topic: string): number;
  /**
   * Sends records already encoded as a Kafka record set (restore's transcoder), framed in
   * the set's headroom when it has enough. Resolves to whether `set.buf` may be reused.
   */
  sendPlaced?(topic: string, partition: number, set: PlacedRecordSet, opts: ProducerOptions): Promise<boolean>;
  close(): Promise<void>;
}

export interface GroupListing {
  groupId: string;
  /** `consumer` for groups that commit offsets, '' for simple (admin-only) groups. */
  protocolType: string;
}

export interface GroupDescription {
  groupId: string;
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
  describeTopicConfigs(topics: readonly string[]): Promise<Map<string, TopicConfigEntry[]>>;
  /**
   * Creates the topics and returns once the controller accepted them, before their leaders are
   * elected: callers wait for leaders with lane-ops waitForLeaders, which checks more (every
   * partition answers ListOffsets) than kafkajs's own wait, a metadata poll with a 100 ms sleep.
   */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Deletes the topics and waits until the cluster no longer lists them. */
  deleteTopics(topics: readonly string[], timeoutMs: number): Promise<void>;
  /**
   * Kafka topic IDs of the topics that exist (unknown names are left out). A topic deleted
   * and recreated under the same name gets a new ID: lanes own their topics by ID.
   */
  topicIds(topics: readonly string[]): Promise<Map<string, string>>;
  /** A broker config's effective value (of the first broker), null when it has none. */
  brokerConfig(name: string): Promise<string | null>;

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
  fetchGroupOffsets(groupId: string, topics: readonly string[]): Promise<GroupOffset[]>;
  commitGroupOffsets(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: bigint }>): Promise<void>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  /**
   * Groups kbak's own reads used to create (`kbak-dump-<hex>` and the like, before reads went
   * straight to the partition leaders) and a killed run may have left: never user data.
   */
  isInternalGroup(groupId: string): boolean;

  close(): Promise<void>;
}
