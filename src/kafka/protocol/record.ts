/**
 * One Kafka record (message format v2, KIP-98) as it sits inside a record batch:
 *
 *   length varint (bytes after it), attributes int8 (unused, 0), timestampDelta varlong,
 *   offsetDelta varint, key (varint length, -1 = null), value (same), header count varint,
 *   each header: key (varint length + UTF-8), value (varint length, -1 = null)
 *
 * The one writer of these fields. Every path that writes records builds on it: the object
 * paths (encodeRecordSet for the producer, restore's RecordSetBuilder.appendRecord, the
 * tests' kafkajs record encoder) through measureRecord/writeRecord, and restore's fast path
 * (RecordSetBuilder.transcode, which copies fields straight out of segment blocks) through
 * the same field sizes and record head; so both produce the same bytes by construction.
 * Reading goes through wire.ts's reader (batch-decoder.ts). Pure.
 */
import { lengthPrefixedSize, varIntSize, writeBytes, writeVarInt } from './wire';

/** A record header as it is on the wire: order, duplicates and null values kept. */
export interface WireHeader {
  key: string;
  value: Buffer | null;
}

/** A record's fields as objects (the adapter's ProduceRecord has them and its timestamp). */
export interface RecordFields {
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly WireHeader[];
}

/** Bytes of one header from its key length and value length (-1: null). */
export const headerSize = (keyLength: number, valueLength: number): number => varIntSize(keyLength) + keyLength + lengthPrefixedSize(valueLength);

/**
 * Bytes of a record after its length prefix, from its deltas, key and value lengths (-1:
 * null), header count and the sum of its headers' headerSize.
 */
export function recordBodySize(
  timestampDelta: number,
  offsetDelta: number,
  keyLength: number,
  valueLength: number,
  headerCount: number,
  headerBytes: number,
): number {
  return (
    1 +
    varIntSize(timestampDelta) +
    varIntSize(offsetDelta) +
    lengthPrefixedSize(keyLength) +
    lengthPrefixedSize(valueLength) +
    varIntSize(headerCount) +
    headerBytes
  );
}

/** Bytes of a whole record: its length prefix and its body. */
export const recordSize = (bodyBytes: number): number => varIntSize(bodyBytes) + bodyBytes;

/** Writes a record's length, attributes and deltas at `pos`; returns where its key goes. */
export function writeRecordHead(buf: Buffer, pos: number, bodyBytes: number, timestampDelta: number, offsetDelta: number): number {
  pos = writeVarInt(buf, pos, bodyBytes);
  buf[pos++] = 0; // record attributes: unused by the protocol
  pos = writeVarInt(buf, pos, timestampDelta);
  return writeVarInt(buf, pos, offsetDelta);
}

/**
 * The body size of a record given as objects; the UTF-8 lengths of its header keys go to
 * keyLengths[at...] for writeRecord (header keys are strings: measured once).
 */
export function measureRecord(r: RecordFields, timestampDelta: number, offsetDelta: number, keyLengths: number[], at: number): number {
  const headers = r.headers;
  let headerBytes = 0;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const kl = Buffer.byteLength(h.key, 'utf8');
    keyLengths[at + i] = kl;
    headerBytes += headerSize(kl, h.value === null ? -1 : h.value.length);
  }
  return recordBodySize(timestampDelta, offsetDelta, r.key === null ? -1 : r.key.length, r.value === null ? -1 : r.value.length, headers.length, headerBytes);
}

/** Writes a record measured by measureRecord (same deltas, same keyLengths[at...]) at `pos`; returns the end. */
export function writeRecord(
  buf: Buffer,
  pos: number,
  r: RecordFields,
  bodyBytes: number,
  timestampDelta: number,
  offsetDelta: number,
  keyLengths: readonly number[],
  at: number,
): number {
  pos = writeRecordHead(buf, pos, bodyBytes, timestampDelta, offsetDelta);
  pos = writeBytes(buf, pos, r.key);
  pos = writeBytes(buf, pos, r.value);
  const headers = r.headers;
  pos = writeVarInt(buf, pos, headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const kl = keyLengths[at + i]!;
    pos = writeVarInt(buf, pos, kl);
    pos += buf.write(h.key, pos, kl, 'utf8');
    pos = writeBytes(buf, pos, h.value);
  }
  return pos;
}
