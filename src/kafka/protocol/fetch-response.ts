/**
 * The Fetch v11 response body (after the correlation ID), read with wire.ts's reader, not
 * kafkajs's decoder, so that each partition's record bytes stay one view of the received
 * buffer (batch-decoder.ts decodes them). Pure.
 *
 * FetchResponse v11: throttle_time_ms int32, error_code int16, session_id int32,
 * [topic string, [partition int32, error_code int16, high_watermark int64,
 * last_stable_offset int64, log_start_offset int64, aborted_transactions nullable
 * [producer_id int64, first_offset int64], preferred_read_replica int32, records nullable bytes]]
 */
import type { AbortedTransaction } from './batch-decoder';
import { WireReader, type WireFail } from './wire';

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

const fetchFault: WireFail = (_fault, pos) => new FetchResponseError(`fetch response truncated at byte ${pos}`);

export function decodeFetchResponse(buf: Buffer): FetchResponse {
  const r = new WireReader(buf, 0, buf.length, fetchFault);
  const throttleTimeMs = r.int32();
  const errorCode = r.int16();
  r.int32(); // session_id
  const partitions: FetchedPartition[] = [];
  const topics = r.int32();
  for (let t = 0; t < topics; t++) {
    const topic = r.string16();
    const count = r.int32();
    for (let q = 0; q < count; q++) {
      const partition = r.int32();
      const pErr = r.int16();
      const highWatermark = r.int64();
      const lastStableOffset = r.int64();
      const logStartOffset = r.int64();
      const nAborted = r.int32();
      const abortedTransactions: AbortedTransaction[] = [];
      for (let a = 0; a < nAborted; a++) {
        const producerId = r.int64();
        abortedTransactions.push({ producerId, firstOffset: r.int64() });
      }
      r.int32(); // preferred_read_replica
      const size = r.int32();
      const records = size > 0 ? r.raw(size) : EMPTY;
      partitions.push({ topic, partition, errorCode: pErr, highWatermark, lastStableOffset, logStartOffset, abortedTransactions, records });
    }
  }
  return { throttleTimeMs, errorCode, partitions };
}
