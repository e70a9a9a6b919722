/**
 * FF3-1 format-preserving encryption (NIST SP 800-38G Rev. 1, §5.2, Algorithms 9 and 10): an
 * AES-based Feistel cipher over numeral strings of a radix, so a string of n numerals encrypts
 * to another string of n numerals of the same radix and every (key, tweak, radix, n) gives a
 * permutation. FF3-1 is FF3 with a 56-bit tweak mapped to FF3's 64 bits (Rev. 1's fix of the
 * Durak–Vaudenay attack); with an 8-byte tweak this is FF3 itself, which is how the published
 * NIST FF3 samples check the Feistel core (test/unit/mask-primitives.test.ts).
 *
 * Written here rather than taken from npm: the one package (`ff3` 1.0.1, Apache-2.0) stops at
 * radix 36 (no case-kept alphanumerics), pads a round's output with at most 8 zeros (wrong
 * for halves longer than 8 numerals whose value happens to be small), throws strings instead
 * of errors and has two releases; the algorithm is 60 lines of bigint arithmetic.
 *
 * Numerals are plain numbers 0 … radix-1; the mapping to characters is the caller's
 * (src/mask/fpe.ts).
 */
import { type Cipher, createCipheriv } from 'node:crypto';
import { InternalError } from '../errors';

/** NIST SP 800-38G Rev. 1: radix^minlen ≥ 1 000 000. */
export const FF3_MIN_DOMAIN = 1_000_000;

const bounds = new Map<string, { minLen: number; maxLen: number }>();

/** The shortest and longest numeral strings FF3-1 accepts for a radix (2 ≤ minlen ≤ maxlen ≤ 2⌊log_radix(2⁹⁶)⌋). */
export function ff3LengthBounds(radix: number, minDomain = FF3_MIN_DOMAIN): { minLen: number; maxLen: number } {
  const id = `${radix}/${minDomain}`;
  let b = bounds.get(id);
  if (b === undefined) bounds.set(id, (b = computeBounds(radix, minDomain)));
  return b;
}

function computeBounds(radix: number, minDomain: number): { minLen: number; maxLen: number } {
  let minLen = 1;
  while (radix ** minLen < minDomain) minLen++;
  // ⌊log_radix(2⁹⁶)⌋ by integer arithmetic (floating logs misjudge exact powers)
  let k = 0;
  while (BigInt(radix) ** BigInt(k + 1) <= 2n ** 96n) k++;
  return { minLen: Math.max(2, minLen), maxLen: 2 * k };
}

export class Ff3Cipher {
  private readonly aes: Cipher;
  private readonly tl: Buffer;
  private readonly tr: Buffer;
  private readonly minLen: number;
  private readonly maxLen: number;

  /**
   * @param key  AES key, 16, 24 or 32 bytes (as in the standard: the cipher runs on its byte reversal)
   * @param tweak 7 bytes (FF3-1) or 8 bytes (FF3, for the published samples)
   * @param minDomain the standard's 10⁶ unless a test lowers it to check that a whole small
   *   domain is permuted (too slow at 10⁶ values); masking never passes it
   */
  constructor(
    key: Buffer,
    tweak: Buffer,
    readonly radix: number,
    minDomain = FF3_MIN_DOMAIN,
  ) {
    if (![16, 24, 32].includes(key.length)) throw new InternalError(`FF3-1 key of ${key.length} bytes (16, 24 or 32)`);
    if (radix < 2 || radix > 65536) throw new InternalError(`FF3-1 radix ${radix} outside [2, 65536]`);
    const t = tweak.length === 7 ? ff3_1Tweak(tweak) : tweak;
    if (t.length !== 8) throw new InternalError(`FF3-1 tweak of ${tweak.length} bytes (7, or 8 for FF3)`);
    this.tl = t.subarray(0, 4);
    this.tr = t.subarray(4, 8);
    this.aes = createCipheriv(`aes-${key.length * 8}-ecb`, Buffer.from(key).reverse(), null).setAutoPadding(false);
    ({ minLen: this.minLen, maxLen: this.maxLen } = ff3LengthBounds(radix, minDomain));
  }

  /** The bounds of this cipher's lengths. */
  get lengths(): { minLen: number; maxLen: number } {
    return { minLen: this.minLen, maxLen: this.maxLen };
  }

  encrypt(x: readonly number[]): number[] {
    return this.run(x, true);
  }

  decrypt(x: readonly number[]): number[] {
    return this.run(x, false);
  }

  private run(x: readonly number[], forward: boolean): number[] {
    const n = x.length;
    if (n < this.minLen || n > this.maxLen) {
      throw new InternalError(`FF3-1 input of ${n} numerals outside [${this.minLen}, ${this.maxLen}] for radix ${this.radix}`);
    }
    const u = Math.ceil(n / 2);
    const v = n - u;
    const radix = BigInt(this.radix);
    const modU = radix ** BigInt(u);
    const modV = radix ** BigInt(v);
    let a = x.slice(0, u);
    let b = x.slice(u);
    for (let r = 0; r < 8; r++) {
      const i = forward ? r : 7 - r;
      const even = i % 2 === 0;
      const m = even ? u : v;
      const mod = even ? modU : modV;
      const w = even ? this.tr : this.tl;
      // P = W ⊕ [i]⁴ ‖ [NUM_radix(REV(B))]¹² (decrypting: of A); S = REVB(CIPH_REVB(K)(REVB(P)))
      const p = Buffer.alloc(16);
      w.copy(p, 0);
      p[3] = p[3]! ^ i;
      writeUint96(p, numRev(forward ? b : a, radix));
      const s = this.aes.update(p.reverse()).reverse();
      const y = (s.readBigUInt64BE(0) << 64n) | s.readBigUInt64BE(8);
      const c = forward ? mod2(numRev(a, radix) + y, mod) : mod2(numRev(b, radix) - y, mod);
      const cStr = strRev(c, radix, m);
      if (forward) {
        a = b;
        b = cStr;
      } else {
        b = a;
        a = cStr;
      }
    }
    return [...a, ...b];
  }
}

/** Rev. 1's 56 → 64-bit tweak: T_L = T[0..27] ‖ 0⁴, T_R = T[32..55] ‖ T[28..31] ‖ 0⁴. */
function ff3_1Tweak(t: Buffer): Buffer {
  return Buffer.from([t[0]!, t[1]!, t[2]!, t[3]! & 0xf0, t[4]!, t[5]!, t[6]!, (t[3]! & 0x0f) << 4]);
}

/** Numerals per chunk whose value stays an exact double (radix^k ≤ 2⁵³), and radix^k. */
function chunking(radix: bigint): { k: number; base: bigint } {
  const r = Number(radix);
  let k = 1;
  while (r ** (k + 1) <= 2 ** 53) k++;
  return { k, base: radix ** BigInt(k) };
}
const chunkings = new Map<bigint, { k: number; base: bigint }>();
function chunkingOf(radix: bigint): { k: number; base: bigint } {
  let c = chunkings.get(radix);
  if (c === undefined) chunkings.set(radix, (c = chunking(radix)));
  return c;
}

/** NUM_radix(REV(X)): the numerals read least significant first (in chunks of exact doubles: few bigint steps). */
function numRev(x: readonly number[], radix: bigint): bigint {
  const { k, base } = chunkingOf(radix);
  const r = Number(radix);
  let acc = 0n;
  for (let end = x.length; end > 0; end -= k) {
    const start = Math.max(0, end - k);
    let chunk = 0;
    for (let i = end - 1; i >= start; i--) chunk = chunk * r + x[i]!;
    acc = (end - start === k ? acc * base : acc * radix ** BigInt(end - start)) + BigInt(chunk);
  }
  return acc;
}

/** REV(STR^m_radix(c)): m numerals, least significant first. */
function strRev(c: bigint, radix: bigint, m: number): number[] {
  const { k, base } = chunkingOf(radix);
  const r = Number(radix);
  const out = new Array<number>(m);
  for (let j = 0; j < m;) {
    let chunk = Number(c % base);
    c /= base;
    for (let t = 0; t < k && j < m; t++, j++) {
      out[j] = chunk % r;
      chunk = Math.floor(chunk / r);
    }
  }
  return out;
}

function mod2(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

const MASK64 = (1n << 64n) - 1n;

/** Bytes 4..15 of P: a value < 2⁹⁶ big-endian (the length bounds keep it there). */
function writeUint96(p: Buffer, value: bigint): void {
  p.writeUInt32BE(Number(value >> 64n), 4);
  p.writeBigUInt64BE(value & MASK64, 8);
}
