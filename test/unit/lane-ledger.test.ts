import { decodeLedgerEntry, encodeLedgerEntry, foldLedger, MAX_LEDGER_RECORD_BYTES, ttlLeftMs, type LedgerEntry } from '../../src/lane/ledger';
import { restoreIntent, withRemaining, withState, withSubjectVersions, withTopicIds } from '../../src/lane/intent';
import { expiredLanes, planLaneDelete } from '../../src/lane/delete-plan';
import { assertSameTemplates, groupOwnership, LaneScope, laneTemplates, subjectOwnership, topicOwnership } from '../../src/lane/ownership';

const ID_A = 'AAAAAAAAAAAAAAAAAAAAAA';
const ID_B = 'q1Sh-9_tRpe0aM9e4GGa1w';

function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    format: 1,
    lane: 'fx',
    seededFrom: { cluster: 'prod', backupId: '20261125T120000000Z' },
    createdAt: '2026-11-25T12:00:00.000Z',
    updatedAt: '2026-11-25T12:00:01.000Z',
    kbakVersion: '0.1.0',
    ttlMs: 3_600_000,
    expiresAt: '2026-11-25T13:00:00.000Z',
    state: 'ready',
    templates: laneTemplates({}),
    topics: [
      { name: 'fx.orders', source: 'orders', id: ID_A, pending: false },
      { name: 'fx.new', source: 'new', id: null, pending: true },
    ],
    subjects: [{ name: 'fx.orders-value', source: 'orders-value', versions: [1, 2] }],
    groups: [{ name: 'fx.billing', source: 'billing' }],
    ...over,
  };
}

describe('ledger codec', () => {
  it('round-trips an entry, keyed by the lane', () => {
    const { key, value } = encodeLedgerEntry(entry());
    expect(key.toString()).toBe('fx');
    expect(decodeLedgerEntry(key, value)).toEqual(entry());
    // Plain JSON, readable by anything.
    expect(JSON.parse(value.toString()).topics[0].id).toBe(ID_A);
  });

  it('refuses untrusted content with a one-line error naming the key', () => {
    const k = Buffer.from('fx');
    const bad = (v: unknown) => Buffer.from(JSON.stringify(v));
    expect(() => decodeLedgerEntry(k, Buffer.from('{nope'))).toThrow('ledger record "fx" is not JSON');
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), format: 2 }))).toThrow(/ledger record "fx" is invalid: format/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), topics: [{ name: 'fx.a', source: 'a', id: 'not-an-id', pending: false }] }))).toThrow(/topics.0.id/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), createdAt: 'yesterday' }))).toThrow(/createdAt/);
    expect(() => decodeLedgerEntry(Buffer.from('other'), bad(entry()))).toThrow('describes lane "fx" instead');
    expect(() => decodeLedgerEntry(Buffer.from('Fx'), bad({ ...entry(), lane: 'Fx' }))).toThrow('invalid lane name');
    expect(() => decodeLedgerEntry(null, bad(entry()))).toThrow('without a key');
    expect(() => decodeLedgerEntry(k, Buffer.alloc(MAX_LEDGER_RECORD_BYTES + 1, 0x20))).toThrow(/byte limit/);
  });

  it('refuses to encode an entry above the size bound', () => {
    const topics = Array.from({ length: 5000 }, (_, i) => ({ name: `fx.${'t'.repeat(200)}${i}`, source: `${'t'.repeat(200)}${i}`, id: ID_A, pending: false }));
    expect(() => encodeLedgerEntry(entry({ topics }))).toThrow(/above the 921600 byte limit/);
  });

  it('folds records: last per key wins, tombstones remove, invalid ones are reported and not trusted', () => {
    const a = encodeLedgerEntry(entry());
    const b = encodeLedgerEntry(entry({ lane: 'gx', topics: [], subjects: [], groups: [] }));
    const a2 = encodeLedgerEntry(entry({ state: 'deleting' }));
    const read = foldLedger([
      a,
      b,
      { key: a.key, value: Buffer.from('garbage') },
      a2,
      { key: b.key, value: null },
      { key: Buffer.from('hx'), value: Buffer.from('{}') },
    ]);
    expect([...read.entries.keys()]).toEqual(['fx']);
    expect(read.entries.get('fx')!.state).toBe('deleting');
    expect(read.invalid).toEqual([{ key: 'hx', reason: expect.stringContaining('ledger record "hx" is invalid') }]);
  });

  it('computes the TTL left', () => {
    expect(ttlLeftMs(entry(), new Date('2026-11-25T12:30:00.000Z'))).toBe(1_800_000);
    expect(ttlLeftMs(entry(), new Date('2026-11-25T14:00:00.000Z'))).toBe(-3_600_000);
    expect(ttlLeftMs(entry({ ttlMs: null, expiresAt: null }), new Date())).toBeNull();
  });
});

describe('ownership', () => {
  const scope = new LaneScope('fx', laneTemplates({}));

  it('matches names by the lane templates only', () => {
    expect(scope.topicInLane('fx.orders')).toBe(true);
    expect(scope.topicInLane('fx.')).toBe(false);
    expect(scope.topicInLane('fxx.orders')).toBe(false);
    expect(scope.topicInLane('fx-orders')).toBe(false);
    expect(scope.topicInLane('orders')).toBe(false);
    expect(scope.subjectInLane('fx.orders-value')).toBe(true);
    expect(scope.subjectInLane('fx.com.acme.Order')).toBe(true);
    expect(scope.subjectInLane('orders-value')).toBe(false);
    expect(scope.groupInLane('fx.billing')).toBe(true);
    expect(scope.groupInLane('billing')).toBe(false);
    const custom = new LaneScope('fx', laneTemplates({ topicTemplate: 'lane_{lane}_{topic}', groupTemplate: '{group}@{lane}' }));
    expect(custom.topicInLane('lane_fx_orders')).toBe(true);
    expect(custom.topicInLane('fx.orders')).toBe(false);
    expect(custom.subjectInLane('lane_fx_orders-key')).toBe(true);
    expect(custom.groupInLane('billing@fx')).toBe(true);
  });

  it("owns a topic only when the ledger names it with the same ID and the name is the lane's", () => {
    const e = entry();
    expect(topicOwnership(e, scope, 'fx.orders', { id: ID_A, empty: false })).toEqual({ owned: true });
    expect(topicOwnership(e, scope, 'fx.orders', { id: ID_B, empty: true })).toEqual({
      owned: false,
      reason: expect.stringContaining('recreated by someone else'),
    });
    expect(topicOwnership(e, scope, 'fx.other', { id: ID_A, empty: true })).toEqual({ owned: false, reason: expect.stringContaining('did not create it') });
    expect(topicOwnership(null, scope, 'fx.orders', { id: ID_A, empty: true })).toEqual({ owned: false, reason: expect.stringContaining('did not create it') });
    // A forged entry naming a topic outside the lane never authorizes it.
    const forged = entry({ topics: [{ name: 'orders', source: 'orders', id: ID_A, pending: false }] });
    expect(topicOwnership(forged, scope, 'orders', { id: ID_A, empty: true })).toEqual({
      owned: false,
      reason: expect.stringContaining('is not a name of lane fx'),
    });
  });

  it('treats a pending intent as owned only while the topic is empty', () => {
    const e = entry();
    expect(topicOwnership(e, scope, 'fx.new', { id: ID_B, empty: true })).toEqual({ owned: true });
    expect(topicOwnership(e, scope, 'fx.new', { id: ID_B, empty: false })).toEqual({
      owned: false,
      reason: expect.stringContaining('never recorded creating it'),
    });
    // --replace in flight: the old ID is still listed.
    const replacing = entry({ topics: [{ name: 'fx.orders', source: 'orders', id: ID_A, pending: true }] });
    expect(topicOwnership(replacing, scope, 'fx.orders', { id: ID_A, empty: false })).toEqual({ owned: true });
  });

  it('owns subjects and groups the ledger names inside the lane', () => {
    const e = entry();
    expect(subjectOwnership(e, scope, 'fx.orders-value')).toEqual({ owned: true });
    expect(subjectOwnership(e, scope, 'fx.orders-key').owned).toBe(false);
    expect(subjectOwnership(entry({ subjects: [{ name: 'orders-value', source: 'x', versions: [] }] }), scope, 'orders-value').owned).toBe(false);
    expect(groupOwnership(e, scope, 'fx.billing')).toEqual({ owned: true });
    expect(groupOwnership(e, scope, 'fx.other').owned).toBe(false);
    expect(groupOwnership(entry({ groups: [{ name: 'billing', source: 'billing' }] }), scope, 'billing').owned).toBe(false);
  });

  it('refuses an entry written with other templates', () => {
    expect(() => assertSameTemplates(entry(), scope)).not.toThrow();
    const other = new LaneScope('fx', laneTemplates({ topicTemplate: '{lane}-{topic}' }));
    expect(() => assertSameTemplates(entry(), other)).toThrow('lane fx was created with --topic-template "{lane}.{topic}", not "{lane}-{topic}"');
  });
});

describe('restore intent', () => {
  const base = {
    lane: 'fx',
    templates: laneTemplates({}),
    seededFrom: { cluster: 'prod', backupId: '20261125T130000000Z' },
    now: new Date('2026-11-25T13:00:00.000Z'),
    kbakVersion: '0.2.0',
    ttlMs: null,
    subjects: [{ name: 'fx.orders-value', source: 'orders-value' }],
    groups: [{ name: 'fx.billing', source: 'billing' }],
  };

  it('records new topics as pending intents before they exist, then their IDs', () => {
    const intent = restoreIntent(null, { ...base, ttlMs: 7_200_000, topics: [{ name: 'fx.orders', source: 'orders', existingId: null, willCreate: true }] });
    expect(intent.topics).toEqual([{ name: 'fx.orders', source: 'orders', id: null, pending: true }]);
    expect(intent.state).toBe('restoring');
    expect(intent.createdAt).toBe('2026-11-25T13:00:00.000Z');
    expect(intent.expiresAt).toBe('2026-11-25T15:00:00.000Z');
    expect(intent.subjects).toEqual([{ name: 'fx.orders-value', source: 'orders-value', versions: [] }]);
    const done = withTopicIds(intent, new Map([['fx.orders', ID_B]]), base.now);
    expect(done.topics).toEqual([{ name: 'fx.orders', source: 'orders', id: ID_B, pending: false }]);
    expect(() => encodeLedgerEntry(done)).not.toThrow();
  });

  it('keeps the old ID of a topic being replaced, the earlier objects, creation time and TTL of the lane', () => {
    const prev = entry();
    const intent = restoreIntent(prev, { ...base, topics: [{ name: 'fx.orders', source: 'orders', existingId: ID_A, willCreate: true }] });
    expect(intent.topics.find((t) => t.name === 'fx.orders')).toEqual({ name: 'fx.orders', source: 'orders', id: ID_A, pending: true });
    expect(intent.topics.map((t) => t.name)).toEqual(['fx.orders', 'fx.new']);
    expect(intent.createdAt).toBe(prev.createdAt);
    expect(intent.expiresAt).toBe(prev.expiresAt);
    expect(intent.subjects[0]!.versions).toEqual([1, 2]);
    const resumed = restoreIntent(prev, { ...base, topics: [{ name: 'fx.orders', source: 'orders', existingId: ID_A, willCreate: false }] });
    expect(resumed.topics[0]).toEqual({ name: 'fx.orders', source: 'orders', id: ID_A, pending: false });
  });

  it('adds registered versions, sets states and keeps only what is left after a partial delete', () => {
    const e = withSubjectVersions(entry(), new Map([['fx.orders-value', [3, 1]]]), base.now);
    expect(e.subjects[0]!.versions).toEqual([1, 2, 3]);
    expect(withState(e, 'ready', base.now).state).toBe('ready');
    const left = withRemaining(e, { topics: new Set(), subjects: new Set(), groups: new Set(['fx.billing']) }, base.now);
    expect(left).toMatchObject({ state: 'deleting', topics: [], subjects: [], groups: [{ name: 'fx.billing' }] });
  });
});

describe('lane delete plan', () => {
  const scope = new LaneScope('fx', laneTemplates({}));

  it('deletes exactly the owned objects and reports the rest', () => {
    const e = entry({
      topics: [
        { name: 'fx.orders', source: 'orders', id: ID_A, pending: false },
        { name: 'fx.recreated', source: 'r', id: ID_A, pending: false },
        { name: 'fx.gone', source: 'g', id: ID_A, pending: false },
        { name: 'prod.orders', source: 'orders', id: ID_B, pending: false },
        { name: 'fx.half', source: 'h', id: null, pending: true },
      ],
      subjects: [
        { name: 'fx.orders-value', source: 'orders-value', versions: [1] },
        { name: 'orders-value', source: 'orders-value', versions: [1] },
      ],
      groups: [
        { name: 'fx.billing', source: 'billing' },
        { name: 'fx.live', source: 'live' },
        { name: 'fx.old', source: 'old' },
      ],
    });
    const plan = planLaneDelete(e, scope, {
      topics: new Map([
        ['fx.orders', { id: ID_A, empty: false }],
        ['fx.recreated', { id: ID_B, empty: true }],
        ['prod.orders', { id: ID_B, empty: false }],
        ['fx.half', { id: ID_B, empty: true }],
      ]),
      groups: new Map([
        ['fx.billing', 0],
        ['fx.live', 2],
      ]),
    });
    expect(plan.topics).toEqual(['fx.orders', 'fx.half']);
    expect(plan.subjects).toEqual(['fx.orders-value']);
    expect(plan.groups).toEqual(['fx.billing']);
    expect(plan.activeGroups).toEqual([{ name: 'fx.live', members: 2 }]);
    expect(plan.gone).toEqual(['fx.gone', 'fx.old']);
    expect(plan.leftAlone.map((x) => x.name)).toEqual(['fx.recreated', 'prod.orders', 'orders-value']);
  });

  it('picks expired lanes only', () => {
    const now = new Date('2026-11-25T13:00:00.000Z');
    const lanes = [
      entry({ lane: 'b' }),
      entry({ lane: 'a', expiresAt: '2026-11-26T00:00:00.000Z' }),
      entry({ lane: 'c', ttlMs: null, expiresAt: null }),
      entry({ lane: 'd' }),
    ];
    expect(expiredLanes(lanes, now).map((e) => e.lane)).toEqual(['b', 'd']);
  });
});
