/**
 * Issue 19's record-level masking, apart from the payload formats: an action bound to a
 * field's type (leaf.ts: refusals at plan time, types kept), the consistent sample
 * (sample.ts), and one record through a topic's mask (record-mask.ts: framing checks, the
 * whole key, headers, sampling on source values, fail closed). The body maskers here are
 * small fakes: the formats have suites of their own (mask-avro, mask-protobuf, mask-json).
 */
import { keyedDigest } from '../../src/mask/hash';
import { leafMasker, LeafRefusal, type LeafMask, type LeafType, type LeafValue } from '../../src/mask/leaf';
import type { BodyMasker } from '../../src/mask/body';
import { UndecodablePayload } from '../../src/mask/body';
import type { PartMask, TopicMask } from '../../src/mask/compile';
import { RecordMasker } from '../../src/mask/record-mask';
import { canonicalBytes, fractionThreshold, inFraction, parseKeysFile } from '../../src/mask/sample';
import { parseFieldPath } from '../../src/mask/path';
import { parsePolicy, type FieldAction, type TopicRules } from '../../src/mask/policy';
import type { BackupRecord } from '../../src/segment/record';
import { TimestampType } from '../../src/segment/record';

const KEY = Buffer.alloc(32, 7);
const t = (kind: LeafType['kind'], extra: Partial<LeafType> = {}): LeafType => ({ kind, nullable: false, label: kind, ...extra });
const bind = (a: FieldAction, type: LeafType): LeafMask => {
  const m = leafMasker(a, type, KEY);
  if (m === null || m instanceof LeafRefusal) throw new Error(`not bound: ${m instanceof LeafRefusal ? m.reason : 'keep'}`);
  return m;
};

describe('leafMasker: an action bound to a field type', () => {
  it('refuses, when the plan is made, what a type cannot take', () => {
    const refused: Array<[FieldAction, LeafType]> = [
      [{ kind: 'null' }, t('string')],
      [{ kind: 'partial', first: 0, last: 4 }, t('int64')],
      [{ kind: 'fake', fake: 'email' }, t('bytes')],
      [{ kind: 'fpe' }, t('float')],
      [{ kind: 'fpe' }, t('bytes')],
      [{ kind: 'hash' }, t('boolean')],
      [{ kind: 'hash' }, t('enum', { symbols: ['ONLY'] })],
    ];
    for (const [a, ty] of refused) expect(leafMasker(a, ty, KEY)).toBeInstanceOf(LeafRefusal);
    expect(leafMasker({ kind: 'keep' }, t('string'), KEY)).toBeNull();
    expect((leafMasker({ kind: 'null' }, t('string'), KEY) as LeafRefusal).reason).toMatch(/may not.*redact/);
  });

  it('keeps the type: ints stay in their range, fixed keeps its size, enums a symbol, uuids a uuid', () => {
    const i32 = bind({ kind: 'hash' }, t('int32'))(123n) as bigint;
    expect(i32).toBeGreaterThanOrEqual(-(2n ** 31n));
    expect(i32).toBeLessThan(2n ** 31n);
    expect(i32).not.toBe(123n);
    expect((bind({ kind: 'hash' }, t('fixed', { size: 6 }))(Buffer.from('abcdef')) as Buffer).length).toBe(6);
    expect((bind({ kind: 'redact' }, t('fixed', { size: 6 }))(Buffer.from('abcdef')) as Buffer).equals(Buffer.alloc(6))).toBe(true);
    const e = bind({ kind: 'hash' }, t('enum', { symbols: ['A', 'B', 'C'] }));
    expect(['B', 'C']).toContain(e('A'));
    expect(bind({ kind: 'fpe' }, t('uuid'))('0f8fad5b-d9cb-469f-a165-70867728950e')).toMatch(/^[0-9a-f-]{36}$/);
    expect(bind({ kind: 'partial', first: 0, last: 4 }, t('string'))('4111111111111111')).toBe('************1111');
    expect(bind({ kind: 'redact' }, t('int64'))(99n)).toBe(0n);
  });

  it('null passes through every action but null; null is allowed where the type may be null', () => {
    expect(bind({ kind: 'hash' }, t('string'))(null)).toBeNull();
    expect(bind({ kind: 'null' }, t('string', { nullable: true }))('x')).toBeNull();
  });

  it('fpe of strings is 1:1 and keeps digit strings digits, letters never become digits only', () => {
    const f = bind({ kind: 'fpe' }, t('string'));
    const digits = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const out = f(String(1_000_000 + i)) as string;
      expect(out).toMatch(/^\d{7}$/);
      digits.add(out);
    }
    expect(digits.size).toBe(500);
    const mixed = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const out = f(`cust-${String(i).padStart(4, '0')}`) as string;
      expect(out).toMatch(/^[0-9A-Za-z]{4}-[0-9A-Za-z]{4}$/);
      expect(out).toMatch(/[A-Za-z]/);
      mixed.add(out);
    }
    expect(mixed.size).toBe(500);
    expect(f('1234567')).toBe(f('1234567'));
  });
});

describe('sample: a keyed, consistent subset', () => {
  it('keeps about the fraction, the same values every time, and everything at 1', () => {
    const th = fractionThreshold(0.1);
    let kept = 0;
    for (let i = 0; i < 10_000; i++) if (inFraction(KEY, Buffer.from(`c-${i}`), th)) kept++;
    expect(kept).toBeGreaterThan(850);
    expect(kept).toBeLessThan(1150);
    const again = [...Array(100).keys()].map((i) => inFraction(KEY, Buffer.from(`c-${i}`), th));
    expect([...Array(100).keys()].map((i) => inFraction(KEY, Buffer.from(`c-${i}`), th))).toEqual(again);
    expect(inFraction(KEY, Buffer.from('x'), fractionThreshold(1))).toBe(true);
    expect(() => fractionThreshold(0)).toThrow(/outside \(0, 1\]/);
    expect(() => fractionThreshold(1.5)).toThrow(/outside \(0, 1\]/);
  });

  it('decides by the first 64 bits of the keyed HMAC (domain "sample")', () => {
    const v = Buffer.from('customer-42');
    const top = keyedDigest(KEY, 'sample', v).readBigUInt64BE(0);
    expect(inFraction(KEY, v, top + 1n)).toBe(true);
    expect(inFraction(KEY, v, top)).toBe(false);
  });

  it('reads a keys file: one key per line, comments and blanks ignored; an empty one is refused', () => {
    expect([...parseKeysFile(Buffer.from('# seed\n c-1 \r\n\nc-2\n'), 'k.txt')]).toEqual(['c-1', 'c-2']);
    expect(() => parseKeysFile(Buffer.from('# nothing\n'), 'k.txt')).toThrow(/lists no key/);
    expect(() => parseKeysFile(Buffer.from([0xff, 0xfe]), 'k.txt')).toThrow(/not UTF-8/);
  });

  it('one canonical form per value: 42 as a string, a bigint and a number sample alike', () => {
    expect(canonicalBytes('42').equals(canonicalBytes(42n))).toBe(true);
    expect(canonicalBytes(42).equals(canonicalBytes('42'))).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------

const POLICY = parsePolicy(
  `version: 1
key: { env: K, encoding: base64 }
topics:
  - match: orders
    headers:
      - { name: "x-user-.*", action: hash }
      - { name: traceparent, action: keep }
      - { name: ".*", action: drop }
`,
  { name: 'p.yaml' },
);
const RULES: TopicRules = POLICY.topics[0]!;

/** A fake body masker: upper-cases the body (a "masked" payload), and reads `id=<v>` as the value at any path. */
const fakeMasker = (fail = false): BodyMasker => ({
  fields: [],
  mask: (b) => {
    if (fail) throw new UndecodablePayload('corrupt body');
    return Buffer.from(b.toString('latin1').toUpperCase(), 'latin1');
  },
  values: (b): LeafValue[] => {
    const m = /id=(\w+)/.exec(b.toString('latin1'));
    return m ? [m[1]!] : [];
  },
});

const framed = (id: number, body: string): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0, id]), Buffer.from(body, 'latin1')]);
const rec = (over: Partial<BackupRecord> = {}): BackupRecord => ({
  offset: 5n,
  timestamp: 1_700_000_000_000n,
  timestampType: TimestampType.CreateTime,
  key: Buffer.from('c-1'),
  value: framed(3, 'id=c1 email=a@b'),
  headers: [],
  ...over,
});

function topicMask(over: Partial<TopicMask>): TopicMask {
  const value: PartMask = { kind: 'framed', byId: new Map([[3, { id: 3, subject: 'orders-value', schemaType: 'AVRO', masker: fakeMasker() }]]) };
  return { topic: 'orders', rules: RULES, key: { kind: 'keep' }, value, headers: [], sample: null, passThrough: false, ...over };
}

describe('RecordMasker: one record through a topic mask', () => {
  it('masks the body behind the frame and keeps the 5 frame bytes (the ID is rewritten later)', () => {
    const out = new RecordMasker(topicMask({}), KEY).apply(rec());
    expect(out.kind).toBe('write');
    const r = (out as { record: BackupRecord }).record;
    expect(r.value!.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 3]));
    expect(r.value!.subarray(5).toString('latin1')).toBe('ID=C1 EMAIL=A@B');
    expect(r.key).toEqual(Buffer.from('c-1'));
    expect(r.offset).toBe(5n);
  });

  it('fails closed: an unchecked schema ID, an unframed value, an undecodable body', () => {
    const m = new RecordMasker(topicMask({}), KEY);
    expect(m.apply(rec({ value: framed(4, 'x') }))).toEqual({ kind: 'undecodable', reason: expect.stringMatching(/schema 4.*did not check/) as string });
    expect(m.apply(rec({ value: Buffer.from('{"a":1}') }))).toEqual({ kind: 'undecodable', reason: expect.stringMatching(/not schema-framed/) as string });
    const broken = topicMask({ value: { kind: 'framed', byId: new Map([[3, { id: 3, subject: 's', schemaType: 'AVRO', masker: fakeMasker(true) }]]) } });
    expect(new RecordMasker(broken, KEY).apply(rec())).toEqual({ kind: 'undecodable', reason: 'corrupt body' });
    // A tombstone hides nothing: it goes through.
    expect(m.apply(rec({ value: null })).kind).toBe('write');
  });

  it('masks the whole key as text, or as bytes when it is not UTF-8; null on the key gives a null key', () => {
    const hash = { kind: 'hash' } as const;
    const bound = (action: FieldAction, ty: LeafType): LeafMask | null => {
      const m = leafMasker(action, ty, KEY);
      return m instanceof LeafRefusal ? null : m;
    };
    const whole = (action: FieldAction): PartMask => ({
      kind: 'whole',
      action,
      asString: bound(action, t('string', { nullable: true })),
      asBytes: bound(action, t('bytes', { nullable: true })),
    });
    const m = new RecordMasker(topicMask({ key: whole(hash) }), KEY);
    const text = (m.apply(rec()) as { record: BackupRecord }).record.key!;
    expect(text.toString()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const raw = Buffer.from([0xff, 0x00, 0x01]);
    const bytes = (m.apply(rec({ key: raw })) as { record: BackupRecord }).record.key!;
    expect(bytes.length).toBe(3);
    expect(bytes.equals(raw)).toBe(false);
    const nulled = new RecordMasker(topicMask({ key: whole({ kind: 'null' }) }), KEY).apply(rec());
    expect((nulled as { record: BackupRecord }).record.key).toBeNull();
    // fake needs text: a binary key cannot take it, and is refused rather than copied.
    const fakeKey = new RecordMasker(topicMask({ key: whole({ kind: 'fake', fake: 'email' }) }), KEY);
    expect(fakeKey.apply(rec({ key: raw })).kind).toBe('undecodable');
  });

  it('headers: first matching rule wins; hash keeps tracing headers apart; unmatched go by the catch-all', () => {
    const m = new RecordMasker(topicMask({ headers: RULES.headers }), KEY);
    const tp = Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const out = (
      m.apply(
        rec({
          headers: [
            { key: 'traceparent', value: tp },
            { key: 'x-user-email', value: Buffer.from('alice@example.com') },
            { key: 'x-user-id', value: null },
            { key: 'other', value: Buffer.from('x') },
          ],
        }),
      ) as { record: BackupRecord }
    ).record;
    expect(out.headers.map((h) => h.key)).toEqual(['traceparent', 'x-user-email', 'x-user-id']);
    expect(out.headers[0]!.value!.equals(tp)).toBe(true);
    expect(out.headers[1]!.value!.toString()).not.toContain('alice');
    expect(out.headers[2]!.value).toBeNull();
  });

  it('samples by the SOURCE value (key or field), the same decision in every topic; records without it are left out', () => {
    const th = fractionThreshold(0.5);
    const byKey = new RecordMasker(topicMask({ sample: { by: 'key', threshold: th, keys: null } }), KEY);
    const byField = new RecordMasker(
      topicMask({ sample: { by: 'field', path: parseFieldPath('customer.id'), pathText: 'customer.id', threshold: th, keys: null } }),
      KEY,
    );
    let kept = 0;
    for (let i = 0; i < 200; i++) {
      const a = byKey.apply(rec({ key: Buffer.from(`c${i}`) })).kind;
      const b = byField.apply(rec({ key: Buffer.from('other'), value: framed(3, `id=c${i}`) })).kind;
      expect(b).toBe(a);
      if (a === 'write') kept++;
    }
    expect(kept).toBeGreaterThan(60);
    expect(kept).toBeLessThan(140);
    expect(byKey.apply(rec({ key: null })).kind).toBe('sampled-out');
    expect(byField.apply(rec({ value: framed(3, 'no id here') })).kind).toBe('sampled-out');
    const listed = new RecordMasker(topicMask({ sample: { by: 'key', threshold: null, keys: new Set(['c-1']) } }), KEY);
    expect(listed.apply(rec()).kind).toBe('write');
    expect(listed.apply(rec({ key: Buffer.from('c-2') })).kind).toBe('sampled-out');
  });
});
