/**
 * The DescribeLogDirs v1 request and response bodies (API key 35): how many bytes each
 * replica's log takes on a broker's disks. kafkajs 2.2.4 does not have the request. v1 is
 * the newest version that is not flexible, and every broker from Kafka 1.1 to 4.x speaks it
 * (v0 is deprecated; v2+ only add compact encodings and, in v3+, a top-level error code).
 * Pure (wire.ts's reader): client/log-dir-sizes.ts sends the request.
 *
 * Request v1 (Kafka's DescribeLogDirsRequest.json):
 *   topics: nullable array (int32 count, -1 = every topic) of
 *     topic string (int16 length), partitions array of int32
 * Response v1 (after the correlation ID; response header v0 has nothing else):
 *   throttle_time_ms int32,
 *   results array of
 *     error_code int16, log_dir string,
 *     topics array of
 *       name string,
 *       partitions array of partition_index int32, partition_size int64, offset_lag int64, is_future_key bool
 *
 * The response comes from a broker, which kbak does not trust: every read is bounds-checked
 * and every array count is checked against the bytes left (each element takes at least its
 * fixed-size fields), so a hostile count is refused before anything is allocated or looped over.
 */
import { WireReader, type WireFail } from './wire';

export const DESCRIBE_LOG_DIRS_API_KEY = 35;
export const DESCRIBE_LOG_DIRS_VERSION = 1;

/** A topic name is an int16-length string on the wire. */
const MAX_STRING16_BYTES = 0x7fff;

/** Which partitions of a topic the request asks about. */
export interface LogDirTopicRequest {
  topic: string;
  partitions: readonly number[];
}

/**
 * A DescribeLogDirs v1 request body for these topic-partitions; null asks about every
 * partition the broker hosts.
 */
export function encodeDescribeLogDirsRequest(topics: readonly LogDirTopicRequest[] | null): Buffer {
  if (topics === null) {
    const buf = Buffer.alloc(4);
    buf.writeInt32BE(-1, 0);
    return buf;
  }
  const names = topics.map((t) => {
    const name = Buffer.from(t.topic, 'utf8');
    // Kafka's own limit is 249 characters; past the int16 length the request could not even say it.
    if (name.length > MAX_STRING16_BYTES) throw new RangeError(`topic name of ${name.length} bytes is too long for a DescribeLogDirs request`);
    return name;
  });
  let size = 4;
  topics.forEach((t, i) => (size += 2 + names[i]!.length + 4 + 4 * t.partitions.length));
  const buf = Buffer.alloc(size);
  let pos = buf.writeInt32BE(topics.length, 0);
  topics.forEach((t, i) => {
    const name = names[i]!;
    pos = buf.writeInt16BE(name.length, pos);
    pos += name.copy(buf, pos);
    pos = buf.writeInt32BE(t.partitions.length, pos);
    for (const p of t.partitions) pos = buf.writeInt32BE(p, pos);
  });
  return buf;
}

export interface LogDirPartition {
  partition: number;
  /** Bytes of the replica's log segments in this directory. */
  size: bigint;
  offsetLag: bigint;
  /** A replica being moved to this directory (AlterReplicaLogDirs): it will replace the current one. */
  isFuture: boolean;
}

export interface LogDirResult {
  /** Kafka's error code for the directory: 0, KAFKA_STORAGE_ERROR (an offline directory), ... */
  errorCode: number;
  logDir: string;
  topics: Array<{ name: string; partitions: LogDirPartition[] }>;
}

export interface DescribeLogDirsResponse {
  throttleTimeMs: number;
  results: LogDirResult[];
}

/** A DescribeLogDirs response that does not parse: truncated, or a count larger than the bytes left could hold. */
export class DescribeLogDirsResponseError extends Error {
  override readonly name = 'DescribeLogDirsResponseError';
}

const logDirsFault: WireFail = (fault, pos) =>
  new DescribeLogDirsResponseError(
    fault === 'malformed' ? `malformed DescribeLogDirs response at byte ${pos}` : `DescribeLogDirs response truncated at byte ${pos}`,
  );

/** The least bytes one element takes: a result (error code, empty log dir, topic count), a topic (empty name, partition count), a partition. */
const RESULT_MIN_BYTES = 2 + 2 + 4;
const TOPIC_MIN_BYTES = 2 + 4;
const PARTITION_BYTES = 4 + 8 + 8 + 1;

/**
 * An int32 array count, refused when negative (v1's response arrays are not nullable) or
 * when that many elements of at least `minBytes` each cannot fit in what is left.
 */
function arrayCount(r: WireReader, minBytes: number, what: string): number {
  const at = r.pos;
  const n = r.int32();
  if (n < 0) throw new DescribeLogDirsResponseError(`DescribeLogDirs response has a negative ${what} count (${n}) at byte ${at}`);
  if (n > (r.end - r.pos) / minBytes)
    throw new DescribeLogDirsResponseError(
      `DescribeLogDirs response truncated: ${n} ${what} at byte ${at} need at least ${n * minBytes} bytes, ${r.end - r.pos} are left`,
    );
  return n;
}

/** A non-nullable int16-length string. */
function string16(r: WireReader, what: string): string {
  const at = r.pos;
  const n = r.int16();
  if (n < 0) throw new DescribeLogDirsResponseError(`DescribeLogDirs response has a null ${what} at byte ${at}`);
  return r.raw(n).toString('utf8');
}

/** A DescribeLogDirs v1 response payload (after the correlation ID). */
export function decodeDescribeLogDirsResponse(payload: Buffer): DescribeLogDirsResponse {
  const r = new WireReader(payload, 0, payload.length, logDirsFault);
  const throttleTimeMs = r.int32();
  const results: LogDirResult[] = [];
  for (let i = arrayCount(r, RESULT_MIN_BYTES, 'log dirs'); i > 0; i--) {
    const errorCode = r.int16();
    const logDir = string16(r, 'log dir');
    const topics: LogDirResult['topics'] = [];
    for (let j = arrayCount(r, TOPIC_MIN_BYTES, 'topics'); j > 0; j--) {
      const name = string16(r, 'topic name');
      const partitions: LogDirPartition[] = [];
      for (let k = arrayCount(r, PARTITION_BYTES, 'partitions'); k > 0; k--) {
        const partition = r.int32();
        const size = r.int64();
        const offsetLag = r.int64();
        const isFuture = r.int8() !== 0;
        partitions.push({ partition, size, offsetLag, isFuture });
      }
      topics.push({ name, partitions });
    }
    results.push({ errorCode, logDir, topics });
  }
  if (r.pos !== r.end) throw new DescribeLogDirsResponseError(`DescribeLogDirs response has ${r.end - r.pos} bytes past its end`);
  return { throttleTimeMs, results };
}
