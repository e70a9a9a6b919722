/**
 * Kafka's record (RecordBatch v2) wire bytes built by hand, independently of kbak's and
 * kafkajs's encoders, for tests that feed decoders exact bytes.
 */
export function zigzag(n: bigint): Buffer {
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

export const varint = (n: number): Buffer => zigzag(BigInt(n));

/** A varint length and the bytes; null is length -1. */
export const bytes = (b: Buffer | null): Buffer => (b === null ? varint(-1) : Buffer.concat([varint(b.length), b]));

export interface WireBytesHeader {
  /** A string is written as UTF-8; bytes as they are (a key that is not UTF-8). */
  key: string | Buffer;
  value: Buffer | null;
}

/** One record, its varint length prefix included. */
export function record(
  offsetDelta: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: readonly WireBytesHeader[],
  timestampDelta: bigint | number = 0n,
): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    zigzag(BigInt(timestampDelta)),
    varint(offsetDelta),
    bytes(key),
    bytes(value),
    varint(headers.length),
    ...headers.map((h) => Buffer.concat([bytes(typeof h.key === 'string' ? Buffer.from(h.key, 'utf8') : h.key), bytes(h.value)])),
  ]);
  return Buffer.concat([varint(body.length), body]);
}
