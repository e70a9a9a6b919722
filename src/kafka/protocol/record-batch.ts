/**
 * Kafka record batches (message format v2, KIP-98), encoded by kbak itself for the lean
 * produce path (client/lean-producer.ts). Pure: no I/O, no client objects.
 *
 * A batch is built in two steps: encodeRecordSet writes the records (offset deltas 0..n-1,
 * timestamp deltas against the first record, headers in the given order, duplicates and
 * null values kept; record.ts writes each) into one buffer of their exact size;
 * writeRecordBatch frames them,
 * compressed or not, with the producer id, epoch and base sequence, and the CRC32C of
 * everything from the attributes on. Kafka's own layout:
 *
 *   baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8 (2),
 *   crc uint32, attributes int16, lastOffsetDelta int32, baseTimestamp int64,
 *   maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence int32,
 *   records: int32 count, then each record (record.ts)
 */
import { crc32c } from '@node-rs/crc32';
import { measureRecord, recordSize, writeRecord, type RecordFields } from './record';

/** Bytes of a v2 batch before its records (baseOffset to the record count). */
export const BATCH_HEADER_BYTES = 61;
/** Offset of the attributes field, where the CRC32C starts. */
export const CRC_FROM = 21;
const MAGIC = 2;

/** Encoded records of one batch and what its header needs to know about them. */
export interface RecordSet {
  /** The records, back to back, uncompressed. */
  records: Buffer;
  count: number;
  /** Timestamp of the first record: the batch's base timestamp. */
  firstTimestamp: bigint;
  maxTimestamp: bigint;
}

/**
 * The records in one buffer of their exact size: the start of `scratch` when they fit
 * there (a producer reuses one buffer for every batch), else a new one. Header keys are
 * written as UTF-8; a timestamp delta must fit in 2^53 (any two real millisecond
 * timestamps do).
 */
export function encodeRecordSet(records: ReadonlyArray<RecordFields & { timestamp: bigint }>, scratch?: Buffer): RecordSet {
  if (records.length === 0) throw new Error('encodeRecordSet: a batch needs at least one record');
  const first = records[0]!.timestamp;
  let max = first;
  const n = records.length;
  const bodies = new Array<number>(n);
  // Header key lengths of all records, flattened (header keys are strings: measured once).
  const keyLengths: number[] = [];
  let total = 0;
  for (let i = 0, k = 0; i < n; i++) {
    const r = records[i]!;
    if (r.timestamp > max) max = r.timestamp;
    const body = measureRecord(r, Number(r.timestamp - first), i, keyLengths, k);
    k += r.headers.length;
    bodies[i] = body;
    total += recordSize(body);
  }
  const buf = scratch !== undefined && scratch.length >= total ? scratch.subarray(0, total) : Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0, k = 0; i < n; i++) {
    const r = records[i]!;
    pos = writeRecord(buf, pos, r, bodies[i]!, Number(r.timestamp - first), i, keyLengths, k);
    k += r.headers.length;
  }
  if (pos !== total) throw new Error(`encodeRecordSet: wrote ${pos} bytes, computed ${total}`);
  return { records: buf, count: n, firstTimestamp: first, maxTimestamp: max };
}

/**
 * A record set encoded at buf[start, end), with free bytes before `start` so that the
 * request and batch header can be framed in front of it without copying the records.
 */
export interface PlacedRecordSet extends Omit<RecordSet, 'records'> {
  buf: Buffer;
  start: number;
  end: number;
}

export interface BatchProducer {
  producerId: bigint;
  producerEpoch: number;
  /** Sequence number of the batch's first record (idempotence). */
  baseSequence: number;
}

/** Bytes of a framed batch whose (possibly compressed) records take `payloadBytes`. */
export const batchBytes = (payloadBytes: number): number => BATCH_HEADER_BYTES + payloadBytes;

/**
 * Frames a record set as a v2 batch at `out[pos..]` (batchBytes(payload.length) bytes).
 * `payload` is set.records, or their compression with codec `codecId` (Kafka's IDs).
 */
export function writeRecordBatch(out: Buffer, pos: number, set: Omit<RecordSet, 'records'>, payload: Buffer, codecId: number, p: BatchProducer): number {
  const end = pos + BATCH_HEADER_BYTES + payload.length;
  out.writeBigInt64BE(0n, pos); // base offset: the broker assigns it
  out.writeInt32BE(end - pos - 12, pos + 8);
  out.writeInt32BE(-1, pos + 12); // partition leader epoch: set by the broker
  out.writeInt8(MAGIC, pos + 16);
  out.writeInt16BE(codecId & 7, pos + 21); // CreateTime, not transactional, not a control batch
  out.writeInt32BE(set.count - 1, pos + 23);
  out.writeBigInt64BE(set.firstTimestamp, pos + 27);
  out.writeBigInt64BE(set.maxTimestamp, pos + 35);
  out.writeBigInt64BE(p.producerId, pos + 43);
  out.writeInt16BE(p.producerEpoch, pos + 51);
  out.writeInt32BE(p.baseSequence, pos + 53);
  out.writeInt32BE(set.count, pos + 57);
  // A payload encoded where the batch carries it (PlacedRecordSet) is not copied onto itself.
  if (payload.buffer !== out.buffer || payload.byteOffset !== out.byteOffset + pos + BATCH_HEADER_BYTES) payload.copy(out, pos + BATCH_HEADER_BYTES);
  out.writeUInt32BE(crc32c(out.subarray(pos + CRC_FROM, end)) >>> 0, pos + 17);
  return end;
}

/** Kafka's sequence numbers wrap from 2^31-1 to 0. */
export const nextSequence = (seq: number, records: number): number => (seq + records) % 0x80000000;
