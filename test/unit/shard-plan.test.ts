/**
 * A sharded dump's plan and partial manifests (src/backup/shard-plan.ts, FORMAT.md "Sharded
 * dumps"): the codecs refuse what a hostile or broken store could hold, the plan agreement
 * names the option that differs, and the merge of the partials refuses every partial that is
 * not exactly its shard's part of this plan. Pure: documents built by hand (test/support/shard-docs.ts).
 */
import { createHash } from 'node:crypto';
import {
  canonicalRequest,
  decodePartial,
  decodePlan,
  encodeDocument,
  MAX_PLAN_BYTES,
  mergePartials,
  planMismatch,
  planProblem,
  planSha256,
  shardPartitions,
  type ShardPartial,
  type ShardPlan,
} from '../../src/backup/shard-plan';
import type { SegmentEntry } from '../../src/backup/manifest';
import { ExitCode, IntegrityError } from '../../src/errors';
import { handPartials, handPlan, PLAN_ID, request, segment, tagOf } from '../support/shard-docs';
import { thrown } from '../support/thrown';

// The 100 000-segment partial takes seconds to build and decode on a shared machine.
jest.setTimeout(60_000);

const PLAN_HASH = 'ab'.repeat(32);

/** An IntegrityError (exit 5) with a one-line message containing every one of `parts`. */
function expectIntegrity(fn: () => unknown, ...parts: string[]): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(IntegrityError);
  expect(err.exitCode).toBe(ExitCode.CORRUPT);
  expect(err.message).not.toContain('\n');
  for (const p of parts) expect(err.message).toContain(p);
}

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o), 'utf8');

describe('plan and partial codecs', () => {
  it('a plan round-trips: decode(encode(plan)) is the plan, and its SHA-256 is that of its bytes', () => {
    const plan = handPlan();
    const bytes = encodeDocument(plan);
    expect(decodePlan(bytes, 'prod/plans/x/plan.json')).toEqual(plan);
    expect(planSha256(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(planSha256(encodeDocument(decodePlan(bytes, 'p')))).toBe(planSha256(bytes));
  });

  it('a partial round-trips', () => {
    const plan = handPlan();
    for (const partial of handPartials(plan, PLAN_HASH).values()) expect(decodePartial(encodeDocument(partial), 'p')).toEqual(partial);
  });

  const WHERE = 'prod/plans/20261206T020000000Z/plan.json';
  const decoders: Array<[string, (b: Buffer, w: string) => unknown, string]> = [
    ['plan', decodePlan, `plan ${WHERE}`],
    ['partial', decodePartial, `partial manifest ${WHERE}`],
  ];

  it.each(decoders)('a %s larger than the limit is refused before it is read', (_, decode, place) => {
    const big = Buffer.alloc(MAX_PLAN_BYTES + 1, 0x20);
    expectIntegrity(() => decode(big, WHERE), place, String(MAX_PLAN_BYTES + 1), 'more than the limit');
  });

  it.each(decoders)('a %s that is not UTF-8 is refused', (_, decode, place) => {
    const bytes = Buffer.concat([Buffer.from('{"format":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expectIntegrity(() => decode(bytes, WHERE), place, 'not valid UTF-8');
  });

  it.each(decoders)('a %s with a key twice in one object is refused (JSON.parse would keep the last)', (_, decode, place) => {
    const good = encodeDocument(handPlan()).toString('utf8');
    const twice = good.replace('"format": "kbak-dump-plan",', '"format": "kbak-dump-plan", "format": "kbak-dump-plan",');
    expect(twice).not.toBe(good);
    expectIntegrity(() => decode(Buffer.from(twice), WHERE), place, 'format');
  });

  it.each(decoders)('a %s nested deeper than a manifest may be is refused before JSON.parse', (_, decode, place) => {
    const deep = `{"format":${'['.repeat(40)}${']'.repeat(40)}}`;
    expectIntegrity(() => decode(Buffer.from(deep), WHERE), place);
  });

  it.each(decoders)('a %s that is not JSON is refused', (_, decode, place) => {
    expectIntegrity(() => decode(Buffer.from('{"format": '), WHERE), place, 'not valid JSON');
  });

  it('a plan of another format or version is refused, naming the field', () => {
    expectIntegrity(() => decodePlan(json({ ...handPlan(), format: 'kbak-backup' }), WHERE), `plan ${WHERE}`, 'format');
    expectIntegrity(() => decodePlan(json({ ...handPlan(), formatVersion: 2 }), WHERE), 'formatVersion');
    // A partial is not a plan, and a plan not a partial.
    const partial = handPartials(handPlan(), PLAN_HASH).get(0)!;
    expectIntegrity(() => decodePlan(encodeDocument(partial), WHERE), 'format');
    expectIntegrity(() => decodePartial(encodeDocument(handPlan()), WHERE), `partial manifest ${WHERE}`, 'format');
  });

  it('a partial with a writer tag that is no backup ID plus 8 hex digits is refused', () => {
    const partial = handPartials(handPlan(), PLAN_HASH).get(0)!;
    for (const writerTag of ['../x', `${PLAN_ID}-0000000G`, `${PLAN_ID}`, `${PLAN_ID}-00000000/..`])
      expectIntegrity(() => decodePartial(json({ ...partial, writerTag }), WHERE), 'writerTag');
  });

  /** The plan with one partition changed (`orders/1`: log start 5, range 5..65, shard 1). */
  function withPartition(change: Partial<ShardPlan['topics'][number]['partitions'][number]>): ShardPlan {
    const plan = handPlan();
    const p = plan.topics[0]!.partitions[1]!;
    Object.assign(p, change);
    return plan;
  }

  it('a plan that assigns a partition to a shard ≥ N is refused, naming the partition', () => {
    expectIntegrity(() => decodePlan(json(withPartition({ shard: 3 })), WHERE), `plan ${WHERE}`, 'orders/1', 'shard 3 of 3');
    expect(planProblem(withPartition({ shard: 2 }))).toBeNull();
  });

  it('a plan that lists a partition twice, or one not below partitionCount, or a topic twice, is refused', () => {
    const twice = handPlan();
    twice.topics[0]!.partitions.push({ ...twice.topics[0]!.partitions[0]!, shard: 1 });
    expectIntegrity(() => decodePlan(json(twice), WHERE), 'orders/0 twice');
    const beyond = withPartition({ partition: 3 });
    expectIntegrity(() => decodePlan(json(beyond), WHERE), 'orders/3', 'partitionCount 3');
    const topicTwice = handPlan();
    topicTwice.topics.push({ ...topicTwice.topics[0]! });
    expectIntegrity(() => decodePlan(json(topicTwice), WHERE), 'topic orders twice');
  });

  it('a plan whose range starts before the log start or after its end is refused', () => {
    expectIntegrity(() => decodePlan(json(withPartition({ startOffset: '4' })), WHERE), 'orders/1', '4..65', 'log start 5');
    expectIntegrity(() => decodePlan(json(withPartition({ startOffset: '66' })), WHERE), 'orders/1', '66..65');
    // The edges are ranges: empty at the end, from the log start.
    expect(planProblem(withPartition({ startOffset: '65' }))).toBeNull();
    expect(planProblem(withPartition({ startOffset: '5' }))).toBeNull();
  });

  it('a plan that expires at or before its creation is refused', () => {
    expectIntegrity(() => decodePlan(json({ ...handPlan(), expiresAt: handPlan().createdAt }), WHERE), `plan ${WHERE}`, 'expires before it was created');
    expectIntegrity(() => decodePlan(json({ ...handPlan(), expiresAt: '2026-12-06T01:00:00.000Z' }), WHERE), 'expires before it was created');
    expect(planProblem({ ...handPlan(), expiresAt: '2026-12-06T02:00:01.001Z' })).toBeNull();
  });

  it('a plan time that names no real instant is refused', () => {
    expectIntegrity(() => decodePlan(json({ ...handPlan(), cutTime: '2026-02-30T00:00:00.000Z' }), WHERE), 'cutTime');
  });

  it('shardPartitions gives each shard exactly its partitions, in plan order', () => {
    const plan = handPlan();
    const of = (i: number) => shardPartitions(plan, i).map(({ topic, partition }) => `${topic.name}/${partition.partition}`);
    expect([of(0), of(1), of(2), of(3)]).toEqual([['orders/0', 'events/1'], ['orders/1'], ['orders/2', 'events/0'], []]);
  });
});

describe('planMismatch: a shard started with other options than the plan', () => {
  const mine = (over: Partial<Parameters<typeof planMismatch>[1]> = {}) => ({
    shards: 3,
    clusterId: 'memory-cluster',
    clusterName: 'prod',
    request: request(),
    ...over,
  });

  it('equal requests match, whatever the order (or repetition) of topics and partitions', () => {
    const plan = handPlan();
    plan.request = canonicalRequest({
      topics: ['orders', 'events'],
      partitions: [2, 0, 1],
      since: null,
      until: null,
      maxRecordsPerPartition: null,
      incremental: false,
    });
    const other = canonicalRequest({
      topics: ['events', 'orders', 'events'],
      partitions: [1, 2, 0, 0],
      since: null,
      until: null,
      maxRecordsPerPartition: null,
      incremental: false,
    });
    expect(planMismatch(plan, mine({ request: other }))).toBeNull();
    expect(planMismatch(handPlan(), mine())).toBeNull();
  });

  const since = new Date('2026-12-01T00:00:00.000Z');
  const cases: Array<[string, Partial<Parameters<typeof planMismatch>[1]>, string[]]> = [
    ['--topic', { request: request({ topics: ['orders'] }) }, ['--topic differs', 'events, orders', 'this shard has orders']],
    ['--topics-regex', { request: request({ regex: '^o' }) }, ['--topics-regex differs', 'the plan has none', '^o']],
    ['--partitions', { request: request({ partitions: [0, 1] }) }, ['--partitions differs', '0, 1']],
    ['--since', { request: request({ since: since.toISOString() }) }, ['--since differs', since.toISOString()]],
    ['--until', { request: request({ until: since.toISOString() }) }, ['--until differs', since.toISOString()]],
    ['--max-records-per-partition', { request: request({ maxRecordsPerPartition: 10 }) }, ['--max-records-per-partition differs', '10']],
    ['--incremental', { request: request({ incremental: true }) }, ['--incremental differs', 'false', 'true']],
    ['the shard count', { shards: 4 }, ['3 shards', 'started with 4']],
    ['the cluster id', { clusterId: 'another-cluster' }, ['cluster memory-cluster', 'another-cluster']],
    ['the cluster name', { clusterName: 'staging' }, ['cluster name prod', 'staging']],
  ];

  it.each(cases)('%s differs: named, with both sides', (_, over, parts) => {
    const why = planMismatch(handPlan(), mine(over));
    expect(why).not.toBeNull();
    expect(why).not.toContain('\n');
    for (const p of parts) expect(why).toContain(p);
  });
});

describe('mergePartials', () => {
  const plan = handPlan();

  function partials(change?: (m: Map<number, ShardPartial>) => void): Map<number, ShardPartial> {
    const m = handPartials(plan, PLAN_HASH);
    change?.(m);
    return m;
  }

  /** The merge of `set`, to be called by expectIntegrity. */
  const merging = (set: Map<number, ShardPartial>) => () => mergePartials(plan, PLAN_HASH, set);

  /** The set with shard 1's orders/1 (range 5..65) written as `segments`, its records their sum. */
  const orders1 = (...segments: SegmentEntry[]) =>
    partials((m) => {
      const p = m.get(1)!.partitions[0]!;
      p.segments = segments;
      p.records = segments.reduce((n, x) => n + x.records, 0);
    });
  const o1 = (first: number, records: number): SegmentEntry => segment('orders', 1, first, records, tagOf(1));

  it('a valid set merges: every partition with its own shard’s segments and records, schema ID counts summed', () => {
    const merged = mergePartials(plan, PLAN_HASH, partials());
    const records = Object.fromEntries([...merged.partitions].map(([k, m]) => [k, m.records]));
    expect(records).toEqual({ 'orders/0': 100, 'events/1': 30, 'orders/1': 60, 'orders/2': 0, 'events/0': 30 });
    // Segments as the owning partial named them, in offset order.
    expect(merged.partitions.get('orders/1')!.segments.map((s) => [s.key, s.firstOffset, s.records])).toEqual([
      [`segments/orders/1/00000000000000000005-${tagOf(1)}.kseg`, '5', 25],
      [`segments/orders/1/00000000000000000030-${tagOf(1)}.kseg`, '30', 25],
      [`segments/orders/1/00000000000000000055-${tagOf(1)}.kseg`, '55', 10],
    ]);
    expect(merged.partitions.get('events/0')!.segments.every((s) => s.key.endsWith(`-${tagOf(2)}.kseg`))).toBe(true);
    // ID 1 was seen by every shard (1 + 2 + 3 payloads); 10, 11 and 12 by one each.
    expect(Object.fromEntries(merged.schemaIds)).toEqual({ 1: 6, 10: 2, 11: 2, 12: 2 });
  });

  it('a missing partial is refused, naming the shard', () => {
    expectIntegrity(merging(partials((m) => m.delete(1))), 'shard 1', 'no partial manifest');
  });

  it('a partial of another backup, of another plan, or of another shard or shard count is refused', () => {
    expectIntegrity(merging(partials((m) => (m.get(2)!.backupId = '20261206T020000001Z'))), 'shard 2', 'of backup 20261206T020000001Z');
    expectIntegrity(merging(partials((m) => (m.get(0)!.planSha256 = 'cd'.repeat(32)))), 'shard 0', 'another plan');
    // Shard 1's partial stored as shard 0's.
    expectIntegrity(merging(partials((m) => m.set(0, m.get(1)!))), 'shard 0', 'says it is shard 1/3');
    expectIntegrity(merging(partials((m) => (m.get(1)!.shards = 4))), 'shard 1', 'says it is shard 1/4');
  });

  it('a writer tag of another dump is refused', () => {
    const other = '20261205T020000000Z-00000001';
    expectIntegrity(
      merging(
        partials((m) => {
          const p = m.get(1)!;
          p.writerTag = other;
          // Its segments named consistently with that tag: the tag itself is what is refused.
          p.partitions[0]!.segments = p.partitions[0]!.segments.map((s) => segment('orders', 1, Number(s.firstOffset), s.records, other));
        }),
      ),
      'shard 1',
      `writer tag ${other}`,
      'another dump',
    );
  });

  it('a partition the plan gives another shard, a partition listed twice, and one left out are refused', () => {
    // Shard 0 also lists orders/1 (shard 1's).
    expectIntegrity(
      merging(partials((m) => m.get(0)!.partitions.push({ ...m.get(1)!.partitions[0]! }))),
      'shard 0',
      'lists orders/1, which the plan does not give it',
    );
    // A partition of no planned topic.
    expectIntegrity(merging(partials((m) => m.get(0)!.partitions.push({ topic: 'payments', partition: 0, records: 0, segments: [] }))), 'lists payments/0');
    expectIntegrity(merging(partials((m) => m.get(0)!.partitions.push({ ...m.get(0)!.partitions[0]! }))), 'shard 0', 'lists orders/0 twice');
    expectIntegrity(
      merging(
        partials((m) => {
          m.get(2)!.partitions.pop();
          m.get(2)!.schemaIds = [];
        }),
      ),
      'shard 2',
      'leaves out events/0',
    );
  });

  /** Shard 1's partial with the first segment of orders/1 named `key`. */
  const renamed = (key: string) =>
    partials((m) => {
      m.get(1)!.partitions[0]!.segments[0]!.key = key;
    });

  it.each([
    ['a path escape', `segments/orders/1/../../../prod/20261206T020000000Z/manifest.json`],
    ['another topic’s folder', `segments/events/1/00000000000000000005-${tagOf(1)}.kseg`],
    ['another partition’s folder', `segments/orders/0/00000000000000000005-${tagOf(1)}.kseg`],
    ['another writer tag of this dump', `segments/orders/1/00000000000000000005-${tagOf(0)}.kseg`],
    ['another first offset', `segments/orders/1/00000000000000000006-${tagOf(1)}.kseg`],
    ['a manifest', `20261205T020000000Z/manifest.json`],
    ['a v1 segment of an earlier backup', `20261205T020000000Z/topics/orders/1/00000000000000000005.kseg`],
    ['a lock', `locks/shared-1.json`],
    ['the plan', `plans/${PLAN_ID}/plan.json`],
    ['an absolute key', `/segments/orders/1/00000000000000000005-${tagOf(1)}.kseg`],
  ])('a segment key that is not its own pool key is refused: %s', (_, key) => {
    expectIntegrity(merging(renamed(key)), 'shard 1', 'names segment', JSON.stringify(key), 'not one of its own');
  });

  it('segments out of order, overlapping, or outside the range are refused', () => {
    expectIntegrity(merging(partials((m) => m.get(1)!.partitions[0]!.segments.reverse())), 'shard 1', 'orders/1 out of order');
    // Two segments that share an offset; one below the range's start (5); one reaching the cut (65).
    expectIntegrity(merging(orders1(o1(5, 26), o1(30, 35))), 'orders/1 out of order');
    expectIntegrity(merging(orders1(o1(4, 26), o1(30, 25), o1(55, 10))), 'a segment of orders/1 outside 5..65');
    expectIntegrity(merging(orders1(o1(5, 25), o1(30, 25), o1(55, 11))), 'outside 5..65');
    // The edges themselves are inside.
    expect(merging(orders1(o1(5, 60)))().partitions.get('orders/1')!.records).toBe(60);
    // A segment in an empty range.
    expectIntegrity(
      merging(
        partials((m) => {
          const p = m.get(2)!.partitions.find((x) => x.topic === 'orders')!;
          p.segments = [segment('orders', 2, 0, 1, tagOf(2))];
          p.records = 1;
        }),
      ),
      'outside 0..0',
    );
  });

  it('records that do not add up to the segments are refused', () => {
    expectIntegrity(merging(partials((m) => (m.get(0)!.partitions[0]!.records = 99))), 'shard 0', 'says orders/0 holds 99 records, its segments 100');
  });

  // Summed unchecked, partials whose counts add up past 2^53 made the manifest fail its own
  // schema (exit 70) on input from a shared store.
  it('a partial that counts more schema payloads than twice its records is refused', () => {
    expectIntegrity(merging(partials((m) => (m.get(1)!.schemaIds = [{ id: 5, payloads: 121 }]))), 'shard 1', 'schema ID 5');
    // Twice the records (a key and a value each) is the most there can be.
    expect(
      mergePartials(
        plan,
        PLAN_HASH,
        partials((m) => (m.get(1)!.schemaIds = [{ id: 5, payloads: 120 }])),
      ).schemaIds.get(5),
    ).toBe(120);
  });

  it('a partial with 100 000 segments decodes and merges (linear: no quadratic check over the segments)', () => {
    const big = handPlan();
    const p = big.topics[0]!.partitions[0]!;
    p.endOffset = '100000';
    const m = handPartials(big, PLAN_HASH);
    const own = m.get(0)!.partitions.find((x) => x.topic === 'orders' && x.partition === 0)!;
    own.segments = Array.from({ length: 100_000 }, (_, i) => segment('orders', 0, i, 1, tagOf(0)));
    own.records = 100_000;
    const bytes = encodeDocument(m.get(0)!);
    expect(bytes.length).toBeLessThan(MAX_PLAN_BYTES);
    m.set(0, decodePartial(bytes, 'big'));
    const merged = mergePartials(big, PLAN_HASH, m);
    expect(merged.partitions.get('orders/0')!.segments).toHaveLength(100_000);
    expect(merged.partitions.get('orders/0')!.records).toBe(100_000);
  });
});
