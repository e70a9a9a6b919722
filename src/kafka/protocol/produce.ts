/**
 * The Produce request (v3-v7, one partition, acks=all, no transactional id) and its
 * response, for the lean producer (client/lean-producer.ts). v3 is the first version with
 * v2 record batches (and the oldest Kafka 4 accepts); v7 the last before flexible
 * versions. The record batch is framed inside the request body, in place (record-batch.ts).
 * Pure.
 */
import { batchBytes, writeRecordBatch, type BatchProducer, type RecordSet } from './record-batch';
import { WireReader, type WireFail } from './wire';

export const PRODUCE_API_KEY = 0;
export const MIN_PRODUCE_VERSION = 3;
export const MAX_PRODUCE_VERSION = 7;
const ACKS_ALL = -1;

/** Bytes of a one-partition Produce request body (v3-v7) before its record batch. */
export const produceHeadBytes = (topic: string): number => 2 + 2 + 4 + 4 + 2 + Buffer.byteLength(topic, 'utf8') + 4 + 4 + 4;

/**
 * A Produce request body (v3-v7) for one partition, the batch framed in place, after
 * `room` free bytes (for the request frame, request.ts); in `scratch` when it fits.
 */
export function encodeProduceRequest(
  topic: string,
  partition: number,
  timeoutMs: number,
  set: Omit<RecordSet, 'records'>,
  payload: Buffer,
  codecId: number,
  p: BatchProducer,
  room = 0,
  scratch?: Buffer,
): Buffer {
  const name = Buffer.from(topic, 'utf8');
  const head = produceHeadBytes(topic);
  const size = batchBytes(payload.length);
  const total = room + head + size;
  const buf = scratch !== undefined && scratch.length >= total ? scratch.subarray(0, total) : Buffer.allocUnsafe(total);
  let pos = buf.writeInt16BE(-1, room); // transactional_id: null
  pos = buf.writeInt16BE(ACKS_ALL, pos);
  pos = buf.writeInt32BE(timeoutMs, pos);
  pos = buf.writeInt32BE(1, pos); // one topic
  pos = buf.writeInt16BE(name.length, pos);
  pos += name.copy(buf, pos);
  pos = buf.writeInt32BE(1, pos); // one partition
  pos = buf.writeInt32BE(partition, pos);
  pos = buf.writeInt32BE(size, pos);
  writeRecordBatch(buf, pos, set, payload, codecId, p);
  return buf;
}

export interface ProduceResult {
  errorCode: number;
  baseOffset: bigint;
}

const produceFault: WireFail = (_fault, pos) => new Error(`Produce response truncated at byte ${pos}`);

/** The first partition's outcome from a Produce response (v3-v7). */
export function decodeProduceResponse(payload: Buffer, version: number): ProduceResult {
  const r = new WireReader(payload, 0, payload.length, produceFault);
  if (r.int32() < 1) throw new Error('Produce response names no topic');
  r.string16(); // topic name
  if (r.int32() < 1) throw new Error('Produce response names no partition');
  r.int32(); // partition
  const errorCode = r.int16();
  const baseOffset = r.int64();
  void version; // the fields read are at the same place in every version from v3 to v7
  return { errorCode, baseOffset };
}
