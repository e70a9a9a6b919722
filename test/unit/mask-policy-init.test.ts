/**
 * The starting policy of `kbak policy init` (src/mask/policy-init.ts, issue 19): it must parse
 * with parsePolicy as written, carry a rule per flagged field with a comment saying why, list
 * every other field as a commented keep rule, deduplicate fields across schema versions, quote
 * names that are not plain, match each topic by exactly its own name, and let no name from the
 * backup break out of a comment.
 */
import { parse as parseYaml } from 'yaml';
import { detectPersonal, type Detection } from '../../src/mask/detect';
import type { LeafType } from '../../src/mask/leaf';
import { parsePolicy, topicRules, type FieldRule, type MaskPolicy } from '../../src/mask/policy';
import { exactRegex, renderStarterPolicy, type StarterField, type StarterInput } from '../../src/mask/policy-init';

const STR: LeafType = { kind: 'string', nullable: false, label: 'string' };
const LONG: LeafType = { kind: 'int64', nullable: false, label: 'long' };
const byName = (path: string, type: LeafType = STR): StarterField => ({ path, type, detection: detectPersonal({ path, type }, []) });
const plain = (path: string, type: LeafType = STR): StarterField => ({ path, type, detection: null });
const detected = (path: string, detection: Detection, type: LeafType = STR): StarterField => ({ path, type, detection });

const render = (input: StarterInput): { text: string; policy: MaskPolicy } => {
  const text = renderStarterPolicy(input);
  return { text, policy: parsePolicy(text, { name: 'starter.yaml' }) };
};
const rules = (rs: readonly FieldRule[]) => rs.map((r) => ({ path: r.pathText, action: r.action }));

const ORDERS: StarterInput = {
  backup: 'nightly-2026-12-01',
  topics: [
    {
      topic: 'orders',
      schemas: [
        { id: 1, subject: 'orders-value', part: 'value', fields: [byName('customer.email'), plain('total', LONG), byName('card_number')] },
        {
          id: 7,
          subject: 'orders-value',
          part: 'value',
          fields: [
            byName('customer.email'),
            plain('total', LONG),
            byName('card_number'),
            detected('c7', { kind: 'ip', by: 'values', evidence: '12 of 40 sampled values look like IP addresses', suggested: { kind: 'fake', fake: 'ip' } }),
          ],
        },
        { id: 3, subject: 'orders-key', part: 'key', fields: [plain('id', LONG)] },
      ],
    },
  ],
};

describe('renderStarterPolicy', () => {
  it('writes a policy parsePolicy accepts: key by env, unlisted refuse, a rule per flagged field', () => {
    const { policy } = render(ORDERS);
    expect(policy.version).toBe(1);
    expect(policy.key).toMatchObject({ from: 'env', env: 'KBAK_MASK_KEY', encoding: 'base64' });
    expect(policy.unlisted).toBe('refuse');
    expect(policy.topics).toHaveLength(1);
    const t = policy.topics[0]!;
    expect(t.match).toBe('orders');
    expect(rules(t.value)).toEqual([
      { path: 'customer.email', action: { kind: 'fake', fake: 'email' } },
      { path: 'card_number', action: { kind: 'partial', first: 0, last: 4 } },
      { path: 'c7', action: { kind: 'fake', fake: 'ip' } },
    ]);
    expect(t.key).toBeNull(); // nothing flagged in the key: no rules, the key is copied
    expect(t.headers).toEqual([]);
  });

  it('says why each rule is there and lists the other fields as commented keep rules', () => {
    const { text } = render(ORDERS);
    const lines = text.split('\n').map((l) => l.trim());
    const at = (s: string) => lines.indexOf(s);
    expect(at('# email: detected by field name')).toBe(at('- { path: customer.email, action: fake, fake: email }') - 1);
    expect(at('# card: detected by field name')).toBe(at('- { path: card_number, action: partial, keep: last4 }') - 1);
    expect(at('# ip: 12 of 40 sampled values look like IP addresses')).toBe(at('- { path: c7, action: fake, fake: ip }') - 1);
    expect(lines.filter((l) => l === '# - { path: total, action: keep }')).toHaveLength(1);
    expect(lines).toContain('#     - { path: id, action: keep }');
    expect(lines).toContain('# topic "orders": value schemas 1, 7; key schema 3');
    expect(text).toContain('nightly-2026-12-01');
  });

  it('gives commented rules that parse once uncommented, with the same paths', () => {
    const { text } = render({
      backup: 'b',
      topics: [{ topic: 't', schemas: [{ id: 1, subject: null, part: 'value', fields: [byName('email'), plain('["first name"]'), plain('total')] }] }],
    });
    const uncommented = text.replace(/^(\s*)# (- \{ path)/gm, '$1$2');
    const t = parsePolicy(uncommented, { name: 'u.yaml' }).topics[0]!;
    expect(rules(t.value)).toEqual([
      { path: 'email', action: { kind: 'fake', fake: 'email' } },
      { path: '["first name"]', action: { kind: 'keep' } },
      { path: 'total', action: { kind: 'keep' } },
    ]);
  });

  it('deduplicates fields across schema versions, keeping the first order, and lets a name finding win', () => {
    const byValues: Detection = {
      kind: 'email',
      by: 'values',
      evidence: '3 of 4 sampled values look like e-mail addresses',
      suggested: { kind: 'fake', fake: 'email' },
    };
    const { text, policy } = render({
      backup: 'b',
      topics: [
        {
          topic: 'people',
          schemas: [
            { id: 1, subject: 's', part: 'value', fields: [plain('id', LONG), plain('contact'), plain('note')] },
            { id: 2, subject: 's', part: 'value', fields: [plain('id', LONG), detected('contact', byValues), plain('note'), byName('ssn')] },
            { id: 3, subject: 's', part: 'value', fields: [plain('["id"]', LONG), plain('contact'), byName('ssn')] },
          ],
        },
      ],
    });
    expect(rules(policy.topics[0]!.value)).toEqual([
      { path: 'contact', action: { kind: 'fake', fake: 'email' } },
      { path: 'ssn', action: { kind: 'hash' } },
    ]);
    expect(text.match(/path: id,/g)).toHaveLength(1); // `["id"]` is the same path as `id`
    expect(text.match(/path: note,/g)).toHaveLength(1);
    expect(text.match(/path: ssn,/g)).toHaveLength(1);
  });

  it('picks an action every version of a field takes (a card number that became a long)', () => {
    const { policy } = render({
      backup: 'b',
      topics: [
        {
          topic: 'payments',
          schemas: [
            { id: 1, subject: null, part: 'value', fields: [byName('card_number', STR)] },
            { id: 2, subject: null, part: 'value', fields: [byName('card_number', LONG)] },
          ],
        },
      ],
    });
    expect(rules(policy.topics[0]!.value)).toEqual([{ path: 'card_number', action: { kind: 'hash' } }]);
  });

  it('writes key rules under key.fields', () => {
    const { policy } = render({
      backup: 'b',
      topics: [{ topic: 'customers', schemas: [{ id: 1, subject: null, part: 'key', fields: [byName('email'), plain('region')] }] }],
    });
    const key = policy.topics[0]!.key!;
    expect('fields' in key && rules(key.fields)).toEqual([{ path: 'email', action: { kind: 'fake', fake: 'email' } }]);
    expect(policy.topics[0]!.value).toEqual([]);
  });

  it('quotes names with dots and spaces, and takes a text that is not a path as one name', () => {
    const { text, policy } = render({
      backup: 'b',
      topics: [
        {
          topic: 't',
          schemas: [{ id: 1, subject: null, part: 'value', fields: [byName('["e.mail"]'), byName('first name'), byName('["home address"].city')] }],
        },
      ],
    });
    const value = policy.topics[0]!.value;
    expect(value.map((r) => r.path)).toEqual([
      [{ kind: 'field', name: 'e.mail' }],
      [{ kind: 'field', name: 'first name' }],
      [
        { kind: 'field', name: 'home address' },
        { kind: 'field', name: 'city' },
      ],
    ]);
    expect(text).toContain(`path: '["e.mail"]'`);
    expect(text).toContain(`path: '["first name"]'`);
  });

  it('escapes topic names so each entry matches exactly its own topic', () => {
    const names = ['orders.v1+(eu)', 'a|b', 'x*', '[dlq]^$', 'back\\slash', 'q?{2}', 'plain-name_1'];
    const { policy } = render({ backup: 'b', topics: names.map((topic) => ({ topic, schemas: [] })) });
    for (const name of names) expect(topicRules(policy, name)?.match).toBe(exactRegex(name));
    for (const other of ['ordersXv1+(eu)', 'orders.v1(eu)', 'a', 'b', 'x', 'xxx', 'dlq', 'q', 'qq', 'backslash']) expect(topicRules(policy, other)).toBeNull();
  });

  it('merges a topic named twice into one entry', () => {
    const { policy } = render({
      backup: 'b',
      topics: [
        { topic: 't', schemas: [{ id: 1, subject: null, part: 'value', fields: [byName('email')] }] },
        { topic: 't', schemas: [{ id: 2, subject: null, part: 'value', fields: [byName('phone')] }] },
      ],
    });
    expect(policy.topics).toHaveLength(1);
    expect(policy.topics[0]!.value.map((r) => r.pathText)).toEqual(['email', 'phone']);
  });

  it('lets no backup name end a comment and write YAML of its own', () => {
    const hostile = ['x\nunlisted: copy', 'y\runlisted: copy', 'z\u2028unlisted: copy', 'w\u0085unlisted: copy'];
    const input: StarterInput = {
      backup: 'b\nunlisted: copy',
      topics: [
        { topic: 'evil\nunlisted: copy', schemas: [{ id: 1, subject: 'x\ny: 1', part: 'value', fields: hostile.map((h) => plain(h)) }] },
        { topic: 'k', schemas: [{ id: 2, subject: null, part: 'key', fields: hostile.map((h) => plain(h)) }] },
      ],
    };
    const { text, policy } = render(input);
    expect(policy.unlisted).toBe('refuse');
    expect(Object.keys(parseYaml(text) as object)).toEqual(['version', 'key', 'unlisted', 'topics']);
    expect(policy.topics.map((t) => [t.value, t.key])).toEqual([
      [[], null],
      [[], null],
    ]);
    expect(topicRules(policy, 'evil\nunlisted: copy')).not.toBeNull();
    const lines = text.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/);
    expect(lines.filter((l) => /^\s*unlisted:/.test(l))).toEqual(['unlisted: refuse']);
    // and each commented rule, uncommented, names its field exactly
    const uncommented = text.replace(/^(\s*)# (\s*(?:- \{ path|value:|key:|fields:))/gm, '$1$2');
    const back = parsePolicy(uncommented, { name: 'u.yaml' });
    expect(back.topics[0]!.value.map((r) => r.path)).toEqual(hostile.map((name) => [{ kind: 'field', name }]));
    const key = back.topics[1]!.key!;
    expect('fields' in key && key.fields.map((r) => r.path)).toEqual(hostile.map((name) => [{ kind: 'field', name }]));
  });

  it('notes a topic without schema-framed records', () => {
    const { text, policy } = render({ backup: 'b', topics: [{ topic: 'raw', schemas: [] }] });
    expect(policy.topics[0]).toMatchObject({ match: 'raw', value: [], key: null });
    expect(text).toContain('# no schema-framed records found');
  });
});
