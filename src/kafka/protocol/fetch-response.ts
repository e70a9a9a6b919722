/**
 * The Fetch v11 response body (after the correlation ID), read without kafkajs's decoder so
 * that each partition's record bytes stay one view of the received buffer (batch-decoder.ts
 * decodes them). Pure.
 *
 * FetchResponse v11: throttle_time_ms int32, error_code int16, session_id int32,
 * [topic string, [partition int32, error_code int16, high_watermark int64,
 * last_stable_offset int64, log_start_offset int64, aborted_transactions nullable
 * [producer_id int64, first_offset int64], preferred_read_replica int32, records nullable bytes]]
 */
import type { AbortedTransaction } from './batch-decoder';

export const FETCH_VERSION = 11;

export interface FetchedPartition {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  abortedTransactions: AbortedTransaction[];
  /** Record batches; may end inside a batch. Empty when there is nothing to read. */
  records: Buffer;
}

export interface FetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  partitions: FetchedPartition[];
}

export class FetchResponseError extends Error {
  override readonly name = 'FetchResponseError';
}

const EMPTY: Buffer = Buffer.alloc(0);

export function decodeFetchResponse(buf: Buffer): FetchResponse {
  let p = 0;
  const need = (n: number): void => {
    if (p + n > buf.length) throw new FetchResponseError(`fetch response truncated at byte ${p}`);
  };
  const i16 = (): number => {
    need(2);
    const v = buf.readInt16BE(p);
    p += 2;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = buf.readInt32BE(p);
    p += 4;
    return v;
  };
  const i64 = (): bigint => {
    need(8);
    const v = buf.readBigInt64BE(p);
    p += 8;
    return v;
  };
  const str = (): string => {
    const n = i16();
    if (n < 0) return '';
    need(n);
    const s = buf.toString('utf8', p, p + n);
    p += n;
    return s;
  };

  const throttleTimeMs = i32();
  const errorCode = i16();
  i32(); // session_id
  const partitions: FetchedPartition[] = [];
  const topics = i32();
  for (let t = 0; t < topics; t++) {
    const topic = str();
    const count = i32();
    for (let q = 0; q < count; q++) {
      const partition = i32();
      const pErr = i16();
      const highWatermark = i64();
      const lastStableOffset = i64();
      const logStartOffset = i64();
      const nAborted = i32();
      const abortedTransactions: AbortedTransaction[] = [];
      for (let a = 0; a < nAborted; a++) {
        const producerId = i64();
        abortedTransactions.push({ producerId, firstOffset: i64() });
      }
      i32(); // preferred_read_replica
      const size = i32();
      let records = EMPTY;
      if (size > 0) {
        need(size);
        records = buf.subarray(p, p + size);
        p += size;
      }
      partitions.push({ topic, partition, errorCode: pErr, highWatermark, lastStableOffset, logStartOffset, abortedTransactions, records });
    }
  }
  return { throttleTimeMs, errorCode, partitions };
}
