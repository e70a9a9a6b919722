/**
 * The `partial` and `redact` masking actions (issue 19).
 *
 * `partial` keeps the first and/or last N characters and replaces the rest with a mask
 * character, one for one, so the length is kept (a card number keeps its last 4:
 * `************1234`). Characters are Unicode code points, not UTF-16 units: an emoji or a
 * CJK character outside the BMP is one character, never half a surrogate pair (which would
 * not be valid UTF-8 in the re-encoded record). A combining accent is a code point of its
 * own, so `é` written as e + ◌́ counts as two.
 *
 * Fail closed: when the characters to keep would cover the whole value (keepLast 4 of a
 * 4-digit value), every character is masked instead, so a short value is never copied
 * through unchanged.
 *
 * `redact` returns the constant of a field's type (below): the same for every record, so it
 * hides the value and its length but joins on the field are lost by design.
 */
import { InvalidOptionError } from '../errors';

export interface PartialOptions {
  /** Code points kept at the end (default 0). */
  keepLast?: number;
  /** Code points kept at the start (default 0). */
  keepFirst?: number;
  /** The character put in place of each masked one: exactly one code point (default `*`). */
  maskChar?: string;
}

export function partial(s: string, opts: PartialOptions = {}): string {
  const keepLast = opts.keepLast ?? 0;
  const keepFirst = opts.keepFirst ?? 0;
  const maskChar = opts.maskChar ?? '*';
  for (const [name, n] of [
    ['keepLast', keepLast],
    ['keepFirst', keepFirst],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new InvalidOptionError(`partial.${name}`, String(n), 'is not a whole number ≥ 0');
    }
  }
  if ([...maskChar].length !== 1) {
    throw new InvalidOptionError('partial.maskChar', maskChar, 'is not exactly one character');
  }
  // ASCII (most identifiers and card numbers): a code point is a UTF-16 unit, no array needed.
  if (Buffer.byteLength(s, 'utf8') === s.length) {
    const n = s.length;
    if (keepFirst + keepLast >= n) return maskChar.repeat(n);
    return s.slice(0, keepFirst) + maskChar.repeat(n - keepFirst - keepLast) + s.slice(n - keepLast);
  }
  const points = [...s];
  const n = points.length;
  if (keepFirst + keepLast >= n) return maskChar.repeat(n);
  return points.slice(0, keepFirst).join('') + maskChar.repeat(n - keepFirst - keepLast) + points.slice(n - keepLast).join('');
}

/** The types `redact` knows, as the policy's plan names them (from Avro, Protobuf and JSON Schema types). */
export type RedactType =
  | { kind: 'string' }
  | { kind: 'bytes' }
  | { kind: 'fixed'; size: number }
  | { kind: 'int' }
  | { kind: 'long' }
  | { kind: 'float' }
  | { kind: 'boolean' }
  | { kind: 'uuid' }
  | { kind: 'enum'; symbols: readonly string[] };

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The constant of a type: '' for strings, zero-length bytes, `size` zero bytes for an Avro
 * `fixed` (its size is part of the schema), 0 for 32-bit integers and floats, 0n for 64-bit
 * integers (JavaScript numbers cannot hold every int64: the encoders take bigint), false, the
 * nil UUID (RFC 9562: a valid UUID that no generator produces), and an enum's first symbol
 * (Protobuf's default; Avro has no "zero" symbol, so the first is the only choice that needs
 * no extra setting). Timestamps and dates are integers underneath: they become the epoch.
 */
export function redact(type: RedactType): string | Buffer | number | bigint | boolean {
  switch (type.kind) {
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'fixed':
      return Buffer.alloc(type.size);
    case 'int':
    case 'float':
      return 0;
    case 'long':
      return 0n;
    case 'boolean':
      return false;
    case 'uuid':
      return NIL_UUID;
    case 'enum': {
      const first = type.symbols[0];
      if (first === undefined) throw new InvalidOptionError('redact', 'enum', 'has no symbols to redact to');
      return first;
    }
  }
}
