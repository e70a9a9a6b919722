/**
 * Test-only since kbak reads and writes records itself (src/kafka/protocol): the tests'
 * kafkajs copy (kafkajs-copy.ts) gets these replacements so that a test's kafkajs producer
 * and consumer keep record headers exactly, and a consumer crosses emptied batches.
 *
 * kafkajs 2.2.4 turns record headers into a plain object: `{ a: [v1, v3], b: v2 }`.
 * That loses the order of interleaved duplicate keys (a, b, a) and moves integer-like
 * keys ("1", "2") to the front, so a byte-exact backup and restore of headers is not
 * possible through its public API. kafkajs is no longer developed, so instead of a fork
 * four tiny protocol modules are replaced in a private copy of kafkajs
 * (src/kafka/transport/private-kafkajs.ts; no other kafkajs in the process is touched):
 *
 * - decoding: every decoded message gets `headerList`, the headers as they were on the
 *   wire (order, duplicates, null values);
 * - encoding: a headers object carrying the ORDERED_HEADERS symbol is written in that
 *   exact order instead of the object's key order;
 * - empty or tail-compacted record batches: the log cleaner keeps the header of a batch
 *   whose records it removed (idempotent producers' sequence state), and kafkajs, seeing
 *   no record, fetches the same offset forever. Such a batch now ends with a synthetic
 *   control record at the batch's last offset, which kafkajs skips like a transaction
 *   marker while still moving its position past the batch.
 *
 * Everything else is untouched. test/unit/wire-patch.test.ts pins the behaviour on
 * hand-built wire bytes.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { WireHeader } from '../../src/kafka/protocol/record';
import { filledEncoder } from '../../src/kafka/transport/patches';
import type { Transforms } from '../../src/kafka/transport/private-kafkajs';
import { asBuffer, encodeRecord } from './kafkajs-produce-patch';

export type { WireHeader };

export const ORDERED_HEADERS: unique symbol = Symbol.for('kbak.orderedHeaders');

export const HEADER_DECODER = 'src/protocol/recordBatch/header/v0/decoder';
export const RECORD_DECODER = 'src/protocol/recordBatch/record/v0/decoder';
export const RECORD_ENCODER = 'src/protocol/recordBatch/record/v0/index';
export const BATCH_DECODER = 'src/protocol/recordBatch/v0/decoder';

/** The module replacements that make the tests' kafkajs copy byte-exact (see above). */
export function wirePatch(): Transforms {
  // Synchronous decoding means one record is decoded at a time: a per-copy list is safe.
  let collecting: WireHeader[] | null = null;
  return {
    [HEADER_DECODER]: (decodeHeader: any) => (decoder: unknown) => {
      const header = decodeHeader(decoder);
      collecting?.push({ key: header.key, value: header.value });
      return header;
    },

    [RECORD_DECODER]: (decodeRecord: any) => (decoder: unknown, batchContext: unknown) => {
      const outer = collecting;
      collecting = [];
      try {
        const record = decodeRecord(decoder, batchContext);
        record.headerList = collecting;
        return record;
      } finally {
        collecting = outer;
      }
    },

    [BATCH_DECODER]: (decodeBatch: any, load) => {
      const Long = load('src/utils/long') as any;
      return async (fetchDecoder: unknown) => {
        const batch = await decodeBatch(fetchDecoder);
        const last: string = Long.fromValue(batch.firstOffset).add(batch.lastOffsetDelta).toString();
        const records: Array<{ offset: string }> = batch.records;
        const tail = records[records.length - 1];
        if (!tail || Long.fromValue(tail.offset).lessThan(Long.fromValue(last))) {
          const { records: _r, ...context } = batch;
          records.push({
            offset: last,
            key: null,
            value: null,
            headers: {},
            headerList: [],
            timestamp: batch.maxTimestamp,
            attributes: 0,
            magicByte: 2,
            isControlRecord: true,
            batchContext: { ...context, isControlBatch: true },
            kbakSynthetic: true,
          } as { offset: string });
        }
        return batch;
      };
    },

    [RECORD_ENCODER]: (kafkajsEncodeRecord: any, load) => {
      const Encoder = load('src/protocol/encoder') as any;
      return (args: { offsetDelta?: number; timestampDelta?: number; key: Buffer | null; value: Buffer | null; headers?: any }) => {
        const ordered: WireHeader[] | undefined = args.headers?.[ORDERED_HEADERS];
        if (!ordered) return kafkajsEncodeRecord(args);
        // One exactly-sized buffer per record (kafkajs-produce-patch.ts), written in the headers' wire order.
        return filledEncoder(Encoder, encodeRecord(args.offsetDelta ?? 0, Number(args.timestampDelta ?? 0), asBuffer(args.key), asBuffer(args.value), ordered));
      };
    },
  };
}

/** Headers for kafkajs's producer that are written exactly in this order. */
export function orderedHeaders(list: readonly WireHeader[]): Record<string, Buffer | Buffer[]> {
  const obj: Record<string, Buffer | Buffer[]> = {};
  Object.defineProperty(obj, ORDERED_HEADERS, { value: list, enumerable: false });
  return obj;
}
