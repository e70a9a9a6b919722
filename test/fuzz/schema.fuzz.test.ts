/**
 * Fuzzing the readers of record payloads (src/schema/framing.ts, src/backup/avro-precheck.ts,
 * src/backup/decode.ts): `kbak cat --decode` reads keys and values from a backup with the
 * schemas in its manifest, both untrusted. Properties:
 *
 * - Confluent framing: the schema ID is read exactly as FORMAT.md says (magic 0, big-endian
 *   u32) for any bytes and any in-range window, never throwing; withSchemaId changes those 4
 *   bytes only;
 * - Avro: for random schemas (every type, nested, recursive through named records), payloads
 *   written from the grammar (Avro 1.11 "Binary encoding", canonical: one block per array and
 *   map) pass the pre-walk, decode with avsc, and re-encode to the same bytes
 *   (encode ∘ decode = id); `cat --decode` shows the value avsc decodes;
 * - hostile Avro payloads (random, mutated, counts and lengths that lie) are refused by the
 *   walk with AvroPayloadError only; whatever it lets through avsc decodes into no more
 *   values than the budget;
 * - Protobuf: random messages of a schema with every field kind, nested and recursive
 *   messages, maps, oneofs and enums, framed with their message-index path, decode to the
 *   message; hostile bytes after the frame never make `decode` throw;
 * - the JSON depth scan agrees with the nesting of parsed JSON, and never throws;
 * - SchemaDecoder.decode never throws, whatever the schemas and payloads (hostile schema text,
 *   reference cycles, bad message paths): a payload is decoded or shown raw with the reason.
 */
import avro from 'avsc';
import protobuf from 'protobufjs';
import fc from 'fast-check';
import { AvroPayloadError, precheckAvro } from '../../src/backup/avro-precheck';
import { DECODE_LIMITS, EXACT_AVRO_LONG, jsonDepthExceeds, SchemaDecoder } from '../../src/backup/decode';
import type { SchemaEntry } from '../../src/backup/manifest';
import { framedSchemaId, framedSchemaIdAt, withSchemaId } from '../../src/schema/framing';
import { zigzag } from '../support/kafka-wire-bytes';
import { attempt, buffer, mutate, mutations, runs } from './support';

/** Zigzag varint of a long: Avro ints and longs and Confluent message indexes use Kafka's encoding. */
const zz = zigzag;

function framed(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, body]);
}

const entry = (id: number, schemaType: SchemaEntry['schemaType'], schema: string, refs: Array<[string, number]> = [], subject = `s${id}`): SchemaEntry => ({
  id,
  schemaType,
  schema,
  references: refs.map(([s, v], i) => ({ name: `ref${i}`, subject: s, version: v })),
  registrations: [{ subject, version: 1 }],
  usedInRecords: true,
});

const LIMITS = { maxValues: 100_000, maxDepth: DECODE_LIMITS.maxDepth };

/** avsc's type for a schema, with longs read as decode.ts reads them (exact bigints). */
const avroType = (schema: unknown): avro.Type => avro.Type.forSchema(schema as avro.Schema, { registry: { long: EXACT_AVRO_LONG } });

/** A decoded Avro value as `cat --decode` shows it: bytes in base64, longs as numbers up to 2^53 and strings beyond. */
const shownAs = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, k, v: unknown) {
      const o = this[k];
      if (Buffer.isBuffer(o)) return o.toString('base64');
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      return v;
    }),
  );

// ---------------------------------------------------------------- Avro schemas and payloads

/** An Avro schema as a tree; named types get their names when the tree is finished. */
type AvroNode =
  | { t: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string' }
  | { t: 'fixed'; size: number }
  | { t: 'enum'; symbols: number }
  | { t: 'array'; items: AvroNode }
  | { t: 'map'; values: AvroNode }
  | { t: 'record'; fields: AvroNode[]; recursive: boolean }
  | { t: 'union'; branches: AvroNode[] };

const PRIMITIVES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'] as const;

const avroNode: fc.Arbitrary<AvroNode> = fc.letrec<{ node: AvroNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...PRIMITIVES).map((t) => ({ t })),
    fc.nat({ max: 6 }).map((size) => ({ t: 'fixed' as const, size })),
    fc.integer({ min: 1, max: 4 }).map((symbols) => ({ t: 'enum' as const, symbols })),
    tie('node').map((items) => ({ t: 'array' as const, items })),
    tie('node').map((values) => ({ t: 'map' as const, values })),
    fc.record({ fields: fc.array(tie('node'), { maxLength: 4 }), recursive: fc.boolean() }).map((r) => ({ t: 'record' as const, ...r })),
    // A union holds distinct primitives (no two of one kind) and possibly one record.
    fc
      .tuple(fc.uniqueArray(fc.constantFrom(...PRIMITIVES), { minLength: 1, maxLength: 3 }), fc.option(tie('node').filter((n) => n.t === 'record')))
      .map(([ps, rec]) => ({ t: 'union' as const, branches: [...ps.map((t) => ({ t })), ...(rec ? [rec] : [])] })),
  ),
})).node;

/** The schema JSON of a tree: named types are N0, N1, …; a recursive record has an optional field of its own type. */
function schemaOf(root: AvroNode): unknown {
  let n = 0;
  const build = (node: AvroNode): unknown => {
    switch (node.t) {
      case 'fixed':
        return { type: 'fixed', name: `N${n++}`, size: node.size };
      case 'enum':
        return { type: 'enum', name: `N${n++}`, symbols: Array.from({ length: node.symbols }, (_, i) => `S${i}`) };
      case 'array':
        return { type: 'array', items: build(node.items) };
      case 'map':
        return { type: 'map', values: build(node.values) };
      case 'record': {
        const name = `N${n++}`;
        const fields = node.fields.map((f, i) => ({ name: `f${i}`, type: build(f) }));
        if (node.recursive) fields.push({ name: 'next', type: ['null', name] });
        return { type: 'record', name, fields };
      }
      case 'union':
        return node.branches.map(build);
      default:
        return node.t;
    }
  };
  return build(root);
}

/**
 * A canonical binary encoding of some value of `node` (what avsc writes: minimal varints,
 * one positive-count block per non-empty array or map, valid UTF-8 strings, no NaN), built
 * from the grammar; below depth 3 collections and recursion stay small.
 */
function payloadOf(node: AvroNode, depth = 0): fc.Arbitrary<Buffer> {
  const small = depth > 3;
  switch (node.t) {
    case 'null':
      return fc.constant(Buffer.alloc(0));
    case 'boolean':
      return fc.constantFrom(Buffer.from([0]), Buffer.from([1]));
    case 'int':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((i) => zz(BigInt(i)));
    case 'long':
      return fc.oneof(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), fc.bigInt(-(2n ** 54n), 2n ** 54n)).map(zz);
    case 'float':
      return fc.float({ noNaN: true }).map((f) => {
        const b = Buffer.alloc(4);
        b.writeFloatLE(f);
        return b;
      });
    case 'double':
      return fc.double({ noNaN: true }).map((f) => {
        const b = Buffer.alloc(8);
        b.writeDoubleLE(f);
        return b;
      });
    case 'bytes':
      return buffer({ maxLength: 12 }).map((b) => Buffer.concat([zz(BigInt(b.length)), b]));
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => Buffer.concat([zz(BigInt(Buffer.byteLength(s))), Buffer.from(s)]));
    case 'fixed':
      return buffer({ minLength: node.size, maxLength: node.size });
    case 'enum':
      return fc.nat({ max: node.symbols - 1 }).map((i) => zz(BigInt(i)));
    case 'array':
    case 'map': {
      const item = node.t === 'array' ? payloadOf(node.items, depth + 1) : payloadOf(node.values, depth + 1);
      // Map keys are unique (a decoded object keeps one value per key) and not integer-like
      // (an object lists those first, so a re-encoding would change the entries' order).
      const entries =
        node.t === 'array'
          ? fc.array(item, { maxLength: small ? 1 : 3 })
          : fc
              .uniqueArray(
                fc.string({ unit: 'grapheme-ascii', maxLength: 4 }).map((k) => `k${k}`),
                { maxLength: small ? 1 : 3 },
              )
              .chain((keys) => fc.tuple(...keys.map((k) => item.map((v) => Buffer.concat([zz(BigInt(k.length)), Buffer.from(k), v])))));
      return entries.map((items) => (items.length === 0 ? zz(0n) : Buffer.concat([zz(BigInt(items.length)), ...items, zz(0n)])));
    }
    case 'record': {
      const fields = node.fields.map((f) => payloadOf(f, depth + 1));
      const next: fc.Arbitrary<Buffer> =
        node.recursive && !small
          ? fc.oneof(
              fc.constant(zz(0n)),
              fc.constant(null).chain(() => payloadOf(node, depth + 1).map((p) => Buffer.concat([zz(1n), p]))),
            )
          : fc.constant(zz(0n));
      return fc.tuple(fc.tuple(...fields), next).map(([fs, n]) => Buffer.concat([...fs, ...(node.recursive ? [n] : [])]));
    }
    case 'union':
      return fc.nat({ max: node.branches.length - 1 }).chain((i) => payloadOf(node.branches[i]!, depth + 1).map((p) => Buffer.concat([zz(BigInt(i)), p])));
  }
}

const avroCase = avroNode.chain((node) => fc.tuple(fc.constant(schemaOf(node)), payloadOf(node)));

/** Values in a decoded Avro value (what the walk's budget counts, roughly: each node once). */
function countValues(v: unknown): number {
  if (Array.isArray(v)) return 1 + v.reduce<number>((n, x) => n + countValues(x), 0);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return 1 + Object.values(v).reduce<number>((n, x) => n + 1 + countValues(x), 0);
  return 1;
}

/** Lies planted in an honest payload: a block count or a length made huge or negative. */
const lie = fc.tuple(fc.nat(), fc.constantFrom(2n ** 31n, 2n ** 50n, 2n ** 62n, -(2n ** 40n), -1n, 400_000_000n));

// ---------------------------------------------------------------- Protobuf

const PROTO = `
syntax = "proto3";
package fuzz;
enum Colour { RED = 0; GREEN = 1; BLUE = 2; }
message Scalars {
  int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5; sint64 s64 = 6;
  fixed32 f32 = 7; fixed64 f64 = 8; sfixed32 sf32 = 9; sfixed64 sf64 = 10; bool b = 11;
  string s = 12; bytes by = 13; double d = 14; float f = 15; Colour c = 16;
  repeated int32 packed = 17; repeated string names = 18;
}
message Tree {
  string label = 1;
  repeated Tree children = 2;
  map<string, Scalars> attrs = 3;
  oneof choice { int64 number = 4; string text = 5; Scalars scalars = 6; }
  message Leaf { bytes data = 1; Colour colour = 2; }
  Leaf leaf = 7;
}
`;
const root = protobuf.parse(PROTO, new protobuf.Root(), { keepCase: true }).root;
const ns = root.lookup('fuzz') as protobuf.Namespace;
const messages = (n: protobuf.NamespaceBase): protobuf.Type[] => n.nestedArray.filter((x): x is protobuf.Type => x instanceof protobuf.Type);
/** Message-index paths (Confluent) to every message of the schema, and the message each selects. */
const PATHS: Array<[number[], protobuf.Type]> = [];
messages(ns).forEach((t, i) => {
  PATHS.push([[i], t]);
  messages(t).forEach((n, j) => PATHS.push([[i, j], n]));
});

const LONG = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String);
const ULONG = fc.bigInt(0n, 2n ** 64n - 1n).map(String);
function scalar(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
    case 'fixed32':
      return fc.nat({ max: 2 ** 32 - 1 });
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return LONG;
    case 'uint64':
    case 'fixed64':
      return ULONG;
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 8 });
    case 'bytes':
      return buffer({ maxLength: 8 }).map((b) => b.toString('base64'));
    case 'double':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'float':
      return fc.float({ noNaN: true, noDefaultInfinity: true });
    default:
      throw new Error(`no generator for ${type}`);
  }
}

/** A plain object of `type` (protobufjs fromObject's input), nested `depth` deep at most. */
function messageOf(type: protobuf.Type, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  const oneofMembers = new Set(type.oneofsArray.flatMap((o) => o.fieldsArray.map((f) => f.name)));
  for (const f of type.fieldsArray) {
    if (oneofMembers.has(f.name)) continue;
    f.resolve();
    const one = (): fc.Arbitrary<unknown> =>
      f.resolvedType instanceof protobuf.Type
        ? depth > 2
          ? fc.constant({})
          : messageOf(f.resolvedType, depth + 1)
        : f.resolvedType instanceof protobuf.Enum
          ? fc.constantFrom(...Object.keys(f.resolvedType.values))
          : scalar(f.type);
    if (f instanceof protobuf.MapField) fields[f.name] = fc.dictionary(fc.string({ maxLength: 4 }), one(), { maxKeys: depth > 1 ? 0 : 2 });
    else if (f.repeated) fields[f.name] = fc.array(one(), { maxLength: depth > 1 ? 0 : 3 });
    else fields[f.name] = one();
  }
  const oneofs = type.oneofsArray.map((o) =>
    fc.option(
      fc.constantFrom(...o.fieldsArray).chain((f) => {
        f.resolve();
        const v = f.resolvedType instanceof protobuf.Type ? messageOf(f.resolvedType, depth + 1) : scalar(f.type);
        return v.map((x) => ({ [f.name]: x }));
      }),
    ),
  );
  return fc
    .tuple(fc.record(fields, { requiredKeys: [] }), fc.tuple(...oneofs))
    .map(([o, chosen]) => Object.assign({}, o, ...chosen.filter((c): c is Record<string, unknown> => c !== null)));
}

/** The message-index prefix Confluent writes: a lone 0 for [0], else the count and the path. */
const indexes = (path: number[]): Buffer =>
  path.length === 1 && path[0] === 0 ? zz(0n) : Buffer.concat([zz(BigInt(path.length)), ...path.map((i) => zz(BigInt(i)))]);

const toObject = (t: protobuf.Type, m: protobuf.Message): unknown => t.toObject(m, { longs: String, bytes: String, enums: String, defaults: false });

// ---------------------------------------------------------------- properties

describe('payload decoding fuzzing', () => {
  it('reads the Confluent schema ID of any bytes and window as FORMAT.md says, and rewrites only those 4 bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          buffer({ maxLength: 12 }),
          buffer({ minLength: 5, maxLength: 12 }).map((b) => ((b[0] = 0), b)),
        ),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (b, s, n, id) => {
          const want = b.length >= 5 && b[0] === 0 ? b.readUInt32BE(1) : null;
          expect(framedSchemaId(b)).toBe(want);
          const start = s % (b.length + 1);
          const length = n % (b.length - start + 1);
          const w = b.subarray(start, start + length);
          expect(framedSchemaIdAt(b, start, length)).toBe(w.length >= 5 && w[0] === 0 ? w.readUInt32BE(1) : null);
          if (want === null) return;
          const moved = withSchemaId(b, id >>> 0);
          expect(framedSchemaId(moved)).toBe(id >>> 0);
          expect(moved.subarray(5)).toEqual(b.subarray(5));
          expect(moved[0]).toBe(0);
        },
      ),
      runs(0xa001, 4),
    );
  });

  it('decodes canonical Avro payloads of random schemas and re-encodes them to the same bytes', () => {
    fc.assert(
      fc.property(avroCase, ([schema, payload]) => {
        const type = avroType(schema);
        precheckAvro(type, payload, LIMITS);
        const value: unknown = type.fromBuffer(payload);
        expect(type.toBuffer(value).equals(payload)).toBe(true);
        const d = new SchemaDecoder([entry(9, 'AVRO', JSON.stringify(schema))]);
        const shown = d.decode(framed(9, payload));
        expect(shown).toHaveProperty('decoded');
        expect(JSON.parse((shown as { decoded: string }).decoded) as unknown).toEqual(shownAs(value));
      }),
      runs(0xa002, 2),
    );
  });

  it('refuses hostile Avro payloads in the walk with AvroPayloadError only; avsc decodes what the walk lets through, within the budget', () => {
    const hostile = avroCase.chain(([schema, payload]) =>
      fc.tuple(
        fc.constant(schema),
        fc.oneof(
          buffer({ maxLength: 48 }),
          mutations.map((ms) => mutate(payload, ms)),
          // A count or length somewhere replaced by a lie.
          lie.map(([at, n]) => {
            const p = payload.length === 0 ? 0 : at % payload.length;
            return Buffer.concat([payload.subarray(0, p), zz(n), payload.subarray(p)]);
          }),
        ),
      ),
    );
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 200 }), ([schema, payload], maxValues) => {
        const type = avroType(schema);
        const limits = { maxValues, maxDepth: 12 };
        const walked = attempt(() => precheckAvro(type, payload, limits), [AvroPayloadError]);
        const d = new SchemaDecoder([entry(9, 'AVRO', JSON.stringify(schema))]);
        expect(() => d.decode(framed(9, payload))).not.toThrow();
        if (!walked.ok) return;
        expect(countValues(type.fromBuffer(payload))).toBeLessThanOrEqual(2 * maxValues + 1);
      }),
      runs(0xa003, 4),
    );
  });

  it('decodes random Protobuf messages framed with their message-index path', () => {
    const d = new SchemaDecoder([entry(5, 'PROTOBUF', PROTO)]);
    const cases = fc.constantFrom(...PATHS).chain(([path, type]) => fc.tuple(fc.constant(path), fc.constant(type), messageOf(type)));
    fc.assert(
      fc.property(cases, ([path, type, obj]) => {
        const msg = type.fromObject(obj);
        const body = Buffer.from(type.encode(msg).finish());
        const shown = d.decode(framed(5, Buffer.concat([indexes(path), body])));
        expect(shown).toHaveProperty('decoded');
        expect(JSON.parse((shown as { decoded: string }).decoded) as unknown).toEqual(JSON.parse(JSON.stringify(toObject(type, type.decode(body)))));
        expect(toObject(type, type.decode(body))).toEqual(toObject(type, msg));
      }),
      runs(0xa004, 2),
    );
  });

  it('never throws on hostile Protobuf payloads, message-index paths or schema text', () => {
    const schemas = [
      entry(5, 'PROTOBUF', PROTO),
      entry(6, 'PROTOBUF', 'syntax = "proto3"; message A { A a = 1; repeated A list = 2; }'),
      entry(7, 'PROTOBUF', 'syntax = "proto3"; message B { C c = 1; }', [['c', 1]]),
      entry(8, 'PROTOBUF', 'syntax = "proto3"; message C { B b = 1; }', [['s7', 1]], 'c'),
      entry(10, 'PROTOBUF', 'not a proto file {'),
    ];
    const d = new SchemaDecoder(schemas);
    const payloads = fc.oneof(
      buffer({ maxLength: 64 }),
      fc
        .tuple(fc.constantFrom(...PATHS), mutations)
        .chain(([[path, type], ms]) =>
          messageOf(type).map((o) => mutate(Buffer.concat([indexes(path), Buffer.from(type.encode(type.fromObject(o)).finish())]), ms)),
        ),
      // Deep nesting by length-delimited field 1 of A, 10 to 300 levels.
      fc.integer({ min: 10, max: 300 }).map((n) => {
        let b = Buffer.alloc(0);
        for (let i = 0; i < n; i++) b = Buffer.concat([Buffer.from([0x0a]), zz(BigInt(b.length) * 2n).subarray(0), b]);
        return Buffer.concat([zz(0n), b]);
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(5, 6, 7, 10), payloads, (id, body) => {
        const shown = d.decode(framed(id, body));
        expect('decoded' in shown || ('raw' in shown && typeof shown.error === 'string')).toBe(true);
      }),
      runs(0xa005, 4),
    );
  });

  it('scans JSON depth as deep as the parsed JSON nests, and any bytes without throwing', () => {
    const depth = (v: unknown): number =>
      Array.isArray(v) ? 1 + Math.max(0, ...v.map(depth)) : v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;
    const texts = fc.oneof(
      fc.json({ maxDepth: 8 }),
      fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':', '1', 'a'), maxLength: 30 }),
      fc.json({ maxDepth: 4 }).map((t) => t.replace(/"/g, '"[{\\"')),
    );
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 8 }), (t, limit) => {
        const exceeds = jsonDepthExceeds(Buffer.from(t), limit);
        let parsed: unknown;
        try {
          parsed = JSON.parse(t);
        } catch {
          return;
        }
        expect(exceeds).toBe(depth(parsed) > limit);
      }),
      runs(0xa006, 8),
    );
  });

  it('never throws whatever the schema text: a payload decodes or shows raw with the reason', () => {
    const schemaText = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 40 }),
      avroNode.map((n) => JSON.stringify(schemaOf(n))),
      fc.constantFrom('{"type":"record","name":"R","fields":[{"name":"r","type":"R"}]}', '{"type":"array","items":"Missing"}', '"int"', '[]', 'null'),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('AVRO' as const, 'JSON' as const, 'PROTOBUF' as const), schemaText), { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat({ max: 3 }), buffer({ maxLength: 32 })), { maxLength: 4 }),
        (defs, payloads) => {
          // Schema i references schema i+1 (the last one the first: a cycle).
          const schemas = defs.map(([type, text], i) => entry(i, type, text, [[`s${(i + 1) % defs.length}`, 1]]));
          const d = new SchemaDecoder(schemas);
          for (const [id, body] of payloads) {
            const shown = d.decode(framed(id, body));
            expect('decoded' in shown || 'raw' in shown).toBe(true);
          }
        },
      ),
      runs(0xa007, 2),
    );
  });
});

describe('regressions found by fuzzing', () => {
  // Seed 0xa002: avsc's own long type reads through a double, so a long past 2^52 lost its
  // low bit and its sign: `cat --decode` showed -(2^52+1) as 4503599627370496; past 2^53 it
  // refused the value and showed the payload raw. decode.ts now reads longs as bigints.
  const d = new SchemaDecoder([
    entry(1, 'AVRO', '"long"'),
    entry(
      2,
      'AVRO',
      JSON.stringify([
        'null',
        {
          type: 'record',
          name: 'N0',
          fields: [
            { name: 'f0', type: 'int' },
            { name: 'f1', type: 'long' },
          ],
        },
      ]),
    ),
  ]);
  const shown = (id: number, body: Buffer): unknown => {
    const r = d.decode(framed(id, body));
    return 'decoded' in r ? (JSON.parse(r.decoded) as unknown) : r;
  };

  it.each([
    [0n, 0],
    [-(2n ** 52n) - 1n, -4503599627370497],
    [-(2n ** 53n) + 1n, -9007199254740991],
    [2n ** 53n - 1n, 9007199254740991],
    [2n ** 53n + 1n, '9007199254740993'],
    [-(2n ** 63n), '-9223372036854775808'],
    [2n ** 63n - 1n, '9223372036854775807'],
  ])('shows the Avro long %s exactly', (v, want) => {
    expect(shown(1, zz(v))).toEqual(want);
  });

  it('shows the shrunk counterexample (a union branch record with a long of -(2^52+1)) exactly', () => {
    expect(shown(2, Buffer.from([2, 0, 129, 128, 128, 128, 128, 128, 128, 16]))).toEqual({ f0: 0, f1: -4503599627370497 });
  });
});
