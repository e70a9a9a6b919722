/**
 * Consistent subsetting (`sample:` in a policy): which records a lane keeps, decided by the
 * SOURCE value of the record's key or of a field (before masking), never by topic,
 * partition or offset, so an order and its customer are kept or left out together in every
 * topic, run and lane that uses the same key.
 *
 * `fraction`: keyed HMAC of the value (domain `sample`), its first 64 bits as a number in
 * [0, 1); kept when below the fraction. Keyed, so nobody without the key can steer which
 * customers land in a lane, and one key gives one subset.
 * `keys-from`: kept when the value's text is one of the listed keys.
 */
import { UsageError } from '../errors';
import { keyedDigest } from './hash';
import type { LeafValue } from './leaf';

/** The bytes a sampling decision reads: one form per value, whatever the format it came from. */
export function canonicalBytes(v: Exclude<LeafValue, null>): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.from(String(v), 'utf8');
}

const TWO64 = 2n ** 64n;

/** A fraction as a threshold on 64 bits: exact for 1 (everything), no double rounding at the top. */
export function fractionThreshold(fraction: number): bigint {
  if (!(fraction > 0 && fraction <= 1)) throw new UsageError(`sample fraction ${fraction} is outside (0, 1]`);
  return fraction === 1 ? TWO64 : BigInt(Math.floor(fraction * 2 ** 53)) << 11n;
}

/**
 * Decisions remembered per (masking key, threshold, value): a sample's values repeat (a
 * customer's every order) and each decision is an HMAC (~3 µs, the largest per-record cost of a
 * sampled masked restore). Values of at most DECISIONS_VALUE_MAX bytes (ids, not documents), at
 * most DECISIONS_MAX per key, forgotten all at once when full (≈ 100 B each for a 20-byte id).
 * Pure, so remembering changes nothing but the time.
 */
const DECISIONS_MAX = 65_536;
const DECISIONS_VALUE_MAX = 128;
const decisions = new WeakMap<Buffer, Map<string, boolean>>();

/** Whether `value` is in the fraction whose threshold is `threshold` (fractionThreshold). */
export function inFraction(key: Buffer, value: Buffer, threshold: bigint): boolean {
  if (threshold >= TWO64) return true;
  if (value.length > DECISIONS_VALUE_MAX) return keyedDigest(key, 'sample', value).readBigUInt64BE(0) < threshold;
  let memo = decisions.get(key);
  if (memo === undefined) decisions.set(key, (memo = new Map<string, boolean>()));
  // latin1: one character per byte, so distinct byte strings stay distinct.
  const k = `${threshold}\0${value.toString('latin1')}`;
  let kept = memo.get(k);
  if (kept === undefined) {
    kept = keyedDigest(key, 'sample', value).readBigUInt64BE(0) < threshold;
    if (memo.size >= DECISIONS_MAX) memo.clear();
    memo.set(k, kept);
  }
  return kept;
}

/** The most bytes and lines a keys-from file may have: a seed list is for people, not a table dump. */
export const KEYS_FROM_LIMITS = { maxBytes: 64 * 1024 * 1024, maxKeys: 1_000_000 } as const;

/**
 * The keys of a keys-from file: one per line (UTF-8; surrounding spaces, empty lines and
 * lines starting with `#` ignored). `name` is what errors call the file.
 */
export function parseKeysFile(bytes: Buffer, name: string): ReadonlySet<string> {
  if (bytes.length > KEYS_FROM_LIMITS.maxBytes) {
    throw new UsageError(`keys-from file ${name} is ${bytes.length} bytes, more than ${KEYS_FROM_LIMITS.maxBytes}`, 'list fewer keys');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`keys-from file ${name} is not UTF-8 text`, 'write one key per line');
  }
  const keys = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const k = line.trim();
    if (k === '' || k.startsWith('#')) continue;
    keys.add(k);
    if (keys.size > KEYS_FROM_LIMITS.maxKeys)
      throw new UsageError(`keys-from file ${name} lists more than ${KEYS_FROM_LIMITS.maxKeys} keys`, 'list fewer keys');
  }
  if (keys.size === 0) throw new UsageError(`keys-from file ${name} lists no key`, 'write one key per line');
  return keys;
}
