/**
 * What people read on stdout, byte for byte (test/golden/tables/*.txt; `npm run golden:update`
 * rewrites them, review the diff): the tables of list, lane list, lane delete and gc, the
 * inspect page, verify's lines, and the dump and restore summaries. Fixed clocks and fixed
 * inputs; names with control characters show that cells are escaped before widths count.
 */
import type { BackupRow, BackupDetail } from '../../src/backup/summary';
import type { DumpSummary } from '../../src/dump/summary';
import type { LaneOverview } from '../../src/lane/lifecycle';
import type { RestoreSummary } from '../../src/restore/summary';
import { dumpSummaryLines } from '../../src/cli/cmd-dump';
import { restoreSummaryLines } from '../../src/cli/cmd-restore';
import { verifyLine } from '../../src/cli/cmd-verify';
import { inspectLines } from '../../src/cli/inspect-view';
import { laneDeleteLines, laneDeletePlanLines, laneGcPlanLines, laneListLines } from '../../src/cli/lane-view';
import { backupListLines } from '../../src/cli/list-view';
import { expectGolden } from '../support/golden';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const text = (lines: string[]): string => `${lines.join('\n')}\n`;

const backups: BackupRow[] = [
  {
    id: '20261201T030000000Z',
    cluster: 'prod',
    time: '2026-12-01T03:00:00.000Z',
    formatVersion: 2,
    kind: 'full',
    topics: ['billing', 'orders', 'payments', 'users'],
    records: 1_250_000,
    storedBytes: 734_003_200,
    sharedBytes: 0,
  },
  {
    id: '20261206T114500123Z',
    cluster: 'prod',
    time: '2026-12-06T11:45:00.123Z',
    formatVersion: 2,
    kind: 'incremental',
    topics: ['orders'],
    records: 42,
    storedBytes: 2048,
    sharedBytes: 700_000_000,
  },
];

describe('kbak list', () => {
  it('aligns one row per backup, with ages and sizes people read', () => {
    expectGolden(
      'tables/list',
      text(backupListLines('/backups', backups, [{ cluster: 'odd\ncluster', id: '20261202T000000000Z', error: 'manifest is not JSON' }], NOW)),
    );
  });
  it('-o wide names every topic and the format version', () => {
    expectGolden('tables/list-wide', text(backupListLines('/backups', backups, [], NOW, true)));
  });
  it('says so when the store has no backup', () => {
    expect(backupListLines('s3://bucket/prefix', [], [], NOW)).toEqual(['no complete backup in s3://bucket/prefix']);
  });
});

const lane = (name: string, fields: Partial<LaneOverview>): LaneOverview => ({
  lane: name,
  state: 'ready',
  failure: null,
  next: null,
  seededFrom: 'prod/20261201T030000000Z',
  masking: null,
  createdAt: new Date(NOW.getTime() - 5 * MIN).toISOString(),
  ageMs: 5 * MIN,
  ttlLeftMs: null,
  expiresAt: null,
  topics: 1,
  records: 30_000,
  subjects: 1,
  groups: 1,
  ...fields,
});

const lanes: LaneOverview[] = [
  lane('feature-x', {
    ageMs: 3 * HOUR + 20 * MIN,
    ttlLeftMs: 72 * HOUR - 3 * HOUR - 20 * MIN,
    expiresAt: '2026-12-09T08:40:00.000Z',
    topics: 4,
    records: 1_250_000,
    subjects: 3,
    groups: 2,
    masking: { policy: 'seed-policy.yaml', policySha256: 'ab'.repeat(32), keyFingerprint: '0123456789abcdef', faker: '@faker-js/faker@9.9.0' },
  }),
  lane('b', { ageMs: 200 }),
  lane('broken', {
    state: 'failed',
    failure: 'the restore stopped (pid 4242 on ci-7 is gone)',
    next: 'resume it with kbak restore --lane broken --resume (same backup), or remove it with kbak lane delete broken --yes',
    ageMs: 26 * HOUR,
    records: 0,
  }),
  lane('evil\u001b[2J', { ageMs: 9 * 24 * HOUR, ttlLeftMs: -2 * HOUR, expiresAt: '2026-12-06T10:00:00.000Z' }),
];

describe('kbak lane list', () => {
  it('aligns one row per lane; a failed lane says why and what to do under the table', () => {
    expectGolden('tables/lane-list', text(laneListLines('__kbak_lanes', lanes)));
  });
  it('-o wide adds when each lane was created and expires', () => {
    expectGolden('tables/lane-list-wide', text(laneListLines('__kbak_lanes', lanes, true)));
  });
  it('says so when the ledger has no lane', () => {
    expectGolden('tables/lane-list-empty', text(laneListLines('__kbak_lanes', [])));
  });
});

describe('kbak lane delete and gc', () => {
  it('--dry-run: one row per object, what cannot be deleted now, what stays', () => {
    expectGolden(
      'tables/lane-delete-dry-run',
      text(
        laneDeletePlanLines({
          lane: 'feature-x',
          topics: ['feature-x.orders', 'feature-x.payments'],
          subjects: ['feature-x.orders-value'],
          groups: ['feature-x.billing', 'feature-x.audit'],
          activeGroups: [{ name: 'feature-x.audit', members: 1 }],
          gone: ['feature-x.users'],
          leftAlone: [{ name: 'feature-x.x', reason: 'topic "feature-x.x" was recreated by someone else (topic ID differs)' }],
        }),
      ),
    );
  });
  it('a plain dry run has no NOTE column', () => {
    expectGolden(
      'tables/lane-delete-dry-run-plain',
      text(laneDeletePlanLines({ lane: 'b', topics: ['b.orders'], subjects: [], groups: ['b.billing'], activeGroups: [], gone: [], leftAlone: [] })),
    );
  });
  it('--yes: what was deleted and what is left', () => {
    expectGolden(
      'tables/lane-delete',
      text(
        laneDeleteLines({
          lane: 'feature-x',
          deleted: { topics: ['feature-x.orders'], subjects: ['feature-x.orders-value'], groups: [] },
          gone: [],
          leftAlone: [],
          remaining: [{ name: 'feature-x.audit', reason: 'consumer group feature-x.audit has 1 active member' }],
          complete: false,
        }),
      ),
    );
  });
  it('gc --dry-run: a row per expired or failed lane, or one line when there are none', () => {
    expectGolden('tables/lane-gc-dry-run', text(laneGcPlanLines(['old-feature', 'pr-1234'], ['broken'])));
    expect(laneGcPlanLines([], [])).toEqual(['no expired or failed lanes: nothing to delete']);
  });
});

const detail: BackupDetail = {
  id: '20261206T114500123Z',
  cluster: { id: 'rBlqauA5eIEvkFO2Kv2MCA', name: 'rBlqauA5eIEvkFO2Kv2MCA' },
  formatVersion: 2,
  kind: 'full',
  startedAt: '2026-12-06T11:45:00.123Z',
  completedAt: '2026-12-06T11:47:05.623Z',
  cut: { isolationLevel: 'read_committed', since: null, until: null, maxRecordsPerPartition: 1, time: '2026-12-06T11:45:00.456Z' },
  cutTime: '2026-12-06T11:45:00.456Z',
  cutTimeRecorded: true,
  schemaRegistry: 'http://registry:8081',
  stats: { records: 1, rawBytes: 1_500, storedBytes: 900, segments: 1, unknownSchemaIds: [7], framedPayloadsWithUnknownId: 1 },
  topics: [
    {
      name: 'orders',
      partitionCount: 2,
      replicationFactor: 1,
      configs: { 'retention.ms': '604800000' },
      records: 1,
      partitions: [
        {
          partition: 0,
          logStartOffset: '0',
          startOffset: '10',
          endOffset: '11',
          records: 1,
          segments: 1,
          storedBytes: 900,
          minTimestamp: '1796557500000',
          maxTimestamp: '1796557500000',
          basedOn: null,
          gaps: [],
        },
        {
          partition: 1,
          logStartOffset: '0',
          startOffset: '0',
          endOffset: '0',
          records: 0,
          segments: 0,
          storedBytes: 0,
          minTimestamp: null,
          maxTimestamp: null,
          basedOn: '20261201T030000000Z',
          gaps: [{ startOffset: '0', endOffset: '3' }],
        },
      ],
    },
  ],
  schemas: [
    { id: 1, schemaType: 'AVRO', subjects: ['orders-value v1'], usedInRecords: true },
    { id: 2, schemaType: 'AVRO', subjects: ['common-money v1'], usedInRecords: false },
  ],
  consumerGroups: [{ groupId: 'billing', offsets: [{ topic: 'orders', partition: 0, offset: '11' }] }],
  acls: [
    { resourceType: 'TOPIC', resourceName: 'orders', patternType: 'LITERAL', principal: 'User:billing', host: '*', operation: 'READ', permissionType: 'ALLOW' },
    { resourceType: 'GROUP', resourceName: 'bill', patternType: 'PREFIXED', principal: 'User:billing', host: '*', operation: 'READ', permissionType: 'ALLOW' },
  ],
};

describe('kbak inspect', () => {
  it('names a cluster once when its name is its id, and counts in words', () => {
    expectGolden('tables/inspect', text(inspectLines(detail)));
  });
  it('names both when they differ', () => {
    expect(inspectLines({ ...detail, cluster: { id: 'rBlq', name: 'prod' } })[0]).toBe('backup 20261206T114500123Z of cluster prod (id rBlq), format v2, full');
  });
  it('says when the dump did not capture ACLs, and counts one binding in the singular', () => {
    expect(inspectLines({ ...detail, acls: null }).at(-1)).toBe('ACLs: not captured');
    expect(inspectLines({ ...detail, acls: detail.acls!.slice(0, 1) }).at(-1)).toBe('ACLs: 1 binding');
  });
  it('says when a backup does not record its cut time, and shows its start instead (FORMAT.md settled point 24)', () => {
    const older = { ...detail, cut: { ...detail.cut, time: undefined }, cutTime: detail.startedAt, cutTimeRecorded: false };
    expect(inspectLines(older)[2]).toBe('  cut: read_committed, fixed at 2026-12-06T11:45:00.123Z (the start: not recorded), newest 1 offset');
  });
});

describe('kbak verify', () => {
  it('aligns the status column; one backup per line', () => {
    const ok = { cluster: 'prod', backupId: '20261201T030000000Z', ok: true, segments: 1, records: 1, bytes: 900, problem: null };
    const bad = { ...ok, ok: false, problem: { object: 'prod/20261201T030000000Z/orders/0/00000000000000000000.kseg', message: 'SHA-256 differs' } };
    expectGolden('tables/verify', text([verifyLine(ok, false), verifyLine({ ...ok, segments: 6, records: 30_000 }, true), verifyLine(bad, false)]));
  });
});

const dumped: DumpSummary = {
  backupId: '20261206T114500123Z',
  cluster: 'prod',
  location: '/backups',
  topics: 1,
  partitions: 6,
  records: 30_000,
  rawBytes: 11_010_048,
  storedBytes: 1_572_864,
  compressionRatio: 7.0,
  segments: 6,
  schemas: 1,
  consumerGroups: 1,
  acls: 4,
  unknownSchemaIds: [999999],
  framedPayloadsWithUnknownId: 1,
  durationMs: 1_340,
  recordsPerSecond: 22_388,
  incremental: false,
  backupRecords: 30_000,
  backupStoredBytes: 1_572_864,
  perTopic: [],
  gaps: [],
  recreatedTopics: [],
};

const restored: RestoreSummary = {
  lane: 'feature-x',
  backupId: '20261206T114500123Z',
  cluster: 'prod',
  topics: [{ source: 'orders', lane: 'feature-x.orders', action: 'create', partitions: 6, records: 30_000, skippedExisting: 0 }],
  topicsCreated: 1,
  partitions: 6,
  records: 30_000,
  skippedExisting: 0,
  bytes: 8_808_038,
  durationMs: 125_400,
  recordsPerSecond: 239,
  subjectsRegistered: 1,
  schemaVersionsCreated: 1,
  idsRewritten: 30_000,
  idMap: { '1': 7 },
  groupsSeeded: 1,
  groupsDurationMs: 20,
  groups: [],
  laneTopics: ['feature-x.orders'],
  laneSubjects: ['feature-x.orders-value'],
  laneGroups: ['feature-x.billing'],
  baggageLeftAlone: 0,
  ledgerTopic: '__kbak_lanes',
  expiresAt: null,
  warnings: [],
  masking: null,
  sampledOut: 0,
  undecodableDropped: 0,
};

describe('dump and restore summaries', () => {
  it('dump: counted nouns ("1 topic", "1 payload"), a duration people read', () => {
    expectGolden('tables/dump-summary', text(dumpSummaryLines(dumped)));
    expect(dumpSummaryLines({ ...dumped, acls: null })[3]).toBe('  1 schema, 1 consumer group, ACLs not captured');
  });
  it('restore: "1 new version", not "1 new versions"', () => {
    expectGolden('tables/restore-summary', text(restoreSummaryLines(restored)));
    expect(restoreSummaryLines(restored).join('\n')).not.toMatch(/\b1 new versions\b/);
  });
});
