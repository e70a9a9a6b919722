/**
 * The Kafka operations lanes need beyond what restore already used: retries of retriable
 * errors with backoff and a deadline, waiting for the leaders of new partitions, topic IDs
 * (read with Metadata v10+ on the wire: kafkajs 2.2.4 speaks Metadata up to v6, which has
 * no topic IDs), the target's effective min.insync.replicas, the lane ledger topic (create,
 * read, write), and consumer-group listing/deletion. One module so the Kafka adapter can
 * absorb it.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors';
import { foldLedger, encodeLedgerEntry, type LedgerEntry, type LedgerRead } from '../lane/ledger';
import type { Logger } from '../output/logger';
import { readRanges } from './read-ranges';
import { ConfigResourceTypes, loadKafkajsModule, type Admin, type Kafka, type Producer } from './kafkajs';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kafka error codes that go away by themselves: leadership moving, metadata settling, coordinators loading. */
const RETRIABLE_TYPES = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'REQUEST_TIMED_OUT',
  'NOT_CONTROLLER',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FETCH_SESSION_ID_NOT_FOUND',
  'REBALANCE_IN_PROGRESS',
]);

/** Whether an error (or the error it wraps, or any of several it reports) is worth retrying. */
export function isRetriable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  const e = err as { type?: string; retriable?: boolean; name?: string; originalError?: unknown; cause?: unknown; errors?: unknown[] };
  if (e.type !== undefined && RETRIABLE_TYPES.has(e.type)) return true;
  if (e.name === 'KafkaJSProtocolError' && e.retriable === true) return true;
  if (e.name === 'KafkaJSConnectionClosedError' || e.name === 'KafkaJSRequestTimeoutError') return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => isRetriable(x, depth + 1))) return true;
  return isRetriable(e.originalError, depth + 1) || isRetriable(e.cause, depth + 1);
}

export interface RetryOptions {
  /** Give up this long after the first attempt (default 60 s). */
  deadlineMs?: number;
  logger?: Logger;
}

/** Runs `fn`, retrying retriable Kafka errors with exponential backoff (200 ms doubling to 3 s, jittered) until the deadline. */
export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const wait = Math.min(3000, 200 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      if (!isRetriable(err) || Date.now() + wait > deadline) throw err;
      opts.logger?.debug({ what, attempt, err: (err as Error).message }, 'retrying a retriable Kafka error');
      await sleep(wait);
    }
  }
}

/**
 * Waits until every partition of the topics has a leader that answers ListOffsets: right
 * after CreateTopics the controller knows the leaders before the broker serves them, and
 * a produce then fails with NOT_LEADER_OR_FOLLOWER (seen with 60+ partitions).
 */
export async function waitForLeaders(admin: Admin, topics: Array<{ name: string; partitions: number }>, timeoutMs = 60_000): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
      const missing = topics.filter((t) => {
        const m = meta.topics.find((x) => x.name === t.name);
        return !m || m.partitions.length !== t.partitions || m.partitions.some((p) => p.leader < 0);
      });
      if (missing.length === 0) {
        for (const t of topics) {
          const offsets = await admin.fetchTopicOffsets(t.name);
          if (offsets.length !== t.partitions) throw Object.assign(new Error(`${t.name} answers ${offsets.length} of ${t.partitions} partitions`), { type: 'LEADER_NOT_AVAILABLE' });
        }
        return;
      }
      last = `${missing.map((t) => t.name).join(', ')} without leaders`;
    } catch (err) {
      if (!isRetriable(err)) throw err;
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new ServiceError('kafka', `lane topics have no leaders ${timeoutMs / 1000}s after creation: ${last}`, 'check the broker logs; rerun with --resume');
    await sleep(250);
  }
}

/** The target's effective min.insync.replicas (a broker config), null when it cannot be read. */
export async function targetMinInsyncReplicas(admin: Admin): Promise<number | null> {
  try {
    const { brokers } = await admin.describeCluster();
    if (brokers.length === 0) return null;
    const res = await withRetry('describing broker configs', () =>
      admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: String(brokers[0]!.nodeId), configNames: ['min.insync.replicas'] }] }),
    );
    const v = res.resources[0]?.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue;
    return v === undefined || v === null ? null : Number(v);
  } catch {
    // Without DescribeConfigs permission the lane keeps the source's own value.
    return null;
  }
}

// ---- topic IDs: Metadata v10-v12 on the wire ---------------------------------------

const METADATA_API_KEY = 3;

/** Kafka's Uuid.toString(): base64url without padding. */
export function uuidToString(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** Minimal reader for the flexible (compact) Kafka encoding. */
class WireReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  int8(): number {
    return this.buf.readInt8(this.pos++);
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.buf.readUInt8(this.pos++);
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new Error('malformed varint');
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new Error('truncated response');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  compactString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.bytes(n - 1).toString('utf8');
  }
  compactArray<T>(item: () => T): T[] {
    const n = this.uvarint();
    const out: T[] = [];
    for (let i = 0; i < n - 1; i++) out.push(item());
    return out;
  }
  taggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.bytes(this.uvarint());
    }
  }
}

function uvarintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Pure: a Metadata v10-v12 request body, prefixed with the request header v2's empty tagged fields. */
export function encodeMetadataRequest(version: number, topics: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0])]; // header v2 tagged fields (kafkajs writes the v1 header before this)
  parts.push(Buffer.from(uvarintBytes(topics.length + 1)));
  for (const t of topics) {
    const name = Buffer.from(t, 'utf8');
    parts.push(Buffer.alloc(16), Buffer.from(uvarintBytes(name.length + 1)), name, Buffer.from([0]));
  }
  parts.push(Buffer.from([0])); // allow_auto_topic_creation = false
  if (version === 10) parts.push(Buffer.from([0])); // include_cluster_authorized_operations
  parts.push(Buffer.from([0])); // include_topic_authorized_operations
  parts.push(Buffer.from([0])); // tagged fields
  return Buffer.concat(parts);
}

export interface TopicMetadataWithId {
  name: string;
  errorCode: number;
  id: string;
  partitions: Array<{ partition: number; leader: number; errorCode: number }>;
}

/** Pure: the topics of a Metadata v10-v12 response payload (after the correlation ID). */
export function decodeMetadataResponse(payload: Buffer): TopicMetadataWithId[] {
  const r = new WireReader(payload);
  r.taggedFields(); // response header v1
  r.int32(); // throttle_time_ms
  r.compactArray(() => {
    r.int32();
    r.compactString();
    r.int32();
    r.compactString();
    r.taggedFields();
  });
  r.compactString(); // cluster_id
  r.int32(); // controller_id
  return r.compactArray(() => {
    const errorCode = r.int16();
    const name = r.compactString() ?? '';
    const id = uuidToString(r.bytes(16));
    r.int8(); // is_internal
    const partitions = r.compactArray(() => {
      const pErr = r.int16();
      const partition = r.int32();
      const leader = r.int32();
      r.int32(); // leader_epoch
      for (let i = 0; i < 3; i++) r.compactArray(() => r.int32());
      r.taggedFields();
      return { partition, leader, errorCode: pErr };
    });
    r.int32(); // topic_authorized_operations
    r.taggedFields();
    return { name, errorCode, id, partitions };
  });
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: { versions: Record<number, { minVersion: number; maxVersion: number }> | null; seedBroker: { connectionPool: { send(req: unknown): Promise<unknown> } } };
}

// kafkajs's request framing only accepts its own Encoder, from kbak's private copy (see kafkajs.ts).
const KafkajsEncoder = loadKafkajsModule('src/protocol/encoder') as unknown as new () => { writeBuffer(b: Buffer): unknown };

/** kafkajs keeps its cluster factory behind a private symbol; it carries the TLS/SASL settings. */
function createCluster(kafka: Kafka): KafkajsCluster {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = sym ? (kafka as unknown as Record<symbol, unknown>)[sym] : undefined;
  if (typeof factory !== 'function') throw new ServiceError('kafka', 'cannot read topic IDs: this kafkajs version is not supported', 'use the kafkajs version in package-lock.json');
  return (factory as (o: object) => KafkajsCluster)({ allowAutoTopicCreation: false });
}

/**
 * Topic name → Kafka topic ID for the topics that exist (absent ones are left out).
 * Throws when the broker is older than Kafka 2.8 (no Metadata v10): ownership by topic ID
 * is then impossible and kbak says so instead of guessing.
 */
export async function fetchTopicIds(kafka: Kafka, topics: string[]): Promise<Map<string, TopicMetadataWithId>> {
  const out = new Map<string, TopicMetadataWithId>();
  if (topics.length === 0) return out;
  const cluster = createCluster(kafka);
  try {
    await cluster.connect();
    const max = cluster.brokerPool.versions?.[METADATA_API_KEY]?.maxVersion ?? 0;
    if (max < 10) throw new ServiceError('kafka', `the target broker speaks Metadata up to v${max}: kbak needs topic IDs (Kafka 2.8 or newer) to know which topics a lane owns`);
    const version = Math.min(max, 12);
    const topicsResp = await withRetry('reading topic IDs', async () => {
      const resp = (await cluster.brokerPool.seedBroker.connectionPool.send({
        request: { apiKey: METADATA_API_KEY, apiVersion: version, apiName: 'Metadata', encode: async () => new KafkajsEncoder().writeBuffer(encodeMetadataRequest(version, topics)) },
        response: { decode: async (payload: Buffer) => decodeMetadataResponse(payload), parse: async (d: unknown) => d },
      })) as TopicMetadataWithId[];
      const leaderless = resp.find((t) => t.errorCode === 5 /* LEADER_NOT_AVAILABLE */);
      if (leaderless) throw Object.assign(new ServiceError('kafka', `topic ${leaderless.name} has no leader yet`, 'check the broker logs and retry'), { type: 'LEADER_NOT_AVAILABLE' });
      return resp;
    });
    for (const t of topicsResp) if (t.errorCode === 0) out.set(t.name, t);
    return out;
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

// ---- the ledger topic ---------------------------------------------------------------

/** Creates the compacted ledger topic when it is missing (one partition: one ordered history). */
export async function ensureLedgerTopic(admin: Admin, topic: string): Promise<void> {
  const existing = await withRetry('listing topics', () => admin.listTopics());
  if (existing.includes(topic)) return;
  const brokers = (await admin.describeCluster()).brokers.length;
  try {
    await withRetry('creating the lane ledger', () =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: 1,
            replicationFactor: Math.min(3, Math.max(1, brokers)),
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'retention.ms', value: '-1' },
              { name: 'min.compaction.lag.ms', value: '0' },
            ],
          },
        ],
      }),
    );
  } catch (err) {
    // Another kbak run created it at the same moment.
    if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS' && !/already exists/i.test((err as Error).message)) throw err;
  }
  await waitForLeaders(admin, [{ name: topic, partitions: 1 }]);
}

/** Reads the whole ledger (every partition, start to end) and folds it; an absent ledger topic is an empty ledger. */
export async function readLedger(kafka: Kafka, admin: Admin, topic: string, logger: Logger, clientGroupPrefix = 'kbak-ledger-'): Promise<LedgerRead> {
  const listed = await withRetry('listing topics', () => admin.listTopics());
  if (!listed.includes(topic)) return { entries: new Map(), invalid: [] };
  const offsets = await withRetry('reading ledger offsets', () => admin.fetchTopicOffsets(topic));
  const ranges = offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => ({ topic, partition: o.partition, start: BigInt(o.low), end: BigInt(o.high) }));
  const records: Array<{ partition: number; offset: bigint; key: Buffer | null; value: Buffer | null }> = [];
  if (ranges.length > 0) {
    const groupId = `${clientGroupPrefix}${randomBytes(8).toString('hex')}`;
    try {
      await readRanges(
        kafka,
        ranges,
        { groupId, concurrency: 1, stallTimeoutMs: 60_000, logger },
        {
          onRecord: async (target, r) => {
            records.push({ partition: target.partition, offset: r.offset, key: r.key, value: r.value });
          },
          onPartitionDone: async () => undefined,
        },
      );
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  }
  records.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  return foldLedger(records);
}

/** Writes a lane's ledger record and waits for the acknowledgement of every in-sync replica. */
export async function writeLedgerEntry(producer: Producer, topic: string, entry: LedgerEntry): Promise<void> {
  const { key, value } = encodeLedgerEntry(entry);
  await producer.send({ topic, acks: -1, messages: [{ key, value }] });
}

/** Removes a lane from the ledger (a tombstone; compaction drops the key). */
export async function deleteLedgerEntry(producer: Producer, topic: string, lane: string): Promise<void> {
  await producer.send({ topic, acks: -1, messages: [{ key: Buffer.from(lane, 'utf8'), value: null }] });
}

// ---- consumer groups ----------------------------------------------------------------

/** Which of the groups exist on the cluster (any state but Dead). */
export async function existingGroups(admin: Admin, groupIds: string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set();
  const { groups } = await withRetry('listing consumer groups', () => admin.listGroups());
  const all = new Set(groups.map((g) => g.groupId));
  return new Set(groupIds.filter((g) => all.has(g)));
}

export async function groupMembers(admin: Admin, groupIds: string[]): Promise<Map<string, Array<{ clientId: string }>>> {
  if (groupIds.length === 0) return new Map();
  const { groups } = await withRetry('describing consumer groups', () => admin.describeGroups(groupIds));
  return new Map(groups.map((g) => [g.groupId, g.members.map((m) => ({ clientId: m.clientId }))]));
}

/** Deletes groups; returns the ones that could not be deleted (e.g. active members) with the reason. */
export async function deleteGroups(admin: Admin, groupIds: string[]): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  if (groupIds.length === 0) return failed;
  try {
    await withRetry('deleting consumer groups', () => admin.deleteGroups(groupIds));
  } catch (err) {
    const groups = (err as { groups?: Array<{ groupId: string; errorCode: number; error?: { type?: string; message?: string } }> }).groups;
    if (!groups) throw err;
    for (const g of groups) {
      if (g.errorCode !== 0 && g.error?.type !== 'GROUP_ID_NOT_FOUND') failed.set(g.groupId, g.error?.type ?? `error ${g.errorCode}`);
    }
  }
  return failed;
}
