/**
 * The sharded restore (`--shard I/N`, LEDGER.md "Sharded restores") against the in-memory
 * Kafka: the plan's identity, the partition assignment, N RestoreRuns giving the lane one
 * run gives, a shard failing mid-write and rerun alone, the waits and refusals, and the
 * ledger's done records as foldLedger reads them (forged ones included).
 */
import { openBackup } from '../../src/backup/catalog';
import { ConflictError, ExitCode, ServiceError, UsageError } from '../../src/errors';
import type { KafkaRecord } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { DEFAULT_LEDGER_TOPIC, foldLedger, shardDoneKey } from '../../src/lane/ledger';
import { laneTemplates } from '../../src/lane/ownership';
import { buildPlan } from '../../src/restore/plan';
import { RestoreRun, type RestoreOptions } from '../../src/restore/restore';
import { ShardedRestoreRun, type ShardingOptions } from '../../src/restore/sharded';
import { partitionShards, planId, shardOfPlan, type PlanIdentityInput } from '../../src/restore/shards';
import { MemoryStore } from '../../src/store/memory';
import { dumpTopics, laneOptions } from '../support/memory-backup';
import { partitionKey } from '../../src/model/partition-key';

const logger = silentLogger();
const PARTITIONS = 6;

/** `orders` with 6 partitions of different sizes (keys, headers, one gap), and two groups with committed offsets. */
function source(): MemoryKafka {
  const k = new MemoryKafka();
  k.topics.set('orders', { partitions: [], replicationFactor: 1, configs: { 'cleanup.policy': 'delete' } });
  for (let p = 0; p < PARTITIONS; p++) k.topics.get('orders')!.partitions.push({ records: [], logStart: 0n, next: 0n });
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < 4 + p * 3; i++) {
      k.append('orders', p, [
        {
          timestamp: BigInt(1_700_000_000_000 + p * 1000 + i),
          key: Buffer.from(`k${p}-${i}`),
          value: Buffer.from(`v${p}-${i}`.repeat(1 + p)),
          headers: [{ key: 'trace', value: Buffer.from(`t${i}`) }],
        },
      ]);
      if (p === 2 && i === 3) k.skipOffsets('orders', p, 2);
    }
  }
  void k.commitGroupOffsets(
    'billing',
    'orders',
    Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, offset: BigInt(p + 1) })),
  );
  void k.commitGroupOffsets('audit', 'orders', [{ partition: 5, offset: 3n }]);
  return k;
}

async function setUp() {
  const kafka = source();
  const store = new MemoryStore();
  await dumpTopics(kafka, store, ['orders']);
  return { kafka, backup: await openBackup(store, 'latest') };
}

const opts = (lane: string, over: Partial<RestoreOptions> = {}): RestoreOptions => laneOptions(lane, { concurrency: 2, ...over });

function shardRun(
  ctx: Awaited<ReturnType<typeof setUp>>,
  lane: string,
  index: number,
  count: number,
  over: Partial<ShardingOptions> = {},
  o: Partial<RestoreOptions> = {},
) {
  return new ShardedRestoreRun({ kafka: ctx.kafka, backup: ctx.backup, registry: null, logger }, opts(lane, o), {
    shard: { index, count },
    prepareOnly: false,
    prepareTimeoutMs: 5_000,
    pollMs: 20,
    ...over,
  });
}

const strip = (r: KafkaRecord) => ({
  timestamp: r.timestamp,
  offset: r.offset,
  key: r.key?.toString(),
  value: r.value?.toString(),
  headers: r.headers.map((x) => [x.key, x.value?.toString() ?? null]),
});

const laneRecords = (kafka: MemoryKafka, topic: string) => kafka.topics.get(topic)!.partitions.map((p) => p.records.map(strip));
const groupOffsets = async (kafka: MemoryKafka, group: string, topic: string) =>
  (await kafka.fetchGroupOffsets(group, [topic])).map((c) => [c.partition, c.offset]).sort((a, b) => Number(a[0]) - Number(b[0]));

/** The ledger as read (folded). */
function ledger(kafka: MemoryKafka) {
  const p = kafka.topics.get(DEFAULT_LEDGER_TOPIC)!.partitions[0]!;
  return foldLedger(p.records.map((r) => ({ key: r.key, value: r.value })));
}

/** The lane `single` restored by one process: what every sharded restore must equal. */
async function expectSameAsOneProcess(ctx: Awaited<ReturnType<typeof setUp>>, lane: string): Promise<void> {
  await new RestoreRun({ kafka: ctx.kafka, backup: ctx.backup, registry: null, logger }, opts('single')).run();
  expect(laneRecords(ctx.kafka, `${lane}.orders`)).toEqual(laneRecords(ctx.kafka, 'single.orders'));
  // And the one-process lane equals the source, gap aside (lane offsets are dense).
  expect(laneRecords(ctx.kafka, 'single.orders').map((p) => p.length)).toEqual(ctx.kafka.topics.get('orders')!.partitions.map((p) => p.records.length));
  for (const g of ['billing', 'audit'])
    expect(await groupOffsets(ctx.kafka, `${lane}.${g}`, `${lane}.orders`)).toEqual(await groupOffsets(ctx.kafka, `single.${g}`, 'single.orders'));
  expect(await groupOffsets(ctx.kafka, `${lane}.billing`, `${lane}.orders`)).toHaveLength(PARTITIONS);
}

const identity = (over: Partial<PlanIdentityInput> = {}): PlanIdentityInput => ({
  lane: 'fx',
  cluster: 'prod',
  backupId: '20261206T020000000Z',
  shards: 3,
  templates: laneTemplates({}),
  topics: ['orders', 'payments'],
  policySha256: null,
  ...over,
});

describe('the plan of a sharded restore (restore/shards.ts)', () => {
  it('has an ID every shard computes alike, and that changes with each input', () => {
    const id = planId(identity());
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(planId(identity({ topics: ['payments', 'orders'] }))).toBe(id);
    const changed: Array<Partial<PlanIdentityInput>> = [
      { lane: 'fy' },
      { cluster: 'staging' },
      { backupId: '20261206T020000001Z' },
      { shards: 4 },
      { templates: { ...laneTemplates({}), topic: 'x-{lane}-{topic}' } },
      { templates: { ...laneTemplates({}), subject: 'x-{lane}-{subject}' } },
      { templates: { ...laneTemplates({}), group: 'x-{lane}-{group}' } },
      { topics: ['orders'] },
      { policySha256: 'a'.repeat(64) },
    ];
    const ids = changed.map((c) => planId(identity(c)));
    for (const other of ids) expect(other).not.toBe(id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('assigns every lane partition to exactly one shard, and the shards of a plan split it without overlap', async () => {
    const { backup } = await setUp();
    const plan = buildPlan(backup.manifest, opts('fx'), null);
    for (const count of [1, 2, 3, 4, 7]) {
      const shards = partitionShards(backup.manifest, plan, count);
      expect([...shards.keys()].sort()).toEqual(Array.from({ length: PARTITIONS }, (_, p) => partitionKey('orders', p)).sort());
      const seen: string[] = [];
      for (let i = 0; i < count; i++) {
        const own = shardOfPlan(plan, shards, i);
        for (const t of own.topics) for (const p of t.partitions) seen.push(partitionKey(t.source, p.partition));
        // A shard commits only its own partitions' group offsets.
        for (const g of own.groups) for (const o of g.offsets) expect(shards.get(partitionKey(o.topic, o.partition))).toBe(i);
      }
      expect(seen.sort()).toEqual([...shards.keys()].sort());
    }
  });
});

describe('a sharded restore into the in-memory cluster', () => {
  it('3 shards (shard 0 first, then 1 and 2 at once) give the lane one process gives; the ledger ends ready, no lease, no done record, no claim', async () => {
    const ctx = await setUp();
    const s0 = await shardRun(ctx, 'fx', 0, 3).run();
    expect(s0.shard).toMatchObject({ index: 0, count: 3, outcome: 'written', finalised: false });
    const mid = ledger(ctx.kafka).entries.get('fx')!;
    expect(mid).toMatchObject({
      state: 'restoring',
      intent: { id: s0.shard!.plan, holder: { host: '(shards)', pid: 0, command: 'restore --lane fx --shard */3' } },
    });
    expect(mid.leases).toEqual([expect.objectContaining({ plan: s0.shard!.plan, shards: 3, prepared: true, backupId: ctx.backup.ref.backupId })]);
    const [s1, s2] = await Promise.all([shardRun(ctx, 'fx', 1, 3).run(), shardRun(ctx, 'fx', 2, 3).run()]);
    // Each shard counted only what it wrote; together, every record once.
    expect(s0.records + s1.records + s2.records).toBe(ctx.kafka.topics.get('orders')!.partitions.reduce((n, p) => n + p.records.length, 0));
    expect([s0.partitions, s1.partitions, s2.partitions].reduce((a, b) => a + b)).toBe(PARTITIONS);
    expect([s1.shard!.finalised, s2.shard!.finalised]).toContain(true);
    const read = ledger(ctx.kafka);
    expect(read.entries.get('fx')).toMatchObject({ state: 'ready', intent: null, leases: [], failure: null });
    expect(read.shardsDone.get('fx')).toBeUndefined();
    expect(read.claims.get('fx')).toBeUndefined();
    await expectSameAsOneProcess(ctx, 'fx');
  });

  it('all 3 shards started at once: shards 1 and 2 wait for the preparation, the lane is the same', async () => {
    const ctx = await setUp();
    const all = await Promise.all([2, 1, 0].map((i) => shardRun(ctx, 'fx', i, 3).run()));
    expect(all.filter((s) => s.shard!.finalised).length).toBeGreaterThanOrEqual(1);
    expect(ledger(ctx.kafka).entries.get('fx')).toMatchObject({ state: 'ready', leases: [] });
    await expectSameAsOneProcess(ctx, 'fx');
  });

  it('a shard failing mid-write leaves the lane restoring (not failed); rerun alone it resumes, nothing written twice', async () => {
    const ctx = await setUp();
    await shardRun(ctx, 'fx', 0, 3).run();
    // Shard 1: its heartbeat record goes through, then one lane batch, then the next send fails.
    ctx.kafka.failNext('send', { after: 2 });
    const err = await shardRun(ctx, 'fx', 1, 3, {}, { concurrency: 1 })
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    const after = ledger(ctx.kafka);
    expect(after.entries.get('fx')).toMatchObject({ state: 'restoring', failure: null });
    expect(after.shardsDone.get('fx')?.get(after.entries.get('fx')!.intent!.id)?.has(1)).toBeFalsy();
    const rerun = await shardRun(ctx, 'fx', 1, 3).run();
    expect(rerun.skippedExisting).toBeGreaterThan(0);
    expect(rerun.shard).toMatchObject({ outcome: 'written', finalised: false });
    const last = await shardRun(ctx, 'fx', 2, 3).run();
    expect(last.shard!.finalised).toBe(true);
    await expectSameAsOneProcess(ctx, 'fx');
    // Reruns once the plan finished have nothing to do (exit 0), whichever shard.
    for (const i of [0, 1, 2]) expect((await shardRun(ctx, 'fx', i, 3).run()).shard).toMatchObject({ outcome: 'already-restored' });
  });

  it('a shard whose done record exists writes nothing and finalises; shard 0 rerun after the preparation goes on as the others', async () => {
    const ctx = await setUp();
    const s0 = await shardRun(ctx, 'fx', 0, 2).run();
    const sends = ctx.kafka.calls.filter((c) => c === 'send').length;
    const again = await shardRun(ctx, 'fx', 0, 2).run();
    expect(again.records).toBe(0);
    expect(again.shard).toMatchObject({ plan: s0.shard!.plan, outcome: 'written', finalised: false });
    // No lane batch, no ledger entry: nothing was sent.
    expect(ctx.kafka.calls.filter((c) => c === 'send').length).toBe(sends);
    await shardRun(ctx, 'fx', 1, 2).run();
    await expectSameAsOneProcess(ctx, 'fx');
  });

  it('--prepare prepares and exits; a shard 0 killed before `prepared` is finished by its rerun', async () => {
    const ctx = await setUp();
    const prepared = await shardRun(ctx, 'fx', 0, 3, { prepareOnly: true }).run();
    expect(prepared.shard).toMatchObject({ outcome: 'prepared' });
    expect(prepared.records).toBe(0);
    expect(ctx.kafka.topics.get('fx.orders')!.partitions.every((p) => p.records.length === 0)).toBe(true);
    // The lease says prepared; a second --prepare has nothing more to do.
    expect(ledger(ctx.kafka).entries.get('fx')!.leases).toEqual([expect.objectContaining({ prepared: true })]);
    expect((await shardRun(ctx, 'fx', 0, 3, { prepareOnly: true }).run()).shard).toMatchObject({ outcome: 'prepared' });

    // Another lane: the preparation stops before `prepared` is written (the topics' creation fails).
    ctx.kafka.failNext('createTopics');
    await expect(shardRun(ctx, 'fy', 0, 3).run()).rejects.toThrow(/injected failure of createTopics/);
    const stuck = ledger(ctx.kafka).entries.get('fy')!;
    // A failing shard leaves the entry to its plan: restoring, lease not prepared.
    expect(stuck).toMatchObject({ state: 'restoring', leases: [expect.objectContaining({ prepared: false })] });
    await Promise.all([shardRun(ctx, 'fy', 0, 3).run(), shardRun(ctx, 'fy', 1, 3).run(), shardRun(ctx, 'fy', 2, 3).run()]);
    expect(ledger(ctx.kafka).entries.get('fy')).toMatchObject({ state: 'ready', leases: [] });
    await expectSameAsOneProcess(ctx, 'fy');
  });

  it('the finaliser refuses to mark the lane ready when a lane partition does not end where its shard left it', async () => {
    const ctx = await setUp();
    const s0 = await shardRun(ctx, 'fx', 0, 2).run();
    // Another producer writes into one of shard 0's partitions after shard 0 recorded its end.
    const own = s0.groups.flatMap((g) => g.offsets).map((o) => o.partition);
    ctx.kafka.append('fx.orders', own[0]!, [{ timestamp: 1n, key: null, value: Buffer.from('foreign'), headers: [] }]);
    const err = await shardRun(ctx, 'fx', 1, 2)
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as Error).message).toMatch(
      new RegExp(`^lane partition fx.orders/${own[0]} ends at offset \\d+ instead of \\d+: another producer wrote into it$`),
    );
    const read = ledger(ctx.kafka);
    expect(read.entries.get('fx')).toMatchObject({ state: 'restoring', leases: [expect.objectContaining({ prepared: true })] });
    // Both done records stay: the plan is not over.
    expect([...read.shardsDone.get('fx')!.get(s0.shard!.plan)!.keys()].sort()).toEqual([0, 1]);
  });

  it('shards 1..N-1 waiting for a preparation that never comes time out (exit 4) having written nothing', async () => {
    const ctx = await setUp();
    const err = await shardRun(ctx, 'fx', 2, 3, { prepareTimeoutMs: 150 })
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).exitCode).toBe(ExitCode.SERVICE);
    expect((err as Error).message).toMatch(/^shard 0 never prepared lane fx for plan [0-9a-f]{16} within .*\(lane fx is not in the ledger yet\)$/);
    expect(ctx.kafka.calls).not.toContain('send');
    expect(ctx.kafka.topics.has('fx.orders')).toBe(false);
  });

  it('a shard of another plan of the same backup (other N) is refused, naming the mismatch (exit 8)', async () => {
    const ctx = await setUp();
    await shardRun(ctx, 'fx', 0, 3, { prepareOnly: true }).run();
    const sends = ctx.kafka.calls.filter((c) => c === 'send').length;
    const err = await shardRun(ctx, 'fx', 1, 4)
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).exitCode).toBe(ExitCode.CONFLICT);
    expect((err as Error).message).toMatch(
      /^lane fx is being restored from backup .* by another sharded plan \([0-9a-f]{16}\): 3 shards there, 4 here \(--shard 1\/4\)$/,
    );
    // Other templates: named too.
    const t = await shardRun(ctx, 'fx', 1, 3, {}, { groupTemplate: 'other-{lane}-{group}' })
      .run()
      .catch((e: unknown) => e);
    expect((t as Error).message).toMatch(/templates .* there, .*other-\{lane\}-\{group\} here$/);
    expect(ctx.kafka.calls.filter((c) => c === 'send').length).toBe(sends);
    // Shard 0 of another plan meets the running plan as any restore does: exit 8 naming it.
    await expect(shardRun(ctx, 'fx', 0, 4).run()).rejects.toThrow(/^lane fx is being restored by restore --lane fx --shard \*\/3 on \(shards\)/);
  });

  it('refuses --prepare on shards 1..N-1 and --replace without --prepare (exit 2)', async () => {
    const ctx = await setUp();
    expect(() => shardRun(ctx, 'fx', 1, 3, { prepareOnly: true })).toThrow(UsageError);
    expect(() => shardRun(ctx, 'fx', 0, 3, {}, { mode: 'replace' })).toThrow(/--replace with --shard starts the lane over in the preparation step only/);
    expect(() => shardRun(ctx, 'fx', 0, 3, { prepareOnly: true }, { mode: 'replace' })).not.toThrow();
  });
});

describe('done records in the ledger (foldLedger)', () => {
  const PLAN = '0123456789abcdef';
  const done = (over: Record<string, unknown> = {}) => ({
    format: 2,
    lane: 'fx',
    plan: PLAN,
    shard: 1,
    shards: 3,
    doneAt: '2026-12-06T10:00:00.000Z',
    ends: { 'fx.orders': { '0': '5' } },
    ...over,
  });
  const rec = (key: string, value: unknown) => ({
    key: Buffer.from(key),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  });

  it('returns valid done records per lane and plan; ignores forged ones; a tombstone removes one', () => {
    const read = foldLedger([
      rec(shardDoneKey('fx', PLAN, 1), done()),
      rec(shardDoneKey('fx', PLAN, 2), done({ shard: 2 })),
      rec(shardDoneKey('fx', PLAN, 0), done({ shard: 0 })),
      // Forged: key and content disagree (lane, plan, shard), the shard is not below shards, not JSON, bad ends.
      rec(shardDoneKey('fy', PLAN, 1), done()),
      rec(shardDoneKey('fx', 'fedcba9876543210', 1), done()),
      rec(shardDoneKey('fx', PLAN, 5), done()),
      rec(shardDoneKey('fx', 'fedcba9876543210', 4), done({ plan: 'fedcba9876543210', shard: 4, shards: 3 })),
      rec(shardDoneKey('fz', PLAN, 1), '{not json'),
      rec(shardDoneKey('fw', PLAN, 1), done({ lane: 'fw', ends: { 'fw.orders': { '0': '-1' } } })),
      // A key that is not a done key's form is a lane's: invalid as an entry, never a done record.
      rec('fx/shard/xyz/1', done()),
      // Withdrawn.
      rec(shardDoneKey('fx', PLAN, 0), null),
    ]);
    expect([...read.shardsDone.keys()]).toEqual(['fx']);
    expect([...read.shardsDone.get('fx')!.keys()]).toEqual([PLAN]);
    expect([...read.shardsDone.get('fx')!.get(PLAN)!.keys()].sort()).toEqual([1, 2]);
    expect(read.shardsDone.get('fx')!.get(PLAN)!.get(1)).toEqual(done());
    expect(read.entries.size).toBe(0);
    expect(read.invalid.map((i) => i.key)).toEqual(['fx/shard/xyz/1']);
  });

  it('a later valid record of a key replaces it; a later forged one removes it', () => {
    const k = shardDoneKey('fx', PLAN, 1);
    expect(
      foldLedger([rec(k, done()), rec(k, done({ doneAt: '2026-12-06T11:00:00.000Z' }))])
        .shardsDone.get('fx')!
        .get(PLAN)!
        .get(1)!.doneAt,
    ).toBe('2026-12-06T11:00:00.000Z');
    expect(foldLedger([rec(k, done()), rec(k, done({ lane: 'fy' }))]).shardsDone.size).toBe(0);
  });
});
