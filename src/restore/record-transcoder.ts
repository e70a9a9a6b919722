/**
 * Restore's direct path: backup records, as a segment block stores them (FORMAT.md,
 * "Records"), re-encoded into a Kafka v2 record set in one pass and one buffer, with no
 * object, string or BigInt per record. Both paths here, the fast one (transcode) and the
 * object one (appendRecord), write through Kafka's one record writer
 * (src/kafka/protocol/record.ts): the same field sizes and record head. The bytes are
 * exactly those of encodeRecordSet(toLaneRecord(decodeRecordAt(...)))
 * (test/unit/record-transcoder.test.ts):
 * key, value and header values are copied as they are, a Confluent-framed key or value
 * gets its 4 schema-ID bytes patched in place (write-partition.ts: rewrite), header keys
 * are copied as bytes after the UTF-8 check the decoder makes. With --lane-baggage the
 * first `baggage` header's value is replaced by what src/lane/baggage.ts makes of it (or
 * a `baggage` header is appended), and --lane-header appends its header, as toLaneRecord
 * does.
 *
 * The records start `headroom` bytes into the buffer, so a producer can frame the request
 * and the batch header in front of them without copying them (LeanProducer.sendPlaced).
 * Pure: no I/O.
 */
import { isUtf8 } from 'node:buffer';
import { IntegrityError } from '../errors';
import type { ProduceRecord } from '../kafka/adapter';
import { headerSize, measureRecord, recordBodySize, recordSize, writeRecord, writeRecordHead } from '../kafka/protocol/record';
import type { PlacedRecordSet } from '../kafka/protocol/record-batch';
import { writeVarInt } from '../kafka/protocol/wire';
import { decodeRecordAt, RECORD_MIN_SIZE, type BlockContext } from '../segment/format';
import { isTimestampType } from '../segment/record';
import { FRAME_HEADER_BYTES, CONFLUENT_MAGIC } from '../schema/framing';
import type { SchemaIdMap } from '../schema/register';
import { isBaggageKeyBytes, laneBaggageValue, newBaggageValue } from '../lane/baggage';

/** What changes on the way to one lane topic (write-partition.ts RewriteOptions). */
export interface IdRewrite {
  ids: SchemaIdMap | null;
  laneTopic: string;
  /** The lane's name: the value of the lane header and of the baggage member. */
  lane?: string;
  /** --lane-header: a header appended to every record. */
  laneHeader?: string | null;
  /** --lane-baggage KEY: KEY=<lane> in the first `baggage` header. */
  laneBaggage?: string | null;
}

/** When a batch is full, as write-partition counts it: records, and key + value + header bytes. */
export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
}

/** What one transcode call did. */
export interface TranscodeResult {
  /** Body position of the first record not transcoded (the end when all were). */
  next: number;
  records: number;
  /** Key, value and header bytes of those records (write-partition.ts recordBytes). */
  bytes: number;
  /** Framed keys and values whose schema ID was mapped. */
  rewritten: number;
  /** The batch is full: send it before transcoding from `next`. */
  full: boolean;
  /** Records whose baggage header --lane-baggage left alone (not valid baggage). */
  baggageLeftAlone: number;
}

/** An added header's bytes. */
interface AddedHeader {
  key: Buffer;
  value: Buffer;
}

/** A null baggage header: not baggage, left alone (baggage.ts laneBaggageValue). */
const NULL_BAGGAGE = { value: null, leftAlone: true } as const;

/** What --lane-baggage made of one baggage value. */
interface BaggageOutcome {
  value: Buffer | null;
  leftAlone: boolean;
}
/**
 * Baggage values remembered with what they became (a topic's records repeat a few: a
 * tenant, a user, a feature flag): at most this many, each at most BAGGAGE_MEMO_BYTES long;
 * the memo starts over when it is full, so memory stays bounded whatever the records hold.
 */
const BAGGAGE_MEMO_ENTRIES = 512;
const BAGGAGE_MEMO_BYTES = 256;

/** Timestamps whose double is exact: |t| < 2^53, i.e. the signed high word in [-2^21, 2^21). */
const SAFE_HI = 0x200000;
const TWO32 = 4294967296;
/** Header keys checked once per header slot and remembered (a topic repeats the same few). */
const KNOWN_KEY_SLOTS = 16;
/** Below this, a byte loop beats the native copy's call cost. */
const SMALL_COPY = 48;

function copyBytes(src: Buffer, from: number, to: number, out: Buffer, pos: number): number {
  const n = to - from;
  if (n < SMALL_COPY) {
    for (let i = 0; i < n; i++) out[pos + i] = src[from + i]!;
  } else {
    src.copy(out, pos, from, to);
  }
  return pos + n;
}

/** Writes a header of `key` and `value` bytes at out[pos..]; returns the end. */
function writeAdded(out: Buffer, pos: number, key: Buffer, value: Buffer): number {
  pos = writeVarInt(out, pos, key.length);
  pos = copyBytes(key, 0, key.length, out, pos);
  pos = writeVarInt(out, pos, value.length);
  return copyBytes(value, 0, value.length, out, pos);
}

/**
 * Builds one record set at a time into a buffer it reuses. `reset` starts a new set
 * (optionally in a new buffer); `placed` hands the current one out.
 */
export class RecordSetBuilder {
  private buf: Buffer;
  private pos: number;
  /** Records in the current set. */
  count = 0;
  /** Key + value + header bytes of the current set (the batch limit's measure). */
  size = 0;
  private firstHi = 0;
  private firstLo = 0;
  private firstNum = 0;
  private firstSafe = false;
  private firstBig: bigint | null = null;
  private maxHi = 0;
  private maxLo = 0;
  /** Per header: key start, key length, value start, value length (-1: null). */
  private hdr = new Int32Array(64);
  private readonly knownKeys: Array<Buffer | undefined> = [];
  /** UTF-8 lengths of an object record's header keys (appendRecord), reused. */
  private readonly keyLengths: number[] = [];
  private readonly idCache: [Map<number, number>, Map<number, number>] = [new Map<number, number>(), new Map<number, number>()];
  /** --lane-baggage: the header appended to records without one; null without the flag. */
  private readonly baggageAdded: AddedHeader | null;
  private readonly baggageMemo = new Map<string, BaggageOutcome>();
  /** --lane-header's header; null without the flag. */
  private readonly laneHeader: AddedHeader | null;

  constructor(
    readonly headroom: number,
    private readonly capacity: number,
    private readonly rewrite: IdRewrite,
    /** Buffers for the sets (restore: in a SharedArrayBuffer when a worker compresses them). */
    private readonly alloc: (bytes: number) => Buffer = (n) => Buffer.allocUnsafe(n),
  ) {
    this.buf = alloc(headroom + capacity);
    this.pos = headroom;
    const lane = rewrite.lane ?? '';
    this.baggageAdded = rewrite.laneBaggage ? { key: Buffer.from('baggage'), value: newBaggageValue(rewrite.laneBaggage, lane) } : null;
    const header = rewrite.laneHeader ?? null;
    this.laneHeader = header !== null ? { key: Buffer.from(header, 'utf8'), value: Buffer.from(lane, 'utf8') } : null;
  }

  /** Starts a new record set; in a fresh buffer when the last one may still be in use. */
  reset(freshBuffer: boolean): void {
    if (freshBuffer) this.buf = this.alloc(this.headroom + this.capacity);
    this.pos = this.headroom;
    this.count = 0;
    this.size = 0;
    this.firstBig = null;
  }

  /** The current record set, framed by the producer in the buffer's headroom. */
  placed(): PlacedRecordSet {
    if (this.count === 0) throw new Error('RecordSetBuilder: no records');
    return {
      buf: this.buf,
      start: this.headroom,
      end: this.pos,
      count: this.count,
      firstTimestamp: this.first(),
      maxTimestamp: (BigInt(this.maxHi) << 32n) + BigInt(this.maxLo),
    };
  }

  /** The records alone (a view), e.g. to compare with encodeRecordSet. */
  records(): Buffer {
    return this.buf.subarray(this.headroom, this.pos);
  }

  private first(): bigint {
    this.firstBig ??= (BigInt(this.firstHi) << 32n) + BigInt(this.firstLo);
    return this.firstBig;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const grown = this.alloc(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** Notes a record's timestamp; returns its delta to the set's first (as encodeRecordSet computes it). */
  private stamp(hi: number, lo: number, exact: () => bigint): number {
    if (this.count === 0) {
      this.firstHi = this.maxHi = hi;
      this.firstLo = this.maxLo = lo;
      this.firstSafe = hi >= -SAFE_HI && hi < SAFE_HI;
      this.firstNum = hi * TWO32 + lo;
      this.firstBig = null;
      return 0;
    }
    if (hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo)) {
      this.maxHi = hi;
      this.maxLo = lo;
    }
    if (this.firstSafe && hi >= -SAFE_HI && hi < SAFE_HI) {
      // Both exact; the difference is exact whenever it is a safe integer.
      const d = hi * TWO32 + lo - this.firstNum;
      if (d <= Number.MAX_SAFE_INTEGER && d >= -Number.MAX_SAFE_INTEGER) return d;
    }
    return Number(exact() - this.first());
  }

  /** Appends one record given as an object (the slow path: lane headers, resume checks). */
  appendRecord(r: ProduceRecord): void {
    const ts = BigInt.asIntN(64, r.timestamp);
    const hi = Number(ts >> 32n);
    const lo = Number(BigInt.asUintN(32, ts));
    const delta = this.stamp(hi, lo, () => r.timestamp);
    const keyLengths = this.keyLengths;
    const body = measureRecord(r, delta, this.count, keyLengths, 0);
    let size = (r.key?.length ?? 0) + (r.value?.length ?? 0);
    for (let i = 0; i < r.headers.length; i++) size += keyLengths[i]! + (r.headers[i]!.value?.length ?? 0);
    this.ensure(recordSize(body));
    this.pos = writeRecord(this.buf, this.pos, r, body, delta, this.count, keyLengths, 0);
    this.count++;
    this.size += size;
  }

  /** The lane schema ID for a framed payload's ID, or -1 when it is not mapped. */
  private laneId(id: number, part: 0 | 1): number {
    const cache = this.idCache[part];
    let v = cache.get(id);
    if (v === undefined) {
      v = this.rewrite.ids!.forPayload(id, this.rewrite.laneTopic, part === 0 ? 'key' : 'value') ?? -1;
      cache.set(id, v);
    }
    return v;
  }

  /**
   * Copies a key (part 0) or value (part 1) of `n` > 0 bytes to out[pos..], its Confluent
   * schema ID mapped in the copy when the lane has an ID map; returns the end.
   */
  private copyPayload(body: Buffer, from: number, n: number, out: Buffer, pos: number, mapIds: boolean, part: 0 | 1, res: TranscodeResult): number {
    const end = copyBytes(body, from, from + n, out, pos);
    if (mapIds && n >= FRAME_HEADER_BYTES && body[from] === CONFLUENT_MAGIC) {
      const lane = this.laneId(body.readUInt32BE(from + 1), part);
      if (lane >= 0) {
        out.writeUInt32BE(lane, pos + 1);
        res.rewritten++;
      }
    }
    return end;
  }

  /**
   * What --lane-baggage makes of a baggage header's value body[from, from + n) (n -1: null):
   * its new value, or null to keep it; leftAlone when it is not valid baggage.
   */
  private baggageValue(body: Buffer, from: number, n: number): BaggageOutcome {
    if (n < 0) return NULL_BAGGAGE;
    const memo = this.baggageMemo;
    // latin1: one char per byte, so equal keys are equal bytes.
    const key = n <= BAGGAGE_MEMO_BYTES ? body.toString('latin1', from, from + n) : null;
    if (key !== null) {
      const known = memo.get(key);
      if (known !== undefined) return known;
    }
    const r = laneBaggageValue(body.subarray(from, from + n), this.rewrite.laneBaggage!, this.rewrite.lane ?? '');
    const outcome: BaggageOutcome = { value: r.value, leftAlone: r.outcome === 'invalid' };
    if (key !== null) {
      if (memo.size >= BAGGAGE_MEMO_ENTRIES) memo.clear();
      memo.set(key, outcome);
    }
    return outcome;
  }

  /** Whether a header key's bytes are what the decoder accepts (UTF-8); remembered per slot. */
  private keyOk(body: Buffer, from: number, n: number, slot: number): boolean {
    const known = slot < KNOWN_KEY_SLOTS ? this.knownKeys[slot] : undefined;
    if (known !== undefined && known.length === n) {
      // A byte loop: header keys are short, and a native compare per header cost more than it saved.
      let i = 0;
      while (i < n && body[from + i] === known[i]) i++;
      if (i === n) return true;
    }
    const view = body.subarray(from, from + n);
    if (!isUtf8(view)) return false;
    if (slot < KNOWN_KEY_SLOTS) this.knownKeys[slot] = Buffer.from(view);
    return true;
  }

  /**
   * Transcodes the records of a raw block body (RawBlock) from `p` to `end` into the set,
   * until the body ends or the batch is full. `index` is the block index of the record at
   * `p` (for error messages). A malformed record throws the decoder's IntegrityError.
   */
  transcode(body: Buffer, p: number, end: number, index: number, ctx: BlockContext, basePos: number, limits: BatchLimits): TranscodeResult {
    const res: TranscodeResult = { next: p, records: 0, bytes: 0, rewritten: 0, full: false, baggageLeftAlone: 0 };
    const fail = (): never => {
      decodeRecordAt(body, p, end, index, ctx, basePos, true);
      throw new IntegrityError(
        `segment ${ctx.name}: block ${ctx.blockIndex} at byte ${ctx.position}: record ${index} at raw body byte ${basePos + p} is malformed`,
      );
    };
    const mapIds = this.rewrite.ids !== null;
    const baggage = this.baggageAdded;
    const laneHeader = this.laneHeader;
    while (p < end) {
      if (end - p < RECORD_MIN_SIZE) fail();
      const len = body.readUInt32BE(p);
      const recEnd = p + 4 + len;
      if (len < RECORD_MIN_SIZE - 4 || recEnd > end || body.readInt32BE(p + 4) < 0) fail();
      let q = p + 12;
      const tsHi = body.readInt32BE(q);
      const tsLo = body.readUInt32BE(q + 4);
      const tsType = body[q + 8]!;
      if (!isTimestampType(tsType)) fail();
      q += 9;
      const kl = body.readInt32BE(q);
      q += 4;
      if (kl < -1 || (kl > 0 && kl > recEnd - q)) fail();
      const ks = q;
      if (kl > 0) q += kl;
      if (recEnd - q < 4) fail();
      const vl = body.readInt32BE(q);
      q += 4;
      if (vl < -1 || (vl > 0 && vl > recEnd - q)) fail();
      const vs = q;
      if (vl > 0) q += vl;
      if (recEnd - q < 4) fail();
      const hc = body.readUInt32BE(q);
      q += 4;
      if (hc * 8 > recEnd - q) fail();
      // Exactly 4 ints (16 bytes) per header, each of which takes at least 8 record bytes: at
      // most twice the record, where doubling the room cost 4 times a record of millions of headers.
      if (hc * 4 > this.hdr.length) this.hdr = new Int32Array(hc * 4);
      const hdr = this.hdr;
      let hBytes = 0;
      let size = (kl > 0 ? kl : 0) + (vl > 0 ? vl : 0);
      /** --lane-baggage: the header whose value changes (-1: none, one is appended). */
      let bagAt = -1;
      for (let i = 0; i < hc; i++) {
        if (recEnd - q < 4) fail();
        const hkl = body.readUInt32BE(q);
        q += 4;
        if (hkl > recEnd - q) fail();
        if (!this.keyOk(body, q, hkl, i)) fail();
        // Copied byte for byte: a leading EF BB BF (U+FEFF) is part of the key.
        const keyLen = hkl;
        hdr[i * 4] = q;
        hdr[i * 4 + 1] = keyLen;
        q += hkl;
        if (recEnd - q < 4) fail();
        const hvl = body.readInt32BE(q);
        q += 4;
        if (hvl < -1 || (hvl > 0 && hvl > recEnd - q)) fail();
        hdr[i * 4 + 2] = q;
        hdr[i * 4 + 3] = hvl;
        if (hvl > 0) q += hvl;
        hBytes += headerSize(keyLen, hvl);
        size += keyLen + (hvl > 0 ? hvl : 0);
        if (baggage !== null && bagAt === -1 && isBaggageKeyBytes(body, hdr[i * 4]!, keyLen)) bagAt = i;
      }
      if (q !== recEnd) fail();
      // Headers that change: the baggage header's new value (or the one appended), the lane header.
      let bagValue: Buffer | null = null;
      let bagLeftAlone = false;
      let outCount = hc;
      if (baggage !== null) {
        if (bagAt === -1) {
          bagValue = baggage.value;
          outCount++;
          hBytes += headerSize(baggage.key.length, bagValue.length);
          size += baggage.key.length + bagValue.length;
        } else {
          const old = hdr[bagAt * 4 + 3]!;
          // Before the batch limit below: the record's size depends on it (the memo makes the
          // same record cheap again in the next batch).
          ({ value: bagValue, leftAlone: bagLeftAlone } = this.baggageValue(body, hdr[bagAt * 4 + 2]!, old));
          if (bagValue !== null) {
            const keyLen = hdr[bagAt * 4 + 1]!;
            hBytes += headerSize(keyLen, bagValue.length) - headerSize(keyLen, old);
            size += bagValue.length - (old > 0 ? old : 0);
          }
        }
      }
      if (laneHeader !== null) {
        outCount++;
        hBytes += headerSize(laneHeader.key.length, laneHeader.value.length);
        size += laneHeader.key.length + laneHeader.value.length;
      }
      if (this.count > 0 && (this.count >= limits.maxRecords || this.size + size > limits.maxBytes)) {
        res.full = true;
        break;
      }
      const delta = this.stamp(tsHi, tsLo, () => body.readBigInt64BE(p + 12));
      if (bagLeftAlone) res.baggageLeftAlone++;
      const recBody = recordBodySize(delta, this.count, kl, vl, outCount, hBytes);
      this.ensure(recordSize(recBody));
      const out = this.buf;
      let pos = writeRecordHead(out, this.pos, recBody, delta, this.count);
      pos = writeVarInt(out, pos, kl);
      if (kl > 0) pos = this.copyPayload(body, ks, kl, out, pos, mapIds, 0, res);
      pos = writeVarInt(out, pos, vl);
      if (vl > 0) pos = this.copyPayload(body, vs, vl, out, pos, mapIds, 1, res);
      pos = writeVarInt(out, pos, outCount);
      for (let i = 0; i < hc; i++) {
        const k = hdr[i * 4]!;
        const n = hdr[i * 4 + 1]!;
        pos = writeVarInt(out, pos, n);
        pos = copyBytes(body, k, k + n, out, pos);
        if (i === bagAt && bagValue !== null) {
          pos = writeVarInt(out, pos, bagValue.length);
          pos = copyBytes(bagValue, 0, bagValue.length, out, pos);
          continue;
        }
        const v = hdr[i * 4 + 2]!;
        const vn = hdr[i * 4 + 3]!;
        pos = writeVarInt(out, pos, vn);
        if (vn > 0) pos = copyBytes(body, v, v + vn, out, pos);
      }
      if (baggage !== null && bagAt === -1) pos = writeAdded(out, pos, baggage.key, bagValue!);
      if (laneHeader !== null) pos = writeAdded(out, pos, laneHeader.key, laneHeader.value);
      this.pos = pos;
      this.count++;
      this.size += size;
      res.records++;
      res.bytes += size;
      p = recEnd;
      index++;
    }
    res.next = p;
    return res;
  }
}
