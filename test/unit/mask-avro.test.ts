/**
 * The Avro body masker of issue 19 (src/mask/avro-body.ts), checked against avsc as the
 * independent decoder: masked bodies decode with the same schema, every field no rule covers
 * decodes to the same value (and keeps its bytes: map order too, checked on raw bytes built
 * by hand), masked fields change deterministically, bad policies are refused at compile time
 * and bad bodies throw UndecodablePayload.
 */
import avro from 'avsc';
import fc from 'fast-check';
import { EXACT_AVRO_LONG, SchemaDecoder } from '../../src/backup/decode';
import type { SchemaEntry } from '../../src/backup/manifest';
import { compileAvroBody } from '../../src/mask/avro-body';
import { UndecodablePayload, type BodyMasker } from '../../src/mask/body';
import { hashString } from '../../src/mask/hash';
import { formatFieldPath, parseFieldPath } from '../../src/mask/path';
import type { FieldAction, FieldRule } from '../../src/mask/policy';

const KEY = Buffer.alloc(32, 7);

/** As SchemaDecoder.avroType builds types: exact longs, logical types unknown to avsc (underlying types). */
function avroType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: EXACT_AVRO_LONG } });
}

/** A logical type avsc keeps by name but whose values are the underlying type's: the masker then sees `uuid`, `timestamp-millis`. */
class NamedLogical extends avro.types.LogicalType {
  protected override _fromValue(v: unknown): unknown {
    return v;
  }
  protected override _toValue(v: unknown): unknown {
    return v;
  }
  protected override _resolve(): unknown {
    return undefined;
  }
}
function avroTypeWithLogical(schema: unknown): avro.Type {
  const logicalTypes = new Proxy({}, { get: () => NamedLogical }) as Record<string, typeof NamedLogical>;
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: EXACT_AVRO_LONG }, logicalTypes });
}

function rule(path: string, action: FieldAction, optional = false): FieldRule {
  const p = parseFieldPath(path);
  return { path: p, pathText: formatFieldPath(p), action, optional, at: `test:${path}` };
}

function compile(type: avro.Type, rules: FieldRule[]): BodyMasker {
  const c = compileAvroBody(type, rules, KEY);
  if (!c.ok) throw new Error(c.errors.map((e) => `${e.rule.pathText}: ${e.problem}`).join('; '));
  return c.masker;
}

function refusals(type: avro.Type, rules: FieldRule[]): string[] {
  const c = compileAvroBody(type, rules, KEY);
  return c.ok ? [] : c.errors.map((e) => `${e.rule.pathText}: ${e.problem}`);
}

// -- a hand encoder (Avro 1.11 "Binary encoding"), independent of avsc and of the masker

function zz(n: number): Buffer {
  const out: number[] = [];
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
  return Buffer.from(out);
}
const str = (s: string): Buffer => Buffer.concat([zz(Buffer.byteLength(s)), Buffer.from(s)]);

const CUSTOMER = {
  type: 'record',
  name: 'Customer',
  fields: [
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'phone', type: ['null', 'string'] },
    { name: 'age', type: 'int' },
  ],
};

const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'com.acme',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'createdAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'customer', type: CUSTOMER },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Item',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'card', type: 'string' },
            { name: 'qty', type: 'long' },
          ],
        },
      },
    },
    { name: 'attributes', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'] },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    { name: 'digest', type: { type: 'fixed', name: 'Md5', size: 16 } },
    { name: 'billing', type: ['null', 'Customer'] },
    { name: 'score', type: 'double' },
    { name: 'ratio', type: 'float' },
    { name: 'flag', type: 'boolean' },
    { name: 'multi', type: ['null', 'string', 'int'] },
  ],
};

type Rec = Record<string, unknown>;

function order(over: Rec = {}): Rec {
  return {
    id: '3f2b8c1e-6a4d-4e7a-9b1c-2d3e4f5a6b7c',
    createdAt: 1_700_000_000_123, // avsc reads a long with a logical type through its own (double) long type
    amount: Buffer.from([0x01, 0x02, 0x03]),
    customer: { email: 'alice@example.com', name: 'Alice Liddell', phone: '+44 20 7946 0958', age: 34 },
    items: [
      { sku: 'SKU-1', card: '4111111111111111', qty: 2n },
      { sku: 'SKU-2', card: '5500005555555559', qty: -9_007_199_254_740_993n },
    ],
    attributes: { '10': 'ten', '2': 'two', b: 'bee' },
    note: 'leave at the door',
    status: 'PAID',
    digest: Buffer.alloc(16, 0xab),
    billing: { email: 'bob@example.com', name: 'Bob', phone: null, age: 51 },
    score: 0.1,
    ratio: 1.5,
    flag: true,
    multi: 42,
    ...over,
  };
}

const type = avroType(ORDER);
const encode = (r: Rec): Buffer => type.toBuffer(r);
const decode = (b: Buffer): Rec => type.fromBuffer(b) as Rec;

/** `r` without the fields at the given dotted paths (array items and maps by `*`). */
function without(r: Rec, paths: string[]): Rec {
  const copy = structuredClone(r);
  for (const p of paths) {
    const drop = (v: unknown, parts: string[]): void => {
      if (v === null || typeof v !== 'object') return;
      const [head, ...rest] = parts;
      const keys = head === '*' ? Object.keys(v) : [head!];
      for (const k of keys) {
        if (rest.length === 0) delete (v as Rec)[k];
        else drop((v as Rec)[k], rest);
      }
    };
    drop(copy, p.split('.'));
  }
  return copy;
}

describe('compileAvroBody: the plan rows', () => {
  it('lists every leaf in schema order with its type and covering rule (logical types by name when avsc keeps them)', () => {
    const email = rule('customer.email', { kind: 'fake', fake: 'email' });
    const card = rule('items[*].card', { kind: 'partial', first: 0, last: 4 });
    const m = compile(avroTypeWithLogical(ORDER), [email, card]);
    expect(m.fields.map((f) => f.path)).toEqual([
      'id',
      'createdAt',
      'amount',
      'customer.email',
      'customer.name',
      'customer.phone',
      'customer.age',
      'items[*].sku',
      'items[*].card',
      'items[*].qty',
      'attributes{*}',
      'note',
      'status',
      'digest',
      'billing.email',
      'billing.name',
      'billing.phone',
      'billing.age',
      'score',
      'ratio',
      'flag',
      'multi',
      'multi',
    ]);
    const by = (p: string) => m.fields.find((f) => f.path === p)!;
    expect(by('id').type).toEqual({ kind: 'uuid', nullable: false, label: 'uuid' });
    expect(by('createdAt').type).toEqual({ kind: 'int64', nullable: false, label: 'timestamp-millis' });
    expect(by('amount').type).toEqual({ kind: 'bytes', nullable: false, label: 'decimal' });
    expect(by('customer.phone').type).toEqual({ kind: 'string', nullable: true, label: '["null","string"]' });
    expect(by('customer.age').type.kind).toBe('int32');
    expect(by('status').type).toEqual({ kind: 'enum', symbols: ['NEW', 'PAID', 'SHIPPED'], nullable: false, label: 'Status' });
    expect(by('digest').type).toEqual({ kind: 'fixed', size: 16, nullable: false, label: 'Md5' });
    expect(by('score').type.kind).toBe('float');
    expect(by('customer.email').rule).toBe(email);
    expect(by('items[*].card').rule).toBe(card);
    expect(by('billing.email').rule).toBeNull();
    expect(m.fields.filter((f) => f.path === 'multi').map((f) => f.type.kind)).toEqual(['string', 'int32']);
  });

  it('without avsc knowing the logical types (as SchemaDecoder builds them), a uuid is a string', () => {
    const m = compile(type, []);
    expect(m.fields.find((f) => f.path === 'id')!.type).toEqual({ kind: 'string', nullable: false, label: 'string' });
    expect(m.fields.find((f) => f.path === 'createdAt')!.type).toEqual({ kind: 'int64', nullable: false, label: 'long' });
  });

  it('lists a recursive type once', () => {
    const list = avroType({
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'value', type: 'string' },
        { name: 'next', type: ['null', 'Node'] },
      ],
    });
    expect(compile(list, []).fields.map((f) => f.path)).toEqual(['value']);
  });
});

describe('compileAvroBody: refusals', () => {
  it('refuses null on a field that may not be null, and accepts it on a nullable one', () => {
    expect(refusals(type, [rule('customer.email', { kind: 'null' })])).toEqual([
      'customer.email: action null needs a field that may be null, and string may not (use redact)',
    ]);
    expect(refusals(type, [rule('customer.phone', { kind: 'null' }), rule('billing.phone', { kind: 'null' })])).toEqual([]);
  });

  it('refuses a path that matches no field unless optional', () => {
    expect(refusals(type, [rule('customer.nope', { kind: 'hash' })])).toEqual(['customer.nope: matches no field']);
    expect(refusals(type, [rule('customer.email.deeper', { kind: 'hash' })])).toEqual(['customer.email.deeper: matches no field']);
    expect(refusals(type, [rule('items{*}', { kind: 'hash' })])).toEqual(['items{*}: matches no field']);
    expect(refusals(type, [rule('customer.nope', { kind: 'hash' }, true)])).toEqual([]);
  });

  it('refuses a path ending on a record, an array, a map, a nullable record or a union of several types', () => {
    expect(refusals(type, [rule('customer', { kind: 'hash' })])).toEqual(['customer: ends on record Customer: name a field inside it']);
    expect(refusals(type, [rule('items', { kind: 'redact' })])).toEqual(['items: ends on array: name a field inside it']);
    expect(refusals(type, [rule('attributes', { kind: 'redact' })])).toEqual(['attributes: ends on map: name a field inside it']);
    expect(refusals(type, [rule('billing', { kind: 'redact' })])).toEqual(['billing: ends on record Customer: name a field inside it']);
    expect(refusals(type, [rule('multi', { kind: 'redact' })])).toEqual([
      'multi: ends on a union of null, string, int: name one field, or give each type its own rule',
    ]);
  });

  it("refuses an action the leaf's type cannot take", () => {
    expect(refusals(type, [rule('score', { kind: 'fpe' })])).toEqual(['score: fpe encrypts strings and integers, and double is neither (use hash or redact)']);
    expect(refusals(type, [rule('customer.age', { kind: 'partial', first: 0, last: 2 })])).toHaveLength(1);
  });

  it('binds nothing for keep, and still checks its path', () => {
    const m = compile(type, [rule('customer.email', { kind: 'keep' })]);
    const body = encode(order());
    expect(m.mask(body)).toBe(body);
    expect(refusals(type, [rule('customer.nope', { kind: 'keep' })])).toEqual(['customer.nope: matches no field']);
  });
});

describe('compileAvroBody: bounded on hostile schemas', () => {
  it('compiles a long path through a recursive union of two records without walking every branch combination', () => {
    // U = [null, A, B], A and B each { x: U, v: string }: a path x.x.…v of 40 steps reaches 2^40 positions if walked naively.
    const b = {
      type: 'record',
      name: 'B',
      fields: [
        { name: 'x', type: ['null', 'A', 'B'] },
        { name: 'v', type: 'string' },
      ],
    };
    const u = avroType([
      'null',
      {
        type: 'record',
        name: 'A',
        fields: [
          { name: 'x', type: ['null', 'A', b] },
          { name: 'v', type: 'string' },
        ],
      },
      'B',
    ]);
    const m = compile(u, [rule(`${'x.'.repeat(40)}v`, { kind: 'redact' }), rule('x.v', { kind: 'hash' })]);
    // A { x: B { x: null, v: "inner" }, v: "outer" }
    const body = Buffer.concat([zz(1), zz(2), zz(0), str('inner'), str('outer')]);
    expect(u.fromBuffer(body)).toEqual({ A: { x: { B: { x: null, v: 'inner' } }, v: 'outer' } });
    expect(u.fromBuffer(m.mask(body))).toEqual({ A: { x: { B: { x: null, v: hashString(KEY, 'inner') } }, v: 'outer' } });
    expect(m.fields.map((f) => f.path)).toEqual(['x.v', 'v', 'x.v', 'v']);
  });

  it('refuses to list more than 100 000 leaf positions (shared named types multiply them)', () => {
    let t: unknown = { type: 'record', name: 'T0', fields: [{ name: 's', type: 'string' }] };
    for (let i = 1; i <= 18; i++)
      t = {
        type: 'record',
        name: `T${i}`,
        fields: [
          { name: 'a', type: t },
          { name: 'b', type: `T${i - 1}` },
        ],
      };
    const m = compile(avroType(t), []);
    expect(() => m.fields).toThrow(/more than 100000 leaf fields/);
  });
});

describe('AvroBodyMasker.mask', () => {
  const MASKED = [
    'customer.email',
    'items.*.card',
    'attributes.*',
    'note',
    'status',
    'digest',
    'billing.email',
    'createdAt',
    'items.*.qty',
    'customer.phone',
    'id',
  ];
  const rules = () => [
    rule('customer.email', { kind: 'fake', fake: 'email' }),
    rule('items[*].card', { kind: 'partial', first: 0, last: 4 }),
    rule('attributes{*}', { kind: 'hash' }),
    rule('note', { kind: 'null' }),
    rule('status', { kind: 'hash' }),
    rule('digest', { kind: 'hash' }),
    rule('billing.email', { kind: 'hash' }),
    // avsc reads a long with a logical type as a double: a masked value past 2^53 would not decode in the oracle.
    rule('createdAt', { kind: 'redact' }),
    rule('items[*].qty', { kind: 'fpe' }),
    rule('customer.phone', { kind: 'redact' }),
    rule('id', { kind: 'fake', fake: 'uuid' }),
  ];

  it('masks the covered fields (nested, arrays, maps, nullable unions, enum, fixed, logical types) and keeps the rest equal', () => {
    const src = order();
    const out = decode(compile(type, rules()).mask(encode(src)));
    expect(without(out, MASKED)).toEqual(without(src, MASKED));
    const c = out.customer as Rec;
    expect(c.email).not.toBe('alice@example.com');
    expect(c.email).toMatch(/@/);
    expect(c.phone).toBe('');
    expect((out.items as Rec[]).map((i) => i.card)).toEqual(['************1111', '************5559']);
    expect(Object.keys(out.attributes as Rec).sort()).toEqual(['10', '2', 'b']);
    for (const [k, v] of Object.entries(out.attributes as Rec)) expect(v).toBe(hashString(KEY, (src.attributes as Rec)[k] as string));
    expect(out.note).toBeNull();
    expect(out.status).not.toBe('PAID');
    expect(out.digest).not.toEqual(src.digest);
    expect((out.digest as Buffer).length).toBe(16);
    expect((out.billing as Rec).email).not.toBe('bob@example.com');
    expect(out.createdAt).toBe(0);
    const qty = (out.items as Rec[]).map((i) => i.qty);
    expect(qty.every((q) => typeof q === 'bigint')).toBe(true);
    expect(qty).not.toContain(2n);
    expect(qty).not.toContain(-9_007_199_254_740_993n);
    expect(out.id).not.toBe(src.id);
    expect(out.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(out.amount).toEqual(src.amount); // decimal bytes untouched
  });

  it('is deterministic across two compiles', () => {
    const body = encode(order());
    expect(compile(type, rules()).mask(body)).toEqual(compile(type, rules()).mask(body));
  });

  it('leaves a null union branch null, and nullable records that are null untouched', () => {
    const src = order({ note: null, billing: null, customer: { email: 'a@b.c', name: 'N', phone: null, age: 1 } });
    const out = decode(compile(type, rules()).mask(encode(src)));
    expect(out.note).toBeNull();
    expect(out.billing).toBeNull();
    expect((out.customer as Rec).phone).toBeNull();
  });

  it('returns the body as it is when nothing in it is covered', () => {
    const body = encode(order({ billing: null }));
    expect(compile(type, []).mask(body)).toBe(body);
    expect(compile(type, [rule('billing.email', { kind: 'hash' })]).mask(body)).toBe(body);
  });

  it('keeps every untouched byte: map entries in their order (integer-like keys too), only the masked value replaced', () => {
    const schema = avroType({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'before', type: { type: 'map', values: 'string' } },
        { name: 'email', type: 'string' },
        { name: 'attrs', type: { type: 'map', values: 'string' } },
      ],
    });
    // Keys "10", "2", "a" in this order: a JS object would put "2" first.
    const map = (entries: Array<[string, string]>) => Buffer.concat([zz(entries.length), ...entries.flatMap(([k, v]) => [str(k), str(v)]), zz(0)]);
    const entries: Array<[string, string]> = [
      ['10', 'ten'],
      ['2', 'two'],
      ['a', 'ay'],
    ];
    const body = Buffer.concat([map(entries), str('alice@example.com'), map(entries)]);
    const m = compile(schema, [rule('email', { kind: 'hash' }), rule('attrs{*}', { kind: 'hash' })]);
    const expected = Buffer.concat([
      map(entries),
      str(hashString(KEY, 'alice@example.com')),
      map(entries.map(([k, v]) => [k, hashString(KEY, v)] as [string, string])),
    ]);
    expect(m.mask(body)).toEqual(expected);
    expect(m.values(body, parseFieldPath('before{*}'))).toEqual(['ten', 'two', 'ay']);
  });

  it('re-encodes size-prefixed (negative count) blocks it masks, and copies the ones it does not', () => {
    const schema = avroType({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'cards', type: { type: 'array', items: 'string' } },
        { name: 'other', type: { type: 'array', items: 'string' } },
      ],
    });
    const items = [str('4111111111111111'), str('x')];
    const sized = (parts: Buffer[]) => Buffer.concat([zz(-parts.length), zz(Buffer.concat(parts).length), ...parts, zz(0)]);
    const body = Buffer.concat([sized(items), sized(items)]);
    expect(schema.fromBuffer(body)).toEqual({ cards: ['4111111111111111', 'x'], other: ['4111111111111111', 'x'] });
    const out = compile(schema, [rule('cards[*]', { kind: 'hash' })]).mask(body);
    const hashed = [hashString(KEY, '4111111111111111'), hashString(KEY, 'x')];
    expect(hashed[1]!.length).not.toBe(1); // the block's byte size changes
    expect(schema.fromBuffer(out)).toEqual({ cards: hashed, other: ['4111111111111111', 'x'] });
    // The masked block with a plain count (its byte size changed), the untouched one as it was.
    expect(out).toEqual(Buffer.concat([zz(2), ...hashed.map(str), zz(0), sized(items)]));

    const maps = avroType({ type: 'map', values: 'string' });
    const entries = [str('10'), str('4111111111111111'), str('2'), str('x')];
    const sizedMap = Buffer.concat([zz(-2), zz(Buffer.concat(entries).length), ...entries, zz(0)]);
    expect(maps.fromBuffer(sizedMap)).toEqual({ '10': '4111111111111111', '2': 'x' });
    const masked = compile(maps, [rule('{*}', { kind: 'hash' })]).mask(sizedMap);
    expect(masked).toEqual(Buffer.concat([zz(2), str('10'), str(hashed[0]!), str('2'), str(hashed[1]!), zz(0)]));
  });

  it('masks through a recursive schema at the position the path names', () => {
    const list = avroType({
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'value', type: 'string' },
        { name: 'next', type: ['null', 'Node'] },
      ],
    });
    const src = { value: 'a1', next: { value: 'b2', next: { value: 'c3', next: null } } };
    const out = list.fromBuffer(compile(list, [rule('next.value', { kind: 'redact' })]).mask(list.toBuffer(src))) as Rec;
    expect(out).toEqual({ value: 'a1', next: { value: '', next: { value: 'c3', next: null } } });
  });
});

describe('AvroBodyMasker on a type SchemaDecoder builds (a referenced named type, exact longs)', () => {
  it('masks a field of the referenced record and keeps longs past 2^53 exact', () => {
    const entry = (id: number, schema: unknown, references: SchemaEntry['references'], subject: string): SchemaEntry => ({
      id,
      schemaType: 'AVRO',
      schema: JSON.stringify(schema),
      references,
      registrations: [{ subject, version: 1 }],
      usedInRecords: true,
    });
    const customer = entry(1, { ...CUSTOMER, namespace: 'com.acme' }, [], 'customer');
    const payment = entry(
      2,
      {
        type: 'record',
        name: 'Payment',
        namespace: 'com.acme',
        fields: [
          { name: 'payer', type: 'Customer' },
          { name: 'cents', type: 'long' },
        ],
      },
      [{ name: 'com.acme.Customer', subject: 'customer', version: 1 }],
      'payment',
    );
    const t = new SchemaDecoder([customer, payment]).avroType(payment);
    const src = { payer: { email: 'carol@example.com', name: 'Carol', phone: null, age: 40 }, cents: 2n ** 60n + 1n };
    const out = t.fromBuffer(compile(t, [rule('payer.email', { kind: 'hash' })]).mask(t.toBuffer(src))) as typeof src;
    expect(out).toEqual({ ...src, payer: { ...src.payer, email: hashString(KEY, 'carol@example.com') } });
    expect(compile(t, []).values(t.toBuffer(src), parseFieldPath('cents'))).toEqual([2n ** 60n + 1n]);
  });
});

describe('AvroBodyMasker: bodies that do not decode', () => {
  const m = compile(type, [rule('customer.email', { kind: 'hash' })]);
  const none = compile(type, []);

  it('throws UndecodablePayload on every truncation of a body, and on trailing bytes', () => {
    const body = encode(order());
    for (let n = 0; n < body.length; n++) {
      expect(() => m.mask(body.subarray(0, n))).toThrow(UndecodablePayload);
      expect(() => none.mask(body.subarray(0, n))).toThrow(UndecodablePayload);
    }
    expect(() => m.mask(Buffer.concat([body, Buffer.from([0])]))).toThrow(/1 bytes after the value/);
  });

  it('throws on a union index out of range, a length past the end, a count beyond the budget, and depth past 100', () => {
    const u = avroType({ type: 'record', name: 'U', fields: [{ name: 'x', type: ['null', 'string'] }] });
    expect(() => compile(u, [rule('x', { kind: 'hash' })]).mask(zz(2))).toThrow(/union index 2 out of range/);
    expect(() => compile(u, []).mask(Buffer.from([0x02, 0x40]))).toThrow(/runs past the body/);
    const strings = avroType({ type: 'array', items: 'string' });
    const wrongSize = Buffer.concat([zz(-1), zz(5), str('abc'), zz(0)]); // the item takes 4 bytes, not 5
    expect(() => compile(strings, []).mask(wrongSize)).toThrow(/do not fill the byte size/);
    expect(() => compile(strings, [rule('[*]', { kind: 'hash' })]).mask(wrongSize)).toThrow(/do not fill the byte size/);
    const nulls = avroType({ type: 'array', items: 'null' });
    expect(() => compile(nulls, []).mask(Buffer.concat([zz(400_000_000), zz(0)]))).toThrow(/more than the body can hold/);
    const list = avroType({
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'value', type: 'string' },
        { name: 'next', type: ['null', 'Node'] },
      ],
    });
    const deep = Buffer.concat([...Array.from({ length: 150 }, () => Buffer.concat([str('v'), zz(1)])), str('end'), zz(0)]);
    expect(() => compile(list, [rule('value', { kind: 'hash' })]).mask(deep)).toThrow(/nested deeper than 100 levels/);
    expect(() => compile(list, []).values(deep, parseFieldPath('value'))).toThrow(UndecodablePayload);
  });

  it('turns an error of the leaf mask into UndecodablePayload with its message', () => {
    const fpe = compile(type, [rule('customer.name', { kind: 'fpe' })]);
    const body = encode(order({ customer: { email: 'a@b.c', name: '---', phone: null, age: 1 } }));
    expect(() => fpe.mask(body)).toThrow(UndecodablePayload);
    expect(() => fpe.mask(body)).toThrow(/fpe needs letters or digits/);
  });
});

describe('AvroBodyMasker.values', () => {
  const m = compile(type, []);
  it('gives the values at a path, in body order, as leaf.ts represents them', () => {
    const body = encode(order());
    expect(m.values(body, parseFieldPath('items[*].card'))).toEqual(['4111111111111111', '5500005555555559']);
    expect(m.values(body, parseFieldPath('items[*].qty'))).toEqual([2n, -9_007_199_254_740_993n]);
    expect(m.values(body, parseFieldPath('customer.age'))).toEqual([34n]);
    expect(m.values(body, parseFieldPath('billing.phone'))).toEqual([null]);
    expect(m.values(body, parseFieldPath('status'))).toEqual(['PAID']);
    expect(m.values(body, parseFieldPath('flag'))).toEqual([true]);
    expect(m.values(body, parseFieldPath('nope'))).toEqual([]);
    expect(m.values(encode(order({ billing: null })), parseFieldPath('billing.email'))).toEqual([]);
  });
});

describe('AvroBodyMasker: property over random records (fast-check, fixed seed)', () => {
  const schema = avroType({
    type: 'record',
    name: 'P',
    fields: [
      { name: 'name', type: 'string' },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      {
        name: 'attrs',
        type: {
          type: 'map',
          values: {
            type: 'record',
            name: 'V',
            fields: [
              { name: 's', type: 'string' },
              { name: 'n', type: 'long' },
            ],
          },
        },
      },
      { name: 'opt', type: ['null', 'string'] },
      { name: 'n', type: 'long' },
      {
        name: 'inner',
        type: {
          type: 'record',
          name: 'I',
          fields: [
            { name: 'email', type: 'string' },
            { name: 'age', type: 'int' },
            { name: 'bytes', type: 'bytes' },
          ],
        },
      },
    ],
  });
  const rec = fc.record({
    name: fc.string(),
    tags: fc.array(fc.string(), { maxLength: 5 }),
    attrs: fc.dictionary(
      fc.oneof(fc.string(), fc.integer({ min: 0, max: 99 }).map(String)),
      fc.record({ s: fc.string(), n: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
      {
        maxKeys: 4,
      },
    ),
    opt: fc.option(fc.string(), { nil: null }),
    n: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    inner: fc.record({
      email: fc.string(),
      age: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      bytes: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
    }),
  });
  const masked = compile(schema, [
    rule('name', { kind: 'hash' }),
    rule('tags[*]', { kind: 'redact' }),
    rule('attrs{*}.s', { kind: 'fake', fake: 'email' }),
    rule('opt', { kind: 'null' }),
    rule('inner.email', { kind: 'hash' }),
  ]);
  const identity = compile(schema, []);

  it('masked bodies decode, untouched fields stay equal, and no rules give the body back', () => {
    fc.assert(
      fc.property(rec, (r) => {
        const body = schema.toBuffer(r);
        expect(identity.mask(body)).toEqual(body);
        const out = schema.fromBuffer(masked.mask(body)) as typeof r;
        expect(out.n).toBe(r.n);
        expect(out.inner.age).toBe(r.inner.age);
        expect(out.inner.bytes).toEqual(r.inner.bytes);
        expect(out.opt).toBeNull();
        expect(out.tags).toEqual(r.tags.map(() => ''));
        expect(Object.keys(out.attrs).sort()).toEqual(Object.keys(r.attrs).sort());
        for (const [k, v] of Object.entries(r.attrs)) expect(out.attrs[k]!.n).toBe(v.n);
        expect(out.name).toBe(hashString(KEY, r.name));
      }),
      { seed: 19, numRuns: 200 },
    );
  });
});
