/**
 * The pure manifest builder (src/backup/manifest-build.ts): what a dump gathered in, the
 * manifest out. Checked against the v2 test vector's incremental manifest (built by hand from
 * FORMAT.md, not by the dump) byte for byte, against the reader's own rules (manifest schema
 * and rules.ts), and rule by rule: incremental merge, gaps, stats sums, the sort orders of
 * FORMAT.md settled point 14.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildManifest, type DumpedPartition, type DumpedTopic, type ManifestInput } from '../../src/backup/manifest-build';
import { decodeManifest, encodeManifest, manifestSchema, type Manifest, type SegmentEntry } from '../../src/backup/manifest';
import { manifestRuleViolation } from '../../src/backup/rules';
import { parseStrictJson } from '../support/format-decoder';

const vector = (id: string): Manifest =>
  decodeManifest(readFileSync(join(__dirname, '..', 'vectors', 'backup-v2', 'sample', id, 'manifest.json')), `sample/${id}`);

let serial = 0;
/** A segment entry of `records` records from `first` (keys unique per call). */
function segment(topic: string, partition: number, first: bigint, records: number, raw = 100 * records, stored = 50 * records): SegmentEntry {
  serial++;
  return {
    key: `segments/${topic}/${partition}/${first.toString().padStart(20, '0')}-20261201T000000000Z-${serial.toString(16).padStart(8, '0')}.kseg`,
    firstOffset: first.toString(),
    lastOffset: (first + BigInt(records) - 1n).toString(),
    records,
    minTimestamp: '1795690800000',
    maxTimestamp: '1795690800009',
    rawBytes: raw,
    storedBytes: stored,
    sha256: 'ab'.repeat(32),
  };
}

function input(over: Partial<ManifestInput> = {}): ManifestInput {
  return {
    backupId: '20261201T000000000Z',
    cluster: { id: 'q1Sh-9_tRpe0aM9e4GGa1w', name: 'prod' },
    startedAt: new Date(Date.UTC(2026, 11, 1)),
    completedAt: new Date(Date.UTC(2026, 11, 1, 0, 0, 1)),
    window: { since: null, until: null },
    maxRecordsPerPartition: null,
    registryUrl: null,
    topics: [],
    schemas: { schemas: [], subjects: [], unknownIds: [], framedPayloadsWithUnknownId: 0 },
    consumerGroups: [],
    toolVersion: '0.1.0',
    ...over,
  };
}

const partition = (p: number, over: Partial<DumpedPartition> = {}): DumpedPartition => ({
  partition: p,
  logStartOffset: 0n,
  startOffset: 0n,
  endOffset: 0n,
  segments: [],
  records: 0,
  carried: null,
  ...over,
});

/** A topic of `partitionCount` partitions (the dumped ones given), no configs, no topic ID. */
const topic = (name: string, partitionCount: number, partitions: DumpedPartition[]): DumpedTopic => ({
  name,
  partitionCount,
  replicationFactor: 1,
  configs: {},
  topicId: null,
  partitions,
});

/** The manifest as kbak's reader takes it: schema, then the partition rules. */
function readable(m: Manifest): void {
  const parsed = manifestSchema.safeParse(m);
  expect(parsed.success ? null : parsed.error.issues[0]).toBeNull();
  expect(manifestRuleViolation(m, { cluster: m.cluster.name, backupId: m.backupId })).toBeNull();
}

describe('buildManifest', () => {
  it('builds the v2 vector incremental manifest byte for byte from its base and the new segments', () => {
    const full = vector('20261126T120000000Z');
    const incr = vector('20261127T120000000Z');
    const bytes = readFileSync(join(__dirname, '..', 'vectors', 'backup-v2', 'sample', '20261127T120000000Z', 'manifest.json'));
    const t = incr.topics[0]!;
    const base = full.topics[0]!;
    const built = buildManifest({
      backupId: incr.backupId,
      cluster: incr.cluster,
      startedAt: new Date(incr.startedAt),
      completedAt: new Date(incr.completedAt),
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      registryUrl: incr.schemaRegistry!.url,
      toolVersion: incr.tool.version,
      topics: [
        {
          name: t.name,
          partitionCount: t.partitionCount,
          replicationFactor: t.replicationFactor,
          configs: t.configs,
          topicId: t.topicId ?? null,
          partitions: t.partitions.map((p) => {
            const before = base.partitions.find((b) => b.partition === p.partition)!;
            const own = p.segments.slice(before.segments.length);
            return {
              partition: p.partition,
              logStartOffset: BigInt(p.logStartOffset),
              // The range this dump read: from the base's end, or the log start past it.
              startOffset: BigInt(p.logStartOffset) > BigInt(before.endOffset) ? BigInt(p.logStartOffset) : BigInt(before.endOffset),
              endOffset: BigInt(p.endOffset),
              segments: own,
              records: own.reduce((n, s) => n + s.records, 0),
              carried: { basedOn: full.backupId, startOffset: BigInt(before.startOffset), segments: before.segments, records: before.records, gaps: p.gaps },
            };
          }),
        },
      ],
      schemas: { schemas: incr.schemas, subjects: incr.subjects, unknownIds: [], framedPayloadsWithUnknownId: 0 },
      consumerGroups: incr.consumerGroups,
    });
    expect(encodeManifest(built).toString('utf8')).toBe(bytes.toString('utf8'));
    readable(built);
  });

  it('a full backup: the ranges as read, no basedOn or gaps, stats summed over every segment', () => {
    const a0 = [segment('a', 0, 0n, 10, 1000, 300), segment('a', 0, 10n, 5, 500, 200)];
    const a2 = [segment('a', 2, 7n, 3, 310, 90)];
    const m = buildManifest(
      input({
        window: { since: new Date(Date.UTC(2026, 10, 30)), until: null },
        maxRecordsPerPartition: 100,
        registryUrl: 'http://registry:8081',
        topics: [
          {
            name: 'a',
            partitionCount: 3,
            replicationFactor: 2,
            configs: { 'cleanup.policy': 'compact' },
            topicId: null,
            partitions: [
              partition(0, { logStartOffset: 0n, startOffset: 0n, endOffset: 15n, segments: a0, records: 15 }),
              partition(2, { logStartOffset: 5n, startOffset: 7n, endOffset: 12n, segments: a2, records: 3 }),
            ],
          },
          { name: 'b', partitionCount: 1, replicationFactor: 1, configs: {}, topicId: 'q7hVtxa2QQGSxzVE3tA8kw', partitions: [partition(0, { endOffset: 0n })] },
        ],
      }),
    );
    readable(m);
    expect(m.incremental).toBe(false);
    expect(m.cut).toEqual({ isolationLevel: 'read_committed', since: '2026-11-30T00:00:00.000Z', until: null, maxRecordsPerPartition: 100 });
    expect(m.schemaRegistry).toEqual({ url: 'http://registry:8081' });
    expect(m.topics.map((t) => ('topicId' in t ? t.topicId : 'absent'))).toEqual(['absent', 'q7hVtxa2QQGSxzVE3tA8kw']);
    expect(m.topics[0]!.partitions.map((p) => [p.partition, p.startOffset, p.endOffset, p.records, p.basedOn, p.gaps])).toEqual([
      [0, '0', '15', 15, null, []],
      [2, '7', '12', 3, null, []],
    ]);
    expect(m.stats).toEqual({ records: 18, rawBytes: 1810, storedBytes: 590, segments: 3, unknownSchemaIds: [], framedPayloadsWithUnknownId: 0 });
    // Keys in the order of FORMAT.md's tables.
    const strict = parseStrictJson(encodeManifest(m).toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(strict)).toEqual([
      'format',
      'formatVersion',
      'incremental',
      'tool',
      'backupId',
      'cluster',
      'startedAt',
      'completedAt',
      'cut',
      'schemaRegistry',
      'topics',
      'schemas',
      'subjects',
      'consumerGroups',
      'stats',
    ]);
    expect(Object.keys(m.topics[0]!.partitions[0]!)).toEqual([
      'partition',
      'logStartOffset',
      'startOffset',
      'endOffset',
      'records',
      'segments',
      'basedOn',
      'gaps',
    ]);
  });

  it('an incremental merge: carried segments first, records and stats include them, the range starts at the base', () => {
    const carried0 = [segment('t', 0, 0n, 4), segment('t', 0, 4n, 4)];
    const own0 = [segment('t', 0, 8n, 2)];
    const carried1 = [segment('t', 1, 0n, 3)];
    const m = buildManifest(
      input({
        topics: [
          topic('t', 3, [
            // New records after the base.
            partition(0, {
              startOffset: 8n,
              endOffset: 10n,
              segments: own0,
              records: 2,
              carried: { basedOn: '20261130T000000000Z', startOffset: 0n, segments: carried0, records: 8, gaps: [] },
            }),
            // Nothing new since the base: its segments alone, the base's start.
            partition(1, {
              logStartOffset: 0n,
              startOffset: 3n,
              endOffset: 3n,
              carried: { basedOn: '20261130T000000000Z', startOffset: 0n, segments: carried1, records: 3, gaps: [] },
            }),
            // A partition added since the base: backed up in full.
            partition(2, { endOffset: 1n, segments: [segment('t', 2, 0n, 1)], records: 1 }),
          ]),
        ],
      }),
    );
    readable(m);
    expect(m.incremental).toBe(true);
    const [p0, p1, p2] = m.topics[0]!.partitions;
    expect(p0!.segments).toEqual([...carried0, ...own0]);
    expect([p0!.startOffset, p0!.records, p0!.basedOn]).toEqual(['0', 10, '20261130T000000000Z']);
    expect(p1!.segments).toEqual(carried1);
    expect([p1!.startOffset, p1!.endOffset, p1!.records]).toEqual(['0', '3', 3]);
    expect([p2!.basedOn, p2!.records]).toEqual([null, 1]);
    expect(m.stats).toMatchObject({ records: 14, segments: 5, rawBytes: 1400, storedBytes: 700 });
  });

  it('gaps: the carried ones and the new one, in offset order, inside the range and between segments', () => {
    const m = buildManifest(
      input({
        topics: [
          topic('t', 1, [
            partition(0, {
              logStartOffset: 30n,
              startOffset: 30n,
              endOffset: 32n,
              segments: [segment('t', 0, 30n, 2)],
              records: 2,
              carried: {
                basedOn: '20261130T000000000Z',
                startOffset: 0n,
                segments: [segment('t', 0, 0n, 5), segment('t', 0, 12n, 3)],
                records: 8,
                gaps: [
                  { startOffset: '5', endOffset: '12' },
                  { startOffset: '15', endOffset: '30' },
                ],
              },
            }),
          ]),
        ],
      }),
    );
    readable(m);
    expect(m.topics[0]!.partitions[0]!.gaps).toEqual([
      { startOffset: '5', endOffset: '12' },
      { startOffset: '15', endOffset: '30' },
    ]);
    expect(m.topics[0]!.partitions[0]!.records).toBe(10);
  });

  it('sorts what FORMAT.md says to sort, names by UTF-16 code units, IDs as numbers', () => {
    const astral = '\u{1F600}-s'; // a surrogate pair: before U+E000 in UTF-16 order, after it in code point order
    const privateUse = '\uE000-s';
    const schema = (id: number, registrations: Array<{ subject: string; version: number }>) => ({
      id,
      schemaType: 'AVRO' as const,
      schema: '"string"',
      references: [],
      registrations,
      usedInRecords: true,
    });
    const m = buildManifest(
      input({
        registryUrl: 'http://r',
        schemas: {
          schemas: [
            schema(30, [{ subject: 'b', version: 1 }]),
            schema(4, [
              { subject: privateUse, version: 1 },
              { subject: 'a', version: 2 },
              { subject: astral, version: 1 },
              { subject: 'a', version: 1 },
            ]),
            schema(10, []),
          ],
          subjects: [
            { subject: privateUse, compatibility: null },
            { subject: 'b', compatibility: 'FULL' },
            { subject: astral, compatibility: null },
            { subject: 'B', compatibility: null },
          ],
          unknownIds: [10, 2, 33],
          framedPayloadsWithUnknownId: 7,
        },
        consumerGroups: [
          { groupId: 'zeta', offsets: [{ topic: 't', partition: 0, offset: '1', metadata: null }] },
          {
            groupId: 'Alpha',
            offsets: [
              { topic: 'u', partition: 0, offset: '3', metadata: null },
              { topic: 't', partition: 10, offset: '2', metadata: 'm' },
              { topic: 't', partition: 2, offset: '1', metadata: null },
            ],
          },
          { groupId: 'alpha', offsets: [{ topic: 't', partition: 0, offset: '1', metadata: null }] },
        ],
      }),
    );
    readable(m);
    expect(m.schemas.map((s) => s.id)).toEqual([4, 10, 30]);
    expect(m.schemas[0]!.registrations).toEqual([
      { subject: 'a', version: 1 },
      { subject: 'a', version: 2 },
      { subject: astral, version: 1 },
      { subject: privateUse, version: 1 },
    ]);
    expect(m.subjects.map((s) => s.subject)).toEqual(['B', 'b', astral, privateUse]);
    expect(m.consumerGroups.map((g) => g.groupId)).toEqual(['Alpha', 'alpha', 'zeta']);
    expect(m.consumerGroups[0]!.offsets.map((o) => `${o.topic}/${o.partition}`)).toEqual(['t/2', 't/10', 'u/0']);
    expect(m.stats.unknownSchemaIds).toEqual([2, 10, 33]);
    expect(m.stats.framedPayloadsWithUnknownId).toBe(7);
  });

  it('is pure: the input is left as it was, and the same input gives the same manifest', () => {
    const i = input({
      topics: [
        topic('t', 1, [
          partition(0, {
            endOffset: 4n,
            segments: [segment('t', 0, 2n, 2)],
            records: 2,
            carried: { basedOn: '20261130T000000000Z', startOffset: 0n, segments: [segment('t', 0, 0n, 2)], records: 2, gaps: [] },
          }),
        ]),
      ],
      schemas: { schemas: [], subjects: [], unknownIds: [3, 1], framedPayloadsWithUnknownId: 0 },
      consumerGroups: [
        { groupId: 'b', offsets: [] },
        { groupId: 'a', offsets: [] },
      ],
    });
    const before = structuredClone(i);
    const first = encodeManifest(buildManifest(i));
    expect(i).toEqual(before);
    expect(encodeManifest(buildManifest(i)).equals(first)).toBe(true);
  });

  it('an empty dump: no topics, zero stats', () => {
    const m = buildManifest(input());
    readable(m);
    expect(m.topics).toEqual([]);
    expect(m.incremental).toBe(false);
    expect(m.stats).toEqual({ records: 0, rawBytes: 0, storedBytes: 0, segments: 0, unknownSchemaIds: [], framedPayloadsWithUnknownId: 0 });
  });

  it("a lane snapshot's lane (FORMAT.md settled point 22): after cluster, keys in the table's order; absent otherwise", () => {
    const lane = { name: 'feature-x', templates: { group: 'g.{lane}.{group}', topic: '{lane}.{topic}', subject: '{lane}.{subject}' } };
    const m = buildManifest(input({ lane }));
    readable(m);
    const text = encodeManifest(m).toString('utf8');
    expect(Object.keys(parseStrictJson(text) as object).slice(5, 8)).toEqual(['cluster', 'lane', 'startedAt']);
    expect(Object.keys((parseStrictJson(text) as { lane: { templates: object } }).lane.templates)).toEqual(['topic', 'subject', 'group']);
    expect(decodeManifest(Buffer.from(text), 'x').lane).toEqual(lane);
    expect('lane' in buildManifest(input())).toBe(false);
    expect('lane' in buildManifest(input({ lane: null }))).toBe(false);
    for (const bad of [
      { ...lane, name: 'Feature_X' },
      { ...lane, name: 'x'.repeat(41) },
      { ...lane, templates: { ...lane.templates, topic: '' } },
      { name: 'a' },
    ]) {
      const json = JSON.parse(text) as Record<string, unknown>;
      json.lane = bad;
      expect(() => decodeManifest(Buffer.from(JSON.stringify(json)), 'x')).toThrow(/invalid at lane/);
    }
  });

  it('cut.time (FORMAT.md settled point 24): the instant given, last in cut, kept between startedAt and completedAt; absent when none is given', () => {
    const startedAt = new Date(Date.UTC(2026, 11, 1));
    const completedAt = new Date(Date.UTC(2026, 11, 1, 0, 0, 1));
    const m = buildManifest(input({ startedAt, completedAt, cutTime: new Date(Date.UTC(2026, 11, 1, 0, 0, 0, 250)) }));
    readable(m);
    expect(m.cut.time).toBe('2026-12-01T00:00:00.250Z');
    const text = encodeManifest(m).toString('utf8');
    expect(Object.keys((parseStrictJson(text) as { cut: object }).cut)).toEqual(['isolationLevel', 'since', 'until', 'maxRecordsPerPartition', 'time']);
    expect(decodeManifest(Buffer.from(text), 'x').cut.time).toBe('2026-12-01T00:00:00.250Z');
    // A wall clock stepped back or forward between the readings: still a manifest kbak reads.
    const early = buildManifest(input({ startedAt, completedAt, cutTime: new Date(startedAt.getTime() - 5_000) }));
    readable(early);
    expect(early.cut.time).toBe(startedAt.toISOString());
    const late = buildManifest(input({ startedAt, completedAt, cutTime: new Date(completedAt.getTime() + 5_000) }));
    readable(late);
    expect(late.cut.time).toBe(completedAt.toISOString());
    expect('time' in buildManifest(input()).cut).toBe(false);
  });

  it("a masked lane snapshot's lane.masking (FORMAT.md settled point 25): kept, keys in the point's order; null kept; absent stays absent", () => {
    const masking = { faker: '@faker-js/faker@9.9.0', keyFingerprint: '0123456789abcdef', policySha256: 'c'.repeat(64), policy: 'pii' };
    const templates = { topic: '{lane}.{topic}', subject: '{lane}.{subject}', group: '{lane}.{group}' };
    const m = buildManifest(input({ lane: { name: 'feature-x', templates, masking } }));
    readable(m);
    const text = encodeManifest(m).toString('utf8');
    expect(Object.keys((parseStrictJson(text) as { lane: { masking: object } }).lane.masking)).toEqual(['policy', 'policySha256', 'keyFingerprint', 'faker']);
    expect(decodeManifest(Buffer.from(text), 'x').lane?.masking).toEqual(masking);
    expect(buildManifest(input({ lane: { name: 'feature-x', templates, masking: null } })).lane).toHaveProperty('masking', null);
    expect(buildManifest(input({ lane: { name: 'feature-x', templates } })).lane).not.toHaveProperty('masking');
  });
});
