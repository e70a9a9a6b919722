/**
 * Kafka topic IDs through Metadata v10-v12 on the wire: kafkajs 2.2.4 speaks Metadata up to
 * v6, which has no topic IDs. The request goes through kafkajs's own connection (TLS, SASL,
 * framing) of kbak's private copy; only the body is encoded and decoded here. The
 * request header v2 of flexible versions is kafkajs's v1 header plus empty tagged fields,
 * which the body starts with.
 */
import { ServiceError } from '../errors';
import { retry, type RetryPolicy } from '../util/retry';
import { KafkaServiceError } from './adapter';
import { loadKafkajsModule, type Kafka } from './kafkajs';
import { retriableRequest } from './kafkajs-errors';

const METADATA_API_KEY = 3;
/** A just-created topic without a leader yet (LEADER_NOT_AVAILABLE), a connection dropping: asked again every 250 ms for up to 30 s. */
const TOPIC_IDS_RETRY: RetryPolicy = { initialMs: 250, maxMs: 250, factor: 1, deadlineMs: 30_000 };

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

export interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: {
    versions: Record<number, { minVersion: number; maxVersion: number }> | null;
    seedBroker: { connectionPool: { send(req: unknown): Promise<unknown> } };
  };
}

// kafkajs's request framing only accepts its own Encoder, from kbak's private copy (see kafkajs.ts).
const KafkajsEncoder = loadKafkajsModule('src/protocol/encoder') as unknown as new () => { writeBuffer(b: Buffer): unknown };

/** kafkajs keeps its cluster factory behind a private symbol; it carries the TLS/SASL settings. */
export function createCluster(kafka: Kafka): KafkajsCluster {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = sym ? (kafka as unknown as Record<symbol, unknown>)[sym] : undefined;
  if (typeof factory !== 'function')
    throw new ServiceError('kafka', 'cannot read topic IDs: this kafkajs version is not supported', 'use the kafkajs version in package-lock.json', {
      retriable: false,
    });
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
    if (max < 10)
      throw new ServiceError(
        'kafka',
        `the target broker speaks Metadata up to v${max}: kbak needs topic IDs (Kafka 2.8 or newer) to know which topics a lane owns`,
        undefined,
        { retriable: false },
      );
    const version = Math.min(max, 12);
    const topicsResp = await retry(
      async () => {
        const resp = (await cluster.brokerPool.seedBroker.connectionPool.send({
          request: {
            apiKey: METADATA_API_KEY,
            apiVersion: version,
            apiName: 'Metadata',
            encode: async () => new KafkajsEncoder().writeBuffer(encodeMetadataRequest(version, topics)),
          },
          response: { decode: async (payload: Buffer) => decodeMetadataResponse(payload), parse: async (d: unknown) => d },
        })) as TopicMetadataWithId[];
        const leaderless = resp.find((t) => t.errorCode === 5 /* LEADER_NOT_AVAILABLE */);
        if (leaderless) throw new KafkaServiceError(`topic ${leaderless.name} has no leader yet`, 'LEADER_NOT_AVAILABLE', 'check the broker logs and retry');
        return resp;
      },
      TOPIC_IDS_RETRY,
      { retriable: retriableRequest },
    );
    for (const t of topicsResp) if (t.errorCode === 0) out.set(t.name, t);
    return out;
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
