/**
 * A walk over an Avro binary payload that decodes nothing, made before avsc decodes it:
 * avsc (5.7.9) trusts every block count, so `array<null>` with a count of 4·10^8 filled a
 * 1.5 GB array from a 10-byte payload, and `map<null>` with 2^50 entries looped for
 * minutes. The walk follows the same grammar (Avro 1.11 spec, "Binary encoding") and
 * refuses, before any value is built:
 *
 * - more values than the budget (`maxValues`; every datum, record field, array item and
 *   map entry counts one), checked against a whole block count before the block is walked,
 *   so a huge count fails at once instead of looping;
 * - a string, bytes or fixed running past the payload, a bad union or enum index;
 * - nesting deeper than `maxDepth` (a recursive type such as a linked list);
 * - bytes left over or a payload that ends early.
 *
 * A payload that passes decodes with avsc in as many steps as the walk took. Types are
 * read through avsc's public accessors (typeName, getItemsType, getFields, ...).
 */
import type avro from 'avsc';

export class AvroPayloadError extends Error {
  override readonly name = 'AvroPayloadError';
}

export interface AvroLimits {
  maxValues: number;
  maxDepth: number;
}

/** The accessors the walk uses; avsc's Type classes all have the ones their typeName implies. */
interface AnyType {
  typeName: string;
  getItemsType(): AnyType;
  getValuesType(): AnyType;
  getFields(): Array<{ type: AnyType }>;
  getTypes(): AnyType[];
  getSize(): number;
  getSymbols(): string[];
  getUnderlyingType(): AnyType;
}

export function precheckAvro(type: avro.Type, buf: Buffer, limits: AvroLimits): void {
  let pos = 0;
  let budget = limits.maxValues;
  const fail = (what: string): never => {
    throw new AvroPayloadError(`${what} (at payload byte ${pos})`);
  };
  const spend = (n: number): void => {
    budget -= n;
    if (budget < 0) fail(`more than ${limits.maxValues} values for a payload of ${buf.length} bytes`);
  };
  /** A zigzag varint long; exact up to 2^53, which covers every length and count that can fit. */
  const long = (): number => {
    let raw = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) fail('the payload ends inside a number');
      const b = buf[pos++]!;
      raw += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      mul *= 128;
    }
    return fail('a number longer than 10 bytes');
  };
  const skip = (n: number, what: string): void => {
    if (n < 0 || n > buf.length - pos) fail(`${what} of ${n} bytes runs past the payload`);
    pos += n;
  };
  const walk = (t: AnyType, depth: number): void => {
    if (depth > limits.maxDepth) fail(`nested deeper than ${limits.maxDepth} levels`);
    spend(1);
    switch (t.typeName) {
      case 'null':
        return;
      case 'boolean':
        return skip(1, 'a boolean');
      case 'int':
      case 'long':
      case 'abstract:long': // decode.ts reads longs as bigints
        long();
        return;
      case 'float':
        return skip(4, 'a float');
      case 'double':
        return skip(8, 'a double');
      case 'bytes':
      case 'string':
        return skip(long(), t.typeName);
      case 'fixed':
        return skip(t.getSize(), 'a fixed');
      case 'enum': {
        const i = long();
        if (!(i >= 0 && i < t.getSymbols().length)) fail(`enum index ${i} out of range`);
        return;
      }
      case 'array':
      case 'map': {
        const items = t.typeName === 'array' ? t.getItemsType() : t.getValuesType();
        const perItem = t.typeName === 'map' ? 2 : 1; // a map entry is its key and its value
        for (;;) {
          let n = long();
          if (n === 0) return;
          if (n < 0) {
            n = -n;
            const size = long(); // block size in bytes: checked like a length
            if (size < 0 || size > buf.length - pos) fail(`a ${t.typeName} block of ${size} bytes runs past the payload`);
          }
          // The whole block against the budget before walking it: a count of 2^50 fails here.
          if (n * perItem > budget) fail(`a ${t.typeName} block of ${n} items is more than a payload of ${buf.length} bytes can hold`);
          for (let i = 0; i < n; i++) {
            if (perItem === 2) {
              spend(1);
              skip(long(), 'a map key');
            }
            walk(items, depth + 1);
          }
        }
      }
      case 'record':
      case 'error':
        for (const f of t.getFields()) walk(f.type, depth + 1);
        return;
      case 'union:unwrapped':
      case 'union:wrapped': {
        const i = long();
        const branch = t.getTypes()[i];
        if (branch === undefined) fail(`union index ${i} out of range`);
        return walk(branch!, depth + 1);
      }
      default:
        if (t.typeName.startsWith('logical:')) return walk(t.getUnderlyingType(), depth + 1);
        fail(`unsupported Avro type ${t.typeName}`);
    }
  };
  walk(type as unknown as AnyType, 0);
  if (pos !== buf.length) fail(`${buf.length - pos} bytes after the value`);
}
