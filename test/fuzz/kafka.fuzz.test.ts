/**
 * Fuzzing the readers of what a broker sends (src/kafka/fetch-response.ts,
 * src/kafka/batch-decoder.ts, the dump's transcoder src/dump/transcode.ts, and the batch
 * codecs src/kafka/codecs.ts): a broker, or anything between it and kbak, is untrusted.
 * Properties:
 *
 * - round trip: records encoded by kbak's own batch writer (src/kafka/record-batch.ts, any
 *   codec) and by hand (test/support/kafka-wire-bytes.ts: compaction gaps, any 64-bit
 *   timestamp delta, header keys that are not UTF-8, LogAppendTime, transactional and
 *   control batches, a partial tail) decode to exactly those records; the independent
 *   decoder (test/support/kafka-batch-decoder.ts) agrees and finds kbak's CRC right; a
 *   Fetch v11 response written by hand decodes to what was written, and every strict
 *   prefix of it is refused;
 * - hostile bytes (random, mutated honest batches and responses, counts and lengths that
 *   lie) are refused with the parsers' own errors (FetchResponseError, RecordBatchError)
 *   and nothing else, with the work bounded by the input: no more partitions, aborted
 *   transactions, batches, records or headers than the bytes can hold;
 * - whatever the independent decoder accepts, kbak's decoder decodes the same way;
 * - the transcoder's fast path writes exactly the segment records the decoder's objects
 *   would give, and stops with the same error at the same record;
 * - every codec decompresses what it compressed; on hostile bytes it fails with an Error
 *   (never a string or a crash) and never returns more than MAX_BATCH_BYTES.
 */
import fc from 'fast-check';
import { codecs, CODEC_IDS, MAX_BATCH_BYTES } from '../../src/kafka/protocol/codecs';
import { decodeFetchResponse, FetchResponseError, type FetchResponse } from '../../src/kafka/protocol/fetch-response';
import { AbortFilter, BatchRecords, controlType, RecordBatchError, splitBatches, type RawBatch } from '../../src/kafka/protocol/batch-decoder';
import { encodeRecordSet, writeRecordBatch, batchBytes } from '../../src/kafka/protocol/record-batch';
import type { ProduceRecord } from '../../src/kafka/adapter';
import { BatchTranscoder } from '../../src/dump/transcode';
import { type BlockContext, decodeRecordAt } from '../../src/segment/format';
import { type BackupRecord, TimestampType } from '../../src/segment/record';
import { decodeBatch, handCrc32c } from '../support/kafka-batch-decoder';
import { bytes as wireBytes, record as wireRecordBytes, varint, zigzag, type WireBytesHeader } from '../support/kafka-wire-bytes';
import { attempt, attemptAsync, buffer, mutate, mutations, plain, runs, wellFormed, type Outcome } from './support';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const CTX: BlockContext = { name: 'fuzz', blockIndex: 0, position: 0 };
type CodecName = keyof typeof codecs;
const CODECS = Object.keys(codecs) as CodecName[];

// ---------------------------------------------------------------- generators

const payload: fc.Arbitrary<Buffer | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 4, arbitrary: buffer({ maxLength: 40 }) },
);
const keyText = fc.oneof(
  fc.constantFrom('traceparent', 'b3', '', 'ünï', '\u{1F600}', '\uFEFFbom'),
  fc.string({ unit: 'binary', maxLength: 8 }).filter(wellFormed),
);
/** Header key bytes: UTF-8 mostly, sometimes not (the decoder then gives what toString gives). */
const keyBytes = fc.oneof({ weight: 4, arbitrary: keyText.map((k) => Buffer.from(k, 'utf8')) }, { weight: 1, arbitrary: buffer({ maxLength: 6 }) });

/** A record as the wire has it: deltas against its batch, header keys as bytes. */
interface WireRecord {
  offsetDelta: number;
  timestampDelta: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<WireBytesHeader & { key: Buffer }>;
}

const wireRecord: fc.Arbitrary<WireRecord> = fc.record({
  offsetDelta: fc.nat({ max: 20 }),
  timestampDelta: fc.oneof(fc.bigInt(-1000n, 1000n), fc.bigInt(-(2n ** 62n), 2n ** 62n), fc.constantFrom(I64_MIN, I64_MAX)),
  key: payload,
  value: payload,
  headers: fc.array(fc.record({ key: keyBytes, value: payload }), { maxLength: 4 }),
});

/** One record, its varint length prefix included. */
const encodeWireRecord = (r: WireRecord): Buffer => wireRecordBytes(r.offsetDelta, r.key, r.value, r.headers, r.timestampDelta);

interface WireBatch {
  baseOffset: bigint;
  attributes: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  records: WireRecord[];
}

const wireBatch: fc.Arbitrary<WireBatch> = fc.record({
  baseOffset: fc.oneof(fc.bigInt(0n, 2n ** 53n), fc.bigInt(I64_MIN, I64_MAX)),
  // CreateTime or LogAppendTime, transactional or not; codecs and control batches have their own properties.
  attributes: fc.constantFrom(0x00, 0x08, 0x10, 0x18),
  baseTimestamp: fc.oneof(fc.bigInt(1_600_000_000_000n, 1_900_000_000_000n), fc.bigInt(I64_MIN, I64_MAX)),
  maxTimestamp: fc.bigInt(I64_MIN, I64_MAX),
  producerId: fc.oneof(fc.constant(-1n), fc.bigInt(0n, 1000n)),
  records: fc.array(wireRecord, { minLength: 1, maxLength: 8 }).map((rs) => {
    // Offset deltas increase (compaction leaves gaps).
    let d = -1;
    return rs.map((r) => ({ ...r, offsetDelta: (d += 1 + r.offsetDelta) }));
  }),
});

/** A v2 batch around a records section (as sent: the section may be compressed), with Kafka's CRC-32C. */
function frameBatch(b: Omit<WireBatch, 'records'>, lastOffsetDelta: number, count: number, section: Buffer): Buffer {
  const out = Buffer.alloc(61 + section.length);
  out.writeBigInt64BE(b.baseOffset, 0);
  out.writeInt32BE(49 + section.length, 8);
  out.writeInt32BE(0, 12); // partition leader epoch
  out.writeInt8(2, 16);
  out.writeInt16BE(b.attributes, 21);
  out.writeInt32BE(lastOffsetDelta, 23);
  out.writeBigInt64BE(b.baseTimestamp, 27);
  out.writeBigInt64BE(b.maxTimestamp, 35);
  out.writeBigInt64BE(b.producerId, 43);
  out.writeInt16BE(0, 51);
  out.writeInt32BE(-1, 53);
  out.writeInt32BE(count, 57);
  section.copy(out, 61);
  out.writeUInt32BE(handCrc32c(out.subarray(21)), 17);
  return out;
}

const encodeBatch = (b: WireBatch): Buffer =>
  frameBatch(b, b.records[b.records.length - 1]!.offsetDelta, b.records.length, Buffer.concat(b.records.map(encodeWireRecord)));

/** What the decoder must give for a batch's records. */
function expectedRecords(b: WireBatch): BackupRecord[] {
  const logAppend = (b.attributes & 0x08) !== 0;
  return b.records.map((r) => ({
    offset: b.baseOffset + BigInt(r.offsetDelta),
    timestamp: logAppend ? b.maxTimestamp : b.baseTimestamp + r.timestampDelta,
    timestampType: logAppend ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    key: r.key,
    value: r.value,
    headers: r.headers.map((h) => ({ key: h.key.toString('utf8'), value: h.value })),
  }));
}

/** Every record of a batch (uncompressed section), or the decoder's refusal. */
function decodeRecords(raw: RawBatch, section = raw.body): Outcome<BackupRecord[]> {
  return attempt(() => {
    const out: BackupRecord[] = [];
    const it = new BatchRecords(raw.header, section);
    for (let r = it.next(); r !== null; r = it.next()) out.push(r);
    return out;
  }, [RecordBatchError]);
}

/** A records section (or whole batches) with lies: mutated, a count or length bumped, random. */
const hostileBatches: fc.Arbitrary<Buffer> = fc.oneof(
  buffer({ maxLength: 160 }),
  fc.tuple(fc.array(wireBatch, { minLength: 1, maxLength: 3 }), mutations).map(([bs, ms]) => mutate(Buffer.concat(bs.map(encodeBatch)), ms)),
  // A record whose count or length claims more than there is, in an honest frame.
  fc
    .tuple(
      wireBatch,
      fc.nat(),
      fc.constantFrom(2 ** 28, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, -(2 ** 31)),
      fc.constantFrom('count', 'key', 'headers', 'recordCount'),
    )
    .map(([b, which, n, field]) => {
      const recs = b.records.map(encodeWireRecord);
      const i = which % recs.length;
      const r = b.records[i]!;
      if (field === 'recordCount') return frameBatch(b, 0, n | 0, Buffer.concat(recs));
      const lie = Buffer.concat([
        Buffer.from([0]),
        zigzag(r.timestampDelta),
        varint(r.offsetDelta),
        field === 'key' ? varint(n) : wireBytes(r.key),
        wireBytes(r.value),
        varint(field === 'headers' ? n : r.headers.length),
        ...r.headers.flatMap((h) => [wireBytes(h.key), wireBytes(h.value)]),
      ]);
      recs[i] = field === 'count' ? Buffer.concat([varint(n), lie]) : Buffer.concat([varint(lie.length), lie]);
      return frameBatch(b, b.records.length - 1, b.records.length, Buffer.concat(recs));
    }),
);

// ---------------------------------------------------------------- Fetch v11 responses

interface WirePartition {
  partition: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** null: written as a null array (-1). */
  aborted: Array<{ producerId: bigint; firstOffset: bigint }> | null;
  /** null: written as null bytes (-1). */
  records: Buffer | null;
}
interface WireResponse {
  throttleTimeMs: number;
  errorCode: number;
  topics: Array<{ topic: string | null; partitions: WirePartition[] }>;
}

const i64 = fc.bigInt(I64_MIN, I64_MAX);
const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const i16 = fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 });
const wireResponse: fc.Arbitrary<WireResponse> = fc.record({
  throttleTimeMs: i32,
  errorCode: i16,
  topics: fc.array(
    fc.record({
      topic: fc.option(fc.string({ unit: 'binary', maxLength: 20 }).filter(wellFormed), { freq: 8 }),
      partitions: fc.array(
        fc.record({
          partition: i32,
          errorCode: i16,
          highWatermark: i64,
          lastStableOffset: i64,
          logStartOffset: i64,
          aborted: fc.option(fc.array(fc.record({ producerId: i64, firstOffset: i64 }), { maxLength: 3 })),
          records: fc.option(
            fc.oneof(
              buffer({ maxLength: 64 }),
              fc.array(wireBatch, { minLength: 1, maxLength: 2 }).map((bs) => Buffer.concat(bs.map(encodeBatch))),
            ),
          ),
        }),
        { maxLength: 3 },
      ),
    }),
    { maxLength: 3 },
  ),
});

function encodeResponse(r: WireResponse): Buffer {
  const parts: Buffer[] = [];
  const int = (n: number, size: 2 | 4): void => {
    const b = Buffer.alloc(size);
    if (size === 2) b.writeInt16BE(n);
    else b.writeInt32BE(n);
    parts.push(b);
  };
  const long = (n: bigint): void => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    parts.push(b);
  };
  int(r.throttleTimeMs, 4);
  int(r.errorCode, 2);
  int(0, 4); // session id
  int(r.topics.length, 4);
  for (const t of r.topics) {
    if (t.topic === null) int(-1, 2);
    else {
      int(Buffer.byteLength(t.topic), 2);
      parts.push(Buffer.from(t.topic));
    }
    int(t.partitions.length, 4);
    for (const p of t.partitions) {
      int(p.partition, 4);
      int(p.errorCode, 2);
      long(p.highWatermark);
      long(p.lastStableOffset);
      long(p.logStartOffset);
      int(p.aborted === null ? -1 : p.aborted.length, 4);
      for (const a of p.aborted ?? []) {
        long(a.producerId);
        long(a.firstOffset);
      }
      int(-1, 4); // preferred read replica
      int(p.records === null ? -1 : p.records.length, 4);
      if (p.records) parts.push(p.records);
    }
  }
  return Buffer.concat(parts);
}

/** What decodeFetchResponse gives for a response (a null topic reads as '', null lists and bytes as empty). */
const expectedResponse = (r: WireResponse): FetchResponse => ({
  throttleTimeMs: r.throttleTimeMs,
  errorCode: r.errorCode,
  partitions: r.topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.topic ?? '',
      partition: p.partition,
      errorCode: p.errorCode,
      highWatermark: p.highWatermark,
      lastStableOffset: p.lastStableOffset,
      logStartOffset: p.logStartOffset,
      abortedTransactions: p.aborted ?? [],
      records: p.records ?? Buffer.alloc(0),
    })),
  ),
});

/** The response as it was decoded, written again (one topic entry per partition). */
const reencode = (res: FetchResponse): Buffer =>
  encodeResponse({
    throttleTimeMs: res.throttleTimeMs,
    errorCode: res.errorCode,
    topics: res.partitions.map((p) => ({ topic: p.topic, partitions: [{ ...p, aborted: p.abortedTransactions }] })),
  });

/** Smallest bytes of one partition entry (partition … records size) and of an aborted transaction. */
const PARTITION_MIN_BYTES = 4 + 2 + 8 + 8 + 8 + 4 + 4 + 4;

// ---------------------------------------------------------------- properties

describe('Kafka record batch and fetch response fuzzing', () => {
  it("decodes what kbak's batch writer wrote, with any codec, as the independent decoder does", async () => {
    const produce = fc.array(
      fc.record({
        key: payload,
        value: payload,
        timestamp: fc.bigInt(1_000_000_000_000n, 1_000_000_000_000n + 2n ** 40n),
        headers: fc.array(fc.record({ key: keyText, value: payload }), { maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 10 },
    );
    await fc.assert(
      fc.asyncProperty(produce, fc.constantFrom<'none' | CodecName>('none', ...CODECS), async (recs: ProduceRecord[], codec) => {
        const set = encodeRecordSet(recs);
        const section = codec === 'none' ? set.records : await codecs[codec].compress(set.records);
        const out = Buffer.alloc(batchBytes(section.length));
        writeRecordBatch(out, 0, set, section, CODEC_IDS[codec], { producerId: 7n, producerEpoch: 0, baseSequence: 0 });
        const [raw, ...rest] = splitBatches(out);
        expect(rest).toEqual([]);
        expect(raw!.header).toMatchObject({
          baseOffset: 0n,
          lastOffset: BigInt(recs.length - 1),
          codec: CODEC_IDS[codec],
          recordCount: recs.length,
          producerId: 7n,
        });
        const body = codec === 'none' ? raw!.body : await codecs[codec].decompress(raw!.body);
        const want = recs.map((r, i) => ({ ...r, offset: BigInt(i), timestampType: TimestampType.CreateTime }));
        expect(plain(decodeRecords(raw!, body))).toEqual(plain({ ok: true, value: want }));
        const hand = decodeBatch(out);
        expect(hand.crcOk).toBe(true);
        expect(plain(hand.records.map((r) => [r.offsetDelta, r.timestamp, r.key, r.value, r.headers]))).toEqual(
          plain(want.map((r, i) => [i, r.timestamp, r.key, r.value, r.headers])),
        );
      }),
      runs(0xb001),
    );
  });

  it('decodes hand-written batches (gaps, 64-bit deltas, odd header keys, partial tail) to exactly their records', () => {
    fc.assert(
      fc.property(fc.array(wireBatch, { minLength: 1, maxLength: 4 }), fc.nat(), (bs, cut) => {
        const whole = bs.map(encodeBatch);
        // A fetch may end inside the next batch: that tail is left for the next fetch.
        const tail = whole[0]!.subarray(0, cut % whole[0]!.length);
        const raws = splitBatches(Buffer.concat([...whole, tail]));
        expect(raws.map((r) => r.header.baseOffset)).toEqual(bs.map((b) => b.baseOffset));
        raws.forEach((raw, i) => {
          expect(raw.header.lastOffset).toBe(bs[i]!.baseOffset + BigInt(bs[i]!.records[bs[i]!.records.length - 1]!.offsetDelta));
          expect(plain(decodeRecords(raw))).toEqual(plain({ ok: true, value: expectedRecords(bs[i]!) }));
        });
      }),
      runs(0xb002, 4),
    );
  });

  it('refuses hostile batches with RecordBatchError only, within what the bytes can hold, as the independent decoder reads them', () => {
    fc.assert(
      fc.property(hostileBatches, (bytes) => {
        const split = attempt(() => splitBatches(bytes), [RecordBatchError]);
        if (!split.ok) return;
        let total = 0;
        for (const raw of split.value) {
          total += 61 + raw.body.length;
          const recs = decodeRecords(raw);
          // Control markers and the abort filter meet the same bytes.
          const filter = new AbortFilter([{ producerId: raw.header.producerId, firstOffset: raw.header.baseOffset }]);
          const type = attempt(() => controlType(raw.body, raw.header), [RecordBatchError]);
          if (type.ok) filter.control(raw.header, type.value);
          filter.skipData(raw.header);
          if (!recs.ok) continue;
          // A record takes at least 7 bytes, a header 2.
          expect(recs.value.length * 7).toBeLessThanOrEqual(raw.body.length);
          expect(recs.value.reduce((n, r) => n + r.headers.length, 0) * 2).toBeLessThanOrEqual(raw.body.length);
        }
        expect(total).toBeLessThanOrEqual(bytes.length);
        // Where the independent decoder reads a whole uncompressed batch, kbak reads the same.
        if (split.value.length === 0 || split.value[0]!.header.codec !== 0) return;
        let hand;
        try {
          hand = decodeBatch(bytes);
        } catch {
          return;
        }
        const mine = decodeRecords(split.value[0]!);
        expect(mine.ok).toBe(true);
        if (!mine.ok) return;
        expect(plain(mine.value.map((r) => [r.offset - hand.baseOffset, r.key, r.value, r.headers]))).toEqual(
          plain(hand.records.map((r) => [BigInt(r.offsetDelta), r.key, r.value, r.headers])),
        );
        hand.records.forEach((r, i) => {
          // The independent decoder's deltas are numbers: exact below 2^53.
          if (!hand.timestampType && Number.isSafeInteger(Number(r.timestamp - hand.baseTimestamp))) expect(mine.value[i]!.timestamp).toBe(r.timestamp);
        });
      }),
      runs(0xb003, 8),
    );
  });

  it("transcodes hostile batches to the same segment records the decoder's objects give, and stops at the same error", () => {
    const range = fc.record({ from: fc.oneof(fc.constant(0n), fc.bigInt(0n, 40n)), span: fc.oneof(fc.constant(2n ** 62n), fc.bigInt(0n, 40n)) });
    fc.assert(
      fc.property(hostileBatches, range, (bytes, { from, span }) => {
        const split = attempt(() => splitBatches(bytes), [RecordBatchError]);
        if (!split.ok) return;
        for (const raw of split.value) {
          const start = raw.header.baseOffset + from;
          const end = start + span;
          const viaObjects = attempt(() => {
            const out: BackupRecord[] = [];
            let next = start;
            const it = new BatchRecords(raw.header, raw.body);
            for (let r = it.next(); r !== null; r = it.next()) {
              if (r.offset < next) continue;
              if (r.offset >= end) break;
              out.push(r);
              next = r.offset + 1n;
            }
            return out;
          }, [RecordBatchError]);
          const out: BackupRecord[] = [];
          const viaTranscoder = attempt(() => {
            const t = new BatchTranscoder(raw.header, raw.body, start, end, { since: null, until: null }, { observeId: () => undefined });
            for (let more = t.advance(); more; more = t.pending) {
              if (t.fast) {
                const b = Buffer.alloc(t.size);
                t.writePending(b, 0);
                out.push(decodeRecordAt(b, 0, b.length, 0, CTX).record);
              } else out.push(t.pendingRecord());
              t.advance();
            }
            return out;
          }, [RecordBatchError]);
          if (viaObjects.ok) expect(plain(viaTranscoder)).toEqual(plain(viaObjects));
          else {
            expect(viaTranscoder.ok ? 'accepted' : viaTranscoder.error.message).toBe(viaObjects.error.message);
          }
        }
      }),
      runs(0xb004, 4),
    );
  });

  it('decodes a Fetch v11 response to what was written and refuses every strict prefix of it', () => {
    fc.assert(
      fc.property(wireResponse, fc.nat(), (r, cut) => {
        const bytes = encodeResponse(r);
        const res = decodeFetchResponse(bytes);
        expect(plain(res)).toEqual(plain(expectedResponse(r)));
        // The record bytes are views of the response, not copies.
        for (const p of res.partitions) if (p.records.length > 0) expect(p.records.buffer).toBe(bytes.buffer);
        const prefix = bytes.subarray(0, cut % bytes.length);
        const refused = attempt(() => decodeFetchResponse(prefix), [FetchResponseError]);
        expect(refused.ok).toBe(false);
      }),
      runs(0xb005, 2),
    );
  });

  it('refuses hostile fetch responses with FetchResponseError only, within what the bytes can hold', () => {
    const hostile = fc.oneof(
      buffer({ maxLength: 200 }),
      fc.tuple(wireResponse, mutations).map(([r, ms]) => mutate(encodeResponse(r), ms)),
      // Counts that lie, in an honest frame: 2^31-1 topics, partitions or aborted transactions.
      fc.tuple(wireResponse, fc.nat()).map(([r, at]) => {
        const b = encodeResponse(r);
        const p = b.length < 4 ? 0 : at % (b.length - 3);
        b.writeInt32BE(0x7fffffff, p);
        return b;
      }),
    );
    fc.assert(
      fc.property(hostile, (bytes) => {
        const r = attempt(() => decodeFetchResponse(bytes), [FetchResponseError]);
        if (!r.ok) return;
        const res = r.value;
        expect(res.partitions.length * PARTITION_MIN_BYTES).toBeLessThanOrEqual(bytes.length);
        expect(res.partitions.reduce((n, p) => n + p.abortedTransactions.length * 16 + p.records.length, 0)).toBeLessThanOrEqual(bytes.length);
        // Decoded, written again and decoded: the same response.
        expect(plain(decodeFetchResponse(reencode(res)))).toEqual(plain(res));
      }),
      runs(0xb006, 4),
    );
  });

  it('decompresses with every codec what it compressed; hostile input fails with an Error, never more than MAX_BATCH_BYTES', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CODECS),
        buffer({ maxLength: 2048 }),
        fc.option(mutations, { freq: 2 }),
        buffer({ maxLength: 64 }),
        async (codec, raw, ms, junk) => {
          const packed = await codecs[codec].compress(raw);
          expect((await codecs[codec].decompress(packed)).equals(raw)).toBe(true);
          for (const hostile of [ms ? mutate(packed, ms) : packed, junk]) {
            const r = await attemptAsync(() => codecs[codec].decompress(hostile), [Error]);
            if (r.ok) expect(r.value.length).toBeLessThanOrEqual(MAX_BATCH_BYTES);
          }
        },
      ),
      runs(0xb007),
    );
  });
});

describe('regressions found by fuzzing', () => {
  // Seeds 0xb003 and 0xb004: a record claiming 2^53 headers made BatchRecords.next allocate
  // `new Array(count)` before reading any: RangeError "Invalid array length" (a broker's bytes
  // surfaced as a Kafka failure with the wrong words), and 3·10^7 headers took a 240 MB
  // array for a few bytes. The count is now checked against the record's bytes first.
  const claims2e53 = Buffer.from([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 72, 0, 0, 0, 0, 2, 111, 79, 118, 153, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 1, 44, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1, 0, 1, 0, 128, 128, 128, 128, 128, 128, 128, 32,
  ]);
  const claims2e32 = Buffer.from([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0, 0, 2, 128, 83, 218, 57, 0, 0, 0, 0, 0, 0, 0, 0, 1, 116, 135, 110, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255,
    255, 255, 255, 255, 255, 255, 0, 0, 255, 255, 255, 255, 0, 0, 0, 1, 20, 0, 0, 0, 0, 1, 128, 128, 128, 128, 32,
  ]);
  const thirtyMillion = frameBatch(
    { baseOffset: 0n, attributes: 0, baseTimestamp: 0n, maxTimestamp: 0n, producerId: -1n },
    0,
    1,
    ((): Buffer => {
      const body = Buffer.concat([Buffer.from([0]), zigzag(0n), varint(0), wireBytes(null), wireBytes(null), varint(30_000_000)]);
      return Buffer.concat([varint(body.length), body]);
    })(),
  );

  it.each([
    ['2^53 headers (seed 0xb003)', claims2e53, /^record 0 of the batch at offset 0 claims 9007199254740992 headers, more than its 22 bytes can hold$/],
    ['2^32 headers (seed 0xb004)', claims2e32, /^record 0 of the batch at offset 0 claims 4294967296 headers, more than its 10 bytes can hold$/],
    ['3·10^7 headers', thirtyMillion, /^record 0 of the batch at offset 0 claims 30000000 headers, more than its 9 bytes can hold$/],
  ])('refuses a record claiming %s with RecordBatchError before allocating', (_, bytes, message) => {
    const [raw] = splitBatches(bytes);
    const r = decodeRecords(raw!);
    expect(r.ok ? 'accepted' : r.error.message).toMatch(message);
    // The transcoder hands such a record to the decoder: the same error reaches the dump.
    const t = new BatchTranscoder(raw!.header, raw!.body, raw!.header.baseOffset, I64_MAX, { since: null, until: null }, { observeId: () => undefined });
    expect(t.advance()).toBe(true);
    expect(t.fast).toBe(false);
    expect(() => t.pendingRecord()).toThrow(message);
  });
});
