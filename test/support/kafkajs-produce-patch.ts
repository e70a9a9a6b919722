/**
 * Test-only: the kafkajs producer of the tests' kafkajs copy (kafkajs-copy.ts) made lean
 * and byte-exact. kbak itself no longer produces through kafkajs (its own producer is
 * src/kafka/client/lean-producer.ts); tests still seed topics with a kafkajs producer, and
 * with these replacements its records carry ordered headers exactly (kafkajs-wire-patch.ts)
 * and a seeding run costs little:
 *
 * - a record with ordered headers is encoded into one buffer of its exact size
 *   (encodeRecord, on kbak's record writer, src/kafka/protocol/record.ts);
 * - a record batch is framed in one buffer of its exact size (records copied once, or the
 *   compressed block), CRC32C computed natively (@node-rs/crc32, SIMD);
 * - messages are grouped per partition in linear time (kafkajs's spread is quadratic).
 *
 * Records without ordered headers (kafkajs's own object headers) keep kafkajs's encoder.
 * test/unit/produce-patch.test.ts compares the bytes with the stock kafkajs's own encoding.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { crc32c } from '@node-rs/crc32';
import { BATCH_HEADER_BYTES as BATCH_HEADER, CRC_FROM } from '../../src/kafka/protocol/record-batch';
import { measureRecord, recordSize, writeRecord, type WireHeader } from '../../src/kafka/protocol/record';
import { filledEncoder } from '../../src/kafka/transport/patches';
import type { Transforms } from '../../src/kafka/transport/private-kafkajs';

export const RECORD_BATCH_ENCODER = 'src/protocol/recordBatch/v0/index';
export const CRC32C = 'src/protocol/recordBatch/crc32C/index';
export const GROUP_PER_PARTITION = 'src/producer/groupMessagesPerPartition';

const MAGIC = 2;
const TRANSACTIONAL = 16;
const CODEC_MASK = 7;
/** A kafkajs key or value (Buffer, string or absent) as bytes. */
export const asBuffer = (v: Buffer | string | number | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');

/** One v2 record (length-prefixed) in a buffer of its exact size, by kbak's record writer. */
export function encodeRecord(offsetDelta: number, timestampDelta: number, key: Buffer | null, value: Buffer | null, headers: readonly WireHeader[]): Buffer {
  const fields = { key, value, headers };
  const keyLengths = new Array<number>(headers.length);
  const body = measureRecord(fields, timestampDelta, offsetDelta, keyLengths, 0);
  const buf = Buffer.allocUnsafe(recordSize(body));
  writeRecord(buf, 0, fields, body, timestampDelta, offsetDelta, keyLengths, 0);
  return buf;
}

function writeInt64(buf: Buffer, pos: number, Long: any, v: unknown): void {
  const l = Long.fromValue(v);
  buf.writeInt32BE(l.getHighBits(), pos);
  buf.writeInt32BE(l.getLowBits(), pos + 4);
}

/** The replacements (the record encoder itself is kafkajs-wire-patch.ts's, built on encodeRecord). */
export function producePatch(): Transforms {
  return {
    [CRC32C]: () => (buf: Buffer) => crc32c(buf) >>> 0,

    [GROUP_PER_PARTITION]:
      () =>
      ({ topic, partitionMetadata, messages, partitioner }: any) => {
        const out: Record<number, unknown[]> = {};
        if (partitionMetadata.length === 0) return out;
        for (const message of messages) {
          const partition = partitioner({ topic, partitionMetadata, message });
          (out[partition] ??= []).push(message);
        }
        return out;
      },

    [RECORD_BATCH_ENCODER]: (original: any, load) => {
      const Encoder = load('src/protocol/encoder') as any;
      const Long = load('src/utils/long') as any;
      const { lookupCodec } = load('src/protocol/message/compression') as any;
      const RecordBatch = async ({
        compression = 0,
        firstOffset = Long.fromInt(0),
        firstTimestamp = Date.now(),
        maxTimestamp = Date.now(),
        partitionLeaderEpoch = 0,
        lastOffsetDelta = 0,
        transactional = false,
        producerId = Long.fromValue(-1),
        producerEpoch = 0,
        firstSequence = 0,
        records = [],
      }: any) => {
        const codec = compression & CODEC_MASK;
        const recordBufs: Buffer[] = records.map((r: { buffer: Buffer }) => r.buffer);
        let payload: Buffer | Buffer[] = recordBufs;
        let payloadSize = 0;
        for (const b of recordBufs) payloadSize += b.length;
        if (codec !== 0) {
          const raw = recordBufs.length === 1 ? recordBufs[0]! : Buffer.concat(recordBufs, payloadSize);
          payload = await lookupCodec(compression).compress({ buffer: raw });
          payloadSize = payload.length;
        }
        // firstOffset, length, then the batch the length counts.
        const buf = Buffer.allocUnsafe(BATCH_HEADER + payloadSize);
        writeInt64(buf, 0, Long, firstOffset);
        buf.writeInt32BE(buf.length - 12, 8);
        buf.writeInt32BE(partitionLeaderEpoch, 12);
        buf.writeInt8(MAGIC, 16);
        buf.writeInt16BE(codec | (transactional ? TRANSACTIONAL : 0), 21);
        buf.writeInt32BE(lastOffsetDelta, 23);
        writeInt64(buf, 27, Long, firstTimestamp);
        writeInt64(buf, 35, Long, maxTimestamp);
        writeInt64(buf, 43, Long, producerId);
        buf.writeInt16BE(producerEpoch, 51);
        buf.writeInt32BE(firstSequence, 53);
        buf.writeInt32BE(records.length, 57);
        let pos = BATCH_HEADER;
        if (Buffer.isBuffer(payload)) payload.copy(buf, pos);
        else for (const b of payload) pos += b.copy(buf, pos);
        buf.writeUInt32BE(crc32c(buf.subarray(CRC_FROM)) >>> 0, 17);
        return filledEncoder(Encoder, buf);
      };
      return { ...original, RecordBatch };
    },
  };
}
