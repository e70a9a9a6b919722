import {
  assertWritable,
  decodeLedgerEntry,
  encodeLedgerEntry,
  foldLedger,
  isWritable,
  MAX_LEDGER_RECORD_BYTES,
  ttlLeftMs,
  type LaneIntent,
  type LedgerEntry,
} from '../../src/lane/ledger';
import { failureReason, restoreIntent, withFailure, withHeartbeat, withRemaining, withState, withSubjectVersions, withTopicIds } from '../../src/lane/intent';
import { SafetyError } from '../../src/errors';
import { expiredLanes, planLaneDelete } from '../../src/lane/delete-plan';
import { assertSameTemplates, groupOwnership, LaneScope, laneTemplates, subjectOwnership, topicOwnership } from '../../src/lane/ownership';

const ID_A = 'AAAAAAAAAAAAAAAAAAAAAA';
const ID_B = 'q1Sh-9_tRpe0aM9e4GGa1w';
const INTENT: LaneIntent = {
  id: '0123456789abcdef',
  holder: { host: 'ci-7', pid: 4242, pidNamespace: null, command: 'restore --lane fx' },
  startedAt: '2026-11-25T13:00:00.000Z',
  heartbeatAt: '2026-11-25T13:00:00.000Z',
  leaseMs: 30_000,
};

function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    format: 2,
    lane: 'fx',
    origin: { cluster: 'prod', backupId: '20261125T120000000Z', location: '/backups', lane: null, policy: null },
    failure: null,
    intent: null,
    leases: [],
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
    subjects: [{ name: 'fx.orders-value', source: 'orders-value', versions: [1, 2], ids: [11, 12] }],
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
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), format: 'two' }))).toThrow(/ledger record "fx" is invalid: format/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), format: 0 }))).toThrow(/ledger record "fx" is invalid: format/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), state: 'paused' }))).toThrow(/ledger record "fx" is invalid: state/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), failure: { at: '2026-11-25T12:00:00.000Z', reason: 'x'.repeat(501) } }))).toThrow(/failure.reason/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), intent: { id: 'Z', holder: {}, startedAt: 'x', heartbeatAt: 'x', leaseMs: 1 } }))).toThrow(/intent/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), subjects: [{ name: 'fx.s', source: 's', versions: [1], ids: [-1] }] }))).toThrow(/subjects.0.ids/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), topics: [{ name: 'fx.a', source: 'a', id: 'not-an-id', pending: false }] }))).toThrow(/topics.0.id/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), createdAt: 'yesterday' }))).toThrow(/createdAt/);
    expect(() => decodeLedgerEntry(Buffer.from('other'), bad(entry()))).toThrow('describes lane "fx" instead');
    expect(() => decodeLedgerEntry(Buffer.from('Fx'), bad({ ...entry(), lane: 'Fx' }))).toThrow('invalid lane name');
    expect(() => decodeLedgerEntry(null, bad(entry()))).toThrow('without a key');
    expect(() => decodeLedgerEntry(k, Buffer.alloc(MAX_LEDGER_RECORD_BYTES + 1, 0x20))).toThrow(/byte limit/);
    // Unknown fields nested deeper than re-encoding can bear: refused, without recursion.
    const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    const withFuture = (depth: number): Buffer => Buffer.from(JSON.stringify({ ...entry(), future: 'X' }).replace('"X"', nested(depth)));
    expect(() => decodeLedgerEntry(k, withFuture(31))).not.toThrow();
    expect(() => decodeLedgerEntry(k, withFuture(40))).toThrow('ledger record "fx" is nested more than 32 levels deep');
    // Deeper than JSON.parse itself can go: still one LedgerError.
    expect(() => decodeLedgerEntry(k, withFuture(400_000))).toThrow(/ledger record "fx" is (not JSON|nested more than 32 levels deep)/);
    expect(() => decodeLedgerEntry(k, bad({ ...entry(), leases: Array.from({ length: 10_001 }, () => 0) }))).toThrow(/leases/);
  });

  it('reads format 1 as format 2 (no location, lane, IDs, failure or intent) and writes it back as format 2', () => {
    const { origin: _o, failure: _f, intent: _i, leases: _l, ...rest } = entry();
    const v1 = {
      ...rest,
      format: 1,
      seededFrom: { cluster: 'prod', backupId: '20261125T120000000Z' },
      subjects: [{ name: 'fx.orders-value', source: 'orders-value', versions: [1, 2] }],
    };
    const read = decodeLedgerEntry(Buffer.from('fx'), Buffer.from(JSON.stringify(v1)));
    expect(read).toEqual(
      entry({
        origin: { cluster: 'prod', backupId: '20261125T120000000Z', location: null, lane: null, policy: null },
        subjects: [{ name: 'fx.orders-value', source: 'orders-value', versions: [1, 2], ids: [] }],
      }),
    );
    const written = JSON.parse(encodeLedgerEntry(read).value.toString()) as Record<string, unknown>;
    expect(written.format).toBe(2);
    expect(written).not.toHaveProperty('seededFrom');
    // Format 1 has a fixed state set: `failed` is a format 2 state.
    expect(() => decodeLedgerEntry(Buffer.from('fx'), Buffer.from(JSON.stringify({ ...v1, state: 'failed' })))).toThrow(/state/);
  });

  it('keeps fields it does not know when it rewrites an entry', () => {
    const raw = {
      ...entry(),
      shards: { plan: [1, 2, 3] },
      topics: [{ name: 'fx.orders', source: 'orders', id: ID_A, pending: false, partitionsSeen: 3 }],
      origin: { ...entry().origin, mask: 'pii-v2' },
      leases: [{ shard: 0, holder: 'x' }],
    };
    const read = decodeLedgerEntry(Buffer.from('fx'), Buffer.from(JSON.stringify(raw)));
    const next = withState(withTopicIds(read, new Map([['fx.orders', ID_B]]), new Date()), 'ready', new Date());
    const again = restoreIntent(next, {
      lane: 'fx',
      templates: laneTemplates({}),
      origin: entry().origin,
      intent: INTENT,
      now: new Date(),
      kbakVersion: '0.3.0',
      ttlMs: null,
      topics: [{ name: 'fx.orders', source: 'orders', existingId: ID_B, willCreate: false }],
      subjects: [],
      groups: [],
    });
    const written = JSON.parse(encodeLedgerEntry(again).value.toString()) as typeof raw;
    expect(written.shards).toEqual({ plan: [1, 2, 3] });
    expect(written.topics[0]).toEqual({ name: 'fx.orders', source: 'orders', id: ID_B, pending: false, partitionsSeen: 3 });
    expect(written.leases).toEqual([{ shard: 0, holder: 'x' }]);
    // The origin is the new restore's: what it replaces is the older restore's.
    expect(written.origin).toEqual(entry().origin);
  });

  it('shows an entry of a newer format but refuses to rewrite it (exit 6)', () => {
    const newer = decodeLedgerEntry(Buffer.from('fx'), Buffer.from(JSON.stringify({ ...entry(), format: 3, kbakVersion: '9.0.0', newThing: true })));
    expect(newer.format).toBe(3);
    expect(isWritable(newer)).toBe(false);
    expect(() => encodeLedgerEntry(newer)).toThrow(SafetyError);
    expect(() => assertWritable(newer)).toThrow('lane fx was recorded in ledger format 3 by kbak 9.0.0; this kbak writes format 2');
    try {
      assertWritable(newer);
    } catch (err) {
      expect((err as SafetyError).exitCode).toBe(6);
    }
    // A newer record that does not fit format 2 at all is reported as such.
    expect(() => decodeLedgerEntry(Buffer.from('fx'), Buffer.from(JSON.stringify({ ...entry(), format: 3, topics: 'elsewhere' })))).toThrow(
      /format 3, written by a newer kbak: upgrade kbak/,
    );
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
    const ours = {
      recorded: new Map([
        [1, 11],
        [2, 12],
      ]),
      onlyOurSchemas: null,
    };
    expect(subjectOwnership(e, scope, 'fx.orders-value', ours)).toEqual({ owned: true });
    expect(subjectOwnership(e, scope, 'fx.orders-key', ours).owned).toBe(false);
    expect(subjectOwnership(entry({ subjects: [{ name: 'orders-value', source: 'x', versions: [], ids: [] }] }), scope, 'orders-value', ours).owned).toBe(
      false,
    );
    expect(groupOwnership(e, scope, 'fx.billing')).toEqual({ owned: true });
    expect(groupOwnership(e, scope, 'fx.other').owned).toBe(false);
    expect(groupOwnership(entry({ groups: [{ name: 'billing', source: 'billing' }] }), scope, 'billing').owned).toBe(false);
  });

  it('owns a subject only while the versions kbak registered are there with their schema IDs', () => {
    const e = entry();
    // Later versions registered by the lane's own services do not matter: only the recorded ones are looked up.
    expect(
      subjectOwnership(e, scope, 'fx.orders-value', {
        recorded: new Map([
          [1, 11],
          [2, 12],
        ]),
        onlyOurSchemas: null,
      }).owned,
    ).toBe(true);
    // Deleted and re-created by someone else: version 1 is another schema, version 2 is missing.
    expect(
      subjectOwnership(e, scope, 'fx.orders-value', {
        recorded: new Map([
          [1, 40],
          [2, 12],
        ]),
        onlyOurSchemas: null,
      }),
    ).toEqual({
      owned: false,
      reason: 'subject "fx.orders-value" version 1 is schema ID 40, not one lane fx registered: re-created by someone else',
    });
    expect(
      subjectOwnership(e, scope, 'fx.orders-value', {
        recorded: new Map([
          [1, 11],
          [2, null],
        ]),
        onlyOurSchemas: null,
      }),
    ).toEqual({
      owned: false,
      reason: expect.stringContaining('no longer has version 2'),
    });
    // Named by a killed restore before it recorded registering: owned only when it holds nothing but our schemas.
    const pending = entry({ subjects: [{ name: 'fx.orders-value', source: 'orders-value', versions: [], ids: [] }] });
    expect(subjectOwnership(pending, scope, 'fx.orders-value', { recorded: new Map(), onlyOurSchemas: true }).owned).toBe(true);
    expect(subjectOwnership(pending, scope, 'fx.orders-value', { recorded: new Map(), onlyOurSchemas: false }).owned).toBe(false);
    expect(subjectOwnership(pending, scope, 'fx.orders-value', { recorded: new Map(), onlyOurSchemas: null }).owned).toBe(false);
    // Format 1 recorded versions without IDs: the versions decide.
    const v1 = entry({ subjects: [{ name: 'fx.orders-value', source: 'orders-value', versions: [1], ids: [] }] });
    expect(subjectOwnership(v1, scope, 'fx.orders-value', { recorded: new Map([[1, 99]]), onlyOurSchemas: null }).owned).toBe(true);
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
    origin: { cluster: 'prod', backupId: '20261125T130000000Z', location: 's3://b/p', lane: null, policy: null },
    intent: INTENT,
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
    expect(intent.intent).toEqual(INTENT);
    expect(intent.format).toBe(2);
    expect(intent.leases).toEqual([]);
    expect(intent.createdAt).toBe('2026-11-25T13:00:00.000Z');
    expect(intent.expiresAt).toBe('2026-11-25T15:00:00.000Z');
    expect(intent.subjects).toEqual([{ name: 'fx.orders-value', source: 'orders-value', versions: [], ids: [] }]);
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
    expect(intent.subjects[0]!.ids).toEqual([11, 12]);
    // A failed lane restored again is restoring again, without the old failure.
    const retried = restoreIntent(withFailure(prev, 'boom', base.now), { ...base, topics: [] });
    expect(retried).toMatchObject({ state: 'restoring', failure: null, intent: INTENT });
    const resumed = restoreIntent(prev, { ...base, topics: [{ name: 'fx.orders', source: 'orders', existingId: ID_A, willCreate: false }] });
    expect(resumed.topics[0]).toEqual({ name: 'fx.orders', source: 'orders', id: ID_A, pending: false });
  });

  it('adds registered versions, sets states and keeps only what is left after a partial delete', () => {
    const e = withSubjectVersions(
      entry(),
      new Map([
        [
          'fx.orders-value',
          [
            { version: 3, id: 13 },
            { version: 1, id: 11 },
          ],
        ],
      ]),
      base.now,
    );
    expect(e.subjects[0]!.versions).toEqual([1, 2, 3]);
    expect(e.subjects[0]!.ids).toEqual([11, 12, 13]);
    expect(withState(e, 'ready', base.now).state).toBe('ready');
    // Ready releases the intent.
    expect(withState(entry({ state: 'restoring', intent: INTENT }), 'ready', base.now).intent).toBeNull();
    const left = withRemaining(e, { topics: new Set(), subjects: new Set(), groups: new Set(['fx.billing']) }, base.now);
    expect(left).toMatchObject({ state: 'deleting', topics: [], subjects: [], groups: [{ name: 'fx.billing' }] });
  });
});

describe('failure and heartbeat', () => {
  it('records a failure as one escaped, bounded line and releases the intent', () => {
    const e = withFailure(entry({ state: 'restoring', intent: INTENT }), 'HTTP 404\n{"detail":"\u001b[31mNotFound"}', new Date('2026-11-25T13:05:00.000Z'));
    expect(e).toMatchObject({
      state: 'failed',
      intent: null,
      failure: { at: '2026-11-25T13:05:00.000Z', reason: 'HTTP 404\\u000a{"detail":"\\u001b[31mNotFound"}' },
    });
    expect(failureReason('x'.repeat(2000))).toHaveLength(500);
    expect(() => encodeLedgerEntry(withFailure(entry(), '\u0000'.repeat(1000), new Date()))).not.toThrow();
  });

  it('moves only the heartbeat', () => {
    const e = entry({ state: 'restoring', intent: INTENT });
    const beat = withHeartbeat(e, new Date('2026-11-25T13:00:05.000Z'));
    expect(beat.intent).toEqual({ ...INTENT, heartbeatAt: '2026-11-25T13:00:05.000Z' });
    expect(withHeartbeat(entry(), new Date()).intent).toBeNull();
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
        { name: 'fx.orders-value', source: 'orders-value', versions: [1], ids: [1] },
        { name: 'orders-value', source: 'orders-value', versions: [1], ids: [1] },
      ],
      groups: [
        { name: 'fx.billing', source: 'billing' },
        { name: 'fx.live', source: 'live' },
        { name: 'fx.old', source: 'old' },
      ],
    });
    const plan = planLaneDelete(e, scope, {
      subjects: new Map([
        ['fx.orders-value', { recorded: new Map([[1, 1]]), onlyOurSchemas: null }],
        ['orders-value', { recorded: new Map([[1, 1]]), onlyOurSchemas: null }],
      ]),
      groupForeignTopics: new Map(),
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

  it('keeps a group with offsets on topics the lane does not own, and a subject re-created by someone else', () => {
    const e = entry({
      topics: [{ name: 'fx.orders', source: 'orders', id: ID_A, pending: false }],
      subjects: [
        { name: 'fx.orders-value', source: 'orders-value', versions: [1], ids: [11] },
        { name: 'fx.gone-value', source: 'gone-value', versions: [1], ids: [12] },
      ],
      groups: [
        { name: 'fx.billing', source: 'billing' },
        { name: 'fx.shared', source: 'shared' },
      ],
    });
    const plan = planLaneDelete(e, scope, {
      topics: new Map([['fx.orders', { id: ID_A, empty: false }]]),
      subjects: new Map([['fx.orders-value', { recorded: new Map([[1, 77]]), onlyOurSchemas: null }]]),
      groups: new Map([
        ['fx.billing', 0],
        ['fx.shared', 0],
      ]),
      groupForeignTopics: new Map([
        ['fx.billing', []],
        ['fx.shared', ['payments', 'prod.orders']],
      ]),
    });
    expect(plan.topics).toEqual(['fx.orders']);
    expect(plan.subjects).toEqual([]);
    expect(plan.groups).toEqual(['fx.billing']);
    expect(plan.gone).toEqual(['fx.gone-value']);
    expect(plan.leftAlone).toEqual([
      { name: 'fx.orders-value', reason: expect.stringContaining('re-created by someone else') },
      { name: 'fx.shared', reason: 'consumer group "fx.shared" also holds offsets on topics lane fx does not own (payments, prod.orders): kept' },
    ]);
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
