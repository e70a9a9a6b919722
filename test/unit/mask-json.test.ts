/**
 * The JSON body masker of issue 19 (src/mask/json-body.ts): JSON Schema payloads and plain
 * JSON. JSON.parse is the independent oracle: the output must parse, the masked members must
 * differ from the input, every other byte must be the input's (checked by rebuilding the
 * expected text from the input with only the masked tokens replaced by what JSON.parse read
 * from the output).
 */
import fc from 'fast-check';
import { UndecodablePayload, type BodyCompile, type BodyMasker } from '../../src/mask/body';
import { compileJsonSchemaBody, compilePlainJsonBody } from '../../src/mask/json-body';
import { formatFieldPath, parseFieldPath } from '../../src/mask/path';
import type { FieldAction, FieldRule } from '../../src/mask/policy';
import { hashString, hashUuid } from '../../src/mask/hash';

const KEY = Buffer.alloc(32, 7);
const HASH: FieldAction = { kind: 'hash' };
const REDACT: FieldAction = { kind: 'redact' };

function rule(text: string, action: FieldAction = HASH, optional = false): FieldRule {
  const path = parseFieldPath(text);
  return { path, pathText: formatFieldPath(path), action, optional, at: 'policy.yaml:1:1' };
}

function compiled(c: BodyCompile): BodyMasker {
  if (!c.ok) throw new Error(`refused: ${c.errors.map((e) => `${e.rule.pathText}: ${e.problem}`).join('; ')}`);
  return c.masker;
}

function refusals(c: BodyCompile): string[] {
  if (c.ok) throw new Error('expected the compile to refuse');
  return c.errors.map((e) => `${e.rule.pathText}: ${e.problem}`);
}

const mask = (m: BodyMasker, text: string): string => m.mask(Buffer.from(text, 'utf8')).toString('utf8');

/**
 * The input with each of `tokens` (the input's own token texts of the masked values, in
 * order, each occurring once) replaced by the JSON text of `replacements`: what the output
 * must be byte for byte when only those values changed.
 */
function rebuilt(input: string, tokens: string[], replacements: unknown[]): string {
  let out = input;
  tokens.forEach((t, i) => {
    expect(out.split(t)).toHaveLength(2);
    out = out.replace(t, () => JSON.stringify(replacements[i]));
  });
  return out;
}

const CUSTOMER = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    email: { type: 'string', format: 'email' },
    note: { type: ['string', 'null'] },
    age: { type: 'integer' },
    score: { type: 'number' },
    vip: { type: 'boolean' },
    tier: { type: 'string', enum: ['gold', 'silver', 'bronze'] },
  },
};

describe('JSON Schema bodies: editing in place', () => {
  const schema = {
    type: 'object',
    properties: {
      customer: CUSTOMER,
      items: { type: 'array', items: { type: 'object', properties: { card: { type: 'string' }, qty: { type: 'integer' } } } },
      attributes: { type: 'object', additionalProperties: { type: 'string' } },
      total: { type: 'number' },
    },
  };
  const input = `{ "total" : 1.0,
  "customer": {"email": "alice@example.com", "id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301", "note": "caf\\u00e9 \\"x\\"", "age": 1e0 },
  "items": [ {"card": "4111111111111111", "qty": 10}, {"qty": 2, "card": "5500000000000004"} ],
  "attributes": {"colour": "blue", "size": "XL"}, "extra": [1.50, "\\/"]
}`;

  it('masks nested fields, array items and map values; every other byte stays', () => {
    const m = compiled(
      compileJsonSchemaBody(
        schema,
        new Map(),
        [
          rule('customer.email', { kind: 'fake', fake: 'email' }),
          rule('customer.id'),
          rule('items[*].card', { kind: 'partial', first: 0, last: 4 }),
          rule('attributes{*}', REDACT),
        ],
        KEY,
      ),
    );
    const out = mask(m, input);
    const got = JSON.parse(out) as { customer: { email: string; id: string }; items: { card: string }[]; attributes: Record<string, string> };
    expect(got.customer.email).not.toBe('alice@example.com');
    expect(got.customer.email).toMatch(/^[^@\s]+@[^@\s]+$/);
    expect(got.customer.id).toBe(hashUuid(KEY, '3f2504e0-4f89-41d3-9a0c-0305e82c3301'));
    expect(got.items.map((i) => i.card)).toEqual(['************1111', '************0004']);
    expect(got.attributes).toEqual({ colour: '', size: '' });
    const expected = rebuilt(
      input,
      ['"alice@example.com"', '"3f2504e0-4f89-41d3-9a0c-0305e82c3301"', '"4111111111111111"', '"5500000000000004"', '"blue"', '"XL"'],
      [got.customer.email, got.customer.id, ...got.items.map((i) => i.card), '', ''],
    );
    expect(out).toBe(expected);
    // deterministic
    expect(mask(m, input)).toBe(out);
  });

  it('gives the input back byte for byte when no rule covers a value there', () => {
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('customer.email')], KEY));
    const text = '{"customer": {"age": 3}, "total": 1.0e3 , "items": []}';
    expect(mask(m, text)).toBe(text);
  });

  it('unescapes a string before masking it and escapes the result', () => {
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('customer.note')], KEY));
    const out = JSON.parse(mask(m, input)) as { customer: { note: string } };
    expect(out.customer.note).toBe(hashString(KEY, 'café "x"'));
  });

  it('masks integers, numbers, booleans and enums in their own types', () => {
    const m = compiled(
      compileJsonSchemaBody(
        schema,
        new Map(),
        ['age', 'score', 'vip', 'tier'].map((f) => rule(`customer.${f}`, f === 'age' || f === 'tier' ? HASH : REDACT)),
        KEY,
      ),
    );
    const text = '{"customer": {"age": 42, "score": 3.25, "vip": true, "tier": "gold"}}';
    const got = (JSON.parse(mask(m, text)) as { customer: Record<string, unknown> }).customer;
    expect(Number.isSafeInteger(got.age)).toBe(true);
    expect(got.age).not.toBe(42);
    expect(got.score).toBe(0);
    expect(got.vip).toBe(false);
    expect(['silver', 'bronze']).toContain(got.tier);
    expect(mask(m, text)).toBe(mask(m, text));
  });

  it('keeps the number text of numbers it does not mask and writes masked integers as integers', () => {
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('items[*].qty', REDACT)], KEY));
    const text = '{"total": 1.0, "items": [{"qty": 10}, {"qty": -0}], "extra": 1E+2}';
    expect(mask(m, text)).toBe('{"total": 1.0, "items": [{"qty": 0}, {"qty": 0}], "extra": 1E+2}');
  });

  it('masks every member of a duplicated name', () => {
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('customer.email', REDACT)], KEY));
    const text = '{"customer": {"email": "a@x.io", "email": "b@x.io"}, "customer": {"email": "c@x.io"}}';
    const out = mask(m, text);
    expect(out).toBe('{"customer": {"email": "", "email": ""}, "customer": {"email": ""}}');
    for (const s of ['a@x.io', 'b@x.io', 'c@x.io']) expect(out).not.toContain(s);
  });

  it('matches member names however they are written (escapes, non-ASCII)', () => {
    const m = compiled(
      compileJsonSchemaBody(
        { type: 'object', properties: { email: { type: 'string' }, prénom: { type: 'string' } } },
        new Map(),
        [rule('email', REDACT), rule('["prénom"]', REDACT)],
        KEY,
      ),
    );
    expect(mask(m, '{"em\\u0061il": "a@x.io", "pr\\u00e9nom": "Zoé", "prénom": "Zoé", "emai": "k", "emails": "k"}')).toBe(
      '{"em\\u0061il": "", "pr\\u00e9nom": "", "prénom": "", "emai": "k", "emails": "k"}',
    );
  });

  it('covers every member with {*}, named ones too, and lets a named rule win', () => {
    const obj = { type: 'object', properties: { a: { type: 'string' }, n: { type: 'integer' } }, additionalProperties: { type: 'string' } };
    const star = rule('o{*}', REDACT);
    const named = rule('o.a', HASH);
    const m = compiled(compileJsonSchemaBody({ type: 'object', properties: { o: obj } }, new Map(), [star, named], KEY));
    expect(JSON.parse(mask(m, '{"o": {"a": "x", "n": 5, "z": "y"}}'))).toEqual({ o: { a: hashString(KEY, 'x'), n: 0, z: '' } });
    expect(m.fields.map((f) => [f.path, f.rule?.pathText ?? null])).toEqual([
      ['o.a', 'o.a'],
      ['o.n', 'o{*}'],
      ['o{*}', 'o{*}'],
    ]);
    // partial cannot take the integer member: refused when the plan is made, not record by record
    expect(
      refusals(compileJsonSchemaBody({ type: 'object', properties: { o: obj } }, new Map(), [rule('o{*}', { kind: 'partial', first: 1, last: 0 })], KEY))[0],
    ).toMatch(/^o\{\*\}: action partial/);
  });

  it('lets null through unless the action is null, and writes null for it', () => {
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('customer.note', { kind: 'null' }), rule('customer.email')], KEY));
    expect(mask(m, '{"customer": {"note": "secret", "email": null}}')).toBe('{"customer": {"note": null, "email": null}}');
  });

  it('fails closed when a value does not have the type its schema says', () => {
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('customer.email'), rule('customer.age')], KEY));
    expect(() => mask(m, '{"customer": {"email": 12}}')).toThrow(UndecodablePayload);
    expect(() => mask(m, '{"customer": {"email": 12}}')).toThrow('customer.email: a JSON integer where the schema says string(email)');
    expect(() => mask(m, '{"customer": {"email": {"a": "alice@example.com"}}}')).toThrow('an object or array where the rule expects a value');
    expect(() => mask(m, '{"customer": {"age": "42"}}')).toThrow(UndecodablePayload);
    expect(() => mask(m, '{"customer": {"age": 4.5}}')).toThrow(UndecodablePayload);
    expect(() => mask(m, '{"customer": {"age": 9007199254740993}}')).toThrow('customer.age: integer 9007199254740993 is beyond ±(2^53 − 1)');
    expect(() => mask(m, `{"customer": {"age": -${'9'.repeat(100_000)}}}`)).toThrow(`integer -${'9'.repeat(39)}… is beyond`);
    // the edges of the range are masked
    expect(() => mask(m, '{"customer": {"age": -9007199254740991}}')).not.toThrow();
    const uuid = compiled(compileJsonSchemaBody(schema, new Map(), [rule('customer.id')], KEY));
    expect(() => mask(uuid, '{"customer": {"id": "not-a-uuid"}}')).toThrow(/customer\.id: .*not a UUID/);
  });

  it('reads values at a path in leaf representation', () => {
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [], KEY));
    const body = Buffer.from(input);
    expect(m.values(body, parseFieldPath('items[*].card'))).toEqual(['4111111111111111', '5500000000000004']);
    expect(m.values(body, parseFieldPath('customer.note'))).toEqual(['café "x"']);
    expect(m.values(body, parseFieldPath('items[*].qty'))).toEqual([10n, 2n]);
    expect(m.values(body, parseFieldPath('extra[*]'))).toEqual([1.5, '/']);
    expect(m.values(body, parseFieldPath('missing.x'))).toEqual([]);
    expect(m.values(Buffer.from('{"a": [null, true]}'), parseFieldPath('a[*]'))).toEqual([null, true]);
  });

  it('lists every leaf in schema order with the rule covering it', () => {
    const r = rule('items[*].card');
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [r], KEY));
    expect(m.fields.map((f) => `${f.path} ${f.type.kind} ${f.type.label}${f.rule ? ' *' : ''}`)).toEqual([
      'customer.id uuid string(uuid)',
      'customer.email string string(email)',
      'customer.note string ["string","null"]',
      'customer.age safe-int integer',
      'customer.score float number',
      'customer.vip boolean boolean',
      'customer.tier enum string',
      'items[*].card string string *',
      'items[*].qty safe-int integer',
      'attributes{*} string string',
      'total float number',
    ]);
    expect(m.fields.find((f) => f.rule)?.rule).toBe(r);
  });
});

describe('JSON Schema bodies: the schema walk', () => {
  it('goes through oneOf, anyOf, allOf and then/else; nullable from a null branch', () => {
    const schema = {
      type: 'object',
      properties: {
        contact: {
          oneOf: [
            { type: 'object', properties: { email: { type: 'string' } } },
            { type: 'object', properties: { phone: { type: 'string' } } },
          ],
        },
        nick: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        both: { allOf: [{ properties: { a: { type: 'string' } } }, { properties: { b: { type: 'integer' } } }] },
      },
    };
    const m = compiled(
      compileJsonSchemaBody(
        schema,
        new Map(),
        [rule('contact.email', REDACT), rule('contact.phone', REDACT), rule('nick', { kind: 'null' }), rule('both.a', REDACT), rule('both.b', REDACT)],
        KEY,
      ),
    );
    const out = mask(m, '{"contact": {"phone": "+1 555"}, "nick": "bob", "both": {"a": "x", "b": 7}}');
    expect(JSON.parse(out)).toEqual({ contact: { phone: '' }, nick: null, both: { a: '', b: 0 } });
    const conditional = {
      type: 'object',
      if: { properties: { kind: { const: 'card' } } },
      then: { properties: { pan: { type: 'string' } } },
      else: { properties: { iban: { type: 'string' } } },
    };
    const c = compiled(compileJsonSchemaBody(conditional, new Map(), [rule('pan', REDACT), rule('iban', REDACT)], KEY));
    expect(mask(c, '{"kind": "card", "pan": "4111"}')).toBe('{"kind": "card", "pan": ""}');
    expect(refusals(compileJsonSchemaBody(conditional, new Map(), [rule('kind', REDACT)], KEY))).toEqual(['kind: matches no field']);
    expect(m.fields.find((f) => f.path === 'nick')?.type).toMatchObject({ kind: 'string', nullable: true, label: '["string","null"]' });
  });

  it('follows local $refs (definitions, $defs, JSON pointers) and references by name', () => {
    const address = { type: 'object', properties: { street: { type: 'string' }, zip: { $ref: '#/$defs/zip' } }, $defs: { zip: { type: 'string' } } };
    const schema = {
      type: 'object',
      properties: {
        home: { $ref: '#/definitions/Addr' },
        work: { $ref: 'address.json' },
        other: { $ref: 'address.json#/properties/street' },
        tilde: { $ref: '#/definitions/a~1b' },
      },
      definitions: { Addr: { $ref: 'address.json' }, 'a/b': { type: 'string' } },
    };
    const refs = new Map<string, unknown>([['address.json', address]]);
    const m = compiled(
      compileJsonSchemaBody(schema, refs, [rule('home.street', REDACT), rule('work.zip', REDACT), rule('other', REDACT), rule('tilde', REDACT)], KEY),
    );
    const out = mask(m, '{"home": {"street": "1 Main St", "zip": "12345"}, "work": {"street": "2 Elm", "zip": "99999"}, "other": "3 Oak", "tilde": "t"}');
    expect(JSON.parse(out)).toEqual({ home: { street: '', zip: '12345' }, work: { street: '2 Elm', zip: '' }, other: '', tilde: '' });
  });

  it('walks recursive $refs once (a tree of nodes)', () => {
    const schema = {
      $ref: '#/definitions/Node',
      definitions: {
        Node: {
          type: 'object',
          properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/definitions/Node' } }, parent: { $ref: '#' } },
        },
      },
    };
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('name', REDACT), rule('children[*].children[*].name', REDACT)], KEY));
    const out = mask(m, '{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}');
    expect(JSON.parse(out)).toEqual({ name: '', children: [{ name: 'b', children: [{ name: '' }] }] });
    expect(m.fields.map((f) => f.path)).toEqual(['name']);
  });

  it('stays linear on a schema whose refs branch everywhere, and refuses refs nested deeper than 100', () => {
    // Each level refers twice to the next: 2^levels paths if walked naively.
    const schemaOf = (levels: number): unknown => {
      const definitions: Record<string, unknown> = { [`d${levels}`]: { type: 'string' } };
      for (let i = 0; i < levels; i++)
        definitions[`d${i}`] = { anyOf: [{ $ref: `#/definitions/d${i + 1}` }, { allOf: [{ $ref: `#/definitions/d${i + 1}` }] }] };
      return { type: 'object', properties: { x: { $ref: '#/definitions/d0' } }, definitions };
    };
    const m = compiled(compileJsonSchemaBody(schemaOf(45), new Map(), [rule('x', REDACT)], KEY));
    expect(mask(m, '{"x": "secret"}')).toBe('{"x": ""}');
    expect(m.fields.map((f) => f.path)).toEqual(['x']);
    expect(refusals(compileJsonSchemaBody(schemaOf(60), new Map(), [rule('x', REDACT)], KEY))).toEqual([
      'x: the schema nests $ref, allOf, anyOf or oneOf deeper than 100 levels',
    ]);
  });

  it('refuses a path that matches nothing unless it is optional', () => {
    const schema = { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } } } };
    expect(refusals(compileJsonSchemaBody(schema, new Map(), [rule('a.c'), rule('a.b')], KEY))).toEqual(['a.c: matches no field']);
    expect(refusals(compileJsonSchemaBody(schema, new Map(), [rule('a.b{*}'), rule('a.b[*]')], KEY))).toEqual([
      'a.b{*}: matches no field',
      'a.b[*]: matches no field',
    ]);
    const closed = { type: 'object', properties: { m: { type: 'object', additionalProperties: false } } };
    expect(refusals(compileJsonSchemaBody(closed, new Map(), [rule('m{*}')], KEY))).toEqual(['m{*}: matches no field']);
    const m = compiled(compileJsonSchemaBody(schema, new Map(), [rule('a.c', HASH, true), rule('a.b', REDACT)], KEY));
    expect(mask(m, '{"a": {"b": "x", "c": "y"}}')).toBe('{"a": {"b": "", "c": "y"}}');
  });

  it('refuses a path ending on an object or array', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, l: { type: 'array', items: { type: 'string' } } },
    };
    expect(refusals(compileJsonSchemaBody(schema, new Map(), [rule('a'), rule('l')], KEY))).toEqual([
      'a: ends on an object or array, not on a value (name its fields, or its items with [*] or values with {*})',
      'l: ends on an object or array, not on a value (name its fields, or its items with [*] or values with {*})',
    ]);
  });

  it('refuses null on a field that may not be null, and actions the type cannot take', () => {
    expect(refusals(compileJsonSchemaBody(CUSTOMER, new Map(), [rule('email', { kind: 'null' })], KEY))).toEqual([
      'email: action null needs a field that may be null, and string(email) may not (use redact)',
    ]);
    expect(refusals(compileJsonSchemaBody(CUSTOMER, new Map(), [rule('age', { kind: 'partial', first: 0, last: 2 })], KEY))[0]).toMatch(
      /^age: action partial keeps characters of a string/,
    );
    // several types: each must take the action
    const multi = { type: 'object', properties: { v: { type: ['string', 'integer'] } } };
    expect(refusals(compileJsonSchemaBody(multi, new Map(), [rule('v', { kind: 'partial', first: 0, last: 2 })], KEY))[0]).toMatch(/^v: action partial/);
    const m = compiled(compileJsonSchemaBody(multi, new Map(), [rule('v', HASH)], KEY));
    const out = JSON.parse(mask(m, '{"v": "abc"}')) as { v: unknown };
    expect(out.v).toBe(hashString(KEY, 'abc'));
    expect(typeof (JSON.parse(mask(m, '{"v": 5}')) as { v: unknown }).v).toBe('number');
    expect(() => mask(m, '{"v": true}')).toThrow(UndecodablePayload);
  });

  it('refuses a type JSON Schema does not have', () => {
    const schema = { type: 'object', properties: { d: { type: 'date' } } };
    expect(refusals(compileJsonSchemaBody(schema, new Map(), [rule('d', REDACT)], KEY))).toEqual([
      'd: the schema gives it type "date", which is not a JSON Schema type',
    ]);
  });

  it('refuses a $ref to a schema the backup does not have', () => {
    const schema = { type: 'object', properties: { a: { $ref: 'other.json' } } };
    expect(refusals(compileJsonSchemaBody(schema, new Map(), [rule('a.b')], KEY))[0]).toMatch(/^a\.b: \$ref "other\.json" names no schema of the backup/);
  });
});

describe('plain JSON (no schema)', () => {
  const m = compilePlainJsonBody(
    [rule('user.email'), rule('user.age'), rule('tags[*]', REDACT), rule('flags{*}', REDACT), rule('card', { kind: 'partial', first: 0, last: 4 })],
    KEY,
  );

  it('masks by runtime type', () => {
    const text = '{"user": {"email": "a@b.io", "age": 30}, "tags": ["x", 2, 2.5, false, null], "flags": {"a": true}, "card": "4111111111111111"}';
    const out = mask(m, text);
    const got = JSON.parse(out) as { user: { email: string; age: number }; tags: unknown[] };
    expect(got.user.email).toBe(hashString(KEY, 'a@b.io'));
    expect(Number.isSafeInteger(got.user.age) && got.user.age !== 30).toBe(true);
    expect(got.tags).toEqual(['', 0, 0, false, null]);
    expect(out).toBe(
      `{"user": {"email": ${JSON.stringify(got.user.email)}, "age": ${got.user.age}}, "tags": ["", 0, 0, false, null], "flags": {"a": false}, "card": "************1111"}`,
    );
    expect(m.fields).toEqual([]);
  });

  it('fails closed on a value its action cannot take, naming the path', () => {
    expect(() => mask(m, '{"card": 4111111111111111}')).toThrow('card: a JSON integer: action partial keeps characters of a string');
    expect(() => mask(m, '{"user": {"email": ["a@b.io"]}}')).toThrow(UndecodablePayload);
    expect(() => mask(m, '{"user": {"age": 12345678901234567890}}')).toThrow(UndecodablePayload);
  });

  it('gives named steps precedence over {*} on the same member', () => {
    const p = compilePlainJsonBody([rule('m{*}', REDACT), rule('m.keepme', { kind: 'keep' })], KEY);
    expect(mask(p, '{"m": {"a": "x", "keepme": "y"}}')).toBe('{"m": {"a": "", "keepme": "y"}}');
  });
});

describe('refusing what is not JSON', () => {
  const m = compilePlainJsonBody([rule('a')], KEY);
  it.each([
    ['empty', ''],
    ['trailing garbage', '{"a": 1} x'],
    ['two values', '{} {}'],
    ['trailing comma', '{"a": 1,}'],
    ['comment', '{"a": 1 /* c */}'],
    ['single quotes', "{'a': 1}"],
    ['bad escape', '{"b": "\\x"}'],
    ['raw control character', '{"b": "a\tb"}'],
    ['leading zero', '{"b": 01}'],
    ['bare dot', '{"b": 1.}'],
    ['unterminated string', '{"b": "abc'],
    ['unterminated object', '{"b": 1'],
    ['NaN', '{"b": NaN}'],
    ['truncated literal', '{"b": tru}'],
  ])('%s', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow(); // the oracle agrees
    expect(() => m.mask(Buffer.from(text))).toThrow(UndecodablePayload);
  });

  it('refuses invalid UTF-8', () => {
    expect(() => m.mask(Buffer.from([0x7b, 0x22, 0x62, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]))).toThrow('not valid UTF-8');
  });

  it('refuses nesting deeper than 100 levels, and takes 100', () => {
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(m.mask(Buffer.from(deep(100))).toString()).toBe(deep(100));
    expect(() => m.mask(Buffer.from(deep(101)))).toThrow('nested deeper than 100 levels');
    expect(() => m.mask(Buffer.from(deep(100_000)))).toThrow(UndecodablePayload);
  });
});

describe('property: random JSON objects', () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  }));
  const record = fc.record({ secret: fc.string(), other: json.value, nested: fc.record({ pin: fc.integer(), keep: json.value }) });
  /** Whitespace and member order as the generator chose: indent by 0–3 spaces. */
  const rendered = fc.tuple(record, fc.integer({ min: 0, max: 3 })).map(([r, indent]) => JSON.stringify(r, null, indent));

  it('parses, masks only the covered members, and is the identity without rules', () => {
    const masker = compilePlainJsonBody([rule('secret'), rule('nested.pin', REDACT)], KEY);
    const none = compilePlainJsonBody([], KEY);
    fc.assert(
      fc.property(rendered, (text) => {
        const input = Buffer.from(text);
        expect(none.mask(input).equals(input)).toBe(true);
        const before = JSON.parse(text) as { secret: string; other: unknown; nested: { pin: number; keep: unknown } };
        const after = JSON.parse(masker.mask(input).toString()) as typeof before;
        expect(after.other).toEqual(before.other);
        expect(after.nested.keep).toEqual(before.nested.keep);
        expect(after.secret).toBe(hashString(KEY, before.secret));
        expect(after.nested.pin).toBe(0);
        expect(Object.keys(after)).toEqual(Object.keys(before));
      }),
      { seed: 19, numRuns: 200 },
    );
  });

  it('accepts exactly what JSON.parse accepts (mutated JSON text), and refuses with UndecodablePayload only', () => {
    const masker = compilePlainJsonBody([rule('secret'), rule('other[*]', REDACT)], KEY);
    const mutated = fc
      .tuple(
        rendered,
        fc.array(
          fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.constantFrom('', '"', '\\', ',', ':', '{', '}', '[', ']', '-', '0', '.', 'e', ' ', '\u0001', 'n', 'é')),
          { maxLength: 3 },
        ),
      )
      .map(([text, edits]) => edits.reduce((t, [at, drop, ins]) => t.slice(0, at % (t.length + 1)) + ins + t.slice((at % (t.length + 1)) + drop), text));
    let valid = 0;
    let invalid = 0;
    fc.assert(
      fc.property(mutated, (text) => {
        const body = Buffer.from(text);
        let parsed = true;
        try {
          JSON.parse(body.toString());
        } catch {
          parsed = false;
        }
        let thrown: unknown = null;
        try {
          JSON.parse(masker.mask(body).toString());
        } catch (e) {
          thrown = e;
        }
        if (parsed) {
          valid++;
          // a valid text only fails where a covered value has a type the action cannot take (an object at "secret")
          if (thrown !== null) expect((thrown as Error).message).toMatch(/^(secret|other\[\*\]): /);
        } else {
          invalid++;
          expect(thrown).toBeInstanceOf(UndecodablePayload);
        }
      }),
      { seed: 19, numRuns: 300 },
    );
    // both sides were exercised
    expect(valid).toBeGreaterThan(30);
    expect(invalid).toBeGreaterThan(30);
  });
});
