/**
 * Fuzzing the segment reader (src/segment/reader.ts, format.ts): a segment comes from a
 * shared bucket, so every byte of it is untrusted. Properties:
 *
 * - round trip: what SegmentWriter wrote reads back as the same records, whole or in chunks
 *   split anywhere, with the expectations a manifest gives (SHA-256, count, raw bytes); the
 *   independent FORMAT.md decoder (test/support/format-decoder.ts) reads the same records,
 *   and the raw-block reader the same offsets;
 * - a record's encoding is canonical: encodeRecord ∘ decodeRecordAt is the identity on every
 *   byte string the record decoder accepts, and decodeRecordAt ∘ encodeRecord on records;
 * - hostile segments (built block by block with lying lengths, counts, CRCs, codecs and
 *   records) and mutated honest ones are refused with IntegrityError and nothing else; the
 *   work stays bounded: zstd never inflates more than the manifest's raw bytes, and no more
 *   records come out than the bytes can hold;
 * - a mutated segment is refused whenever the manifest's SHA-256 is checked; without it,
 *   local changes (bit flips, byte changes, truncation, deletion, duplication, insertion)
 *   are refused or read back as the same records (reserved bytes carry no meaning);
 * - the outcome (records or the exact error message) does not depend on how the source
 *   splits the bytes into chunks, and the raw-block reader (restore's transcoder) accepts
 *   what the record reader accepts and refuses what it refuses.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { IntegrityError } from '../../src/errors';
import {
  type BlockContext,
  Codec,
  decodeRecordAt,
  encodeBlockHeader,
  encodeFileHeader,
  encodeRecord,
  RECORD_MIN_SIZE,
  scanRecordAt,
} from '../../src/segment/format';
import { readSegment, readSegmentRawBlocks, type ReadSegmentOptions } from '../../src/segment/reader';
import { type BackupRecord, TimestampType } from '../../src/segment/record';
import { SegmentWriter } from '../../src/segment/writer';
import * as zstd from '../../src/segment/zstd';
import { decodeSegment } from '../support/format-decoder';
import { attempt, attemptAsync, buffer, chunked, mutate, mutations, runs, streamOf, wellFormed, type Mutation, type Outcome } from './support';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const CTX: BlockContext = { name: 'fuzz', blockIndex: 0, position: 16 };

// ---------------------------------------------------------------- generators

const bytesOrNull: fc.Arbitrary<Buffer | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 4, arbitrary: buffer({ maxLength: 48 }) },
);

const headerKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('traceparent', 'b3', '', '\uFEFFbom', 'ünï', '日本語のキー', '\u{1F600}emoji', '\u0000nul'),
  fc.string({ unit: 'binary', maxLength: 8 }).filter(wellFormed),
  fc.string({ unit: 'grapheme-ascii', maxLength: 16 }),
);

const recordShape = fc.record({
  gap: fc.oneof({ weight: 4, arbitrary: fc.constant(1n) }, { weight: 1, arbitrary: fc.bigInt(1n, 1_000n) }),
  timestamp: fc.oneof(fc.bigInt(1_600_000_000_000n, 1_900_000_000_000n), fc.bigInt(I64_MIN, I64_MAX), fc.constantFrom(I64_MIN, -1n, 0n, I64_MAX)),
  timestampType: fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime, TimestampType.Unknown),
  key: bytesOrNull,
  value: bytesOrNull,
  headers: fc.array(fc.record({ key: headerKey, value: bytesOrNull }), { maxLength: 4 }),
});

/** Records with strictly increasing offsets (compaction gaps included), anywhere in the int64 range. */
const records = (maxLength: number, minLength = 0): fc.Arbitrary<BackupRecord[]> =>
  fc
    .tuple(fc.oneof(fc.constant(0n), fc.bigInt(0n, 2n ** 53n), fc.bigInt(0n, I64_MAX - 100_000n)), fc.array(recordShape, { minLength, maxLength }))
    .map(([start, shapes]) => {
      let offset = start - 1n;
      return shapes.map(({ gap, ...r }) => ({ ...r, offset: (offset += gap) }));
    });

const record: fc.Arbitrary<BackupRecord> = records(1, 1).map((rs) => rs[0]!);

interface Written {
  bytes: Buffer;
  records: BackupRecord[];
  /** What the manifest says about the segment. */
  expect: Required<Pick<ReadSegmentOptions, 'expectedSha256' | 'expectedRecords' | 'expectedRawBytes'>>;
}

const writerOptions = fc.record({
  blockBytes: fc.oneof(fc.integer({ min: 33, max: 512 }), fc.integer({ min: 513, max: 8192 })),
  level: fc.integer({ min: 1, max: 3 }),
  zstd: fc.constantFrom('auto' as const, 'wasm' as const),
});

async function writeSegment(recs: BackupRecord[], o: { blockBytes: number; level: number; zstd: 'auto' | 'wasm' }): Promise<Written> {
  const chunks: Buffer[] = [];
  // The writer reuses its block buffers: keep copies.
  const w = await SegmentWriter.create({ ...o, name: 'fuzz', sink: (c) => void chunks.push(Buffer.from(c)) });
  for (const r of recs) await w.append(r);
  const stats = await w.finish();
  return {
    bytes: Buffer.concat(chunks),
    records: recs,
    expect: { expectedSha256: stats.sha256, expectedRecords: stats.records, expectedRawBytes: stats.rawBytes },
  };
}

const written = (maxRecords: number): fc.Arbitrary<Promise<Written>> => fc.tuple(records(maxRecords), writerOptions).map(([rs, o]) => writeSegment(rs, o));

/** Mostly the truth: a lie comes with weight 1 against `honest`. */
const rarely = <T>(lie: fc.Arbitrary<T>, honest = 16): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: honest, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: lie });

/** How one block of a hostile segment may lie: codec, lengths, count, CRC, reserved bytes, payload. */
const blockLies = fc.record({
  codec: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(Codec.Stored, Codec.Zstd) }, { weight: 1, arbitrary: fc.constantFrom(2, 255) }),
  count: rarely(fc.constantFrom(-1, 1, 2 ** 31, -(2 ** 31))),
  rawLength: rarely(fc.constantFrom(0, 1, 32, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 0xffffffff)),
  storedLength: rarely(fc.constantFrom(0, 1, 0xffff, 0xffffffff)),
  crc: rarely(fc.nat({ max: 0xffffffff })),
  reserved: fc.oneof(fc.constant(0), fc.nat({ max: 0xffffff })),
  /** A random payload instead of the compressed body (zstd blocks), or the frame mutated. */
  payload: rarely(buffer({ maxLength: 64 })),
  frame: rarely(mutations, 4),
});
type BlockLies = typeof blockLies extends fc.Arbitrary<infer T> ? T : never;

/** How one record of a hostile segment may be damaged: mutated, or replaced by random bytes. */
type RecordLie = { ms: Mutation[] } | { bytes: Buffer };
const recordLie = rarely<RecordLie>(
  fc.oneof(
    mutations.map((ms) => ({ ms })),
    buffer({ maxLength: 80 }).map((bytes) => ({ bytes })),
  ),
  6,
);

async function hostileSegment(recs: BackupRecord[], damage: Array<RecordLie | null>, groups: number[], lies: BlockLies[], tail: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [encodeFileHeader()];
  let i = 0;
  for (let g = 0; i < recs.length; g++) {
    const n = Math.min(groups[g]!, recs.length - i);
    const encoded = recs.slice(i, i + n).map((r, j) => {
      const d = damage[i + j];
      const b = encodeRecord(r);
      return d === null || d === undefined ? b : 'bytes' in d ? d.bytes : mutate(b, d.ms);
    });
    i += n;
    const lie = lies[g]!;
    const body = Buffer.concat(encoded);
    let payload: Buffer = body;
    if (lie.codec === Codec.Zstd) {
      payload = lie.payload ?? (body.length <= zstd.zstdInputLimit(1) ? await zstd.compressBlock(body, 1) : body);
      if (lie.frame) payload = mutate(payload, lie.frame);
    }
    const header = encodeBlockHeader({
      codec: lie.codec as Codec, // may be no codec at all
      rawLength: lie.rawLength ?? body.length,
      storedLength: lie.storedLength ?? payload.length,
      recordCount: (n + (lie.count ?? 0)) >>> 0,
      crc32: lie.crc ?? crc32(body),
    });
    header.writeUIntBE(lie.reserved, 1, 3);
    parts.push(header, payload);
  }
  parts.push(tail);
  return Buffer.concat(parts);
}

const MAX_HOSTILE_RECORDS = 12;
const hostile: fc.Arbitrary<Promise<Buffer>> = fc
  .tuple(
    records(MAX_HOSTILE_RECORDS),
    fc.array(recordLie, { minLength: MAX_HOSTILE_RECORDS, maxLength: MAX_HOSTILE_RECORDS }),
    fc.array(fc.integer({ min: 1, max: 5 }), { minLength: MAX_HOSTILE_RECORDS, maxLength: MAX_HOSTILE_RECORDS }),
    fc.array(blockLies, { minLength: MAX_HOSTILE_RECORDS, maxLength: MAX_HOSTILE_RECORDS }),
    rarely(buffer({ minLength: 1, maxLength: 24 }), 8),
  )
  .map(([recs, damage, groups, lies, tail]) => hostileSegment(recs, damage, groups, lies, tail ?? Buffer.alloc(0)));

/** Cut points for chunking a stream. */
const cuts = fc.array(fc.nat(), { maxLength: 7 });

// ---------------------------------------------------------------- reading with accounting

interface Read {
  outcome: Outcome<BackupRecord[]>;
  /** Raw bytes zstd was asked to inflate. */
  inflated: number;
}

let inflated = 0;
beforeAll(() => {
  const real = zstd.decompressBlock;
  jest.spyOn(zstd, 'decompressBlock').mockImplementation(async (frame, rawLength) => {
    inflated += rawLength;
    return real(frame, rawLength);
  });
});
afterAll(() => jest.restoreAllMocks());

async function read(chunks: Buffer[], opts: Partial<ReadSegmentOptions> = {}): Promise<Read> {
  inflated = 0;
  const outcome = await attemptAsync(async () => {
    const out: BackupRecord[] = [];
    for await (const r of readSegment(streamOf(chunks), { name: 'fuzz', ...opts })) out.push(r);
    return out;
  }, [IntegrityError]);
  return { outcome, inflated };
}

async function readRaw(bytes: Buffer, opts: Partial<ReadSegmentOptions> = {}): Promise<Outcome<Array<{ count: number; first: bigint; last: bigint }>>> {
  return attemptAsync(async () => {
    const out: Array<{ count: number; first: bigint; last: bigint }> = [];
    for await (const b of readSegmentRawBlocks(streamOf([bytes]), { name: 'fuzz', ...opts }))
      out.push({ count: b.count, first: b.firstOffset, last: b.lastOffset });
    return out;
  }, [IntegrityError]);
}

/** The work a read did is bounded by its input: checked on every outcome. */
function expectBounded(bytes: Buffer, r: Read, expectedRawBytes?: number): void {
  if (expectedRawBytes !== undefined) expect(r.inflated).toBeLessThanOrEqual(expectedRawBytes);
  // zstd inflates at most 4 MiB per block, and a block takes at least a header.
  expect(r.inflated).toBeLessThanOrEqual(Math.ceil(bytes.length / 20) * 4 * 1024 * 1024);
  if (r.outcome.ok) expect(r.outcome.value.length * RECORD_MIN_SIZE).toBeLessThanOrEqual(bytes.length + r.inflated);
}

const sameOutcome = (a: Outcome<unknown>, b: Outcome<unknown>): void => {
  if (a.ok && b.ok) expect(b.value).toEqual(a.value);
  else if (!a.ok && !b.ok) expect(b.error.message).toBe(a.error.message);
  else throw new Error(`one read ${a.ok ? 'accepted' : `refused (${a.error.message})`}, the other ${b.ok ? 'accepted' : `refused (${b.error.message})`}`);
};

const independent = (bytes: Buffer): Outcome<BackupRecord[]> => {
  try {
    return {
      ok: true,
      value: decodeSegment(bytes).records.map((r) => ({
        ...r,
        timestampType: r.timestampType,
        headers: r.headers.map(([key, value]) => ({ key, value })),
      })),
    };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
};

// ---------------------------------------------------------------- properties

describe('segment reader fuzzing', () => {
  it('reads back what the writer wrote, in any chunking, as the independent decoder and the raw-block reader do', async () => {
    await fc.assert(
      fc.asyncProperty(written(40), cuts, async (w, at) => {
        const { bytes, records: recs, expect: e } = await w;
        const r = await read(chunked(bytes, at), e);
        expectBounded(bytes, r, e.expectedRawBytes);
        expect(r.outcome).toEqual({ ok: true, value: recs });
        expect(independent(bytes)).toEqual({ ok: true, value: recs });
        const raw = await readRaw(bytes, e);
        expect(raw.ok && raw.value.reduce((n, b) => n + b.count, 0)).toBe(recs.length);
        if (raw.ok && raw.value.length > 0) {
          expect(raw.value[0]!.first).toBe(recs[0]!.offset);
          expect(raw.value[raw.value.length - 1]!.last).toBe(recs[recs.length - 1]!.offset);
        }
      }),
      runs(0x5e61),
    );
  });

  it('decodes a record exactly as it was encoded, and re-encodes every accepted byte string to itself', () => {
    fc.assert(
      fc.property(record, (r) => {
        const b = encodeRecord(r);
        expect(decodeRecordAt(b, 0, b.length, 0, CTX).record).toEqual(r);
      }),
      runs(0x5e62, 4),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          buffer({ maxLength: 96 }),
          record.map(encodeRecord),
          fc.tuple(record, mutations).map(([r, ms]) => mutate(encodeRecord(r), ms)),
        ),
        (b) => {
          const scanned = attempt(() => scanRecordAt(b, 0, b.length, 0, CTX), [IntegrityError]);
          const decoded = attempt(() => decodeRecordAt(b, 0, b.length, 0, CTX), [IntegrityError]);
          expect(decoded.ok).toBe(scanned.ok);
          if (decoded.ok) {
            // Fixed-width lengths: one encoding per record, so nothing is lost or invented.
            expect(encodeRecord(decoded.value.record)).toEqual(b.subarray(0, decoded.value.next));
            expect(decoded.value.record.headers.length * 8).toBeLessThanOrEqual(b.length);
          } else if (!scanned.ok) expect(decoded.error.message).toBe(scanned.error.message);
        },
      ),
      runs(0x5e63, 8),
    );
  });

  it('refuses hostile segments with IntegrityError only, inflating no more than the manifest declares', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, fc.option(fc.nat({ max: 4096 })), cuts, async (h, rawBudget, at) => {
        const bytes = await h;
        const opts = rawBudget === null ? {} : { expectedRawBytes: rawBudget };
        const r = await read([bytes], opts);
        expectBounded(bytes, r, rawBudget ?? undefined);
        // The same outcome, to the byte position in the message, however the bytes arrive.
        sameOutcome(r.outcome, (await read(chunked(bytes, at), opts)).outcome);
        // The raw-block reader checks framing and order, not the inside of records.
        const raw = await readRaw(bytes, opts);
        if (r.outcome.ok) expect(raw.ok && raw.value.reduce((n, b) => n + b.count, 0)).toBe(r.outcome.value.length);
        if (!raw.ok) expect(r.outcome.ok).toBe(false);
        // Whatever kbak accepts, a reader written from FORMAT.md alone accepts as the same records.
        if (r.outcome.ok) expect(independent(bytes)).toEqual(r.outcome);
      }),
      runs(0x5e64),
    );
  });

  it('refuses every change to a segment whose manifest SHA-256 is checked', async () => {
    await fc.assert(
      fc.asyncProperty(written(12), written(12), mutations, async (w, d, ms) => {
        const { bytes, expect: e } = await w;
        const donor = (await d).bytes;
        const changed = mutate(bytes, ms, donor);
        fc.pre(!changed.equals(bytes));
        const r = await read([changed], e);
        expectBounded(changed, r, e.expectedRawBytes);
        expect(r.outcome.ok).toBe(false);
        // Without the SHA-256 the blocks' own checks decide; never anything but IntegrityError.
        const loose = await read([changed]);
        expectBounded(changed, loose);
      }),
      runs(0x5e65),
    );
  });

  it('refuses local changes by CRC and framing alone, or reads the same records (reserved bytes)', async () => {
    const local = fc.array(
      mutations.map((ms) => ms.filter((m) => m.kind !== 'splice')),
      { minLength: 1, maxLength: 1 },
    );
    await fc.assert(
      fc.asyncProperty(written(12), local, async (w, [ms]) => {
        const { bytes, records: recs, expect: e } = await w;
        const changed = mutate(bytes, ms!);
        const r = await read([changed], { expectedRecords: e.expectedRecords, expectedRawBytes: e.expectedRawBytes });
        expectBounded(changed, r, e.expectedRawBytes);
        if (r.outcome.ok) expect(r.outcome.value).toEqual(recs);
      }),
      runs(0x5e66),
    );
  });

  it('streams a stored block above 4 MiB record by record with the same checks', async () => {
    // 4 000 records of 1 KiB values: the reader's streamed path (one record at a time, CRC at the end).
    const n = 4_000;
    const size = RECORD_MIN_SIZE + 1024;
    const body = Buffer.alloc(n * size);
    for (let i = 0; i < n; i++) {
      const p = i * size;
      body.writeUInt32BE(size - 4, p);
      body.writeBigInt64BE(BigInt(i), p + 4);
      body.writeInt32BE(-1, p + 21);
      body.writeInt32BE(1024, p + 25);
      body.fill(i & 0xff, p + 29, p + 29 + 1024);
    }
    const bytes = Buffer.concat([
      encodeFileHeader(),
      encodeBlockHeader({ codec: Codec.Stored, rawLength: body.length, storedLength: body.length, recordCount: n, crc32: crc32(body) }),
      body,
    ]);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const whole = await read([bytes], { expectedSha256: sha, expectedRecords: n, expectedRawBytes: body.length });
    expect(whole.outcome.ok && whole.outcome.value.length).toBe(n);
    await fc.assert(
      fc.asyncProperty(
        mutations.map((ms) => ms.filter((m) => m.kind !== 'splice')),
        fc.nat({ max: 400 }),
        async (ms, near) => {
          // Aim the changes at the block header and the first and last records.
          const at = near < 200 ? 16 + near : bytes.length - 400 + near;
          const changed = mutate(
            bytes,
            ms.map((m) => ({ ...m, at })),
          );
          const r = await read([changed], { expectedRecords: n, expectedRawBytes: body.length });
          expectBounded(changed, r, body.length);
          if (r.outcome.ok) expect(r.outcome.value.length).toBe(n);
        },
      ),
      runs(0x5e67, 0.05),
    );
  });
});
