/**
 * The Metadata v10-v12 request and response bodies: the versions that carry topic IDs
 * (kafkajs 2.2.4 speaks Metadata up to v6). Flexible versions use request header v2, which
 * is kafkajs's v1 header plus empty tagged fields: the request body starts with them.
 * Pure (wire.ts's reader and writer): client/topic-ids.ts sends the request.
 */
import { uvarIntSize, WireReader, writeUVarInt, type WireFail } from './wire';

export const METADATA_API_KEY = 3;

/** Kafka's Uuid.toString(): base64url without padding. */
export function uuidToString(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** A Metadata v10-v12 request body, prefixed with the request header v2's empty tagged fields. */
export function encodeMetadataRequest(version: number, topics: string[]): Buffer {
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
  return buf;
}

export interface TopicMetadataWithId {
  name: string;
  errorCode: number;
  id: string;
  partitions: Array<{ partition: number; leader: number; errorCode: number }>;
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
    r.int32(); // topic_authorized_operations
    r.taggedFields();
    return { name, errorCode, id, partitions };
  });
}
