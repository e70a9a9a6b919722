/**
 * The Metadata v10-v12 request and response bodies: the versions that carry topic IDs
 * (kafkajs 2.2.4 speaks Metadata up to v6). Flexible versions use request header v2, which
 * is kafkajs's v1 header plus empty tagged fields: the request body starts with them.
 * Pure (wire.ts's reader and writer): client/topic-ids.ts sends the request.
 */
import { ACL_OPERATION_CODES } from './acl-codes';
import { uvarIntSize, WireReader, writeUVarInt, type WireFail } from './wire';

export const METADATA_API_KEY = 3;

/** Kafka's Uuid.toString(): base64url without padding. */
export function uuidToString(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/**
 * Kafka's AclOperation codes of the operations that apply to a topic, in the bit positions
 * of a Metadata response's topic_authorized_operations (bit i set: operation i allowed).
 */
export const TOPIC_OPERATION_BITS = {
  READ: ACL_OPERATION_CODES.READ,
  WRITE: ACL_OPERATION_CODES.WRITE,
  CREATE: ACL_OPERATION_CODES.CREATE,
  DELETE: ACL_OPERATION_CODES.DELETE,
  ALTER: ACL_OPERATION_CODES.ALTER,
  DESCRIBE: ACL_OPERATION_CODES.DESCRIBE,
  DESCRIBE_CONFIGS: ACL_OPERATION_CODES.DESCRIBE_CONFIGS,
  ALTER_CONFIGS: ACL_OPERATION_CODES.ALTER_CONFIGS,
} as const;

/** topic_authorized_operations when they were not asked for (or are unknown): INT32_MIN. */
export const OPERATIONS_NOT_ASKED = -2147483648;

/** The operations a topic_authorized_operations bit field allows; null when they were not asked for. */
export function topicOperations(bits: number): Array<keyof typeof TOPIC_OPERATION_BITS> | null {
  if (bits === OPERATIONS_NOT_ASKED) return null;
  return (Object.keys(TOPIC_OPERATION_BITS) as Array<keyof typeof TOPIC_OPERATION_BITS>).filter((op) => (bits & (1 << TOPIC_OPERATION_BITS[op])) !== 0);
}

/**
 * A Metadata v10-v12 request body, prefixed with the request header v2's empty tagged fields;
 * with `authorizedOperations`, the response carries each topic's authorized operations.
 */
export function encodeMetadataRequest(version: number, topics: string[], opts: { authorizedOperations?: boolean } = {}): Buffer {
  const names = topics.map((t) => Buffer.from(t, 'utf8'));
  // Header v2 tagged fields, the topic array, then allow_auto_topic_creation = false,
  // include_cluster_authorized_operations (v10 only), include_topic_authorized_operations
  // and the body's tagged fields: each one zero byte.
  let size = 1 + uvarIntSize(names.length + 1) + (version === 10 ? 4 : 3);
  for (const name of names) size += 16 + uvarIntSize(name.length + 1) + name.length + 1;
  const buf = Buffer.alloc(size); // zero: the null topic IDs, the false flags, the empty tagged fields
  let pos = writeUVarInt(buf, 1, names.length + 1);
  for (const name of names) {
    pos += 16; // topic_id: none (asked by name)
    pos = writeUVarInt(buf, pos, name.length + 1);
    pos += name.copy(buf, pos);
    pos += 1; // the topic's tagged fields
  }
  // After allow_auto_topic_creation (and v10's include_cluster_authorized_operations).
  if (opts.authorizedOperations) buf[pos + 1 + (version === 10 ? 1 : 0)] = 1;
  return buf;
}

export interface TopicMetadataWithId {
  name: string;
  errorCode: number;
  id: string;
  partitions: Array<{ partition: number; leader: number; errorCode: number }>;
  /** topic_authorized_operations: a bit field (TOPIC_OPERATION_BITS), OPERATIONS_NOT_ASKED when not asked for. */
  authorizedOperations: number;
}

const metadataFault: WireFail = (fault, pos) =>
  new Error(fault === 'malformed' ? `malformed varint at byte ${pos} of a metadata response` : `metadata response truncated at byte ${pos}`);

/** The topics of a Metadata v10-v12 response payload (after the correlation ID). */
export function decodeMetadataResponse(payload: Buffer): TopicMetadataWithId[] {
  const r = new WireReader(payload, 0, payload.length, metadataFault);
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
    const id = uuidToString(r.raw(16));
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
    const authorizedOperations = r.int32();
    r.taggedFields();
    return { name, errorCode, id, partitions, authorizedOperations };
  });
}
