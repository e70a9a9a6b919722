/**
 * `kbak lane list` and `kbak lane describe` as people read them: aligned columns through the
 * one table renderer, ages and TTLs in words, an empty state. Fixed clocks: the overview is
 * made at a fixed `now`, so the lines are golden strings.
 */
import { laneDescribeLines, laneListLines } from '../../src/cli/lane-view';
import { MemoryKafka } from '../../src/kafka/memory';
import { decodeLedgerEntry, type LedgerEntry } from '../../src/lane/ledger';
import { overview, type LaneContext } from '../../src/lane/lifecycle';
import { ago, span, timeLeft } from '../../src/output/human-time';
import { silentLogger } from '../../src/output/logger';
import { table } from '../../src/output/table';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (msBeforeNow: number): string => new Date(NOW.getTime() - msBeforeNow).toISOString();

/** A ledger record as kbak writes it (format 1), read through the ledger's decoder. */
function entry(lane: string, fields: Record<string, unknown>): LedgerEntry {
  const json = {
    format: 1,
    lane,
    seededFrom: { cluster: 'prod', backupId: '20261201T030000000Z' },
    createdAt: at(5 * 60_000),
    updatedAt: at(60_000),
    kbakVersion: '0.1.0',
    ttlMs: null,
    expiresAt: null,
    state: 'ready',
    templates: { topic: '{lane}.{topic}', subject: '{lane}.{subject}', group: '{lane}.{group}' },
    topics: [],
    subjects: [],
    groups: [],
    ...fields,
  };
  return decodeLedgerEntry(Buffer.from(lane), Buffer.from(JSON.stringify(json)));
}

const kafka = new MemoryKafka();
const ctx: LaneContext = { kafka, registry: null, logger: silentLogger(), ledgerTopic: '__kbak_lanes' };
const topicId = 'AAAAAAAAAAAAAAAAAAAAAA';

beforeAll(() => {
  kafka.topics.set('alpha.orders', { partitions: [{ records: [], logStart: 0n, next: 0n }], replicationFactor: 1, configs: {} });
  for (let i = 0; i < 12; i++) kafka.append('alpha.orders', 0, [{ timestamp: 1n, key: null, value: Buffer.from('v'), headers: [] }]);
});

const alpha = entry('alpha', {
  createdAt: at(3 * HOUR + 20 * 60_000),
  ttlMs: 72 * HOUR,
  expiresAt: at(-(72 * HOUR - 3 * HOUR - 20 * 60_000)),
  topics: [
    { name: 'alpha.orders', source: 'orders', id: topicId, pending: false },
    { name: 'alpha.billing', source: 'billing', id: null, pending: true },
  ],
  subjects: [{ name: 'alpha.orders-value', source: 'orders-value', versions: [1, 2] }],
  groups: [{ name: 'alpha.billing', source: 'billing' }],
});
const old = entry('old-feature', { createdAt: at(9 * 24 * HOUR), ttlMs: 7 * 24 * HOUR, expiresAt: at(2 * HOUR + 5 * 60_000), state: 'deleting' });
const fresh = entry('b', { createdAt: at(200) });

describe('human ages and TTLs', () => {
  it('says spans in whole units, rounded down, with the next unit below 10 of the larger', () => {
    const spans = [
      0,
      45_000,
      60_000,
      5 * 60_000 + 59_000,
      HOUR,
      3 * HOUR + 20 * 60_000,
      12 * HOUR + 59 * 60_000,
      47 * HOUR,
      72 * HOUR - 60_000,
      72 * HOUR,
      12 * 24 * HOUR + 5 * HOUR,
    ];
    expect(spans.map(span)).toEqual(['0 s', '45 s', '1 min', '5 min', '1 h', '3 h 20 min', '12 h', '1 d 23 h', '2 d 23 h', '3 d', '12 d']);
    expect(ago(5 * 60_000)).toBe('5 min ago');
    expect(ago(-3000)).toBe('just now'); // the writer's clock ahead of ours
    expect(timeLeft(3 * 24 * HOUR + 1)).toBe('in 3 d');
    expect(timeLeft(-2 * HOUR - 1)).toBe('expired 2 h ago');
    expect(timeLeft(-2 * HOUR - 5 * 60_000)).toBe('expired 2 h 5 min ago');
    expect(timeLeft(0)).toBe('expired 0 s ago');
  });
});

describe('lane list', () => {
  it('prints aligned columns with ages and TTLs in words', async () => {
    const lanes = [await overview(ctx, alpha, NOW), await overview(ctx, fresh, NOW), await overview(ctx, old, NOW)];
    expect(laneListLines('__kbak_lanes', lanes)).toEqual([
      'LANE         STATE     SEEDED FROM               AGE             TTL                    TOPICS  RECORDS  SUBJECTS  GROUPS',
      'alpha        ready     prod/20261201T030000000Z  3 h 20 min ago  in 2 d 20 h            2       12       1         1',
      'b            ready     prod/20261201T030000000Z  just now        none                   0       0        0         0',
      'old-feature  deleting  prod/20261201T030000000Z  9 d ago         expired 2 h 5 min ago  0       0        0         0',
    ]);
  });

  it('says so when there are no lanes', () => {
    expect(laneListLines('__kbak_lanes', [])).toEqual(['no lanes in this cluster (ledger topic __kbak_lanes)']);
  });
});

describe('lane describe', () => {
  it('prints the facts, then tables of topics, subjects and groups', async () => {
    expect(laneDescribeLines(alpha, await overview(ctx, alpha, NOW))).toEqual([
      'lane alpha',
      '  state        ready',
      `  seeded from  prod/20261201T030000000Z`,
      '  masking      unmasked: records copied as they were',
      `  created      ${alpha.createdAt} (3 h 20 min ago) by kbak 0.1.0`,
      `  TTL          in 2 d 20 h (expires ${alpha.expiresAt})`,
      '  records      12',
      '  templates    topic {lane}.{topic}, subject {lane}.{subject}, group {lane}.{group}',
      '',
      'topics:',
      '  TOPIC          SOURCE   TOPIC ID                NOTE',
      `  alpha.orders   orders   ${topicId}`,
      '  alpha.billing  billing  not yet recorded        creation in progress',
      '',
      'subjects:',
      '  SUBJECT             SOURCE        VERSIONS',
      '  alpha.orders-value  orders-value  1, 2',
      '',
      'consumer groups:',
      '  GROUP          SOURCE',
      '  alpha.billing  billing',
    ]);
  });

  it('says "none" for empty sections and for no TTL', async () => {
    const lines = laneDescribeLines(fresh, await overview(ctx, fresh, NOW));
    expect(lines).toContain('  TTL          none (kept until deleted)');
    expect(lines).toContain(`  created      ${fresh.createdAt} (just now) by kbak 0.1.0`);
    expect(lines.slice(-6)).toEqual(['', 'topics: none', '', 'subjects: none', '', 'consumer groups: none']);
  });
});

describe('table', () => {
  it('pads every column but the last, escapes control characters, and ends no line in spaces', () => {
    expect(
      table(
        ['A', 'BB', 'C'],
        [
          ['x\ty', '', 'z'],
          ['1', '22222', ''],
        ],
      ),
    ).toEqual(['A         BB     C', 'x\\u0009y         z', '1         22222']);
    expect(
      table(null, [
        ['key', 'value'],
        ['k', 'v'],
      ]),
    ).toEqual(['key  value', 'k    v']);
  });
});
