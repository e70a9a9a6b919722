/**
 * A Kafka record (message format v2, KIP-98) as it sits inside a record batch:
 *
 *   length varint, attributes int8 (unused, 0), timestampDelta varlong, offsetDelta varint,
 *   key (varint length, -1 = null), value (same), header count varint,
 *   each header: key (varint length + UTF-8), value (varint length, -1 = null)
 *
 * Pure.
 */

/** A record header as it is on the wire: order, duplicates and null values kept. */
export interface WireHeader {
  key: string;
  value: Buffer | null;
}
