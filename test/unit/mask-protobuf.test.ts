/**
 * The Protobuf body masker (src/mask/protobuf-body.ts): rules compiled against a schema parsed
 * as the backup's SchemaDecoder parses it, bodies written and read back with protobufjs (an
 * independent encoder and decoder), expected masked values computed with the leaf primitives
 * (hash.ts, partial.ts, fpe.ts) directly, and byte-level expectations built from protobufjs's
 * own Writer.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { SchemaDecoder } from '../../src/backup/decode';
import type { SchemaEntry } from '../../src/backup/manifest';
import { UndecodablePayload, type BodyMasker, type BodyRefusal } from '../../src/mask/body';
import { fpeInt } from '../../src/mask/fpe';
import { hashBytes, hashInt, hashString, INT_RANGES } from '../../src/mask/hash';
import { partial } from '../../src/mask/partial';
import { formatFieldPath, parseFieldPath } from '../../src/mask/path';
import type { FieldAction, FieldRule } from '../../src/mask/policy';
import { compileProtobufBody } from '../../src/mask/protobuf-body';

const KEY = Buffer.alloc(32, 7);

const PROTO = `
syntax = "proto3";
package shop;

message Order {
  string id = 1;
  Customer customer = 2;
  repeated string tags = 3;
  repeated Item items = 4;
  map<string, string> attrs = 5;
  map<string, Customer> parties = 6;
  oneof contact {
    string email = 7;
    string phone = 8;
  }
  optional string note = 9;
  Status status = 10;
  int32 qty = 11;
  int64 big = 12;
  sint64 delta = 13;
  uint64 u = 14;
  fixed64 fx = 15;
  bytes blob = 16;
  repeated int32 nums = 17;
  repeated int32 loose = 18 [packed = false];
  Order parent = 19;
  string label = 20;

  enum Status {
    UNKNOWN = 0;
    OPEN = 1;
    CLOSED = 2;
  }
  message Item {
    string card = 1;
    string sku = 2;
  }
}

message Outer {
  message Inner {
    string label = 1;
    string other = 2;
  }
  Inner inner = 1;
  string label = 2;
}

message Customer {
  string email = 1;
  string name = 2;
  sfixed32 sf = 3;
  double score = 4;
  bool vip = 5;
  uint32 u32 = 6;
  fixed32 f32 = 7;
  sint32 s32 = 8;
  sfixed64 sf64 = 9;
}
`;

const ENTRY: SchemaEntry = { id: 1, schemaType: 'PROTOBUF', schema: PROTO, references: [], registrations: [], usedInRecords: true };
/** The schema as the restore gets it: through the backup's decoder. */
const { messages } = new SchemaDecoder([ENTRY]).protobufMessages(ENTRY);
/** A separate parse for writing and reading bodies in the tests. */
const checker = protobuf.parse(PROTO, { keepCase: true }).root.resolveAll();
const Order = checker.lookupType('shop.Order');
const Customer = checker.lookupType('shop.Customer');
const Outer = checker.lookupType('shop.Outer');
const Inner = checker.lookupType('shop.Outer.Inner');

/** Confluent message indexes: [0] is written as a lone 0; [1] and [1,0] as count then zigzag indexes. */
const IDX0 = Buffer.from([0]);
const IDX1 = Buffer.from([2, 2]);
const IDX10 = Buffer.from([4, 2, 0]);

function rule(path: string, action: FieldAction | FieldAction['kind'], optional = false): FieldRule {
  const parsed = parseFieldPath(path);
  return {
    path: parsed,
    pathText: formatFieldPath(parsed),
    action: typeof action === 'string' ? ({ kind: action } as FieldAction) : action,
    optional,
    at: 'p.yaml:1:1',
  };
}

function compile(rules: FieldRule[]): BodyMasker {
  const c = compileProtobufBody(messages, rules, KEY);
  if (!c.ok) throw new Error(c.errors.map((e) => `${e.rule.pathText}: ${e.problem}`).join('; '));
  return c.masker;
}

function refusals(rules: FieldRule[]): BodyRefusal[] {
  const c = compileProtobufBody(messages, rules, KEY);
  if (c.ok) throw new Error('expected a refusal');
  return c.errors;
}

const wire = (type: protobuf.Type, obj: Record<string, unknown>): Buffer => Buffer.from(type.encode(type.fromObject(obj)).finish());
const body = (type: protobuf.Type, obj: Record<string, unknown>, idx = IDX0): Buffer => Buffer.concat([idx, wire(type, obj)]);
const read = (type: protobuf.Type, b: Buffer, idx = IDX0): Record<string, unknown> => {
  expect(b.subarray(0, idx.length).equals(idx)).toBe(true);
  return type.toObject(type.decode(b.subarray(idx.length)), { longs: String, enums: String, bytes: String, defaults: false });
};

const ORDER = {
  id: 'o-1',
  customer: { email: 'alice@example.com', name: 'Alice', sf: -5, score: 2.5, vip: true, u32: 4000000000, f32: 7, s32: -9, sf64: '-123456789012' },
  tags: ['vip', 'alice@example.com'],
  items: [
    { card: '4111111111111111', sku: 'A' },
    { card: '5500000000000004', sku: 'B' },
  ],
  attrs: { k1: 'v1', k2: 'v2' },
  parties: { buyer: { email: 'bob@example.com', name: 'Bob' } },
  email: 'carol@example.com',
  note: 'leave at door',
  status: 'OPEN',
  qty: -42,
  big: '-9000000000000',
  delta: '-77',
  u: '18446744073709551615',
  fx: '12345678901234',
  blob: Buffer.from('secret bytes').toString('base64'),
  nums: [1, -2, 300],
  loose: [4, 5],
  label: 'order label',
};

describe('compile', () => {
  it('lists every leaf of every top-level message in schema order, later messages prefixed by their name, a recursive type once', () => {
    const m = compile([rule('customer.email', 'hash'), rule('label', 'keep')]);
    const paths = m.fields.map((f) => f.path);
    expect(paths.slice(0, 8)).toEqual([
      'id',
      'customer.email',
      'customer.name',
      'customer.sf',
      'customer.score',
      'customer.vip',
      'customer.u32',
      'customer.f32',
    ]);
    expect(paths).toEqual(expect.arrayContaining(['tags[*]', 'items[*].card', 'attrs{*}', 'parties{*}.email', 'email', 'phone', 'note', 'status', 'nums[*]']));
    expect(paths).toEqual(expect.arrayContaining(['Outer:inner.label', 'Outer:label', 'Customer:email', 'Customer:sf64']));
    // Order.parent is an Order: not walked again
    expect(paths.filter((p) => p.startsWith('parent'))).toEqual([]);
    expect(new Set(paths).size).toBe(paths.length);
    const row = (p: string) => m.fields.find((f) => f.path === p)!;
    expect(row('customer.email').rule?.pathText).toBe('customer.email');
    expect(row('Outer:label').rule?.action.kind).toBe('keep');
    expect(row('id').rule).toBeNull();
    expect(row('note').type).toMatchObject({ kind: 'string', nullable: true, label: 'optional string' });
    expect(row('email').type).toMatchObject({ kind: 'string', nullable: true });
    expect(row('id').type).toMatchObject({ kind: 'string', nullable: false });
    expect(row('tags[*]').type.nullable).toBe(false);
    expect(row('status').type).toMatchObject({ kind: 'enum', symbols: ['UNKNOWN', 'OPEN', 'CLOSED'] });
    expect(
      Object.fromEntries(
        [
          'qty',
          'big',
          'delta',
          'u',
          'fx',
          'blob',
          'customer.sf',
          'customer.score',
          'customer.vip',
          'customer.u32',
          'customer.f32',
          'customer.s32',
          'customer.sf64',
        ].map((p) => [p, row(p).type.kind]),
      ),
    ).toEqual({
      qty: 'int32',
      big: 'int64',
      delta: 'int64',
      u: 'uint64',
      fx: 'uint64',
      blob: 'bytes',
      'customer.sf': 'int32',
      'customer.score': 'float',
      'customer.vip': 'boolean',
      'customer.u32': 'uint32',
      'customer.f32': 'uint32',
      'customer.s32': 'int32',
      'customer.sf64': 'int64',
    });
  });

  it('refuses a path that matches no field, unless the rule is optional', () => {
    expect(refusals([rule('customer.mail', 'hash')])).toEqual([expect.objectContaining({ problem: 'matches no field' })]);
    expect(refusals([rule('id.x', 'hash')])[0]!.problem).toBe('matches no field');
    expect(refusals([rule('items.card', 'hash')])[0]!.problem).toBe('matches no field');
    expect(compileProtobufBody(messages, [rule('customer.mail', 'hash', true)], KEY).ok).toBe(true);
    // a field of a nested message only (Outer.Inner.other) matches no top-level message
    expect(refusals([rule('other', 'hash')])[0]!.problem).toBe('matches no field');
  });

  it('refuses a path that ends on a message, a repeated field or a map', () => {
    expect(refusals([rule('customer', 'redact')])[0]!.problem).toMatch(/customer is a message \(Customer\)/);
    expect(refusals([rule('items[*]', 'redact')])[0]!.problem).toMatch(/is a message \(Item\)/);
    expect(refusals([rule('parties{*}', 'redact')])[0]!.problem).toMatch(/is a message \(Customer\)/);
    expect(refusals([rule('tags', 'redact')])[0]!.problem).toMatch(/tags is repeated: name its items \(tags\[\*\]\)/);
    expect(refusals([rule('attrs', 'redact')])[0]!.problem).toMatch(/attrs is a map: name its values \(attrs\{\*\}\)/);
  });

  it('refuses an action the leaf type cannot take, with the leaf refusal as reason (null on a plain scalar among them)', () => {
    // the file has several messages: the refusal names the one it came from
    expect(refusals([rule('id', 'null')])[0]!.problem).toBe('in message Order: action null needs a field that may be null, and string may not (use redact)');
    // email is a oneof member in Order (nullable) and a plain field in Customer (not): refused for Customer
    expect(refusals([rule('email', 'null')]).map((e) => e.problem)).toEqual([
      'in message Customer: action null needs a field that may be null, and string may not (use redact)',
    ]);
    expect(refusals([rule('tags[*]', 'null')])[0]!.problem).toMatch(/action null needs a field that may be null/);
    expect(refusals([rule('qty', { kind: 'partial', first: 0, last: 2 })])[0]!.problem).toMatch(/partial keeps characters of a string/);
    // label is in Order and in Outer: the message is named
    expect(refusals([rule('label', 'null')]).map((e) => e.problem)).toEqual([
      'in message Order: action null needs a field that may be null, and string may not (use redact)',
      'in message Outer: action null needs a field that may be null, and string may not (use redact)',
    ]);
    expect(compileProtobufBody(messages, [rule('note', 'null'), rule('phone', 'null')], KEY).ok).toBe(true);
  });
});

describe('proto2', () => {
  const P2 = `
    syntax = "proto2";
    package p2;
    message M {
      optional string a = 1;
      required string b = 2;
      optional group G = 3 { optional string secret = 4; }
      repeated int32 n = 5 [packed = true];
    }`;
  const M = protobuf.parse(P2, { keepCase: true }).root.resolveAll().lookupType('p2.M');

  it('null is allowed on optional (absence is its null) and refused on required', () => {
    expect(compileProtobufBody([M], [rule('a', 'null')], KEY).ok).toBe(true);
    expect(compileProtobufBody([M], [rule('b', 'null')], KEY)).toMatchObject({
      ok: false,
      errors: [{ problem: expect.stringMatching(/^action null needs a field that may be null/) }],
    });
    const m = (compileProtobufBody([M], [rule('a', 'null'), rule('b', 'hash'), rule('n[*]', 'hash')], KEY) as { masker: BodyMasker }).masker;
    const out = m.mask(body(M, { a: 'x', b: 'y', g: { secret: 's' }, n: [1] }));
    expect(read(M, out)).toEqual({ b: hashString(KEY, 'y'), g: { secret: 's' }, n: [Number(hashInt(KEY, 1n, INT_RANGES.int32))] });
  });

  it('copies a group no rule covers and refuses one a rule walks into (fail closed)', () => {
    const copy = (compileProtobufBody([M], [rule('a', 'hash')], KEY) as { masker: BodyMasker }).masker;
    const input = body(M, { b: 'y', g: { secret: 's' } });
    expect(copy.mask(input).equals(input)).toBe(true);
    const into = (compileProtobufBody([M], [rule('g.secret', 'hash')], KEY) as { masker: BodyMasker }).masker;
    expect(() => into.mask(input)).toThrow(new UndecodablePayload('field g has wire type 3, its schema type needs 2'));
  });
});

describe('well-known wrappers', () => {
  const WRAPPED = 'syntax = "proto3"; package w; import "google/protobuf/wrappers.proto"; message M { google.protobuf.StringValue note = 1; string id = 2; }';
  const entry: SchemaEntry = { ...ENTRY, schema: WRAPPED };

  it('resolves google/protobuf imports through the backup decoder (Confluent registers no reference for them)', () => {
    const { messages } = new SchemaDecoder([entry]).protobufMessages(entry);
    const c = compileProtobufBody(messages, [rule('note.value', 'hash'), rule('id', 'hash')], KEY);
    expect(c.ok).toBe(true);
    const m = (c as { masker: BodyMasker }).masker;
    expect(m.fields.map((f) => f.path)).toEqual(['note.value', 'id']);
  });

  it('refuses every rule when the schema does not resolve, naming why', () => {
    const root = new protobuf.Root();
    protobuf.parse(WRAPPED, root, { keepCase: true });
    const unresolved = [root.lookupType('w.M')];
    const c = compileProtobufBody(unresolved, [rule('note.value', 'hash'), rule('id', 'hash')], KEY);
    expect(c.ok).toBe(false);
    expect((c as { errors: BodyRefusal[] }).errors.map((e) => e.problem)).toEqual([
      expect.stringMatching(/^the schema does not resolve: no such Type or Enum 'google\.protobuf\.StringValue'/),
      expect.stringMatching(/^the schema does not resolve/),
    ]);
    // without rules there is nothing to refuse: the masker lists nothing (protobufjs resolves no field of the message) and copies
    const bare = compileProtobufBody(unresolved, [], KEY);
    expect(bare.ok && bare.masker.fields).toEqual([]);
    const b = Buffer.from([0, 0x12, 0x01, 0x69]);
    expect(bare.ok && bare.masker.mask(b).equals(b)).toBe(true);
  });

  it('treats a wrapper as the message it is: its leaf is value', () => {
    const root = new protobuf.Root();
    root.addJSON(protobuf.common.get('google/protobuf/wrappers.proto')!.nested!);
    protobuf.parse(WRAPPED, root, { keepCase: true });
    const M = root.lookupType('w.M');
    const c = compileProtobufBody([M], [rule('note.value', 'hash')], KEY);
    expect(c.ok).toBe(true);
    const m = (c as { masker: BodyMasker }).masker;
    expect(m.fields.map((f) => [f.path, f.type.label])).toEqual([
      ['note.value', 'string'],
      ['id', 'string'],
    ]);
    const out = m.mask(body(M, { note: { value: 'private note' }, id: 'i' }));
    expect(read(M, out)).toEqual({ note: { value: hashString(KEY, 'private note') }, id: 'i' });
    expect(compileProtobufBody([M], [rule('note', 'null')], KEY)).toMatchObject({
      ok: false,
      errors: [{ problem: expect.stringMatching(/note is a message \(StringValue\)/) }],
    });
  });
});

describe('mask', () => {
  const RULES = [
    rule('customer.email', 'hash'),
    rule('items[*].card', { kind: 'partial', first: 0, last: 4 }),
    rule('tags[*]', 'hash'),
    rule('attrs{*}', 'redact'),
    rule('parties{*}.email', 'hash'),
    rule('email', 'hash'),
    rule('note', 'null'),
    rule('status', 'hash'),
    rule('qty', 'fpe'),
    rule('big', 'hash'),
    rule('delta', 'fpe'),
    rule('u', 'hash'),
    rule('fx', 'fpe'),
    rule('blob', 'hash'),
  ];

  it('masks every covered leaf as the primitives say and leaves the rest equal', () => {
    const m = compile(RULES);
    const input = body(Order, ORDER);
    const out = m.mask(input);
    const got = read(Order, out);
    expect(got).toEqual({
      ...ORDER,
      customer: { ...ORDER.customer, email: hashString(KEY, 'alice@example.com') },
      items: [
        { card: partial('4111111111111111', { keepLast: 4 }), sku: 'A' },
        { card: partial('5500000000000004', { keepLast: 4 }), sku: 'B' },
      ],
      tags: ORDER.tags.map((t) => hashString(KEY, t)),
      attrs: { k1: '', k2: '' },
      parties: { buyer: { email: hashString(KEY, 'bob@example.com'), name: 'Bob' } },
      email: hashString(KEY, 'carol@example.com'),
      note: undefined,
      status: got.status, // checked below
      qty: Number(fpeInt(KEY, -42n, INT_RANGES.int32)),
      big: String(hashInt(KEY, -9000000000000n, INT_RANGES.int64)),
      delta: String(fpeInt(KEY, -77n, INT_RANGES.int64)),
      u: String(hashInt(KEY, 18446744073709551615n, INT_RANGES.uint64)),
      fx: String(fpeInt(KEY, 12345678901234n, INT_RANGES.uint64)),
      blob: hashBytes(KEY, Buffer.from('secret bytes')).toString('base64'),
    });
    expect('note' in got).toBe(false);
    expect(['UNKNOWN', 'CLOSED']).toContain(got.status);
    expect(m.mask(input).equals(out)).toBe(true);
    // none of the masked source values is left in the bytes
    for (const secret of ['alice@example.com', 'bob@example.com', 'carol@example.com', 'leave at door', '4111111111111111', 'v1', 'secret bytes']) {
      expect(out.includes(Buffer.from(secret))).toBe(false);
    }
  });

  it('gives back the input byte for byte when no covered field is present', () => {
    const m = compile(RULES);
    const input = body(Order, { id: 'o-2', customer: { name: 'Only a name' }, label: 'x', parent: { id: 'p' } });
    expect(m.mask(input).equals(input)).toBe(true);
  });

  it('keeps unknown fields, their bytes and their place, masking around them', () => {
    const m = compile([rule('customer.email', 'hash'), rule('id', 'redact')]);
    const unknownString = Buffer.from(
      protobuf.Writer.create()
        .uint32((99 << 3) | 2)
        .string('unknown secret')
        .finish(),
    );
    const unknownVarint = Buffer.from(
      protobuf.Writer.create()
        .uint32((98 << 3) | 0)
        .int64(-1)
        .finish(),
    );
    const unknownInCustomer = Buffer.from(
      protobuf.Writer.create()
        .uint32((77 << 3) | 5)
        .fixed32(12345)
        .finish(),
    );
    const group = Buffer.from(
      protobuf.Writer.create()
        .uint32((50 << 3) | 3)
        .uint32((1 << 3) | 0)
        .uint32(5)
        .uint32((50 << 3) | 4)
        .finish(),
    );
    const customerOf = (email: string) =>
      Buffer.concat([wire(Customer, { name: 'N' }), unknownInCustomer, wire(Customer, { email }), wire(Customer, { vip: true })]);
    const asField = (num: number, inner: Buffer) =>
      Buffer.concat([
        Buffer.from(
          protobuf.Writer.create()
            .uint32((num << 3) | 2)
            .uint32(inner.length)
            .finish(),
        ),
        inner,
      ]);
    const input = Buffer.concat([
      IDX0,
      unknownString,
      wire(Order, { id: 'o-3' }),
      unknownVarint,
      asField(2, customerOf('dave@example.com')),
      group,
      wire(Order, { label: 'L' }),
    ]);
    const expected = Buffer.concat([
      IDX0,
      unknownString,
      wire(Order, { id: '' }),
      unknownVarint,
      asField(2, customerOf(hashString(KEY, 'dave@example.com'))),
      group,
      wire(Order, { label: 'L' }),
    ]);
    expect(m.mask(input).equals(expected)).toBe(true);
  });

  it('picks the message type by the message indexes: [0], [1], [1,0]', () => {
    const m = compile([rule('label', 'hash')]);
    const order = body(Order, { id: 'o', label: 'order label' });
    const outer = body(Outer, { inner: { label: 'inner in outer', other: 'x' }, label: 'outer label' }, IDX1);
    const inner = body(Inner, { label: 'inner label', other: 'kept' }, IDX10);
    expect(read(Order, m.mask(order))).toEqual({ id: 'o', label: hashString(KEY, 'order label') });
    // Outer.label is masked; inner.label is a deeper path, not covered
    expect(read(Outer, m.mask(outer), IDX1)).toEqual({ inner: { label: 'inner in outer', other: 'x' }, label: hashString(KEY, 'outer label') });
    expect(read(Inner, m.mask(inner), IDX10)).toEqual({ label: hashString(KEY, 'inner label'), other: 'kept' });
    // the two-byte form of [0] (count 1, index 0) selects Order too, and is kept as written
    const long0 = Buffer.concat([Buffer.from([2, 0]), order.subarray(1)]);
    expect(
      m
        .mask(long0)
        .subarray(0, 2)
        .equals(Buffer.from([2, 0])),
    ).toBe(true);
    expect(read(Order, m.mask(long0), Buffer.from([2, 0]))).toEqual({ id: 'o', label: hashString(KEY, 'order label') });
    expect(() => m.mask(Buffer.concat([Buffer.from([2, 6]), order.subarray(1)]))).toThrow(new UndecodablePayload('no message at index path 3'));
    expect(() => m.mask(Buffer.concat([Buffer.from([4, 0, 2]), order.subarray(1)]))).toThrow(new UndecodablePayload('no message at index path 0.1'));
    expect(() => m.mask(Buffer.from([1]))).toThrow(UndecodablePayload); // count -1
  });

  it('refuses, when first met, a nested type used as a record whose leaf refuses the action', () => {
    // label is nullable nowhere; Inner (only reachable by [1,0]) has `other` too, but rules are checked against top-level messages
    const c = compileProtobufBody(messages, [rule('other', { kind: 'partial', first: 1, last: 0 }, true)], KEY);
    expect(c.ok).toBe(true);
    const m = (c as { masker: BodyMasker }).masker;
    const inner = body(Inner, { label: 'l', other: 'secret' }, IDX10);
    expect(read(Inner, m.mask(inner), IDX10)).toEqual({ label: 'l', other: 's*****' });
    const refused = compileProtobufBody(messages, [rule('other', 'null', true)], KEY);
    expect(refused.ok).toBe(true);
    expect(() => (refused as { masker: BodyMasker }).masker.mask(inner)).toThrow(
      /message shop\.Outer\.Inner: rule other: action null needs a field that may be null/,
    );
  });

  it('masks packed and unpacked repeated integers, keeping each form', () => {
    const m = compile([rule('nums[*]', 'hash'), rule('loose[*]', 'hash')]);
    const input = body(Order, { nums: [1, -2, 300], loose: [4, 5, 6] });
    const out = m.mask(input);
    const h = (n: bigint) => Number(hashInt(KEY, n, INT_RANGES.int32));
    expect(read(Order, out)).toEqual({ nums: [h(1n), h(-2n), h(300n)], loose: [h(4n), h(5n), h(6n)] });
    const tags = (b: Buffer) => {
      const r = protobuf.Reader.create(b.subarray(1));
      const seen: number[] = [];
      while (r.pos < r.len) {
        const t = r.uint32();
        seen.push(t);
        r.skipType(t & 7);
      }
      return seen;
    };
    expect(tags(input)).toEqual([(17 << 3) | 2, (18 << 3) | 0, (18 << 3) | 0, (18 << 3) | 0]);
    expect(tags(out)).toEqual(tags(input));
    // a packed run where the schema says unpacked, and single items where it says packed: both read, each kept in its form
    const swapped = Buffer.concat([
      IDX0,
      Buffer.from(
        protobuf.Writer.create()
          .uint32((18 << 3) | 2)
          .fork()
          .int32(4)
          .int32(5)
          .ldelim()
          .uint32((17 << 3) | 0)
          .int32(1)
          .finish(),
      ),
    ]);
    const swappedOut = m.mask(swapped);
    expect(read(Order, swappedOut)).toEqual({ loose: [h(4n), h(5n)], nums: [h(1n)] });
    expect(tags(swappedOut)).toEqual([(18 << 3) | 2, (17 << 3) | 0]);
  });

  it('masks the leaves of Customer (selected by index [2]): fixed, zigzag and unsigned 32-bit integers, double and bool', () => {
    const m = compile([
      rule('sf', 'hash'),
      rule('u32', 'fpe'),
      rule('f32', 'hash'),
      rule('s32', 'fpe'),
      rule('sf64', 'hash'),
      rule('score', 'redact'),
      rule('vip', 'redact'),
    ]);
    const c = { email: 'e', sf: -5, score: 2.5, vip: true, u32: 4000000000, f32: 7, s32: -9, sf64: '-123456789012' };
    const got = read(Customer, m.mask(body(Customer, c, Buffer.from([2, 4]))), Buffer.from([2, 4]));
    expect(got).toEqual({
      email: 'e',
      sf: Number(hashInt(KEY, -5n, INT_RANGES.int32)),
      u32: Number(fpeInt(KEY, 4000000000n, INT_RANGES.uint32)),
      f32: Number(hashInt(KEY, 7n, INT_RANGES.uint32)),
      s32: Number(fpeInt(KEY, -9n, INT_RANGES.int32)),
      sf64: String(hashInt(KEY, -123456789012n, INT_RANGES.int64)),
      score: 0,
      vip: false,
    });
  });

  it('null removes a proto3 optional field and a oneof member, and nothing else', () => {
    const m = compile([rule('note', 'null'), rule('phone', 'null')]);
    const input = body(Order, { id: 'o', note: 'n', phone: '+1 555', label: 'l' });
    expect(m.mask(input).equals(body(Order, { id: 'o', label: 'l' }))).toBe(true);
    const other = body(Order, { id: 'o', email: 'e@x', note: '' });
    expect(read(Order, m.mask(other))).toEqual({ id: 'o', email: 'e@x' });
  });

  it('walks a recursive type along the path only', () => {
    const m = compile([rule('parent.parent.id', 'redact')]);
    const input = body(Order, { id: 'a', parent: { id: 'b', parent: { id: 'c', parent: { id: 'd' } } } });
    expect(read(Order, m.mask(input))).toEqual({ id: 'a', parent: { id: 'b', parent: { id: '', parent: { id: 'd' } } } });
  });

  it('throws UndecodablePayload on truncated and corrupt bodies', () => {
    const m = compile([rule('customer.email', 'hash'), rule('nums[*]', 'hash')]);
    const good = body(Order, { id: 'o', customer: { email: 'alice@example.com' }, nums: [1, 2] });
    const bad = (b: number[] | Buffer) => () => m.mask(Buffer.concat([IDX0, Buffer.from(b)]));
    expect(bad([0x0a, 0x05, 0x61])).toThrow(new UndecodablePayload('truncated: 5 bytes announced, 1 left')); // id: length beyond the end
    expect(bad([0x8a])).toThrow(new UndecodablePayload('truncated varint')); // a tag cut short
    expect(bad([0x0f])).toThrow(new UndecodablePayload('invalid wire type 7 (field 1)'));
    expect(bad([0x0c])).toThrow(new UndecodablePayload('end of group 1 without its start'));
    expect(bad([0x10, 0x01])).toThrow(UndecodablePayload); // customer (2) as a varint
    expect(bad([0x13, 0x14])).toThrow(new UndecodablePayload('field customer has wire type 3, its schema type needs 2')); // customer as a group
    expect(bad([0x12, 0x02, 0x08, 0x01])).toThrow(new UndecodablePayload('field email has wire type 0, its schema type needs 2'));
    expect(bad([0x8a, 0x01, 0x03, 0x80, 0x80, 0x80])).toThrow(UndecodablePayload); // nums: a packed run ending mid-varint
    expect(bad([0x00])).toThrow(new UndecodablePayload('field number 0'));
    expect(bad(Buffer.alloc(11, 0xff))).toThrow(UndecodablePayload);
    expect(() => m.mask(Buffer.alloc(0))).toThrow(new UndecodablePayload('truncated varint'));
    // every cut of a good body either fails as UndecodablePayload or is a shorter valid message protobufjs reads
    for (let cut = 0; cut < good.length; cut++) {
      const part = good.subarray(0, cut);
      let out: Buffer | undefined;
      try {
        out = m.mask(part);
      } catch (err) {
        expect(err).toBeInstanceOf(UndecodablePayload);
        continue;
      }
      expect(() => Order.decode(out.subarray(1))).not.toThrow();
    }
  });

  it('refuses nesting deeper than 100 levels on a covered path and in skipped groups', () => {
    const deep = rule(`${'parent.'.repeat(101)}id`, 'redact');
    const m = compile([deep]);
    // written by hand: protobufjs's own encoder refuses this depth
    let nested = wire(Order, { id: 'bottom' });
    for (let i = 0; i < 101; i++)
      nested = Buffer.concat([
        Buffer.from(
          protobuf.Writer.create()
            .uint32((19 << 3) | 2)
            .uint32(nested.length)
            .finish(),
        ),
        nested,
      ]);
    expect(() => m.mask(Buffer.concat([IDX0, nested]))).toThrow(new UndecodablePayload('nested deeper than 100 levels'));
    // 100 levels (the root and 99 parents) are fine
    let ok = wire(Order, { id: 'bottom' });
    for (let i = 0; i < 99; i++)
      ok = Buffer.concat([
        Buffer.from(
          protobuf.Writer.create()
            .uint32((19 << 3) | 2)
            .uint32(ok.length)
            .finish(),
        ),
        ok,
      ]);
    const m99 = compile([rule(`${'parent.'.repeat(99)}id`, 'redact')]);
    expect(m99.values(m99.mask(Buffer.concat([IDX0, ok])), parseFieldPath(`${'parent.'.repeat(99)}id`))).toEqual(['']);
    const w = protobuf.Writer.create();
    for (let i = 0; i < 102; i++) w.uint32((60 << 3) | 3);
    for (let i = 0; i < 102; i++) w.uint32((60 << 3) | 4);
    expect(() => m.mask(Buffer.concat([IDX0, Buffer.from(w.finish())]))).toThrow(new UndecodablePayload('groups nested too deep'));
    const many = Buffer.concat([Buffer.from([0xca, 0x01]), Buffer.alloc(0)]); // count 101
    expect(() => m.mask(many)).toThrow(new UndecodablePayload('message index count 101 is outside 0..100'));
  });

  it('turns a leaf mask that throws into UndecodablePayload naming the path', () => {
    const m = compile([rule('customer.email', 'fpe')]);
    expect(() => m.mask(body(Order, { customer: { email: '@.-' } }))).toThrow(/^customer\.email: fpe needs letters or digits/);
    expect(() => m.mask(body(Order, { customer: { email: '@.-' } }))).toThrow(UndecodablePayload);
  });
});

describe('values', () => {
  it('reads the values at a path as leaf.ts represents them; absent gives none', () => {
    const m = compile([]);
    const b = body(Order, ORDER);
    expect(m.values(b, parseFieldPath('customer.email'))).toEqual(['alice@example.com']);
    expect(m.values(b, parseFieldPath('items[*].card'))).toEqual(['4111111111111111', '5500000000000004']);
    expect(m.values(b, parseFieldPath('attrs{*}'))).toEqual(['v1', 'v2']);
    expect(m.values(b, parseFieldPath('parties{*}.name'))).toEqual(['Bob']);
    expect(m.values(b, parseFieldPath('status'))).toEqual(['OPEN']);
    expect(m.values(b, parseFieldPath('qty'))).toEqual([-42n]);
    expect(m.values(b, parseFieldPath('u'))).toEqual([18446744073709551615n]);
    expect(m.values(b, parseFieldPath('delta'))).toEqual([-77n]);
    expect(m.values(b, parseFieldPath('nums[*]'))).toEqual([1n, -2n, 300n]);
    expect(m.values(b, parseFieldPath('customer.score'))).toEqual([2.5]);
    expect(m.values(b, parseFieldPath('customer.vip'))).toEqual([true]);
    expect(m.values(b, parseFieldPath('customer.sf64'))).toEqual([-123456789012n]);
    expect(m.values(b, parseFieldPath('blob'))).toEqual([Buffer.from('secret bytes')]);
    expect(m.values(b, parseFieldPath('phone'))).toEqual([]);
    expect(m.values(b, parseFieldPath('customer'))).toEqual([]);
    expect(m.values(b, parseFieldPath('nope'))).toEqual([]);
    // a non-repeated field written twice: the last one, as a decoder keeps
    const twice = Buffer.concat([b, wire(Order, { id: 'o-last' })]);
    expect(m.values(twice, parseFieldPath('id'))).toEqual(['o-last']);
    expect(() => m.values(Buffer.from([0, 0x0a, 0x05]), parseFieldPath('id'))).toThrow(UndecodablePayload);
  });
});

describe('property: random orders', () => {
  const str = fc.string({ maxLength: 24 });
  const order = fc.record(
    {
      id: str,
      customer: fc.record({ email: str, name: str }, { requiredKeys: [] }),
      tags: fc.array(str, { maxLength: 4 }),
      items: fc.array(fc.record({ card: str, sku: str }, { requiredKeys: [] }), { maxLength: 3 }),
      attrs: fc.dictionary(fc.string({ maxLength: 6 }), str, { maxKeys: 3 }),
      note: str,
      qty: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      big: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
      nums: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 4 }),
      blob: fc.uint8Array({ maxLength: 8 }).map((u) => Buffer.from(u).toString('base64')),
    },
    { requiredKeys: [] },
  );
  const masker = compile([
    rule('customer.email', 'hash'),
    rule('tags[*]', 'redact'),
    rule('items[*].card', 'hash'),
    rule('big', 'fpe'),
    rule('nums[*]', 'hash'),
  ]);
  const identity = compile([]);

  /** A field Order does not know (numbers 100 to 2000), of each wire type. */
  const unknownField = fc.oneof(
    fc.tuple(fc.integer({ min: 100, max: 2000 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([n, v]) => {
      const w = protobuf.Writer.create().uint32(n << 3);
      return Buffer.from(w.uint64(v.toString()).finish());
    }),
    fc.tuple(fc.integer({ min: 100, max: 2000 }), fc.uint8Array({ maxLength: 12 })).map(([n, b]) =>
      Buffer.from(
        protobuf.Writer.create()
          .uint32((n << 3) | 2)
          .bytes(b)
          .finish(),
      ),
    ),
    fc.tuple(fc.integer({ min: 100, max: 2000 }), fc.integer()).map(([n, v]) =>
      Buffer.from(
        protobuf.Writer.create()
          .uint32((n << 3) | 5)
          .sfixed32(v)
          .finish(),
      ),
    ),
    fc.tuple(fc.integer({ min: 100, max: 2000 }), fc.double()).map(([n, v]) =>
      Buffer.from(
        protobuf.Writer.create()
          .uint32((n << 3) | 1)
          .double(v)
          .finish(),
      ),
    ),
  );

  it('keeps unknown fields anywhere in place: the masked whole is the masked parts end to end', () => {
    fc.assert(
      fc.property(order, fc.array(unknownField, { maxLength: 4 }), fc.infiniteStream(fc.nat()), (o, unknowns, picks) => {
        // each known field on its own (any order is valid Protobuf), unknown ones between them
        const parts = Object.entries(o).map(([k, v]) => wire(Order, { [k]: v }));
        for (const u of unknowns) parts.splice(picks.next().value % (parts.length + 1), 0, u);
        const input = Buffer.concat([IDX0, ...parts]);
        const expected = Buffer.concat([IDX0, ...parts.map((p) => masker.mask(Buffer.concat([IDX0, p])).subarray(1))]);
        expect(masker.mask(input).equals(expected)).toBe(true);
        for (const u of unknowns)
          expect(
            masker
              .mask(Buffer.concat([IDX0, u]))
              .subarray(1)
              .equals(u),
          ).toBe(true);
        expect(identity.mask(input).equals(input)).toBe(true);
      }),
      { seed: 20, numRuns: 200 },
    );
  });

  it('decodes after masking, the untouched fields equal, the masked ones as the primitives say; no rules gives the input back', () => {
    fc.assert(
      fc.property(order, (o) => {
        const input = body(Order, o);
        expect(identity.mask(input).equals(input)).toBe(true);
        const before = read(Order, input);
        const after = read(Order, masker.mask(input));
        const c = before.customer as { email?: string } | undefined;
        const expected: Record<string, unknown> = { ...before };
        if (c) expected.customer = c.email === undefined ? c : { ...c, email: hashString(KEY, c.email) };
        if (before.tags) expected.tags = (before.tags as string[]).map(() => '');
        if (before.items) {
          expected.items = (before.items as Array<{ card?: string }>).map((it) => (it.card === undefined ? it : { ...it, card: hashString(KEY, it.card) }));
        }
        if (before.big !== undefined) expected.big = String(fpeInt(KEY, BigInt(before.big as string), INT_RANGES.int64));
        if (before.nums) expected.nums = (before.nums as number[]).map((n) => Number(hashInt(KEY, BigInt(n), INT_RANGES.int32)));
        expect(after).toEqual(expected);
      }),
      { seed: 19, numRuns: 200 },
    );
  });
});
