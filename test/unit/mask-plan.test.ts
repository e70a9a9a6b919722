/**
 * The masking plan (src/mask/compile.ts) against real schemas as a backup holds them: every
 * refusal before anything is written, one line with the rule's file:line:col, the path, the
 * topic and the schema; what compiles lists every field with its action.
 */
import { SchemaDecoder } from '../../src/backup/decode';
import type { SchemaEntry } from '../../src/backup/manifest';
import { compileMaskPlan, type MaskPlanInput } from '../../src/mask/compile';
import { maskPlanJSON, maskPlanLines, ruleText } from '../../src/mask/plan-lines';
import { parsePolicy } from '../../src/mask/policy';

const KEY = Buffer.alloc(32, 7);
const avro = (id: number, subject: string, schema: unknown): SchemaEntry => ({
  id,
  schemaType: 'AVRO',
  schema: JSON.stringify(schema),
  references: [],
  registrations: [{ subject, version: 1 }],
  usedInRecords: true,
});
const CUSTOMER = {
  type: 'record',
  name: 'Customer',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};
const SCHEMAS = [
  avro(1, 'customers-value', CUSTOMER),
  avro(2, 'customers-value', { ...CUSTOMER, fields: [...CUSTOMER.fields, { name: 'phone', type: 'string', default: '' }] }),
  avro(3, 'keyed-key', { type: 'record', name: 'K', fields: [{ name: 'id', type: 'string' }] }),
];

function plan(policy: string, topics = ['customers'], extra: Partial<MaskPlanInput> = {}) {
  return compileMaskPlan({
    policy: parsePolicy(policy, { name: 'p.yaml' }),
    key: KEY,
    schemas: new SchemaDecoder(SCHEMAS),
    allSchemas: SCHEMAS,
    topics,
    unlistedCopy: false,
    keySets: new Map(),
    ...extra,
  });
}
const HEAD = 'version: 1\nkey: { env: K, encoding: base64 }\ntopics:\n';

describe('compileMaskPlan', () => {
  it('lists every field of every schema under the topic subject, with its action', () => {
    const p = plan(`${HEAD}  - match: customers\n    value:\n      - { path: email, action: fake, fake: email }\n      - { path: note, action: "null" }\n`);
    const view = p.view.topics[0]!;
    expect(view.schemas.map((s) => s.id)).toEqual([1, 2]);
    expect(view.schemas[1]!.fields.map((f) => [f.path, f.rule?.action.kind ?? 'keep'])).toEqual([
      ['id', 'keep'],
      ['email', 'fake'],
      ['note', 'null'],
      ['phone', 'keep'],
    ]);
    const mask = p.topics.get('customers')!;
    expect(mask.value.kind).toBe('framed');
    expect(mask.passThrough).toBe(false);
    const prov = { policy: 'p.yaml', policySha256: 'a'.repeat(64), keyFingerprint: '0123456789abcdef', faker: '@faker-js/faker@9.9.0' };
    const lines = maskPlanLines(p.view, prov);
    expect(lines).toContain('    value schema 2 (customers-value, AVRO)');
    expect(lines.some((l) => /^ {6}phone +string +keep \(no rule\)$/.test(l))).toBe(true);
    expect(JSON.stringify(maskPlanJSON(p.view, prov))).not.toContain('masker');
  });

  it('refuses a path one schema lacks, naming rule position, path, topic and schema; optional lets it through', () => {
    const policy = `${HEAD}  - match: customers\n    value:\n      - { path: phone, action: hash }\n`;
    expect(() => plan(policy)).toThrow(/^p\.yaml:6:9: path phone in the value of topic customers, schema 1 \(customers-value, AVRO\): matches no field$/);
    expect(() => plan(policy.replace('action: hash }', 'action: hash, optional: true }'))).not.toThrow();
  });

  it('refuses null on a field that cannot be null', () => {
    expect(() => plan(`${HEAD}  - match: customers\n    value:\n      - { path: email, action: "null" }\n`)).toThrow(/email .*may not/);
  });

  it('refuses topics no entry lists, naming them, unless unlisted ones are copied', () => {
    const policy = `${HEAD}  - match: customers\n`;
    expect(() => plan(policy, ['customers', 'audit', 'billing'])).toThrow(/has no entry for topics audit, billing/);
    const copied = plan(policy, ['customers', 'audit'], { unlistedCopy: true });
    expect(copied.topics.get('audit')).toBeNull();
    expect(
      plan(`${policy}unlisted: copy\n`.replace('topics:\n  - match: customers\nunlisted: copy\n', 'unlisted: copy\ntopics:\n  - match: customers\n'), [
        'customers',
        'audit',
      ]).topics.get('audit'),
    ).toBeNull();
  });

  it('an entry without rules copies its topic (the fast path may take it)', () => {
    expect(plan(`${HEAD}  - match: customers\n`).topics.get('customers')!.passThrough).toBe(true);
  });

  it('a whole-key action on a schema-framed key is refused: its fields need rules', () => {
    expect(() => plan(`${HEAD}  - match: keyed\n    key: { action: hash }\n`, ['keyed'])).toThrow(
      /key of topic keyed is schema-framed \(schema 3, keyed-key\).*fields/,
    );
    expect(plan(`${HEAD}  - match: keyed\n    key:\n      fields:\n        - { path: id, action: fpe }\n`, ['keyed']).topics.get('keyed')!.key.kind).toBe(
      'framed',
    );
  });

  it('a sample by a field every value schema must have; a keys-from file must have been read', () => {
    expect(() => plan(`${HEAD}  - match: customers\n    sample: { fraction: 0.5, by: phone }\n`)).toThrow(
      /sample by phone of topic customers: the path is not a field of schema 1/,
    );
    expect(plan(`${HEAD}  - match: customers\n    sample: { fraction: 0.5, by: id }\n`).topics.get('customers')!.sample).toMatchObject({
      by: 'field',
      pathText: 'id',
    });
    expect(() => plan(`${HEAD}  - match: customers\n    sample: { keys-from: k.txt, by: key }\n`)).toThrow(/keys-from file k\.txt was not read/);
  });

  it('a topic without schemas is read as plain JSON', () => {
    const p = plan(`${HEAD}  - match: events\n    value:\n      - { path: user.email, action: hash }\n`, ['events']);
    expect(p.topics.get('events')!.value.kind).toBe('plain-json');
  });
});

describe('ruleText: the rule a dry run suggests is one a policy accepts as written', () => {
  it.each([
    ['email', { kind: 'fake', fake: 'email' }],
    ['items[*].card', { kind: 'partial', first: 0, last: 4 }],
    ['["first name"]', { kind: 'hash' }],
    ['note', { kind: 'null' }],
    ['a.b', { kind: 'partial', first: 6, last: 4 }],
  ] as const)('%s', (path, action) => {
    const p = parsePolicy(`${HEAD}  - match: t\n    value:\n      - ${ruleText(path, action)}\n`, { name: 'p.yaml' });
    const rule = p.topics[0]!.value[0]!;
    expect(rule.action).toEqual(action);
    expect(rule.pathText).toBe(path);
  });
});
