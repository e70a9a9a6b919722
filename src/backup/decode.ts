/**
 * `kbak cat --decode`: Confluent-framed keys and values decoded with the schemas stored in
 * the backup's manifest, never a registry. Avro via avsc (referenced named types first),
 * JSON Schema payloads are JSON after the 5-byte frame, Protobuf via protobufjs with the
 * message indexes after the frame selecting the message type. A payload that cannot be
 * decoded is shown raw with the reason, never dropped.
 *
 * A backup may be hostile, so every step is bounded (DECODE_LIMITS): a payload is decoded
 * only up to a size, Avro payloads are walked first (avro-precheck.ts: block counts against
 * a value budget, depth), JSON is checked for depth before it is parsed, Protobuf has
 * protobufjs's own depth limit; a schema build resolves each reference once (no
 * exponential closure, no cycle), is bounded in schemas and bytes, and a failed build is
 * remembered, not repeated per record.
 */
import avro from 'avsc';
import protobuf from 'protobufjs';
import type { SchemaEntry, SchemaType } from './manifest';
import { precheckAvro } from './avro-precheck';
import { framedSchemaId, FRAME_HEADER_BYTES } from '../schema/framing';

export const DECODE_LIMITS = {
  /**
   * Larger payloads are shown raw: decoding builds objects worth many times the bytes (an
   * Avro array of 1-byte records: about 200 MiB for 1 MiB, 600 MiB for 4 MiB). 1 MiB is
   * Kafka's default max.message.bytes.
   */
  maxPayloadBytes: 1024 * 1024,
  /** Nesting of arrays, maps, records, unions, JSON arrays and objects (protobufjs and protoc use 100). */
  maxDepth: 100,
  /** Avro values per payload: this many per byte, plus a fixed allowance for values that take no bytes (null, empty records). */
  avroValuesPerByte: 2,
  avroFreeValues: 65_536,
  /** One schema build: the schema and everything it references, each counted once. */
  maxBuildSchemas: 1_000,
  maxBuildBytes: 4 * 1024 * 1024,
  /** Schema text parsed by all builds of one decoder together (a backup's manifest is at most 64 MiB). */
  maxTotalBuildBytes: 64 * 1024 * 1024,
} as const;

/** What a key or value becomes: the decoded value as JSON text with its schema, or the raw bytes with the reason. */
export type DecodedPayload = { decoded: string; schemaId: number; schemaType: SchemaType } | { raw: Buffer; schemaId?: number; error?: string };

type Decoder = (body: Buffer) => string;

/** Zigzag varint, as Confluent writes Protobuf message indexes. */
function readVarint(buf: Buffer, pos: number): { value: number; pos: number } {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated message index');
    const b = buf[pos++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new Error('message index varint too long');
  }
  return { value: (result >>> 1) ^ -(result & 1), pos };
}

/**
 * Avro longs as exact bigints. avsc's own long type reads through a double: past 2^52 it lost
 * the low bit and the sign (-(2^52+1) showed as 4503599627370496), past 2^53 it refused the
 * value. avsc hands this type the long's 8 bytes, little-endian two's complement.
 */
export const EXACT_AVRO_LONG = avro.types.LongType.__with({
  fromBuffer: (b: Buffer): bigint => b.readBigInt64LE(0),
  toBuffer: (n: bigint): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  },
  fromJSON: (v: number | string): bigint => BigInt(v),
  toJSON: (n: bigint): string => n.toString(),
  isValid: (n: unknown): boolean => typeof n === 'bigint',
  compare: (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -1 : 1),
});

/**
 * A logical type kept by name with its underlying values as they are: without one, avsc drops
 * `logicalType` (the masking plan could not tell a uuid from a string) and reads an object-form
 * long (`{"type": "long", "logicalType": "timestamp-millis"}`) through a double.
 */
class NamedLogicalType extends avro.types.LogicalType {
  protected override _fromValue(v: unknown): unknown {
    return v;
  }
  protected override _toValue(v: unknown): unknown {
    return v;
  }
  protected override _resolve(t: avro.Type): ((v: unknown) => unknown) | undefined {
    if (avro.Type.isType(t, this.underlyingType.typeName)) return (v: unknown) => v;
    return undefined;
  }
}
const buildingLogical = new WeakSet<object>();

/** avsc's typeHook: every long exact, every logical type kept by name (NamedLogicalType). */
function avroTypeHook(schema: avro.Schema, opts: avro.ForSchemaOptions): avro.Type | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const s = schema as { type?: unknown; logicalType?: unknown };
  if (buildingLogical.has(s) || !s.logicalType) return s.type === 'long' ? EXACT_AVRO_LONG : undefined;
  buildingLogical.add(s);
  try {
    return new NamedLogicalType(schema, opts);
  } finally {
    buildingLogical.delete(s);
  }
}

/** Avro values as JSON, without a copy of the value: bytes as base64, longs as numbers up to 2^53 and as strings beyond. */
function avroJson(this: Record<string, unknown>, key: string, v: unknown): unknown {
  // JSON.stringify has already called Buffer#toJSON on v; the holder still has the Buffer.
  const original = this[key];
  if (Buffer.isBuffer(original)) return original.toString('base64');
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

/**
 * The deepest nesting of arrays and objects in JSON text, found without parsing it (strings
 * skipped, escapes honoured); stops as soon as it passes `limit`.
 */
export function jsonDepthExceeds(text: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The messages directly inside a namespace or message, in file order: what a message index counts. */
export function protoMessages(n: protobuf.NamespaceBase | null | undefined): protobuf.Type[] {
  return (n?.nestedArray ?? []).filter((x): x is protobuf.Type => x instanceof protobuf.Type);
}

class SchemaBuildError extends Error {
  override readonly name = 'SchemaBuildError';
}

export class SchemaDecoder {
  private readonly byId = new Map<number, SchemaEntry>();
  /** `subject\0version` → the schema registered so, for references. */
  private readonly byRegistration = new Map<string, SchemaEntry>();
  /** A built decoder, or the error its build failed with (kept: a build is never repeated). */
  private readonly cache = new Map<number, Decoder | Error>();
  private builtBytes = 0;

  constructor(schemas: SchemaEntry[]) {
    for (const s of schemas) {
      this.byId.set(s.id, s);
      for (const g of s.registrations) if (!this.byRegistration.has(`${g.subject}\0${g.version}`)) this.byRegistration.set(`${g.subject}\0${g.version}`, s);
    }
  }

  /**
   * What `s` references, transitively, each schema once and before the schemas that
   * reference it; refuses a cycle and a closure beyond the build limits.
   */
  private referenced(root: SchemaEntry): SchemaEntry[] {
    const order: SchemaEntry[] = [];
    const state = new Map<SchemaEntry, 'open' | 'done'>();
    let bytes = Buffer.byteLength(root.schema);
    // Iterative depth-first walk: a chain of references cannot overflow the stack.
    const stack: Array<{ s: SchemaEntry; next: number }> = [{ s: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const ref = top.s.references[top.next++];
      if (ref === undefined) {
        stack.pop();
        state.set(top.s, 'done');
        if (top.s !== root) order.push(top.s);
        continue;
      }
      const hit = this.byRegistration.get(`${ref.subject}\0${ref.version}`);
      if (!hit || state.get(hit) === 'done') continue;
      if (state.get(hit) === 'open') throw new SchemaBuildError(`schema ${root.id} has a reference cycle through ${ref.subject} version ${ref.version}`);
      state.set(hit, 'open');
      bytes += Buffer.byteLength(hit.schema);
      if (state.size > DECODE_LIMITS.maxBuildSchemas || bytes > DECODE_LIMITS.maxBuildBytes) {
        throw new SchemaBuildError(
          `schema ${root.id} references more than ${DECODE_LIMITS.maxBuildSchemas} schemas or ${DECODE_LIMITS.maxBuildBytes} bytes of schema text`,
        );
      }
      stack.push({ s: hit, next: 0 });
    }
    this.builtBytes += bytes;
    if (this.builtBytes > DECODE_LIMITS.maxTotalBuildBytes) {
      throw new SchemaBuildError(`building schema ${root.id} would take the schema text parsed by this run past ${DECODE_LIMITS.maxTotalBuildBytes} bytes`);
    }
    return order;
  }

  /** The schema with `id`, or undefined when the backup does not hold it. */
  entry(id: number): SchemaEntry | undefined {
    return this.byId.get(id);
  }

  /** An Avro schema as an avsc type (exact longs), its references registered first. Throws when it cannot be built. */
  avroType(s: SchemaEntry): avro.Type {
    const registry: Record<string, avro.Type> = { long: EXACT_AVRO_LONG };
    for (const r of this.referenced(s)) avro.Type.forSchema(JSON.parse(r.schema) as avro.Schema, { registry, typeHook: avroTypeHook });
    return avro.Type.forSchema(JSON.parse(s.schema) as avro.Schema, { registry, typeHook: avroTypeHook });
  }

  /** A Protobuf schema's file parsed (its references first, field names as written) and its top-level messages in file order, as message indexes count them. */
  protobufMessages(s: SchemaEntry): { root: protobuf.Root; messages: protobuf.Type[] } {
    const root = new protobuf.Root();
    const loaded = new Set<string>();
    const parse = (text: string): protobuf.IParserResult => {
      const p = protobuf.parse(text, root, { keepCase: true });
      // Confluent registers no reference for google/protobuf/*.proto (the registry knows them): protobufjs ships them.
      for (const name of [...(p.imports ?? []), ...(p.weakImports ?? [])]) {
        const common = protobuf.common.get(name);
        if (common?.nested && !loaded.has(name)) {
          loaded.add(name);
          root.addJSON(common.nested);
        }
      }
      return p;
    };
    for (const r of this.referenced(s)) parse(r.schema);
    const parsed = parse(s.schema);
    const ns = parsed.package ? root.lookup(parsed.package) : root;
    return { root, messages: protoMessages(ns as protobuf.Namespace | null) };
  }

  /** A JSON Schema as parsed JSON, and every schema it references, directly or not, by the name its referrer gives it (Confluent's `references[].name`). */
  jsonSchema(s: SchemaEntry): { schema: unknown; references: Map<string, unknown> } {
    const references = new Map<string, unknown>();
    for (const x of [s, ...this.referenced(s)]) {
      for (const ref of x.references) {
        const hit = this.byRegistration.get(`${ref.subject}\0${ref.version}`);
        if (hit && !references.has(ref.name)) references.set(ref.name, JSON.parse(hit.schema));
      }
    }
    return { schema: JSON.parse(s.schema), references };
  }

  private build(s: SchemaEntry): Decoder {
    if (s.schemaType === 'JSON') {
      return (body) => {
        if (jsonDepthExceeds(body, DECODE_LIMITS.maxDepth)) throw new Error(`nested deeper than ${DECODE_LIMITS.maxDepth} levels`);
        return JSON.stringify(JSON.parse(body.toString('utf8')));
      };
    }
    if (s.schemaType === 'AVRO') {
      const type = this.avroType(s);
      return (body) => {
        precheckAvro(type, body, { maxValues: DECODE_LIMITS.avroValuesPerByte * body.length + DECODE_LIMITS.avroFreeValues, maxDepth: DECODE_LIMITS.maxDepth });
        return JSON.stringify(type.fromBuffer(body), avroJson);
      };
    }
    const { messages: topLevel } = this.protobufMessages(s);
    const messages = protoMessages;
    return (body) => {
      // Message indexes: a count, then the path; a lone 0 means [0] (the first message).
      let { value: count, pos } = readVarint(body, 0);
      if (count > DECODE_LIMITS.maxDepth) throw new Error(`message index path of ${count} entries is deeper than ${DECODE_LIMITS.maxDepth}`);
      const path: number[] = [];
      if (count === 0) path.push(0);
      while (count-- > 0) {
        const r = readVarint(body, pos);
        path.push(r.value);
        pos = r.pos;
      }
      let type: protobuf.Type | undefined = topLevel[path[0]!];
      for (const i of path.slice(1)) type = type === undefined ? undefined : messages(type)[i];
      if (!type) throw new Error(`no message at index path ${path.join('.')}`);
      // protobufjs refuses nesting beyond util.recursionLimit (100) in decode and toObject.
      return JSON.stringify(type.toObject(type.decode(body.subarray(pos)), { longs: String, bytes: String, enums: String, defaults: false }));
    };
  }

  private decoderFor(s: SchemaEntry): Decoder | Error {
    let d = this.cache.get(s.id);
    if (d === undefined) {
      try {
        d = this.build(s);
      } catch (err) {
        // Remembered: a backup of many records with one bad schema builds it once.
        d = err instanceof Error ? err : new Error(String(err));
      }
      this.cache.set(s.id, d);
    }
    return d;
  }

  /** A framed payload with a known schema, decoded; anything else raw, with the reason when there is one. */
  decode(payload: Buffer): DecodedPayload {
    const id = framedSchemaId(payload);
    const s = id === null ? undefined : this.byId.get(id);
    if (id === null) return { raw: payload };
    if (!s) return { raw: payload, error: `schema ${id} is not in the backup` };
    if (payload.length > DECODE_LIMITS.maxPayloadBytes) {
      return {
        raw: payload,
        schemaId: id,
        error: `not decoded: the payload is ${payload.length} bytes, more than the ${DECODE_LIMITS.maxPayloadBytes} --decode decodes`,
      };
    }
    const d = this.decoderFor(s);
    if (d instanceof Error) return { raw: payload, schemaId: id, error: `cannot build schema ${id}: ${d.message}` };
    try {
      return { decoded: d(payload.subarray(FRAME_HEADER_BYTES)), schemaId: id, schemaType: s.schemaType };
    } catch (err) {
      return { raw: payload, schemaId: id, error: `cannot decode with schema ${id}: ${(err as Error).message}` };
    }
  }
}
