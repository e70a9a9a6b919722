/**
 * The `fpe` masking action (issue 19): format-preserving encryption with FF3-1
 * (src/mask/ff3-1.ts), a 1:1 mapping for identifiers that joins rely on. Unlike `hash`, two
 * different inputs never give the same output, so masked customer ids stay distinct and a
 * join between `orders` and `customers` stays exact.
 *
 * Keys: the AES-256 key is HKDF-SHA-256(masking key, salt "kbak-mask/v1", info
 * "fpe:ff3-1:aes-256"), so the HMAC key of `hash`/fakes and the AES key of `fpe` are separate
 * keys. The tweak is derived from the key, the alphabet and the value's shape (below), never
 * from the topic, so the same input gives the same output in every topic, run and lane.
 *
 * Strings: the characters of the chosen alphabet are encrypted as one numeral string; every
 * other character (the `-` of `CUST-0012345`, spaces, dots) stays where it is and goes into
 * the tweak. For a fixed shape the alphabet characters are permuted, and the shape itself is
 * kept, so the mapping over all strings is still 1:1.
 *
 * Below FF3-1's minimum domain (10⁶ values: 6 digits, 4 alphanumerics) the value is refused
 * with an error, not handled by a weaker fallback: a 1:1 mapping of a few thousand values can
 * be tabulated by anyone who sees a few thousand masked records, and NIST set the floor for
 * that reason. Use `hash` or `partial` for such fields. Longer than the maximum (56 digits,
 * 32 alphanumerics of radix 62, 36 of radix 36) is refused too: identifiers are not that long.
 */
import { hkdfSync } from 'node:crypto';
import { UnsupportedDataError } from '../errors';
import { Ff3Cipher, FF3_MIN_DOMAIN, ff3LengthBounds } from './ff3-1';
import { type IntRange, keyedDigest, toBigInt } from './hash';

/**
 * The alphabets an `fpe` rule can name. `alnum` (radix 62) mixes cases; `alnum-upper` and
 * `alnum-lower` (radix 36) keep an identifier that is all one case in that case (its
 * other-case letters are then kept in place like separators).
 */
export const FPE_ALPHABETS = {
  digits: '0123456789',
  alnum: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  'alnum-upper': '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  'alnum-lower': '0123456789abcdefghijklmnopqrstuvwxyz',
} as const;
export type FpeAlphabet = keyof typeof FPE_ALPHABETS;

/** One AES key per masking key (HKDF is cheap, but the cipher objects are reused). */
const ciphers = new WeakMap<Buffer, Map<string, Ff3Cipher>>();

function aesKey(key: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, 'kbak-mask/v1', 'fpe:ff3-1:aes-256', 32));
}

/** The FF3-1 cipher for (key, tweak material, radix): the tweak is 7 bytes of the keyed HMAC of the material. */
function cipherFor(key: Buffer, material: string, radix: number): Ff3Cipher {
  let perKey = ciphers.get(key);
  if (perKey === undefined) {
    perKey = new Map();
    ciphers.set(key, perKey);
  }
  const id = `${radix}\0${material}`;
  let c = perKey.get(id);
  if (c === undefined) {
    const tweak = keyedDigest(key, 'fpe:tweak', id).subarray(0, 7);
    c = new Ff3Cipher(aesKey(key), tweak, radix);
    // bounded: shapes of identifiers are few, but a hostile input could vary them endlessly
    if (perKey.size >= 1024) perKey.clear();
    perKey.set(id, c);
  }
  return c;
}

function transformString(key: Buffer, s: string, alphabet: FpeAlphabet, forward: boolean): string {
  const chars = FPE_ALPHABETS[alphabet];
  const radix = chars.length;
  const points = [...s];
  const numerals: number[] = [];
  // the shape: alphabet characters as \u0001, the rest as they are
  let shape = '';
  for (const ch of points) {
    const d = chars.indexOf(ch);
    if (d >= 0) numerals.push(d);
    shape += d >= 0 ? '\u0001' : ch;
  }
  const { minLen, maxLen } = ff3LengthBounds(radix);
  if (numerals.length < minLen || numerals.length > maxLen) {
    throw new UnsupportedDataError(
      `fpe (${alphabet}) needs ${minLen} to ${maxLen} characters of its alphabet, the value has ${numerals.length}`,
      numerals.length < minLen
        ? `FF3-1 refuses domains under ${FF3_MIN_DOMAIN.toLocaleString('en')} values; mask this field with hash or partial`
        : 'mask this field with hash',
    );
  }
  const c = cipherFor(key, `${alphabet}\0${shape}`, radix);
  const out = forward ? c.encrypt(numerals) : c.decrypt(numerals);
  let j = 0;
  return points.map((ch) => (chars.includes(ch) ? chars[out[j++]!]! : ch)).join('');
}

/** Encrypts the alphabet's characters of `s` (other characters stay in place): 1:1, same length. */
export function fpeString(key: Buffer, s: string, alphabet: FpeAlphabet = 'alnum'): string {
  return transformString(key, s, alphabet, true);
}

/** The inverse of fpeString (for tests and for anyone holding the key). */
export function fpeStringDecrypt(key: Buffer, s: string, alphabet: FpeAlphabet = 'alnum'): string {
  return transformString(key, s, alphabet, false);
}

/** Digit strings (radix 10, leading zeros kept): fpeString with the `digits` alphabet. */
export function fpeDigits(key: Buffer, s: string): string {
  return fpeString(key, s, 'digits');
}

/**
 * Integers: a permutation of [range.min, range.max]. The offset n − min is written as a
 * fixed-width BINARY numeral string (radix 2, width = bits of max − min, at least 20 so the
 * domain is ≥ 2²⁰ > 10⁶) and encrypted; while the result falls outside the range it is
 * encrypted again (cycle-walking), which stays a permutation of the range because walking
 * follows the cipher's cycles. Binary rather than decimal digits: the full int32 and int64
 * ranges are exactly 2³² and 2⁶⁴ values, so they need no walking at all, and any other range
 * fills more than half its domain (expected walks < 2; decimal would need 2.3 for int32 and
 * 5.4 for int64). Ranges of fewer than 10⁶ values are refused, as for strings.
 */
export function fpeInt(key: Buffer, n: bigint | number, range: IntRange): bigint {
  return transformInt(key, toBigInt(n), range, true);
}

/** The inverse of fpeInt. */
export function fpeIntDecrypt(key: Buffer, n: bigint | number, range: IntRange): bigint {
  return transformInt(key, toBigInt(n), range, false);
}

function transformInt(key: Buffer, value: bigint, range: IntRange, forward: boolean): bigint {
  const span = range.max - range.min + 1n;
  if (span < BigInt(FF3_MIN_DOMAIN)) {
    throw new UnsupportedDataError(
      `fpe needs an integer range of at least ${FF3_MIN_DOMAIN.toLocaleString('en')} values, [${range.min}, ${range.max}] has ${span}`,
      'mask this field with hash',
    );
  }
  if (value < range.min || value > range.max) {
    throw new UnsupportedDataError(`integer ${value} is outside its type's range [${range.min}, ${range.max}]`);
  }
  const width = Math.max(20, (span - 1n).toString(2).length);
  return range.min + cycleWalk(cipherFor(key, `int\0${width}`, 2), value - range.min, span, width, forward);
}

/**
 * A permutation of [0, span) from a radix-2 FF3-1 cipher over `width` bits (2^width ≥ span):
 * encrypt (or decrypt) until the value is back under span. Terminates because the start is
 * under span and the cipher's cycle through it returns to it. Exported for the whole-domain test.
 */
export function cycleWalk(c: Ff3Cipher, x: bigint, span: bigint, width: number, forward: boolean): bigint {
  do {
    const numerals = new Array<number>(width);
    for (let j = width - 1; j >= 0; j--, x >>= 1n) numerals[j] = Number(x & 1n);
    const out = forward ? c.encrypt(numerals) : c.decrypt(numerals);
    x = 0n;
    for (const bit of out) x = (x << 1n) | BigInt(bit);
  } while (x >= span);
  return x;
}
