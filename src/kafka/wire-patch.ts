/**
 * kafkajs 2.2.4 turns record headers into a plain object: `{ a: [v1, v3], b: v2 }`.
 * That loses the order of interleaved duplicate keys (a, b, a) and moves integer-like
 * keys ("1", "2") to the front, so a byte-exact backup and restore of headers is not
 * possible through its public API. kafkajs is no longer developed, so instead of a fork
 * we swap two of its tiny protocol modules before kafkajs loads the modules that
 * capture them:
 *
 * - decoding: every decoded message gets `headerList`, the headers as they were on the
 *   wire (order, duplicates, null values);
 * - encoding: a headers object carrying the ORDERED_HEADERS symbol is written in that
 *   exact order instead of the object's key order.
 *
 * - empty or tail-compacted record batches: the log cleaner keeps the header of a batch
 *   whose records it removed (idempotent producers' sequence state), and kafkajs, seeing
 *   no record, fetches the same offset forever. Such a batch now ends with a synthetic
 *   control record at the batch's last offset, which kafkajs skips like a transaction
 *   marker while still moving its position past the batch.
 *
 * Everything else is untouched. test/unit/wire-patch.test.ts pins the behaviour.
 * This module must be imported before anything imports 'kafkajs' (src/kafka/kafkajs.ts
 * does that; import kafkajs only through it).
 */
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */

export const ORDERED_HEADERS: unique symbol = Symbol.for('kbak.orderedHeaders');

export interface WireHeader {
  key: string;
  value: Buffer | null;
}

const HEADER_DECODER = 'kafkajs/src/protocol/recordBatch/header/v0/decoder';
const RECORD_DECODER = 'kafkajs/src/protocol/recordBatch/record/v0/decoder';
const RECORD_ENCODER = 'kafkajs/src/protocol/recordBatch/record/v0/index';
const BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder';
const CAPTURING_MODULES = [
  BATCH_DECODER,
  'kafkajs/src/protocol/requests/fetch/v4/decodeMessages',
  'kafkajs/src/protocol/requests/produce/v3/request',
];

function replaceExports(id: string, make: (original: any) => any): void {
  const path = require.resolve(id);
  const original = require(path);
  if (original.__kbakPatched) return;
  const replacement = make(original);
  replacement.__kbakPatched = true;
  const cached = require.cache[path];
  if (!cached) throw new Error(`kbak: cannot patch ${id}: not in the module cache`);
  cached.exports = replacement;
}

function install(): void {
  for (const id of CAPTURING_MODULES) {
    const path = require.resolve(id);
    if (require.cache[path] && !(globalThis as any).__kbakWirePatched) {
      throw new Error(`kbak: kafkajs was loaded before src/kafka/wire-patch; import kafkajs via src/kafka/kafkajs`);
    }
  }
  // Synchronous decoding means one record is decoded at a time: a module-level list is safe.
  let collecting: WireHeader[] | null = null;

  replaceExports(HEADER_DECODER, (decodeHeader) => (decoder: unknown) => {
    const header = decodeHeader(decoder);
    collecting?.push({ key: header.key, value: header.value });
    return header;
  });

  replaceExports(RECORD_DECODER, (decodeRecord) => (decoder: unknown, batchContext: unknown) => {
    const outer = collecting;
    collecting = [];
    try {
      const record = decodeRecord(decoder, batchContext);
      record.headerList = collecting;
      return record;
    } finally {
      collecting = outer;
    }
  });

  replaceExports(BATCH_DECODER, (decodeBatch) => async (fetchDecoder: unknown) => {
    const batch = await decodeBatch(fetchDecoder);
    const Long = require('kafkajs/src/utils/long');
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
  });

  replaceExports(RECORD_ENCODER, (encodeRecord) => {
    const Encoder = require('kafkajs/src/protocol/encoder');
    return (args: { offsetDelta?: number; timestampDelta?: number; key: Buffer | null; value: Buffer | null; headers?: any }) => {
      const ordered: WireHeader[] | undefined = args.headers?.[ORDERED_HEADERS];
      if (!ordered) return encodeRecord(args);
      const { offsetDelta = 0, timestampDelta = 0, key, value } = args;
      const headers = new Encoder().writeVarInt(ordered.length);
      for (const h of ordered) headers.writeVarIntString(h.key).writeVarIntBytes(h.value);
      const body = new Encoder()
        .writeInt8(0) // record attributes are unused by the protocol
        .writeVarLong(timestampDelta)
        .writeVarInt(offsetDelta)
        .writeVarIntBytes(key)
        .writeVarIntBytes(value)
        .writeEncoder(headers);
      return new Encoder().writeVarInt(body.size()).writeEncoder(body);
    };
  });
  (globalThis as any).__kbakWirePatched = true;
}

install();

/** Headers for kafkajs's producer that are written exactly in this order. */
export function orderedHeaders(list: readonly WireHeader[]): Record<string, Buffer | Buffer[]> {
  const obj: Record<string, Buffer | Buffer[]> = {};
  Object.defineProperty(obj, ORDERED_HEADERS, { value: list, enumerable: false });
  return obj;
}
