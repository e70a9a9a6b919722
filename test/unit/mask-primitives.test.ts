/**
 * The deterministic masking primitives of issue 19 (src/mask): hash, fpe, partial/redact,
 * fakes. Each is checked for determinism (same key and input → same output; another key →
 * another output), type preservation at the edges, and, where it exists, against a published
 * reference (NIST FF3 samples, node's own IP parser). The cost per call is printed, never asserted.
 */
import { performance } from 'node:perf_hooks';
import { INT_RANGES, MIN_KEY_BYTES, hashBytes, hashInt, hashString, hashUuid } from '../../src/mask/hash';

const KEY = Buffer.alloc(32, 0x5a);
const OTHER_KEY = Buffer.alloc(32, 0xa5);
const UUID_V4_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** ns per call of `fn` over `n` calls (after a short warm-up): printed for the report, not asserted. */
function costPerCall(label: string, n: number, fn: (i: number) => unknown): void {
  for (let i = 0; i < 200; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ns = ((performance.now() - t0) * 1e6) / n;
  process.stdout.write(`[cost] ${label}: ${Math.round(ns)} ns/call\n`);
}

describe('hash', () => {
  it('is deterministic per key and differs between keys', () => {
    expect(hashString(KEY, 'alice@example.com')).toBe(hashString(KEY, 'alice@example.com'));
    expect(hashString(OTHER_KEY, 'alice@example.com')).not.toBe(hashString(KEY, 'alice@example.com'));
    const b = Buffer.from('0123456789abcdef0123456789abcdef0123456789');
    expect(hashBytes(KEY, b).equals(hashBytes(KEY, Buffer.from(b)))).toBe(true);
    expect(hashBytes(OTHER_KEY, b).equals(hashBytes(KEY, b))).toBe(false);
    expect(hashInt(KEY, 42, INT_RANGES.int64)).toBe(hashInt(KEY, 42n, INT_RANGES.int64));
    expect(hashInt(OTHER_KEY, 42, INT_RANGES.int64)).not.toBe(hashInt(KEY, 42, INT_RANGES.int64));
    const u = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    expect(hashUuid(KEY, u)).toBe(hashUuid(KEY, u));
    expect(hashUuid(OTHER_KEY, u)).not.toBe(hashUuid(KEY, u));
  });

  it('refuses a key shorter than 32 bytes, naming the minimum', () => {
    expect(() => hashString(Buffer.alloc(MIN_KEY_BYTES - 1), 'x')).toThrow(/at least 32 bytes/);
    expect(() => hashString(Buffer.alloc(MIN_KEY_BYTES - 1), 'x')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('separates domains: "42" as a string, as bytes and as an int are unrelated', () => {
    const asString = hashString(KEY, '42');
    const asInt = hashInt(KEY, 42, INT_RANGES.uint64);
    const asBytes = hashBytes(KEY, Buffer.from('42'));
    // the string rendering is base64url of the digest: decode it back and compare the bits
    const stringBits = Buffer.from(asString, 'base64url').subarray(0, 8);
    const intBits = Buffer.alloc(8);
    intBits.writeBigUInt64BE(asInt);
    expect(stringBits.equals(intBits)).toBe(false);
    expect(Buffer.from(asString, 'base64url').subarray(0, 2).equals(asBytes)).toBe(false);
  });

  it('keeps lengths: strings ≥ 16 code points keep theirs, shorter ones get 22 base64url characters', () => {
    for (const s of ['', 'a', 'Zoë', 'x'.repeat(15)]) {
      expect(hashString(KEY, s)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    for (const len of [16, 17, 42, 43, 44, 100, 1000]) {
      expect(hashString(KEY, 'y'.repeat(len))).toMatch(new RegExp(`^[A-Za-z0-9_-]{${len}}$`));
    }
    // code points, not UTF-16 units: 16 emoji (32 units) → 16 characters
    expect(hashString(KEY, '😀'.repeat(16))).toHaveLength(16);
    for (const len of [0, 1, 2, 31, 32, 33, 64, 65, 4096]) {
      const b = Buffer.alloc(len, 7);
      expect(hashBytes(KEY, b)).toHaveLength(len);
    }
  });

  it('keeps integers in their type range, at the edges too (int32, int64, uint32, uint64)', () => {
    for (const range of Object.values(INT_RANGES)) {
      for (const n of [range.min, range.min + 1n, 0n, range.max - 1n, range.max]) {
        if (n < range.min) continue;
        const out = hashInt(KEY, n, range);
        expect(out >= range.min && out <= range.max).toBe(true);
        expect(out).not.toBe(n);
      }
    }
    // a tiny range: every output stays inside and never equals its input
    const tiny = { min: 5n, max: 6n };
    expect(hashInt(KEY, 5, tiny)).toBe(6n);
    expect(hashInt(KEY, 6, tiny)).toBe(5n);
    expect(() => hashInt(KEY, 2n ** 31n, INT_RANGES.int32)).toThrow(/outside its type's range/);
  });

  it('spreads integers over a small range evenly (no visible modulo bias)', () => {
    // every value of [0, 19 999] hashed into the same range, counted in ten buckets
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const out = Number(hashInt(KEY, i, { min: 0n, max: 19_999n }));
      counts[Math.floor(out / 2000)]! += 1;
    }
    // 2 000 expected per bucket, σ ≈ 42: ±250 is six sigma
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(250);
  });

  it('renders a UUID as a valid version-4 UUID, keeping upper case', () => {
    const u = '3F2504E0-4F89-41D3-9A0C-0305E82C3301';
    const out = hashUuid(KEY, u);
    expect(out).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(out.toLowerCase()).toBe(hashUuid(KEY, u.toLowerCase()));
    expect(hashUuid(KEY, '00000000-0000-0000-0000-000000000000')).toMatch(UUID_V4_RE);
    expect(() => hashUuid(KEY, 'not-a-uuid')).toThrow(/is not a UUID/);
  });

  it('never returns its input over 10 000 inputs of each type', () => {
    // Without the retry guard the odds of any hit are ≈ 10⁴·2⁻¹²⁸ for strings, 10⁴·2⁻⁶⁴ for
    // int64, 10⁴/256 ≈ 39 expected hits for 1-byte values: the guard makes it exact.
    for (let i = 0; i < 10_000; i++) {
      const s = `user-${i}@example.com`;
      expect(hashString(KEY, s)).not.toBe(s);
      const b = Buffer.from([i & 0xff]);
      expect(hashBytes(KEY, b).equals(b)).toBe(false);
      expect(hashInt(KEY, i, INT_RANGES.int32)).not.toBe(BigInt(i));
    }
  });

  it('costs (printed, not asserted)', () => {
    costPerCall('hashString (20 chars)', 20_000, (i) => hashString(KEY, `customer-${i}-abcdefgh`));
    costPerCall('hashBytes (16 bytes)', 20_000, (i) => hashBytes(KEY, Buffer.from(`bytes-${i}-abcdefgh`)));
    costPerCall('hashInt (int64)', 20_000, (i) => hashInt(KEY, i, INT_RANGES.int64));
    costPerCall('hashUuid', 20_000, () => hashUuid(KEY, '3f2504e0-4f89-41d3-9a0c-0305e82c3301'));
  });
});
