/**
 * Confluent wire framing: byte 0 is the magic 0, bytes 1-4 a big-endian schema ID, the
 * rest the serialized payload (for Protobuf, message indexes come first, inside the rest).
 * Only the 4 ID bytes are ever rewritten; every other byte stays as it was.
 */
export const CONFLUENT_MAGIC = 0;
export const FRAME_HEADER_BYTES = 5;

/** The schema ID a payload claims, or null when it is not Confluent-framed. */
export function framedSchemaId(payload: Buffer | null): number | null {
  return payload === null ? null : framedSchemaIdAt(payload, 0, payload.length);
}

/** framedSchemaId of the `length` bytes at `start` of `buf`, without a view of them. */
export function framedSchemaIdAt(buf: Buffer, start: number, length: number): number | null {
  if (length < FRAME_HEADER_BYTES || buf[start] !== CONFLUENT_MAGIC) return null;
  return buf.readUInt32BE(start + 1);
}

/** A copy of a framed payload carrying another schema ID. */
export function withSchemaId(payload: Buffer, id: number): Buffer {
  if (framedSchemaId(payload) === null) throw new Error('payload is not Confluent-framed');
  const out = Buffer.from(payload);
  out.writeUInt32BE(id, 1);
  return out;
}
