/**
 * Fuzzing the DescribeLogDirs v1 response reader (src/kafka/protocol/describe-log-dirs.ts):
 * a broker's answer is untrusted. Properties:
 *
 * - round trip: a response written here by hand from Kafka's DescribeLogDirsResponse.json
 *   (v1) decodes to exactly what was written, and every strict prefix of it is refused;
 * - hostile bytes (random, mutated honest responses, counts that lie) are refused with
 *   DescribeLogDirsResponseError and nothing else, with the work bounded by the input: no
 *   more log dirs, topics or partitions than the bytes can hold.
 */
import fc from 'fast-check';
import { decodeDescribeLogDirsResponse, DescribeLogDirsResponseError, type DescribeLogDirsResponse } from '../../src/kafka/protocol/describe-log-dirs';
import { attempt, buffer, mutate, mutations, runs, wellFormed } from './support';

const text = fc.string({ maxLength: 12 }).filter(wellFormed);
const partition = fc.record({
  partition: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  size: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n),
  offsetLag: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n),
  isFuture: fc.boolean(),
});
const response: fc.Arbitrary<DescribeLogDirsResponse> = fc.record({
  throttleTimeMs: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  results: fc.array(
    fc.record({
      errorCode: fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 }),
      logDir: text,
      topics: fc.array(fc.record({ name: text, partitions: fc.array(partition, { maxLength: 4 }) }), { maxLength: 3 }),
    }),
    { maxLength: 3 },
  ),
});

/** The v1 bytes of a response, written from the spec: int32 counts, int16-length strings, big-endian. */
function encode(r: DescribeLogDirsResponse): Buffer {
  const parts: Buffer[] = [];
  const i16 = (v: number) => parts.push(Buffer.from([(v >> 8) & 0xff, v & 0xff]));
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    parts.push(b);
  };
  const i64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    parts.push(b);
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    i16(b.length);
    parts.push(b);
  };
  i32(r.throttleTimeMs);
  i32(r.results.length);
  for (const d of r.results) {
    i16(d.errorCode);
    str(d.logDir);
    i32(d.topics.length);
    for (const t of d.topics) {
      str(t.name);
      i32(t.partitions.length);
      for (const p of t.partitions) {
        i32(p.partition);
        i64(p.size);
        i64(p.offsetLag);
        parts.push(Buffer.from([p.isFuture ? 1 : 0]));
      }
    }
  }
  return Buffer.concat(parts);
}

/** The least bytes the decoded elements need: what the decoder may never exceed for a given input. */
function fits(r: DescribeLogDirsResponse, bytes: number): boolean {
  let need = 8;
  for (const d of r.results) {
    need += 8;
    for (const t of d.topics) need += 6 + 21 * t.partitions.length;
  }
  return need <= bytes;
}

describe('DescribeLogDirs v1 response (fuzz)', () => {
  it('decodes a hand-written response to what was written; refuses every strict prefix', () => {
    fc.assert(
      fc.property(response, (r) => {
        const bytes = encode(r);
        expect(decodeDescribeLogDirsResponse(bytes)).toEqual(r);
        for (let n = 0; n < bytes.length; n++) {
          const out = attempt(() => decodeDescribeLogDirsResponse(bytes.subarray(0, n)), [DescribeLogDirsResponseError]);
          expect(out.ok).toBe(false);
        }
      }),
      runs(3501),
    );
  });

  it('refuses random and mutated bytes with its own error only, never decoding more than the bytes hold', () => {
    const input = fc.oneof(
      buffer({ maxLength: 200 }),
      fc.tuple(response, response, mutations).map(([r, donor, ms]) => mutate(encode(r), ms, encode(donor))),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const out = attempt(() => decodeDescribeLogDirsResponse(bytes), [DescribeLogDirsResponseError]);
        if (out.ok) expect(fits(out.value, bytes.length)).toBe(true);
      }),
      runs(3502),
    );
  });
});
