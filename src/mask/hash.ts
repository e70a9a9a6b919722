/**
 * The `hash` masking action (issue 19): a keyed HMAC-SHA-256 of the value, rendered in the
 * field's own type so the record still validates against its writer schema.
 *
 * Deterministic by construction: the output depends only on the key, the action, the type and
 * the value (never on the topic, partition, run or lane), so a customer id hashed in `orders`
 * equals the one hashed in `customers` and joins survive.
 *
 * Domain separation: every HMAC input starts with `kbak-mask/v1`, the action and the type
 * (`hash:string`, `hash:int`, ...), so `hash` of "42" as a string and of 42 as an int are
 * unrelated, and the fake and fpe actions never see the same HMAC as `hash`.
 *
 * NOT for join keys when the output is narrow: a hash folded into 32 bits (an Avro `int`, a
 * Protobuf `int32`) collides after about 65 000 distinct values (birthday bound, √(2³²)), and
 * a collision merges two customers into one. Identifiers that joins rely on need a 1:1 mapping:
 * that is the `fpe` action (src/mask/fpe.ts), a permutation of the type's domain.
 *
 * No output equals its input: where the rendering could give the input back (a short byte
 * string, a small integer range), the value is derived again with a retry counter. This keeps
 * the action deterministic and makes "no source value appears in the lane" exact instead of
 * almost certain.
 */
import { type KeyObject, createHmac, createSecretKey } from 'node:crypto';
import { InvalidOptionError, UnsupportedDataError } from '../errors';

/** The shortest masking key accepted: 256 bits, the HMAC-SHA-256 output size. */
export const MIN_KEY_BYTES = 32;

/** Prefix of every HMAC input: versioned, so a future change of renderings cannot mix with this one. */
const DOMAIN_PREFIX = 'kbak-mask/v1';

/** Refuses a key shorter than MIN_KEY_BYTES (a short key makes the HMAC guessable offline). */
export function assertMaskKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) {
    throw new InvalidOptionError(
      'mask.key',
      `${Buffer.isBuffer(key) ? key.length : 0} bytes`,
      `is too short: a masking key needs at least ${MIN_KEY_BYTES} bytes`,
      'generate one with `openssl rand -base64 32` and keep it in a secret',
    );
  }
}

/**
 * The key as a KeyObject, made once per key Buffer: createHmac with a raw Buffer imports the
 * key on every call, which costs five times the HMAC of a short value (measured: 14 µs vs
 * 2.8 µs per call on this machine).
 */
const keyObjects = new WeakMap<Buffer, KeyObject>();
function hmacKey(key: Buffer): KeyObject {
  let ko = keyObjects.get(key);
  if (ko === undefined) {
    assertMaskKey(key);
    ko = createSecretKey(key);
    keyObjects.set(key, ko);
  }
  return ko;
}

/**
 * HMAC-SHA-256(key, "kbak-mask/v1" 0 domain 0 [retry] 0 data): 32 bytes. `domain` names the
 * action and the type (`hash:string`, `fake:email`); `retry` > 0 only when a rendering gave
 * the input back. Exported for the other actions (fake seeds, sampling) so they share one
 * framing.
 */
export function keyedDigest(key: Buffer, domain: string, data: Buffer | string, retry = 0): Buffer {
  const h = createHmac('sha256', hmacKey(key));
  h.update(`${DOMAIN_PREFIX}\0${domain}\0${retry}\0`);
  h.update(data);
  return h.digest();
}

/** `length` bytes derived from a 32-byte seed: HMAC-SHA-256(seed, counter) blocks, counter from 0. */
function expand(seed: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let i = 0, off = 0; off < length; i++, off += 32) {
    counter.writeUInt32BE(i);
    createHmac('sha256', seed).update(counter).digest().copy(out, off);
  }
  return out;
}

/** Inputs of at least this many code points keep their length under hashString. */
export const HASH_STRING_MIN_KEPT_LENGTH = 16;
const HASH_STRING_SHORT_LENGTH = 22;

/**
 * Strings: base64url of the HMAC (alphabet A–Z a–z 0–9 - _, so it fits any text column and
 * every JSON string). Length: the input's length in code points when that is ≥ 16 (16
 * base64url characters carry 96 bits, plenty against collisions and guessing; longer inputs
 * are expanded by counter-mode HMAC), so a field with a length check still passes; 22
 * characters (128 bits) for shorter inputs, where keeping the length would leave too few bits
 * (a 4-character hash collides after ~4 000 values). Never the input itself.
 */
export function hashString(key: Buffer, s: string): string {
  const inputLength = [...s].length;
  const length = inputLength >= HASH_STRING_MIN_KEPT_LENGTH ? inputLength : HASH_STRING_SHORT_LENGTH;
  for (let retry = 0; ; retry++) {
    const seed = keyedDigest(key, 'hash:string', s, retry);
    const bytes = length <= 42 ? seed : expand(seed, Math.ceil((length * 3) / 4));
    const out = bytes.toString('base64url').slice(0, length);
    if (out !== s) return out;
  }
}

/**
 * Bytes: exactly as many bytes as the input (a `fixed` of size N stays N), counter-mode HMAC
 * output seeded by the HMAC of the input. Zero bytes stay zero bytes (nothing to hide but
 * the length, which is kept by design). Never the input itself for a non-empty input.
 */
export function hashBytes(key: Buffer, b: Uint8Array): Buffer {
  const input = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (input.length === 0) return Buffer.alloc(0);
  for (let retry = 0; ; retry++) {
    const seed = keyedDigest(key, 'hash:bytes', input, retry);
    const out = input.length <= 32 ? seed.subarray(0, input.length) : expand(seed, input.length);
    if (!out.equals(input)) return Buffer.from(out);
  }
}

/** Integer ranges of the schema types, inclusive. */
export const INT_RANGES = {
  int32: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  int64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  uint32: { min: 0n, max: 2n ** 32n - 1n },
  uint64: { min: 0n, max: 2n ** 64n - 1n },
} as const;

export interface IntRange {
  min: bigint;
  max: bigint;
}

/**
 * Integers: a value in [range.min, range.max] (the field type's range: INT_RANGES). The 256-bit
 * HMAC is reduced modulo the range's size: for any range of at most 2⁶⁴ values the bias is
 * below 2⁶⁴/2²⁵⁶ = 2⁻¹⁹², far beneath anything measurable, so no rejection loop is needed.
 * The input is hashed as its decimal text, so 42 as an Avro `int`, a Protobuf `int32` and a
 * JSON number give the same output for the same range. Never the input itself (unless the
 * range holds one value only, which is then the only answer).
 */
export function hashInt(key: Buffer, n: bigint | number, range: IntRange): bigint {
  const value = toBigInt(n);
  const span = range.max - range.min + 1n;
  if (span <= 0n) throw new UnsupportedDataError(`integer range [${range.min}, ${range.max}] is empty`);
  if (value < range.min || value > range.max) {
    throw new UnsupportedDataError(`integer ${value} is outside its type's range [${range.min}, ${range.max}]`);
  }
  if (span === 1n) return range.min;
  for (let retry = 0; ; retry++) {
    const digest = keyedDigest(key, 'hash:int', value.toString(10), retry);
    const out = range.min + (BigInt(`0x${digest.toString('hex')}`) % span);
    if (out !== value) return out;
  }
}

/** An integer field's value as a bigint; a number that is not a safe integer is refused (BigInt would throw a RangeError or round). */
export function toBigInt(n: bigint | number): bigint {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) {
    throw new UnsupportedDataError(`${n} is not an integer kbak can mask exactly (pass 64-bit values as bigint)`);
  }
  return BigInt(n);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a canonical UUID string (8-4-4-4-12 hex digits, either case). */
export function parseUuid(uuid: string): Buffer {
  if (!UUID_RE.test(uuid)) {
    throw new UnsupportedDataError(`${JSON.stringify(uuid.slice(0, 40))} is not a UUID (8-4-4-4-12 hex digits)`);
  }
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** The canonical lower-case 8-4-4-4-12 form of 16 bytes. */
export function formatUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Sets the version-4 and RFC 9562 variant bits of 16 bytes (in place). */
export function setUuidV4Bits(bytes: Buffer): Buffer {
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes;
}

/**
 * UUIDs: a valid version-4 UUID (RFC 9562 variant) from the first 122 bits of the HMAC of the
 * UUID's 16 bytes (so the upper- and lower-case spellings of one UUID give the same output).
 * Version 4 rather than 8: to anyone without the key the output is indistinguishable from
 * random, which is what v4 promises, and v4 passes every validator that checks versions
 * (several accept only versions 1–5). Upper-case input gives upper-case output, so a field
 * compared as text elsewhere keeps its spelling. Never the input itself.
 */
export function hashUuid(key: Buffer, uuid: string): string {
  const input = parseUuid(uuid);
  for (let retry = 0; ; retry++) {
    const out = setUuidV4Bits(Buffer.from(keyedDigest(key, 'hash:uuid', input, retry).subarray(0, 16)));
    if (!out.equals(input)) {
      const text = formatUuid(out);
      return uuid === uuid.toUpperCase() && /[A-F]/.test(uuid) ? text.toUpperCase() : text;
    }
  }
}
