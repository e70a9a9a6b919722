/**
 * The masking policy file (src/mask, issue 19 item 1): parsing, refusals with file:line:col,
 * key loading and provenance. Positions in the expectations are counted by hand from the
 * YAML written here (line and column 1-based), not taken from the parser.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors';
import { parsePolicy, topicRules, unmatchedTopics, type MaskPolicy } from '../../src/mask/policy';
import { formatFieldPath, parseFieldPath } from '../../src/mask/path';
import { inspect } from 'node:util';
import { loadMaskKey, MaskKey } from '../../src/mask/key';
import { policyDigest, policyProvenance } from '../../src/mask/provenance';
import { manifestLaneSchema, type LaneMasking } from '../../src/backup/manifest';
import { InternalError } from '../../src/errors';

const NAME = 'seed-policy.yaml';
const KEY = '  key: { env: KBAK_MASK_KEY, encoding: base64 }';

/** A policy from lines (joined with \n), so line numbers are the array's indexes + 1. */
const yaml = (...lines: string[]) => lines.join('\n') + '\n';
const parse = (text: string) => parsePolicy(text, { name: NAME });

function refusal(text: string): UsageError {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    const err = e as UsageError;
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error('the policy was accepted');
}

/** A valid frame around one topic's lines (each indented by the caller), starting at line 5. */
const withTopic = (...topicLines: string[]) => yaml('version: 1', KEY.trimStart(), 'unlisted: refuse', 'topics:', ...topicLines);

describe('parsePolicy: a complete policy', () => {
  const text = yaml(
    'version: 1',
    'key: { env: KBAK_MASK_KEY, encoding: base64 }',
    'unlisted: copy',
    'topics:',
    '  - match: "orders|payments"',
    '    value:',
    '      - { path: customer.email, action: fake, fake: email }',
    '      - { path: "items[*].card", action: partial, keep: last4 }',
    '      - { path: customer.id, action: fpe }',
    '      - { path: note, action: null, optional: true }',
    '      - { path: "attrs{*}", action: redact }',
    '      - { path: \'["first name"]\', action: hash }',
    '    key: { action: hash }',
    '    headers: [ { name: "x-user-.*", action: hash }, { name: "traceparent", action: keep } ]',
    '    sample: { fraction: 0.01, by: key }',
    '  - match: customers',
    '    key:',
    '      fields:',
    '        - { path: id, action: fpe }',
    '        - { path: region, action: partial, keep: first2+last1 }',
    '    sample: { keys-from: /seed/customers.txt, by: id }',
    '  - match: audit.*',
  );

  it('parses into typed rules with positions', () => {
    const p = parse(text);
    expect(p).toEqual<MaskPolicy>({
      source: NAME,
      version: 1,
      key: { from: 'env', env: 'KBAK_MASK_KEY', encoding: 'base64', at: `${NAME}:2:6` },
      unlisted: 'copy',
      topics: [
        {
          match: 'orders|payments',
          pattern: /^(?:orders|payments)$/,
          value: [
            {
              path: [
                { kind: 'field', name: 'customer' },
                { kind: 'field', name: 'email' },
              ],
              pathText: 'customer.email',
              action: { kind: 'fake', fake: 'email' },
              optional: false,
              at: `${NAME}:7:9`,
            },
            {
              path: [{ kind: 'field', name: 'items' }, { kind: 'items' }, { kind: 'field', name: 'card' }],
              pathText: 'items[*].card',
              action: { kind: 'partial', first: 0, last: 4 },
              optional: false,
              at: `${NAME}:8:9`,
            },
            {
              path: [
                { kind: 'field', name: 'customer' },
                { kind: 'field', name: 'id' },
              ],
              pathText: 'customer.id',
              action: { kind: 'fpe' },
              optional: false,
              at: `${NAME}:9:9`,
            },
            { path: [{ kind: 'field', name: 'note' }], pathText: 'note', action: { kind: 'null' }, optional: true, at: `${NAME}:10:9` },
            {
              path: [{ kind: 'field', name: 'attrs' }, { kind: 'values' }],
              pathText: 'attrs{*}',
              action: { kind: 'redact' },
              optional: false,
              at: `${NAME}:11:9`,
            },
            { path: [{ kind: 'field', name: 'first name' }], pathText: '["first name"]', action: { kind: 'hash' }, optional: false, at: `${NAME}:12:9` },
          ],
          key: { whole: { kind: 'hash' }, at: `${NAME}:13:10` },
          headers: [
            { name: 'x-user-.*', pattern: /^(?:x-user-.*)$/, action: 'hash', at: `${NAME}:14:16` },
            { name: 'traceparent', pattern: /^(?:traceparent)$/, action: 'keep', at: `${NAME}:14:53` },
          ],
          sample: { fraction: 0.01, by: { kind: 'key' }, at: `${NAME}:15:13` },
          at: `${NAME}:5:5`,
        },
        {
          match: 'customers',
          pattern: /^(?:customers)$/,
          value: [],
          key: {
            fields: [
              { path: [{ kind: 'field', name: 'id' }], pathText: 'id', action: { kind: 'fpe' }, optional: false, at: `${NAME}:19:11` },
              {
                path: [{ kind: 'field', name: 'region' }],
                pathText: 'region',
                action: { kind: 'partial', first: 2, last: 1 },
                optional: false,
                at: `${NAME}:20:11`,
              },
            ],
            at: `${NAME}:18:7`,
          },
          headers: [],
          sample: { keysFrom: '/seed/customers.txt', by: { kind: 'field', path: [{ kind: 'field', name: 'id' }], pathText: 'id' }, at: `${NAME}:21:13` },
          at: `${NAME}:16:5`,
        },
        { match: 'audit.*', pattern: /^(?:audit.*)$/, value: [], key: null, headers: [], sample: null, at: `${NAME}:22:5` },
      ],
    });
  });

  it('reads the same policy written as JSON (JSON is YAML: one parser)', () => {
    const json = JSON.stringify(
      {
        version: 1,
        key: { file: '/secrets/mask.key', encoding: 'hex' },
        topics: [
          {
            match: 'orders',
            value: [
              { path: 'customer.email', action: 'fake', fake: 'email' },
              { path: 'note', action: null },
            ],
            key: { action: 'hash' },
          },
        ],
      },
      null,
      2,
    );
    const p = parsePolicy(json, { name: 'seed-policy.json' });
    // Positions counted in the JSON text itself.
    const pos = (text: string, needle: string) => {
      const before = text.slice(0, text.indexOf(needle));
      return `seed-policy.json:${before.split('\n').length}:${before.length - before.lastIndexOf('\n')}`;
    };
    expect(p.key).toEqual({ from: 'file', file: '/secrets/mask.key', encoding: 'hex', at: pos(json, '{\n    "file"') });
    expect(p.unlisted).toBe('refuse');
    expect(p.topics[0]!.value.map((r) => [r.pathText, r.action])).toEqual([
      ['customer.email', { kind: 'fake', fake: 'email' }],
      ['note', { kind: 'null' }],
    ]);
    expect(p.topics[0]!.key).toEqual({ whole: { kind: 'hash' }, at: pos(json, '{\n        "action": "hash"') });
    const bad = json.replace('"fake": "email"', '"fake": "e-mail"');
    expect(() => parsePolicy(bad, { name: 'seed-policy.json' })).toThrow(`${pos(bad, '"e-mail"')}: unknown fake kind "e-mail"`);
  });

  it('parses the complete example of docs/masking-policy.md', () => {
    const doc = readFileSync(join(__dirname, '../../docs/masking-policy.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const p = parsePolicy(example, { name: 'masking-policy.md' });
    expect(p.topics.map((t) => t.match)).toEqual(['orders|payments', 'customers', 'audit\\..*']);
    expect(topicRules(p, 'audit.login')!.value).toEqual([]);
    expect(topicRules(p, 'auditXlogin')).toBeNull();
    expect(p.topics[0]!.headers.map((h) => [h.name, h.action])).toEqual([
      ['x-user-.*', 'hash'],
      ['traceparent', 'keep'],
      ['.*', 'drop'],
    ]);
    expect(p.topics[1]!.value[0]!.action).toEqual({ kind: 'partial', first: 3, last: 2 });
  });

  it('applies the first entry whose match covers the whole topic name, and lists the unmatched', () => {
    const p = parse(
      yaml(
        'version: 1',
        'key: { env: K, encoding: hex }',
        'topics:',
        '  - { match: "orders.*", key: { action: hash } }',
        '  - { match: "orders-eu", key: { action: redact } }',
        '  - { match: "pay" }',
      ),
    );
    expect(topicRules(p, 'orders-eu')!.key).toEqual({ whole: { kind: 'hash' }, at: `${NAME}:4:31` });
    expect(topicRules(p, 'orders')!.match).toBe('orders.*');
    expect(topicRules(p, 'pay')!.match).toBe('pay');
    // Whole names only: "pay" does not match "payments", "orders.*" does not match "x-orders".
    expect(topicRules(p, 'payments')).toBeNull();
    expect(topicRules(p, 'x-orders')).toBeNull();
    expect(unmatchedTopics(p, ['payments', 'orders-us', 'x-orders', 'pay'])).toEqual(['payments', 'x-orders']);
  });
});

describe('parsePolicy: refusals name file:line:col', () => {
  const cases: [string, string, string][] = [
    ['a YAML syntax error', yaml('version: 1', 'topics: [ { match: a }', 'key: 1'), `${NAME}:3:1: YAML syntax error`],
    ['a JSON syntax error', '{\n  "version": 1,\n  "topics": [,]\n}\n', `${NAME}:3:14: YAML syntax error: Unexpected , in flow sequence`],
    ['a duplicate key', yaml('version: 1', 'version: 1'), `${NAME}:2:1: YAML syntax error: Map keys must be unique`],
    ['an empty policy', '\n', `${NAME}:1:1: the policy is empty`],
    [
      'an unknown top-level field',
      yaml('version: 1', KEY.trimStart(), 'unlistd: copy', 'topics: [ { match: a } ]'),
      `${NAME}:3:1: unknown field "unlistd" (use version, key, unlisted, topics)`,
    ],
    [
      'an unknown rule field',
      withTopic('  - match: orders', '    value:', '      - { path: a, acton: hash }'),
      `${NAME}:7:20: unknown field "acton" (use path, action, keep, fake, optional)`,
    ],
    [
      'an unknown action',
      withTopic('  - match: orders', '    value:', '      - path: a', '      - path: b', '        action: hashh'),
      `${NAME}:9:17: unknown action "hashh" (use keep, redact, null, partial, hash, fpe, fake)`,
    ],
    [
      'an unknown header action',
      withTopic('  - match: orders', '    headers: [ { name: x, action: null } ]'),
      `${NAME}:6:35: unknown header action null (use keep, drop, hash)`,
    ],
    [
      'a header action of fields',
      withTopic('  - match: orders', '    headers: [ { name: x, action: redact } ]'),
      `${NAME}:6:35: unknown header action "redact" (use keep, drop, hash)`,
    ],
    [
      'an unknown unlisted',
      yaml('version: 1', KEY.trimStart(), 'unlisted: ignore', 'topics: [ { match: a } ]'),
      `${NAME}:3:11: unknown unlisted "ignore" (use refuse, copy)`,
    ],
    ['another version', yaml('version: 2', KEY.trimStart(), 'topics: [ { match: a } ]'), `${NAME}:1:10: version must be 1`],
    ['no topics', yaml('version: 1', KEY.trimStart()), `${NAME}:1:1: missing field "topics"`],
    ['an empty topic list', yaml('version: 1', KEY.trimStart(), 'topics: []'), `${NAME}:3:9: topics is empty`],
    ['a rule without an action', withTopic('  - match: orders', '    value:', '      - path: a'), `${NAME}:7:9: missing field "action"`],
    ['an empty action', withTopic('  - match: orders', '    value:', '      - path: a', '        action:'), `${NAME}:8:9: action is empty (use keep, redact`],
    ['an invalid regex', withTopic('  - match: orders', '  - match: "(pay"'), `${NAME}:6:12: invalid regex "(pay": `],
    [
      'an invalid header regex',
      withTopic('  - match: orders', '    headers:', '      - { name: "x-[", action: drop }'),
      `${NAME}:7:17: invalid regex "x-[": Unterminated character class`,
    ],
    ['a fraction of 0', withTopic('  - match: orders', '    sample: { fraction: 0 }'), `${NAME}:6:25: fraction 0 is outside (0, 1]`],
    ['a fraction above 1', withTopic('  - match: orders', '    sample:', '      fraction: 1.5'), `${NAME}:7:17: fraction 1.5 is outside (0, 1]`],
    ['a negative fraction', withTopic('  - match: orders', '    sample: { fraction: -0.1 }'), `${NAME}:6:25: fraction -0.1 is outside (0, 1]`],
    ['an infinite fraction', withTopic('  - match: orders', '    sample: { fraction: .inf }'), `${NAME}:6:25: fraction Infinity is outside (0, 1]`],
    [
      'both fraction and keys-from',
      withTopic('  - match: orders', '    sample: { fraction: 0.5, keys-from: k.txt }'),
      `${NAME}:6:30: sample has both fraction and keys-from: use one`,
    ],
    ['a sample with neither', withTopic('  - match: orders', '    sample: { by: key }'), `${NAME}:6:13: sample needs fraction`],
    [
      'a malformed path',
      withTopic('  - match: orders', '    value:', '      - { path: "items[*.card", action: hash }'),
      `${NAME}:7:17: malformed path "items[*.card": expected "[*]" (every item) or ["name"] at character 6`,
    ],
    [
      'a path starting with a dot',
      withTopic('  - match: orders', '    value:', '      - { path: .a, action: hash }'),
      `${NAME}:7:17: malformed path ".a": a path starts with`,
    ],
    [
      'a malformed sample path',
      withTopic('  - match: orders', '    sample: { fraction: 0.5, by: "a..b" }'),
      `${NAME}:6:34: malformed path "a..b": expected a field name after "." at character 3`,
    ],
    [
      'a malformed key field path',
      withTopic('  - match: orders', '    key: { fields: [ { path: "a{x}", action: hash } ] }'),
      `${NAME}:6:30: malformed path "a{x}": expected "{*}" (every map value) at character 2`,
    ],
    [
      'partial without keep',
      withTopic('  - match: orders', '    value:', '      - { path: card, action: partial }'),
      `${NAME}:7:31: action partial needs keep`,
    ],
    [
      'partial with a bad keep',
      withTopic('  - match: orders', '    value:', '      - { path: card, action: partial, keep: last }'),
      `${NAME}:7:46: keep "last" is not lastN`,
    ],
    [
      'partial keeping nothing',
      withTopic('  - match: orders', '    value:', '      - { path: card, action: partial, keep: last0 }'),
      `${NAME}:7:46: keep "last0": each count must be 1 to 100`,
    ],
    [
      'keep on another action',
      withTopic('  - match: orders', '    value:', '      - { path: card, action: hash, keep: last4 }'),
      `${NAME}:7:37: keep applies to action partial only, not hash`,
    ],
    [
      'fake without a kind',
      withTopic('  - match: orders', '    value:', '      - { path: email, action: fake }'),
      `${NAME}:7:32: action fake needs fake: one of email, name, phone, address, ip, uuid`,
    ],
    [
      'fake of an unknown kind',
      withTopic('  - match: orders', '    value:', '      - { path: email, action: fake, fake: iban }'),
      `${NAME}:7:44: unknown fake kind "iban" (use email, name, phone, address, ip, uuid)`,
    ],
    [
      'two rules for one path',
      withTopic(
        '  - match: orders',
        '    value:',
        '      - { path: customer.email, action: hash }',
        '      - { path: note, action: keep }',
        '      - { path: \'["customer"].email\', action: redact }',
      ),
      `${NAME}:9:17: a second rule for path "customer.email" (the first is at 7:9)`,
    ],
    [
      'two rules for one header',
      withTopic('  - match: orders', '    headers:', '      - { name: x, action: drop }', '      - { name: x, action: keep }'),
      `${NAME}:8:17: a second rule for header "x" (the first is at 7:9)`,
    ],
    ['a key with an action and fields', withTopic('  - match: orders', '    key: { action: hash, fields: [] }'), `${NAME}:6:10: key has both an action`],
    ['a key with neither', withTopic('  - match: orders', '    key: {}'), `${NAME}:6:10: key needs an action`],
    [
      'a policy key with env and file',
      yaml('version: 1', 'key: { env: K, file: f, encoding: hex }', 'topics: [ { match: a } ]'),
      `${NAME}:2:6: key names both env and file`,
    ],
    ['a policy key with neither', yaml('version: 1', 'key: { encoding: hex }', 'topics: [ { match: a } ]'), `${NAME}:2:6: key names neither env nor file`],
    [
      'a policy key of another encoding',
      yaml('version: 1', 'key: { env: K, encoding: raw }', 'topics: [ { match: a } ]'),
      `${NAME}:2:26: encoding must be base64 or hex`,
    ],
    ['a topic without match', withTopic('  - value: []'), `${NAME}:5:5: missing field "match"`],
    ['topics not a list', yaml('version: 1', KEY.trimStart(), 'topics: { match: a }'), `${NAME}:3:9: topics must be a list`],
  ];
  it.each(cases)('refuses %s', (_what, text, expected) => {
    expect(refusal(text).message).toContain(expected);
    expect(refusal(text).message.startsWith(expected.slice(0, expected.indexOf(': ') + 2))).toBe(true);
  });

  it('refuses the key written into the policy, and never echoes it', () => {
    const secret = 'c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWJjZGVm';
    const err = refusal(yaml('version: 1', 'key:', `  value: ${secret}`, '  encoding: base64', 'topics: [ { match: a } ]'));
    expect(err.message).toBe(`${NAME}:3:3: the masking key never appears in a policy: name the environment variable (env) or the file (file) that holds it`);
    const inEncoding = refusal(yaml('version: 1', `key: { env: K, encoding: ${secret} }`, 'topics: [ { match: a } ]'));
    expect(inEncoding.message).not.toContain(secret.slice(0, 8));
  });

  it('reports the problem that comes first in the file when there are several', () => {
    const err = refusal(
      withTopic('  - match: orders', '    value:', '      - { path: a, action: hashh }', '    sample: { fraction: 2 }', '  - { match: b, bogus: 1 }'),
    );
    expect(err.message).toMatch(new RegExp(`^${NAME}:7:28: unknown action "hashh"`));
  });
});

describe('parsePolicy on any input', () => {
  /** Never a bug (exit 70) or a raw TypeError: a policy or one UsageError line. */
  const onlyUsageErrors = (text: string) => {
    try {
      parse(text);
    } catch (e) {
      if (!(e instanceof UsageError) || e.message.includes('\n') || !e.message.startsWith(`${NAME}:`)) throw e;
    }
  };
  const word = fc.constantFrom(
    'version',
    'key',
    'env',
    'file',
    'value',
    'encoding',
    'unlisted',
    'topics',
    'match',
    'path',
    'action',
    'keep',
    'fake',
    'optional',
    'headers',
    'name',
    'sample',
    'fraction',
    'keys-from',
    'by',
    'fields',
    'hash',
    'partial',
    'null',
    'last4',
    'a[*]',
    '__proto__',
    '(',
  );
  const node = fc.letrec((tie) => ({
    any: fc.oneof(
      { depthSize: 'small' },
      word,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('any'), { maxLength: 3 }),
      fc.dictionary(word, tie('any'), { maxKeys: 4 }),
    ),
  })).any;

  it('refuses arbitrary text and structures with a UsageError only', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), onlyUsageErrors), { numRuns: 300 });
    fc.assert(
      fc.property(node, (v) => {
        onlyUsageErrors(JSON.stringify(v) ?? 'null');
        onlyUsageErrors(JSON.stringify({ version: 1, key: { env: 'K', encoding: 'hex' }, topics: [v] }));
        onlyUsageErrors(
          JSON.stringify({ version: 1, key: { env: 'K', encoding: 'hex' }, topics: [{ match: 'a', value: [v], key: v, headers: [v], sample: v }] }),
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('field paths', () => {
  it('parses steps and prints the canonical text back', () => {
    expect(parseFieldPath('[*].a{*}.b')).toEqual([{ kind: 'items' }, { kind: 'field', name: 'a' }, { kind: 'values' }, { kind: 'field', name: 'b' }]);
    expect(parseFieldPath('["a.b"]["c\\"d"]')).toEqual([
      { kind: 'field', name: 'a.b' },
      { kind: 'field', name: 'c"d' },
    ]);
    for (const text of ['customer.email', 'items[*].card', 'm{*}[*]', '["first name"].x', '$ref._id', 'a-b.c']) {
      expect(formatFieldPath(parseFieldPath(text))).toBe(text);
    }
    expect(formatFieldPath(parseFieldPath('["customer"]["email"]'))).toBe('customer.email');
  });

  it.each(['', 'a.', 'a..b', 'a[0]', 'a[*', 'a{}', 'a b', 'a.[*]', 'a[*]b', '["a"', '[""]', '["a"x'])('refuses %j', (text) => {
    expect(() => parseFieldPath(text)).toThrow(/at character \d+/);
  });
});

describe('loadMaskKey', () => {
  /** 0x00..0x1f and 0x01..0x20; fingerprints computed with openssl, not kbak:
   *  printf 'kbak key fingerprint v1' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key hex> */
  const KEY32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const OTHER32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));
  const FP32 = 'b685ddbd82b402cd';
  const FP_OTHER = 'c9ce8bfcefca2c99';

  const policyWith = (key: string) => parse(yaml('version: 1', `key: ${key}`, 'topics: [ { match: a } ]'));
  const envPolicy = (encoding: string) => policyWith(`{ env: KBAK_MASK_KEY, encoding: ${encoding} }`);
  const filePolicy = (encoding: string) => policyWith(`{ file: /secrets/mask.key, encoding: ${encoding} }`);
  const noFile = () => {
    throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
  };
  const fileOf = (content: string) => (path: string) => {
    expect(path).toBe('/secrets/mask.key');
    return Buffer.from(content);
  };

  async function keyRefusal(p: Promise<unknown>): Promise<UsageError> {
    const err = await p.then(
      () => {
        throw new Error('the key was accepted');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).not.toContain('\n');
    return err as UsageError;
  }

  it('reads base64 from the environment and hex from a file, to the same bytes and fingerprint', async () => {
    const fromEnv = await loadMaskKey(envPolicy('base64'), { KBAK_MASK_KEY: KEY32.toString('base64') }, noFile);
    expect(fromEnv.bytes()).toEqual(KEY32);
    expect(fromEnv.fingerprint).toBe(FP32);
    // A file as `openssl rand -hex` or `xxd -p` writes it: wrapped, with a final newline.
    const hex = KEY32.toString('hex');
    const fromFile = await loadMaskKey(filePolicy('hex'), {}, fileOf(`${hex.slice(0, 30)}\n${hex.slice(30).toUpperCase()}\n`));
    expect(fromFile.bytes()).toEqual(KEY32);
    expect(fromFile.fingerprint).toBe(FP32);
    const b64file = await loadMaskKey(filePolicy('base64'), {}, async (path) => fileOf(`${KEY32.toString('base64')}\n`)(path));
    expect(b64file.fingerprint).toBe(FP32);
  });

  it('gives another key another fingerprint', async () => {
    const other = await loadMaskKey(envPolicy('hex'), { KBAK_MASK_KEY: OTHER32.toString('hex') }, noFile);
    expect(other.fingerprint).toBe(FP_OTHER);
    expect(other.fingerprint).not.toBe(FP32);
  });

  it('accepts 32 bytes and refuses 31, saying how many it has', async () => {
    const k33 = Buffer.concat([KEY32, Buffer.from([7])]);
    expect((await loadMaskKey(envPolicy('base64'), { KBAK_MASK_KEY: k33.toString('base64') }, noFile)).bytes()).toEqual(k33);
    const err = await keyRefusal(loadMaskKey(envPolicy('base64'), { KBAK_MASK_KEY: KEY32.subarray(0, 31).toString('base64') }, noFile));
    expect(err.message).toBe(`the masking key in environment variable KBAK_MASK_KEY (named by ${NAME}:2:6) has 31 bytes; 32 are needed`);
    const hex = await keyRefusal(loadMaskKey(filePolicy('hex'), {}, fileOf(KEY32.subarray(0, 31).toString('hex'))));
    expect(hex.message).toContain('file "/secrets/mask.key"');
    expect(hex.message).toContain('has 31 bytes; 32 are needed');
  });

  it('refuses a missing variable, a missing file, an empty key and text of another encoding', async () => {
    expect((await keyRefusal(loadMaskKey(envPolicy('base64'), {}, noFile))).message).toBe(
      `the masking key's environment variable KBAK_MASK_KEY (named by ${NAME}:2:6) is not set`,
    );
    expect((await keyRefusal(loadMaskKey(filePolicy('hex'), {}, noFile))).message).toBe(
      `the masking key's file "/secrets/mask.key" (named by ${NAME}:2:6) cannot be read: ENOENT`,
    );
    expect((await keyRefusal(loadMaskKey(envPolicy('base64'), { KBAK_MASK_KEY: ' \n' }, noFile))).message).toContain('has 0 bytes; 32 are needed');
    const notB64 = [KEY32.toString('base64url').replace(/=/g, '') + '_-', KEY32.toString('base64').slice(1), KEY32.toString('hex') + '!'];
    for (const text of notB64) {
      expect((await keyRefusal(loadMaskKey(envPolicy('base64'), { KBAK_MASK_KEY: text }, noFile))).message).toContain('is not base64');
    }
    for (const text of [KEY32.toString('hex').slice(1), KEY32.toString('base64')]) {
      expect((await keyRefusal(loadMaskKey(envPolicy('hex'), { KBAK_MASK_KEY: text }, noFile))).message).toContain('is not hex');
    }
  });

  it('never puts the key text, or a piece of it, in an error or in how a key prints', async () => {
    const secret = KEY32.toString('base64');
    const attempts: [string, Record<string, string>][] = [
      ['hex', { KBAK_MASK_KEY: secret }], // base64 text read as hex: refused
      ['base64', { KBAK_MASK_KEY: secret.slice(0, 40) + '!!!!' }], // a mistyped key
      ['base64', { KBAK_MASK_KEY: KEY32.subarray(0, 31).toString('base64') }], // too short
      ['base64', { OTHER: secret }], // the key in the wrong variable
    ];
    const pieces = (text: string) => Array.from({ length: text.length - 5 }, (_, i) => text.slice(i, i + 6));
    for (const [encoding, env] of attempts) {
      const err = await keyRefusal(loadMaskKey(envPolicy(encoding), env, noFile));
      const shown = [err.message, err.hint ?? '', JSON.stringify(err), inspect(err)].join('\n');
      for (const text of Object.values(env)) for (const piece of pieces(text)) expect(shown).not.toContain(piece);
    }
    const key = await loadMaskKey(envPolicy('base64'), { KBAK_MASK_KEY: secret }, noFile);
    expect(key).toBeInstanceOf(MaskKey);
    for (const shown of [JSON.stringify(key), inspect(key), String(key), inspect({ key })]) {
      expect(shown).not.toContain(secret.slice(0, 8));
      expect(shown).not.toContain(KEY32.toString('hex').slice(2, 12));
    }
    expect(JSON.parse(JSON.stringify(key))).toEqual({ fingerprint: FP32 });
  });
});

describe('policy provenance (FORMAT.md settled point 25)', () => {
  // Digests from sha256sum: printf 'version: 1\n' | sha256sum; printf 'v\xc3\xa9rsion: 1\r\n' | sha256sum
  const PLAIN = '09bfcc6a14b83e2192b8673677725c84883ee9cd0c70e45c9ec09daa8f2b2847';
  const ACCENT_CRLF = '652e27fc1a015ddff1258841f64e36789394846f8dc11d5bf04da0fec0089a7f';

  it('digests the file bytes, a string as its UTF-8 bytes', () => {
    expect(policyDigest('version: 1\n')).toBe(PLAIN);
    expect(policyDigest(Buffer.from('version: 1\n'))).toBe(PLAIN);
    expect(policyDigest(Buffer.from([0x76, 0xc3, 0xa9, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x3a, 0x20, 0x31, 0x0d, 0x0a]))).toBe(ACCENT_CRLF);
    expect(policyDigest('vérsion: 1\r\n')).toBe(ACCENT_CRLF);
  });

  it("builds exactly the manifest's lane.masking object, which the manifest schema accepts", () => {
    const prov = policyProvenance({
      policyName: 'seed-policy.yaml',
      policyText: 'version: 1\n',
      keyFingerprint: 'b685ddbd82b402cd',
      faker: { name: '@faker-js/faker', version: '9.9.0' },
    });
    expect(prov).toEqual({ policy: 'seed-policy.yaml', policySha256: PLAIN, keyFingerprint: 'b685ddbd82b402cd', faker: '@faker-js/faker@9.9.0' });
    const typed: LaneMasking = prov; // and the types agree, both ways
    const back: typeof prov = typed;
    const lane = { name: 'dev', templates: { topic: '{lane}.{name}', subject: '{lane}.{name}', group: '{lane}.{name}' }, masking: prov };
    expect(manifestLaneSchema.strict().parse(lane).masking).toEqual(back);
  });

  it('refuses a name the ledger cannot hold, and treats a bad version or fingerprint as a bug', () => {
    const base = { policyName: 'p.yaml', policyText: 'x', keyFingerprint: 'b685ddbd82b402cd', faker: { name: '@faker-js/faker', version: '9.9.0' } };
    expect(() => policyProvenance({ ...base, policyName: 'p'.repeat(256) })).toThrow(UsageError);
    expect(() => policyProvenance({ ...base, policyName: '' })).toThrow(UsageError);
    expect(policyProvenance({ ...base, policyName: 'p'.repeat(255) }).policy).toHaveLength(255);
    expect(() => policyProvenance({ ...base, faker: { name: '@faker-js/faker', version: '^9.9.0' } })).toThrow(InternalError);
    expect(() => policyProvenance({ ...base, faker: { name: 'f'.repeat(95), version: '9.9.0' } })).toThrow(InternalError);
    expect(() => policyProvenance({ ...base, keyFingerprint: 'B685DDBD82B402CD' })).toThrow(InternalError);
  });
});
