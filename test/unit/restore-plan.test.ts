import type { Manifest, PartitionEntry, SchemaEntry } from '../../src/backup/manifest';
import { NotFoundError, SafetyError, UsageError } from '../../src/errors';
import { formatDurationMs } from '../../src/lane/topic-configs';
import { buildPlan, countFromManifest, formatPlan, formatPlanLines, planToJSON, skipForMax, type LaneSettings, type PlanOptions } from '../../src/restore/plan';
import { decideAction, type LaneTopicState } from '../../src/restore/safety';
import { sameRecord, toLaneRecord } from '../../src/restore/write-partition';
import { SchemaIdMap, selectSchemas, subjectOfUnselectedTopic } from '../../src/schema/register';
import { TimestampType, type BackupRecord } from '../../src/segment/record';

function partition(p: number, segments: Array<{ records: number; min: number; max: number }>): PartitionEntry {
  let offset = 0;
  return {
    partition: p,
    logStartOffset: '0',
    startOffset: '0',
    endOffset: String(segments.reduce((n, s) => n + s.records, 0)),
    records: segments.reduce((n, s) => n + s.records, 0),
    segments: segments.map((s) => {
      const first = offset;
      offset += s.records;
      return {
        key: `topics/t/${p}/${first}.kseg`,
        firstOffset: String(first),
        lastOffset: String(offset - 1),
        records: s.records,
        minTimestamp: String(s.min),
        maxTimestamp: String(s.max),
        rawBytes: 1,
        storedBytes: 1,
        sha256: '0'.repeat(64),
      };
    }),
    basedOn: null,
    gaps: [],
  };
}

function schema(id: number, registrations: Array<[string, number]>, opts: Partial<SchemaEntry> = {}): SchemaEntry {
  return {
    id,
    schemaType: 'AVRO',
    schema: `{"type":"string","id":${id}}`,
    references: [],
    registrations: registrations.map(([subject, version]) => ({ subject, version })),
    usedInRecords: true,
    ...opts,
  };
}

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    format: 'kbak-backup',
    formatVersion: 1,
    incremental: false,
    tool: { name: 'kbak', version: 'test' },
    backupId: '20261125T175358123Z',
    cluster: { id: 'abc', name: 'prod' },
    startedAt: '',
    completedAt: '',
    cut: { isolationLevel: 'read_committed', since: null, until: null, maxRecordsPerPartition: null },
    schemaRegistry: { url: 'http://registry' },
    topics: [
      {
        name: 'orders',
        partitionCount: 3,
        replicationFactor: 3,
        configs: { 'cleanup.policy': 'compact' },
        partitions: [partition(0, [{ records: 10, min: 0, max: 9 }]), partition(1, [{ records: 5, min: 0, max: 4 }]), partition(2, [])],
      },
      { name: 'payments', partitionCount: 1, replicationFactor: 1, configs: {}, partitions: [partition(0, [{ records: 4, min: 0, max: 3 }])] },
    ],
    schemas: [
      schema(1, [['common', 1]], { usedInRecords: false }),
      schema(
        2,
        [
          ['orders-value', 1],
          ['orders-value', 2],
          ['old-lane.orders-value', 1],
        ],
        { references: [{ name: 'common.avsc', subject: 'common', version: 1 }] },
      ),
      schema(3, [['orders-value', 3]]),
      schema(4, [['payments-value', 1]]),
      schema(5, [['com.acme.Event', 1]]),
    ],
    subjects: [
      { subject: 'common', compatibility: null },
      { subject: 'orders-value', compatibility: 'BACKWARD' },
    ],
    consumerGroups: [
      {
        groupId: 'billing',
        offsets: [
          { topic: 'orders', partition: 0, offset: '4', metadata: null },
          { topic: 'payments', partition: 0, offset: '1', metadata: null },
        ],
      },
      { groupId: 'audit', offsets: [{ topic: 'payments', partition: 0, offset: '2', metadata: null }] },
    ],
    stats: { records: 19, rawBytes: 0, storedBytes: 0, segments: 3, unknownSchemaIds: [], framedPayloadsWithUnknownId: 0 },
    ...over,
  };
}

const noWindow = { since: null, until: null };
const opts = (over: Partial<PlanOptions> = {}): PlanOptions => ({
  lane: 'feature-x',
  topics: [],
  replicationFactor: null,
  window: noWindow,
  maxRecordsPerPartition: null,
  ...over,
});

describe('buildPlan', () => {
  it('adjusts configs that cannot hold on the target and reports them as warnings', () => {
    const m = manifest();
    m.topics[0]!.configs = { 'min.insync.replicas': '2', 'retention.ms': '1000' };
    const plan = buildPlan(m, opts({ laneRetention: { kind: 'source' } }), { brokers: 1, minInsyncReplicas: 1 });
    expect(plan.topics[0]!.configs['min.insync.replicas']).toBe('1');
    expect(plan.topics[0]!.configs['retention.ms']).toBe('1000');
    expect(plan.warnings).toContainEqual(expect.stringMatching(/^lane topic feature-x\.orders: min.insync.replicas=2 lowered to 1/));
    const viaDefault = buildPlan(manifest(), opts(), { brokers: 1, minInsyncReplicas: 2 });
    expect(viaDefault.topics.every((t) => t.configs['min.insync.replicas'] === '1')).toBe(true);
  });

  it('maps every backed-up topic to its lane topic with shape, configs and record counts', () => {
    const plan = buildPlan(manifest(), opts(), 1);
    expect(plan.topics.map((t) => [t.source, t.lane, t.partitionCount, t.replicationFactor])).toEqual([
      ['orders', 'feature-x.orders', 3, 1],
      ['payments', 'feature-x.payments', 1, 1],
    ]);
    expect(plan.topics[0]!.configs).toEqual({
      'cleanup.policy': 'compact',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'message.timestamp.type': 'CreateTime',
      'message.timestamp.before.max.ms': '9223372036854775807',
      'message.timestamp.after.max.ms': '9223372036854775807',
    });
    expect(plan.topics[0]!.partitions.map((p) => [p.partition, p.records, p.exact])).toEqual([
      [0, 10, true],
      [1, 5, true],
      [2, 0, true],
    ]);
  });

  it('uses min(source RF, brokers) unless --replication-factor is given', () => {
    expect(buildPlan(manifest(), opts(), 2).topics[0]!.replicationFactor).toBe(2);
    expect(buildPlan(manifest(), opts(), 5).topics[0]!.replicationFactor).toBe(3);
    expect(buildPlan(manifest(), opts({ replicationFactor: 2 }), 1).topics[0]!.replicationFactor).toBe(2);
  });

  it('refuses a --topic that is not in the backup', () => {
    expect(() => buildPlan(manifest(), opts({ topics: ['nope'] }), 1)).toThrow(NotFoundError);
  });

  it('refuses an invalid lane name', () => {
    expect(() => buildPlan(manifest(), opts({ lane: 'Feature_X' }), 1)).toThrow(UsageError);
  });

  it('refuses a lane topic equal to a selected or any backed-up source topic', () => {
    const m = manifest({ topics: [...manifest().topics, { name: 'orders.x', partitionCount: 1, replicationFactor: 1, configs: {}, partitions: [] }] });
    expect(() => buildPlan(m, opts({ lane: 'x', topicTemplate: '{topic}.{lane}' }), 1)).toThrow(SafetyError);
    expect(() => buildPlan(m, opts({ lane: 'x', topics: ['orders'], topicTemplate: '{topic}.{lane}' }), 1)).toThrow(/is a source topic in backup/);
  });

  it('registers schemas of restored topics under lane subjects, references first, in version order', () => {
    const plan = buildPlan(manifest(), opts({ topics: ['orders'] }), 1);
    // Schema 4 only belongs to payments (not restored). The other lane's subject is ignored
    // because the schema is registered under the topic's own subject.
    expect(plan.registrations.map((r) => [r.schemaId, r.subject, r.version, r.laneSubject])).toEqual([
      [5, 'com.acme.Event', 1, 'feature-x.com.acme.Event'],
      [1, 'common', 1, 'feature-x.common'],
      [2, 'orders-value', 1, 'feature-x.orders-value'],
      [2, 'orders-value', 2, 'feature-x.orders-value'],
      [3, 'orders-value', 3, 'feature-x.orders-value'],
    ]);
    expect(plan.subjects).toEqual(
      expect.arrayContaining([
        { source: 'orders-value', lane: 'feature-x.orders-value', compatibility: 'BACKWARD' },
        { source: 'common', lane: 'feature-x.common', compatibility: null },
      ]),
    );
    expect(plan.schemas.map((s) => s.id)).toEqual([1, 2, 3, 5]);
  });

  it('seeds only groups with offsets on restored partitions, under lane group names', () => {
    const plan = buildPlan(manifest(), opts({ topics: ['orders'] }), 1);
    expect(plan.groups).toEqual([
      { source: 'billing', lane: 'feature-x.billing', offsets: [{ topic: 'orders', laneTopic: 'feature-x.orders', partition: 0, sourceOffset: 4n }] },
    ]);
    const all = buildPlan(manifest(), opts({ groupTemplate: 'lane-{lane}-{group}' }), 1);
    expect(all.groups.map((g) => g.lane)).toEqual(['lane-feature-x-billing', 'lane-feature-x-audit']);
  });

  it('renders as text and JSON', () => {
    const plan = buildPlan(manifest(), opts(), 1);
    const text = formatPlan(plan, { ids: { '2': 12 } });
    expect(text).toContain('orders -> feature-x.orders: 3 partitions, replication factor 1, 15 records');
    expect(text).toContain('cleanup.policy=compact');
    expect(text).toContain('2 -> 12');
    expect(text).toContain('3 -> new');
    expect(JSON.parse(JSON.stringify(planToJSON(plan)))).toMatchObject({ lane: 'feature-x', topics: [{ records: 15 }, { records: 4 }] });
  });
});

describe('the lane settings in the plan', () => {
  const now = new Date('2026-12-06T03:00:00.000Z');
  const lines = (s: Partial<LaneSettings>) =>
    formatPlanLines(buildPlan(manifest(), opts(), 1), {
      lane: { ttlMs: null, now, laneHeader: null, laneBaggage: null, ledgerTopic: '__kbak_lanes', ...s },
    }).slice(1, 3);

  it('shows the expiry from the TTL, and what each record gets', () => {
    expect(lines({ ttlMs: 72 * 3_600_000, laneHeader: 'x-lane', laneBaggage: 'kbak-lane' })).toEqual([
      'lane feature-x: recorded in ledger topic __kbak_lanes, expires 3d after the restore, about 2026-12-09T03:00:00.000Z (kbak lane gc deletes it then)',
      "  added to each record: header x-lane: feature-x; baggage kbak-lane=feature-x (set in each record's W3C baggage header, which is created when absent)",
    ]);
  });

  it('says when the lane never expires and records get nothing', () => {
    expect(lines({ ttlMs: 90 * 60_000 })[0]).toContain('expires 90m after the restore, about 2026-12-06T04:30:00.000Z');
    expect(lines({ ledgerTopic: 'team.lanes' })).toEqual([
      'lane feature-x: recorded in ledger topic team.lanes, expires never (no TTL: kbak lane gc leaves the lane alone)',
      '  added to each record: nothing (no lane header, no baggage)',
    ]);
  });

  it('formats durations as their largest whole unit', () => {
    expect([604_800_000, 86_400_000 * 3, 3_600_000 * 36, 60_000, 1_500, 1000].map(formatDurationMs)).toEqual(['1w', '3d', '36h', '1m', '1500ms', '1s']);
  });
});

describe('record counts after filters', () => {
  const p = partition(0, [
    { records: 10, min: 0, max: 99 },
    { records: 10, min: 100, max: 199 },
    { records: 10, min: 200, max: 299 },
  ]);

  it('is exact without a window, keeping the newest N with --max-records-per-partition', () => {
    expect(countFromManifest(p, noWindow, null)).toEqual({ records: 30, exact: true });
    expect(countFromManifest(p, noWindow, 12)).toEqual({ records: 12, exact: true });
    expect(skipForMax(30, 12)).toBe(18);
    expect(skipForMax(5, 12)).toBe(0);
    expect(skipForMax(5, null)).toBe(0);
  });

  it('is exact when the window falls on segment bounds, an upper bound otherwise', () => {
    expect(countFromManifest(p, { since: new Date(100), until: new Date(200) }, null)).toEqual({ records: 10, exact: true });
    expect(countFromManifest(p, { since: new Date(150), until: null }, null)).toEqual({ records: 20, exact: false });
    expect(countFromManifest(p, { since: new Date(300), until: null }, null)).toEqual({ records: 0, exact: true });
  });
});

describe('selectSchemas', () => {
  const identity = (subjects: string[]): Map<string, string> => new Map(subjects.map((s) => [s, `l.${s}`]));

  it('orders referenced registrations first even when their subject sorts later', () => {
    const s = [
      schema(
        1,
        [
          ['zz-common', 1],
          ['zz-common', 2],
        ],
        { usedInRecords: false },
      ),
      schema(2, [['a-value', 1]], { references: [{ name: 'x', subject: 'zz-common', version: 2 }] }),
    ];
    const sel = selectSchemas(s, new Set(['a']), new Set(['a']), identity);
    expect(sel.tasks.map((t) => `${t.subject}/${t.version}`)).toEqual(['zz-common/2', 'a-value/1']);
  });

  it('recognises TopicNameStrategy subjects of topics not being restored', () => {
    expect(subjectOfUnselectedTopic('payments-value', new Set(['orders', 'payments']), new Set(['orders']))).toBe(true);
    expect(subjectOfUnselectedTopic('orders-key', new Set(['orders', 'payments']), new Set(['orders']))).toBe(false);
    expect(subjectOfUnselectedTopic('com.acme.Event', new Set(['orders']), new Set(['orders']))).toBe(false);
  });

  it('refuses a reference the backup does not contain', () => {
    const s = [schema(2, [['a-value', 1]], { references: [{ name: 'x', subject: 'missing', version: 1 }] })];
    expect(() => selectSchemas(s, new Set(['a']), new Set(['a']), identity)).toThrow(NotFoundError);
  });
});

describe('SchemaIdMap', () => {
  it("prefers the lane topic's own subject, else the first registration", () => {
    const map = new SchemaIdMap(
      new Map([
        [
          7,
          [
            { laneSubject: 'l.other-value', laneVersion: 1, laneId: 70, created: true },
            { laneSubject: 'l.orders-value', laneVersion: 1, laneId: 71, created: true },
          ],
        ],
      ]),
    );
    expect(map.forPayload(7, 'l.orders', 'value')).toBe(71);
    expect(map.forPayload(7, 'l.orders', 'key')).toBe(70);
    expect(map.forPayload(8, 'l.orders', 'value')).toBeUndefined();
    expect(map.toJSON()).toEqual({ '7': 70 });
  });
});

describe('lane records', () => {
  const framed = (id: number, body: number[]): Buffer => {
    const b = Buffer.alloc(5 + body.length);
    b.writeUInt32BE(id, 1);
    Buffer.from(body).copy(b, 5);
    return b;
  };
  const record: BackupRecord = {
    offset: 5n,
    timestamp: 1700000000000n,
    timestampType: TimestampType.CreateTime,
    key: framed(3, [1, 2]),
    value: framed(9, [0, 0, 0, 0, 9]),
    headers: [
      { key: 'traceparent', value: Buffer.from('00-abc-01') },
      { key: 'x', value: null },
      { key: 'traceparent', value: Buffer.from('dup') },
    ],
  };
  const ids = new SchemaIdMap(new Map([[9, [{ laneSubject: 'l.t-value', laneVersion: 1, laneId: 300, created: true }]]]));

  it('rewrites only the 4 ID bytes of mapped framed payloads and keeps headers in order', () => {
    const lr = toLaneRecord(record, { ids, laneTopic: 'l.t', lane: 'l', laneHeader: null });
    expect(lr.key).toEqual(record.key); // ID 3 is not mapped: raw bytes
    expect(lr.value!.readUInt32BE(1)).toBe(300);
    expect(lr.value!.subarray(5)).toEqual(record.value!.subarray(5));
    expect(lr.value![0]).toBe(0);
    expect(record.value!.readUInt32BE(1)).toBe(9); // the source buffer is untouched
    expect(lr.rewritten).toBe(1);
    expect(lr.headers).toEqual(record.headers);
    expect(lr.timestamp).toBe(record.timestamp);
  });

  it('appends the lane header only when asked', () => {
    const lr = toLaneRecord(record, { ids: null, laneTopic: 'l.t', lane: 'feature-x', laneHeader: 'x-lane' });
    expect(lr.headers.map((h) => h.key)).toEqual(['traceparent', 'x', 'traceparent', 'x-lane']);
    expect(lr.headers[3]!.value).toEqual(Buffer.from('feature-x'));
    expect(lr.value).toEqual(record.value);
  });

  it('sets the lane in the baggage header with --lane-baggage, before the lane header, other headers untouched', () => {
    const lr = toLaneRecord(record, { ids: null, laneTopic: 'l.t', lane: 'feature-x', laneHeader: 'x-lane', laneBaggage: 'lane' });
    expect(lr.baggage).toBe('created');
    expect(lr.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual([
      ['traceparent', '00-abc-01'],
      ['x', null],
      ['traceparent', 'dup'],
      ['baggage', 'lane=feature-x'],
      ['x-lane', 'feature-x'],
    ]);
    expect(toLaneRecord(record, { ids: null, laneTopic: 'l.t', lane: 'l', laneHeader: null }).baggage).toBeNull();
  });

  it('keeps tombstones null', () => {
    const lr = toLaneRecord({ ...record, value: null }, { ids, laneTopic: 'l.t', lane: 'l', laneHeader: null });
    expect(lr.value).toBeNull();
  });

  it('recognises its own record in the lane (resume check)', () => {
    const lr = toLaneRecord(record, { ids, laneTopic: 'l.t', lane: 'l', laneHeader: null });
    const inLane: BackupRecord = { ...record, offset: 0n, value: lr.value };
    expect(sameRecord(lr, inLane)).toBe(true);
    expect(sameRecord(lr, { ...inLane, timestamp: 1n })).toBe(false);
    expect(sameRecord(lr, { ...inLane, headers: [...inLane.headers].reverse() })).toBe(false);
    expect(sameRecord(lr, { ...inLane, value: null })).toBe(false);
  });
});

describe('decideAction', () => {
  const topic = buildPlan(manifest(), opts(), 1).topics[0]!;
  const existing = (partitions: number, records: number): LaneTopicState => ({
    exists: true,
    partitionCount: partitions,
    offsets: Array.from({ length: partitions }, (_, p) => ({ partition: p, low: 0n, high: p === 0 ? BigInt(records) : 0n })),
  });

  it.each([
    ['new', { exists: false }, 'create'],
    ['resume', { exists: false }, 'create'],
    ['new', existing(3, 0), 'reuse'],
    ['resume', existing(3, 0), 'reuse'],
    ['resume', existing(3, 5), 'resume'],
    ['replace', existing(3, 5), 'replace'],
    ['replace', existing(2, 5), 'replace'],
  ] as const)('%s with state #%# → %s', (mode, state, action) => {
    expect(decideAction(topic, state, mode)).toBe(action);
  });

  it('refuses data without --resume/--replace and a partition mismatch', () => {
    expect(() => decideAction(topic, existing(3, 5), 'new')).toThrow(/already exists with data \(5 records\)/);
    expect(() => decideAction(topic, existing(2, 0), 'resume')).toThrow(SafetyError);
    expect(() => decideAction(topic, existing(2, 0), 'new')).toThrow(/exists with 2 partitions but "orders" has 3/);
  });
});
