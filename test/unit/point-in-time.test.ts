/**
 * Point-in-time recovery (`kbak recover --at`): which backup each topic is read from and
 * which one the groups come from (choosePointInTime, pure, on hand-made manifests).
 */
import type { Manifest, PartitionEntry, TopicEntry } from '../../src/backup/manifest';
import { ExitCode, InvalidOptionError, NotFoundError } from '../../src/errors';
import { choosePointInTime, type ChainBackup } from '../../src/recover/point-in-time';

const T = (iso: string): Date => new Date(iso);
const ms = (iso: string): string => String(Date.parse(iso));

/** A segment of `records` records from offset `first`, timestamps min..max (ISO or raw ms). */
interface Seg {
  first: number;
  records: number;
  min: string;
  max: string;
}

function partitionEntry(p: number, segs: Seg[], end: number, basedOn: string | null): PartitionEntry {
  return {
    partition: p,
    logStartOffset: '0',
    startOffset: '0',
    endOffset: String(end),
    records: segs.reduce((n, s) => n + s.records, 0),
    segments: segs.map((s) => ({
      key: `topics/x/${p}/${s.first}.kseg`,
      firstOffset: String(s.first),
      lastOffset: String(s.first + s.records - 1),
      records: s.records,
      minTimestamp: /^-?\d+$/.test(s.min) ? s.min : ms(s.min),
      maxTimestamp: /^-?\d+$/.test(s.max) ? s.max : ms(s.max),
      rawBytes: 1,
      storedBytes: 1,
      sha256: '0'.repeat(64),
    })),
    basedOn,
    gaps: [],
  };
}

function topic(name: string, segs: Seg[], end: number, opts: { basedOn?: string | null; topicId?: string; partitionCount?: number } = {}): TopicEntry {
  return {
    name,
    partitionCount: opts.partitionCount ?? 1,
    replicationFactor: 1,
    configs: {},
    ...(opts.topicId !== undefined ? { topicId: opts.topicId } : {}),
    partitions: [partitionEntry(0, segs, end, opts.basedOn ?? null)],
  };
}

function backup(id: string, cut: string, topics: TopicEntry[], over: Partial<Manifest> = {}): ChainBackup {
  const manifest: Manifest = {
    format: 'kbak-backup',
    formatVersion: 2,
    incremental: topics.some((t) => t.partitions.some((p) => p.basedOn !== null)),
    tool: { name: 'kbak', version: 'test' },
    backupId: id,
    cluster: { id: 'c', name: 'prod' },
    startedAt: cut,
    completedAt: cut,
    cut: { isolationLevel: 'read_committed', since: null, until: null, maxRecordsPerPartition: null, time: cut },
    schemaRegistry: null,
    topics,
    schemas: [],
    subjects: [],
    consumerGroups: [],
    stats: { records: 0, rawBytes: 0, storedBytes: 0, segments: 0, unknownSchemaIds: [], framedPayloadsWithUnknownId: 0 },
    ...over,
  };
  return { backupId: id, cutTime: T(cut), manifest };
}

// orders: a full backup and two incrementals, each naming its bases' segments too.
const S1: Seg = { first: 0, records: 10, min: '2026-12-03T10:00:00.000Z', max: '2026-12-03T11:00:00.000Z' };
const S2: Seg = { first: 10, records: 10, min: '2026-12-03T12:30:00.000Z', max: '2026-12-04T11:00:00.000Z' };
const S3: Seg = { first: 20, records: 10, min: '2026-12-04T12:30:00.000Z', max: '2026-12-05T11:00:00.000Z' };
const P1: Seg = { first: 0, records: 5, min: '2026-12-03T10:30:00.000Z', max: '2026-12-03T11:30:00.000Z' };
const FULL = backup('20261203T120000000Z', '2026-12-03T12:00:00.000Z', [topic('orders', [S1], 10), topic('payments', [P1], 5)]);
const INC1 = backup('20261204T120000000Z', '2026-12-04T12:00:00.000Z', [
  topic('orders', [S1, S2], 20, { basedOn: FULL.backupId }),
  topic('payments', [P1], 5, { basedOn: FULL.backupId }),
]);
const INC2 = backup('20261205T120000000Z', '2026-12-05T12:00:00.000Z', [topic('orders', [S1, S2, S3], 30, { basedOn: INC1.backupId })]);
const CHAIN = [INC2, FULL, INC1];

function refusal(f: () => unknown): InvalidOptionError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    const e = err as InvalidOptionError;
    expect(e.exitCode).toBe(ExitCode.USAGE);
    expect(e.option).toBe('at');
    expect(e.oneLine()).not.toMatch(/\n/);
    return e;
  }
  throw new Error('not refused');
}

describe('choosePointInTime', () => {
  it('between two cuts: records from the first backup cut after TIME, groups from the newest cut before it', () => {
    const c = choosePointInTime(CHAIN, ['orders'], T('2026-12-04T00:00:00.000Z'));
    expect(c.topics).toEqual(new Map([['orders', { backupId: INC1.backupId }]]));
    expect(c.groupsFrom).toBe(FULL.backupId);
    expect(c.groupTopics).toEqual(new Set(['orders']));
    expect(c.warnings).toEqual([]);
    expect(c.at).toEqual(T('2026-12-04T00:00:00.000Z'));
  });

  it('between the last two cuts: the newest incremental (complete on its own) is the one backup read', () => {
    const c = choosePointInTime(CHAIN, ['orders'], T('2026-12-05T06:00:00.000Z'));
    expect(c.topics.get('orders')).toEqual({ backupId: INC2.backupId });
    expect(c.groupsFrom).toBe(INC1.backupId);
  });

  it('TIME equal to a cut: that backup gives both the records and the groups', () => {
    const c = choosePointInTime(CHAIN, ['orders'], INC1.cutTime);
    expect(c.topics.get('orders')).toEqual({ backupId: INC1.backupId });
    expect(c.groupsFrom).toBe(INC1.backupId);
    const last = choosePointInTime(CHAIN, ['orders'], INC2.cutTime);
    expect(last.topics.get('orders')).toEqual({ backupId: INC2.backupId });
    expect(last.groupsFrom).toBe(INC2.backupId);
  });

  it('the chain may come in any order', () => {
    for (const order of [CHAIN, [FULL, INC1, INC2], [INC1, INC2, FULL]]) {
      const c = choosePointInTime(order, ['orders', 'payments'], T('2026-12-03T18:00:00.000Z'));
      expect(c.topics).toEqual(
        new Map([
          ['orders', { backupId: INC1.backupId }],
          ['payments', { backupId: INC1.backupId }],
        ]),
      );
      expect(c.groupsFrom).toBe(FULL.backupId);
      expect(c.range).toEqual({ firstRecord: T('2026-12-03T10:00:00.000Z'), lastCut: INC2.cutTime });
    }
  });

  it('refuses a TIME before the first record, naming the range', () => {
    const e = refusal(() => choosePointInTime(CHAIN, ['orders', 'payments'], T('2026-12-01T00:00:00Z')));
    expect(e.message).toBe('at "2026-12-01T00:00:00.000Z" is before the first record backed up of these topics (2026-12-03T10:00:00.000Z)');
    expect(e.hint).toBe('choose a time from 2026-12-03T10:00:00.000Z until the last cut, 2026-12-05T12:00:00.000Z');
    expect(e.describeAs('--at')).toMatch(/^--at "2026-12-01T00:00:00.000Z" is before/);
  });

  it('the first record is that of the topics asked for', () => {
    // payments starts at 10:30: 10:15 is before it, though orders had a record then.
    const e = refusal(() => choosePointInTime(CHAIN, ['payments'], T('2026-12-03T10:15:00Z')));
    expect(e.message).toMatch(/before the first record backed up of this topic \(2026-12-03T10:30:00.000Z\)/);
    expect(e.hint).toBe('choose a time from 2026-12-03T10:30:00.000Z until the last cut, 2026-12-04T12:00:00.000Z');
  });

  it('refuses a TIME after the last cut, naming the range', () => {
    const e = refusal(() => choosePointInTime(CHAIN, ['orders'], T('2026-12-05T12:00:00.001Z')));
    expect(e.message).toBe(
      'at "2026-12-05T12:00:00.001Z" is after the last cut of the backups of this topic (2026-12-05T12:00:00.000Z): what came after is in no backup',
    );
    expect(e.hint).toBe('choose a time from 2026-12-03T10:00:00.000Z until the last cut, 2026-12-05T12:00:00.000Z');
  });

  it('TIME at the first record is accepted; before the first cut there are no groups to take, and it says so', () => {
    const c = choosePointInTime(CHAIN, ['orders'], T('2026-12-03T10:00:00.000Z'));
    expect(c.topics.get('orders')).toEqual({ backupId: FULL.backupId });
    expect(c.groupsFrom).toBeNull();
    expect(c.groupTopics).toEqual(new Set());
    expect(c.warnings).toEqual([
      'no backup of this topic was taken at or before 2026-12-03T10:00:00.000Z (the first cut is 2026-12-03T12:00:00.000Z): consumer groups are not recovered',
    ]);
  });

  it('a topic missing from the newer backups is read from its newest one, with a warning; groups of it are not taken from a backup without it', () => {
    const c = choosePointInTime(CHAIN, ['orders', 'payments'], T('2026-12-05T06:00:00.000Z'));
    expect(c.topics).toEqual(
      new Map([
        ['orders', { backupId: INC2.backupId }],
        ['payments', { backupId: INC1.backupId }],
      ]),
    );
    expect(c.groupsFrom).toBe(INC1.backupId);
    expect(c.groupTopics).toEqual(new Set(['orders', 'payments']));
    expect(c.warnings).toEqual([
      'topic payments was last backed up at 2026-12-04T12:00:00.000Z (backup 20261204T120000000Z), before 2026-12-05T06:00:00.000Z: it is recovered as of then',
    ]);
    const atLast = choosePointInTime(CHAIN, ['orders', 'payments'], INC2.cutTime);
    expect(atLast.groupsFrom).toBe(INC2.backupId);
    expect(atLast.groupTopics).toEqual(new Set(['orders']));
    expect(atLast.warnings).toContain(
      'consumer-group offsets of topic payments are not recovered: backup 20261205T120000000Z, the newest taken at or before 2026-12-05T12:00:00.000Z, does not hold it',
    );
  });

  it('backups of other topics only do not count for the range or the groups', () => {
    const other = backup('20261206T120000000Z', '2026-12-06T12:00:00.000Z', [topic('audit', [S1], 10)]);
    const c = choosePointInTime([...CHAIN, other], ['orders'], INC2.cutTime);
    expect(c.range.lastCut).toEqual(INC2.cutTime);
    expect(c.groupsFrom).toBe(INC2.backupId);
    refusal(() => choosePointInTime([...CHAIN, other], ['orders'], T('2026-12-06T00:00:00Z')));
  });

  it('several full backups: the first cut at or after TIME is read, whichever chain it starts', () => {
    const full2 = backup('20261204T180000000Z', '2026-12-04T18:00:00.000Z', [topic('orders', [{ ...S2, min: S2.min, max: S2.max }], 20)]);
    const c = choosePointInTime([...CHAIN, full2], ['orders'], T('2026-12-04T15:00:00.000Z'));
    expect(c.topics.get('orders')).toEqual({ backupId: full2.backupId });
    expect(c.groupsFrom).toBe(INC1.backupId);
    const later = choosePointInTime([...CHAIN, full2], ['orders'], T('2026-12-04T20:00:00.000Z'));
    expect(later.topics.get('orders')).toEqual({ backupId: INC2.backupId });
    expect(later.groupsFrom).toBe(full2.backupId);
  });

  it('two backups cut at the same instant: the later ID is the newer', () => {
    const twin = backup('20261204T120000001Z', '2026-12-04T12:00:00.000Z', [topic('orders', [S1, S2], 20, { basedOn: FULL.backupId })]);
    const c = choosePointInTime([twin, ...CHAIN], ['orders'], INC1.cutTime);
    expect(c.topics.get('orders')).toEqual({ backupId: INC1.backupId });
    expect(c.groupsFrom).toBe(twin.backupId);
  });

  it('a topic deleted and recreated between the groups backup and the records backup: its groups are not taken, with the reason', () => {
    const a = 'AAAAAAAAAAAAAAAAAAAAAA';
    const b = 'QkJCQkJCQkJCQkJCQkJCQg';
    const g = backup('20261203T120000000Z', '2026-12-03T12:00:00.000Z', [topic('orders', [S1], 10, { topicId: a })]);
    const r = backup('20261204T120000000Z', '2026-12-04T12:00:00.000Z', [topic('orders', [{ ...S2, first: 0 }], 10, { topicId: b })]);
    const c = choosePointInTime([g, r], ['orders'], T('2026-12-03T18:00:00.000Z'));
    expect(c.groupsFrom).toBe(g.backupId);
    expect(c.groupTopics).toEqual(new Set());
    expect(c.warnings).toEqual([
      `consumer-group offsets of topic orders are not recovered: it was deleted and recreated between backups ${g.backupId} and ${r.backupId} (its topic ID is ${b}, backup ${g.backupId} read topic ID ${a})`,
    ]);
    // Without topic IDs: the later cut ends below the earlier one.
    const g2 = backup(g.backupId, '2026-12-03T12:00:00.000Z', [topic('orders', [S1], 10)]);
    const r2 = backup(r.backupId, '2026-12-04T12:00:00.000Z', [topic('orders', [{ ...S2, first: 0, records: 5 }], 5)]);
    const c2 = choosePointInTime([g2, r2], ['orders'], T('2026-12-03T18:00:00.000Z'));
    expect(c2.groupTopics).toEqual(new Set());
    expect(c2.warnings[0]).toMatch(/partition 0 ends at 5, below 10, where backup 20261203T120000000Z ended/);
  });

  it('warns when the backup read was dumped with a filter: it is not the whole log', () => {
    const filtered = backup('20261204T120000000Z', '2026-12-04T12:00:00.000Z', [topic('orders', [S2], 20)], {
      cut: { isolationLevel: 'read_committed', since: '2026-12-03T12:00:00.000Z', until: null, maxRecordsPerPartition: 5, time: '2026-12-04T12:00:00.000Z' },
    });
    const c = choosePointInTime([FULL, filtered], ['orders'], T('2026-12-04T00:00:00Z'));
    expect(c.warnings).toEqual([
      'backup 20261204T120000000Z was dumped with --since 2026-12-03T12:00:00.000Z --max-records-per-partition 5: the records read from it are not the whole log',
    ]);
  });

  it('records without a timestamp (-1) do not start the range; topics with no record start it at their first cut', () => {
    const noTs = backup('20261203T120000000Z', '2026-12-03T12:00:00.000Z', [
      topic('orders', [{ first: 0, records: 3, min: '-1', max: ms('2026-12-03T11:00:00.000Z') }], 3),
    ]);
    expect(choosePointInTime([noTs], ['orders'], noTs.cutTime).range.firstRecord).toEqual(noTs.cutTime);
    refusal(() => choosePointInTime([noTs], ['orders'], T('2026-12-03T11:00:00.000Z')));
    const empty = backup('20261203T120000000Z', '2026-12-03T12:00:00.000Z', [topic('orders', [], 0)]);
    const later = backup('20261204T120000000Z', '2026-12-04T12:00:00.000Z', [topic('orders', [], 0)]);
    const c = choosePointInTime([later, empty], ['orders'], T('2026-12-03T20:00:00.000Z'));
    expect(c.range).toEqual({ firstRecord: empty.cutTime, lastCut: later.cutTime });
    expect(c.topics.get('orders')).toEqual({ backupId: later.backupId });
    expect(c.groupsFrom).toBe(empty.backupId);
    refusal(() => choosePointInTime([later, empty], ['orders'], T('2026-12-03T11:59:59.999Z')));
  });

  it('a timestamp beyond what a Date holds does not start the range (no crash printing it)', () => {
    const far = backup('20261203T120000000Z', '2026-12-03T12:00:00.000Z', [
      topic('orders', [{ first: 0, records: 1, min: '9223372036854775807', max: '9223372036854775807' }], 1),
    ]);
    const e = refusal(() => choosePointInTime([far], ['orders'], T('2026-12-01T00:00:00Z')));
    expect(e.message).toMatch(/\(2026-12-03T12:00:00.000Z\)$/);
  });

  it('a topic in no backup is not found (exit 3), naming it', () => {
    expect(() => choosePointInTime(CHAIN, ['orders', 'refunds'], INC1.cutTime)).toThrow(new NotFoundError('topic refunds is in no backup of the cluster'));
    let thrown: unknown = null;
    try {
      choosePointInTime([], ['orders'], INC1.cutTime);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(NotFoundError);
    expect((thrown as NotFoundError).exitCode).toBe(ExitCode.NOT_FOUND);
    expect(() => choosePointInTime(CHAIN, [], INC1.cutTime)).toThrow(NotFoundError);
  });

  it('refuses an invalid Date from a library caller instead of crashing', () => {
    refusal(() => choosePointInTime(CHAIN, ['orders'], new Date(Number.NaN)));
  });
});
