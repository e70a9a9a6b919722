/**
 * One masking action bound to one leaf field's type: the function every format's body
 * walker (avro-body.ts, protobuf-body.ts, json-body.ts) calls for each value a rule covers.
 * Built once per (rule, schema field) when the plan is made, so an action that cannot render
 * in the field's type (partial on an int, null where the schema has no null, fpe on a
 * float) is refused then, naming the path, never discovered record by record.
 *
 * Values travel in one representation per type, the same for every format: strings as JS
 * strings, bytes as Buffers, every integer as a bigint (int32 too: one code path, and int64
 * is exact), floats as numbers, booleans, enum symbols as strings, null.
 */
import { UnsupportedDataError } from '../errors';
import { fake } from './fake';
import { fpeInt, fpeString, type FpeAlphabet } from './fpe';
import { hashBytes, hashInt, hashString, hashUuid, INT_RANGES, keyedDigest, type IntRange } from './hash';
import { partial, NIL_UUID } from './partial';
import type { FieldAction } from './policy';

export type LeafKind = 'string' | 'uuid' | 'bytes' | 'fixed' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'safe-int' | 'float' | 'boolean' | 'enum';

/** A leaf field's type, as the schema says it. */
export interface LeafType {
  kind: LeafKind;
  /** `fixed`: its size in bytes. */
  size?: number;
  /** `enum`: its symbols, in schema order. */
  symbols?: readonly string[];
  /** The schema allows null here (an Avro union with null, a proto3 optional/wrapper, a JSON Schema type list with "null"). */
  nullable: boolean;
  /** How the plan shows the type: the schema's own word (`string`, `long`, `int32`, `["null","string"]`, `timestamp-millis`). */
  label: string;
}

export type LeafValue = string | Buffer | bigint | number | boolean | null;

/** What a bound action does to one value; null stays null unless the action is `null`. */
export type LeafMask = (v: LeafValue) => LeafValue;

/** The integer range of each integer kind: hash and fpe stay inside it, so the schema still validates. */
export const LEAF_INT_RANGES: Record<'int32' | 'int64' | 'uint32' | 'uint64' | 'safe-int', IntRange> = {
  ...INT_RANGES,
  /** JSON integers: what a JavaScript (double) reader keeps exactly, ±(2^53 − 1). */
  'safe-int': { min: -(2n ** 53n - 1n), max: 2n ** 53n - 1n },
};

/** Why an action cannot apply to a field's type: the plan error's text (the caller adds path, topic and schema). */
export class LeafRefusal {
  constructor(readonly reason: string) {}
}

const isString = (k: LeafKind): boolean => k === 'string' || k === 'uuid';
const isInt = (k: LeafKind): k is keyof typeof LEAF_INT_RANGES => k in LEAF_INT_RANGES;

/**
 * fpe of strings: 1:1 and format-preserving. A string of digits only (separators aside)
 * stays digits (radix 10: card and account numbers); any other string is encrypted over
 * A–Z a–z 0–9, walking the cycle until the result is not digits only, so the two classes
 * never meet and the mapping stays 1:1 over all strings.
 */
function fpeText(key: Buffer, s: string): string {
  if (/^[^0-9A-Za-z]*$/.test(s)) throw new UnsupportedDataError('fpe needs letters or digits; the value has none', 'mask this field with hash or redact');
  const digitsOnly = !/[A-Za-z]/.test(s);
  if (digitsOnly) return fpeString(key, s, 'digits');
  const alphabet: FpeAlphabet = 'alnum';
  let out = fpeString(key, s, alphabet);
  // A bounded walk: each step has ≥ 1 − (10/62)^n chance to leave the digit-only class.
  for (let i = 0; !/[A-Za-z]/.test(out); i++) {
    if (i > 1000) throw new UnsupportedDataError('fpe could not encrypt the value (cycle walk did not end)');
    out = fpeString(key, out, alphabet);
  }
  return out;
}

/** The constant `redact` puts in a field of this type. */
function redactValue(t: LeafType): LeafValue {
  switch (t.kind) {
    case 'string':
      return '';
    case 'uuid':
      return NIL_UUID;
    case 'bytes':
      return Buffer.alloc(0);
    case 'fixed':
      return Buffer.alloc(t.size ?? 0);
    case 'float':
      return 0;
    case 'boolean':
      return false;
    case 'enum':
      return t.symbols?.[0] ?? null;
    default:
      return 0n;
  }
}

function expectString(v: LeafValue): string {
  if (typeof v !== 'string') throw new UnsupportedDataError(`expected a string, found ${typeof v}`);
  return v;
}

function expectInt(v: LeafValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new UnsupportedDataError(`expected an integer, found ${typeof v === 'number' ? String(v) : typeof v}`);
}

/**
 * The string actions cost microseconds each (an HMAC, an FF3-1 encryption, a seeded faker),
 * and production values repeat (a customer's e-mail in each of its orders): outputs are
 * remembered per (masking key, action, input), at most MEMO_MAX_CHARS characters of inputs
 * and outputs together (≈ 2 bytes each, plus the map's own), and forgotten all at once when
 * full. Pure functions, so remembering changes nothing but the time.
 */
const MEMO_MAX_CHARS = 4 * 1024 * 1024;
let memo = new Map<string, string>();
let memoChars = 0;
const keyIds = new WeakMap<Buffer, number>();
let nextKeyId = 0;

function memoised(key: Buffer, action: string, fn: (s: string) => string): (s: string) => string {
  let id = keyIds.get(key);
  if (id === undefined) keyIds.set(key, (id = nextKeyId++));
  const prefix = `${id}\0${action}\0`;
  return (s) => {
    const k = prefix + s;
    let out = memo.get(k);
    if (out !== undefined) return out;
    out = fn(s);
    memoChars += k.length + out.length;
    if (memoChars > MEMO_MAX_CHARS) {
      memo = new Map();
      memoChars = k.length + out.length;
    }
    memo.set(k, out);
    return out;
  };
}

/** `fn` applied to non-null values; null passes (a null hides nothing). */
const nonNull =
  (fn: (v: Exclude<LeafValue, null>) => LeafValue): LeafMask =>
  (v) =>
    v === null ? null : fn(v);

/**
 * The action bound to the type, or why it cannot be (a LeafRefusal: the plan refuses the
 * policy). `keep` returns null: nothing to do, the walker copies the bytes.
 */
export function leafMasker(action: FieldAction, type: LeafType, key: Buffer): LeafMask | null | LeafRefusal {
  const k = type.kind;
  switch (action.kind) {
    case 'keep':
      return null;
    case 'null':
      if (!type.nullable) return new LeafRefusal(`action null needs a field that may be null, and ${type.label} may not (use redact)`);
      return () => null;
    case 'redact': {
      const c = redactValue(type);
      if (c === null) return new LeafRefusal(`${type.label} has no value to redact to`);
      return nonNull(() => (Buffer.isBuffer(c) ? Buffer.from(c) : c));
    }
    case 'partial':
      if (k !== 'string') return new LeafRefusal(`action partial keeps characters of a string, and ${type.label} is not one (use hash or redact)`);
      return nonNull((v) => partial(expectString(v), { keepFirst: action.first, keepLast: action.last }));
    case 'fake':
      if (action.fake === 'uuid' ? !isString(k) : k !== 'string') {
        return new LeafRefusal(`fake ${action.fake} makes a string, and ${type.label} is not one (use hash or redact)`);
      }
      {
        const f = memoised(key, `fake:${action.fake}`, (v) => fake(key, action.fake, v));
        return nonNull((v) => f(expectString(v)));
      }
    case 'hash':
      if (k === 'string') {
        const f = memoised(key, 'hash:string', (v) => hashString(key, v));
        return nonNull((v) => f(expectString(v)));
      }
      if (k === 'uuid') return nonNull((v) => hashUuid(key, expectString(v)));
      if (k === 'bytes' || k === 'fixed') return nonNull((v) => hashBytes(key, v as Buffer));
      if (isInt(k)) {
        const range = LEAF_INT_RANGES[k];
        return nonNull((v) => hashInt(key, expectInt(v), range));
      }
      if (k === 'enum') {
        const symbols = type.symbols ?? [];
        if (symbols.length < 2) return new LeafRefusal(`${type.label} has fewer than two symbols: hash could only give the value back (use redact)`);
        return nonNull((v) => {
          const s = expectString(v);
          // An enum has few values: the hash picks another symbol, never the input.
          const others = symbols.filter((x) => x !== s);
          return others[keyedDigest(key, 'hash:enum', s).readUInt32BE(0) % others.length]!;
        });
      }
      return new LeafRefusal(`hash of ${type.label} keeps too little to hide a value (use redact)`);
    case 'fpe':
      if (k === 'string') {
        const f = memoised(key, 'fpe:string', (v) => fpeText(key, v));
        return nonNull((v) => f(expectString(v)));
      }
      if (k === 'uuid') return nonNull((v) => hashUuid(key, expectString(v))); // 122 random bits: collisions are out of reach
      if (isInt(k)) {
        const range = LEAF_INT_RANGES[k];
        return nonNull((v) => fpeInt(key, expectInt(v), range));
      }
      return new LeafRefusal(`fpe encrypts strings and integers, and ${type.label} is neither (use hash or redact)`);
  }
}
