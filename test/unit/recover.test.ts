/**
 * kbak recover without a broker: the naming rules (--rename, subjects that follow), the plan's
 * configs and counts, the safety table, the recovery ledger's decoding, and whole recoveries
 * into a second in-memory cluster (other cluster ID) and into the source itself, including a
 * resume after a crash in the middle of the write.
 */
import { openBackup } from '../../src/backup/catalog';
import { KbakError, SafetyError, UsageError } from '../../src/errors';
import type { KafkaRecord, RecordProducer } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { DEFAULT_RECOVERY_LEDGER_TOPIC, encodeRecoveryEntry, foldRecoveries, recoveryId, type RecoveryEntry } from '../../src/recover/ledger';
import { parseRenames, RecoveryNaming } from '../../src/recover/naming';
import { recordsBefore, recoveryConfigs } from '../../src/recover/plan';
import { RecoverRun, type RecoverRunOptions } from '../../src/recover/recover';
import { checkGroup, checkSubject, decideTopicAction } from '../../src/recover/safety';
import type { RecoveryTopic } from '../../src/recover/plan';
import { MemoryStore } from '../../src/store/memory';
import { dumpTopics } from '../support/memory-backup';

const logger = silentLogger();

/** The error `fn` throws, with its hint: refusals say what to do there. */
function refusal(fn: () => unknown): KbakError {
  try {
    fn();
  } catch (e) {
    return e as KbakError;
  }
  throw new Error('expected a refusal');
}

function source(): MemoryKafka {
  const k = new MemoryKafka({ clusterId: 'prod-cluster' });
  k.topics.set('orders', {
    partitions: [],
    replicationFactor: 3,
    configs: { 'cleanup.policy': 'compact,delete', 'retention.ms': '-1', 'max.message.bytes': '2000000' },
  });
  k.topics.get('orders')!.partitions.push({ records: [], logStart: 0n, next: 0n }, { records: [], logStart: 0n, next: 0n });
  for (let i = 0; i < 40; i++) {
    k.append('orders', i % 2, [
      {
        timestamp: BigInt(1_700_000_000_000 + i),
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
        headers: [{ key: 'b3', value: Buffer.from(`t${i}`) }],
      },
    ]);
    if (i === 10) k.skipOffsets('orders', 0, 3); // a compaction gap
  }
  void k.commitGroupOffsets('billing', 'orders', [
    { partition: 0, offset: 7n }, // inside the gap [6, 9)
    { partition: 1, offset: 20n },
  ]);
  return k;
}

const strip = (r: KafkaRecord) => ({
  timestamp: r.timestamp,
  key: r.key?.toString(),
  value: r.value?.toString(),
  headers: r.headers.map((x) => [x.key, x.value?.toString()]),
});

const opts = (over: Partial<RecoverRunOptions> = {}): RecoverRunOptions => ({
  topics: [],
  renames: new Map(),
  replicationFactor: null,
  resume: false,
  newVersions: false,
  concurrency: 2,
  ...over,
});

async function backupOf(kafka: MemoryKafka) {
  const store = new MemoryStore();
  await dumpTopics(kafka, store, ['orders']);
  return openBackup(store, 'latest');
}

function topic(over: Partial<RecoveryTopic> = {}): RecoveryTopic {
  return {
    source: 'orders',
    target: 'orders',
    partitionCount: 2,
    replicationFactor: 1,
    createConfigs: {},
    finalConfigs: {},
    compression: 'lz4',
    partitions: [],
    ...over,
  };
}

describe('recovery naming', () => {
  it('parses --rename and refuses malformed, twice-named and colliding renames (exit 2)', () => {
    expect([...parseRenames(['orders=orders-recovered'])]).toEqual([['orders', 'orders-recovered']]);
    for (const bad of [['orders'], ['=x'], ['orders='], ['a=b', 'a=c'], ['a=c', 'b=c'], ['a=b/c']]) {
      expect(() => parseRenames(bad)).toThrow(UsageError);
    }
  });

  it('renames topics; TopicNameStrategy subjects follow, record-name subjects do not', () => {
    const n = new RecoveryNaming(new Map([['orders', 'orders-r']]));
    const topics = n.topicMap(['orders', 'payments'], ['orders', 'payments']);
    expect([...topics]).toEqual([
      ['orders', 'orders-r'],
      ['payments', 'payments'],
    ]);
    expect([...n.subjectMap(['orders-value', 'orders-key', 'com.acme.Order', 'orders-com.acme.Order', 'payments-value'], topics)]).toEqual([
      ['orders-value', 'orders-r-value'],
      ['orders-key', 'orders-r-key'],
      ['com.acme.Order', 'com.acme.Order'],
      ['orders-com.acme.Order', 'orders-com.acme.Order'],
      ['payments-value', 'payments-value'],
    ]);
  });

  it('refuses a rename of a topic not recovered, and two topics meeting in one name', () => {
    expect(() => new RecoveryNaming(new Map([['nosuch', 'x']])).topicMap(['orders'], ['orders'])).toThrow(/topic "nosuch" is not in the backup/);
    expect(() => new RecoveryNaming(new Map([['payments', 'x']])).topicMap(['orders'], ['orders', 'payments'])).toThrow(
      /is not among the topics being recovered/,
    );
    expect(() => new RecoveryNaming(new Map([['orders', 'payments']])).topicMap(['orders', 'payments'], ['orders', 'payments'])).toThrow(
      /would both be recovered as "payments"/,
    );
  });
});

describe('recovery plan', () => {
  it('creates topics permissive (CreateTime, no bounds, no retention) and gives them the backup’s own configs after the write', () => {
    const c = recoveryConfigs(
      {
        'retention.ms': '604800000',
        'cleanup.policy': 'compact',
        'message.timestamp.type': 'LogAppendTime',
        'max.message.bytes': '2000000',
        'min.insync.replicas': '2',
        'follower.replication.throttled.replicas': '*',
      },
      1,
      null,
    );
    expect(c.createConfigs).toEqual({
      'max.message.bytes': '2000000',
      'min.insync.replicas': '1',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'message.timestamp.type': 'CreateTime',
      'message.timestamp.before.max.ms': '9223372036854775807',
      'message.timestamp.after.max.ms': '9223372036854775807',
    });
    expect(c.finalConfigs).toEqual({
      'max.message.bytes': '2000000',
      'min.insync.replicas': '1',
      'retention.ms': '604800000',
      'cleanup.policy': 'compact',
      'message.timestamp.type': 'LogAppendTime',
    });
    expect(c.adjustments.join('\n')).toMatch(/min.insync.replicas=2 lowered to 1, the replication factor on the target/);
  });

  it('counts records before a point in time’s end offset from the manifest, exact unless the end falls inside a segment', () => {
    const seg = (first: number, last: number, records: number) => ({ firstOffset: String(first), lastOffset: String(last), records }) as never;
    const p = { records: 30, segments: [seg(0, 9, 10), seg(10, 19, 10), seg(20, 29, 10)] } as never;
    expect(recordsBefore(p, null)).toEqual({ records: 30, exact: true });
    expect(recordsBefore(p, 20n)).toEqual({ records: 20, exact: true });
    expect(recordsBefore(p, 15n)).toEqual({ records: 20, exact: false });
    expect(recordsBefore(p, 0n)).toEqual({ records: 0, exact: true });
  });
});

describe('recovery safety', () => {
  const absent = { state: { exists: false as const }, id: null, logAppendTime: false };
  const withRecords = (n: bigint) => ({
    state: {
      exists: true as const,
      partitionCount: 2,
      offsets: [
        { partition: 0, low: 0n, high: n },
        { partition: 1, low: 0n, high: 0n },
      ],
    },
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    logAppendTime: false,
  });
  const ctx = { inPlace: false, resume: false, entry: null };

  it('creates absent topics, reuses empty ones elsewhere, refuses records, fewer partitions, LogAppendTime and any existing topic in place', () => {
    expect(decideTopicAction(topic(), absent, ctx)).toBe('create');
    expect(decideTopicAction(topic(), withRecords(0n), ctx)).toBe('reuse');
    const refusals = [
      () => decideTopicAction(topic(), withRecords(5n), ctx),
      () => decideTopicAction(topic({ partitionCount: 3 }), withRecords(0n), ctx),
      () => decideTopicAction(topic(), { ...withRecords(0n), logAppendTime: true }, ctx),
      () => decideTopicAction(topic(), withRecords(0n), { ...ctx, inPlace: true }),
    ];
    for (const r of refusals) {
      expect(r).toThrow(SafetyError);
      try {
        r();
      } catch (e) {
        expect((e as SafetyError).exitCode).toBe(6);
      }
    }
    expect(refusals[0]).toThrow('topic "orders" exists on the target with 5 records: kbak recover never writes into a topic that holds records');
  });

  it('resumes only a topic whose ID the unfinished recovery recorded, and only with --resume', () => {
    const entry = {
      id: 'abcdef0123456789',
      state: 'failed',
      updatedAt: 'x',
      topics: [{ name: 'orders', source: 'orders', id: 'AAAAAAAAAAAAAAAAAAAAAA' }],
    } as unknown as RecoveryEntry;
    expect(decideTopicAction(topic(), withRecords(5n), { ...ctx, resume: true, entry })).toBe('resume');
    expect(refusal(() => decideTopicAction(topic(), withRecords(5n), { ...ctx, resume: false, entry })).hint).toMatch(/continue it with --resume/);
    // Same name, other topic ID: someone else's topic now.
    expect(() => decideTopicAction(topic(), { ...withRecords(5n), id: 'BBBBBBBBBBBBBBBBBBBBBB' }, { ...ctx, resume: true, entry })).toThrow(/holds records/);
  });

  it('refuses a group with a committed offset on a recovered partition, not one with offsets elsewhere', () => {
    const g = { group: 'billing', offsets: [{ topic: 'orders', target: 'orders', partition: 0, sourceOffset: 5n }] };
    expect(() => checkGroup(g, [{ topic: 'orders', partition: 1, offset: 3n, metadata: null }], ctx)).not.toThrow();
    expect(() => checkGroup(g, [{ topic: 'orders', partition: 0, offset: -1n, metadata: null }], ctx)).not.toThrow();
    expect(() => checkGroup(g, [{ topic: 'orders', partition: 0, offset: 3n, metadata: null }], ctx)).toThrow(
      'consumer group "billing" already has a committed offset on orders/0 (3)',
    );
  });

  it('refuses a subject that exists without the backup’s schema unless --new-versions', () => {
    expect(refusal(() => checkSubject('orders-value', [1, 2], false, false, ctx)).hint).toMatch(/--new-versions/);
    expect(() => checkSubject('orders-value', [1, 2], false, true, ctx)).not.toThrow();
    expect(() => checkSubject('orders-value', [1, 2], true, false, ctx)).not.toThrow();
    expect(() => checkSubject('orders-value', [], false, false, ctx)).not.toThrow();
  });
});

describe('recovery ledger', () => {
  const entry: RecoveryEntry = {
    format: 1,
    id: recoveryId('prod', ['orders']),
    state: 'recovering',
    reason: null,
    origin: { cluster: 'prod', clusterId: 'x', backupId: '20261206T080000000Z', at: null },
    topics: [{ name: 'orders', source: 'orders', id: null }],
    subjects: [],
    groups: [],
    startedAt: '2026-12-06T08:00:00.000Z',
    updatedAt: '2026-12-06T08:00:00.000Z',
    kbakVersion: '1',
  };

  it('derives the ID from the cluster and the target topics, in any order', () => {
    expect(recoveryId('prod', ['b', 'a'])).toBe(recoveryId('prod', ['a', 'b']));
    expect(recoveryId('prod', ['a'])).not.toBe(recoveryId('dr', ['a']));
  });

  it('keeps the latest valid record per key, honours tombstones and lists forged records apart', () => {
    const { key, value } = encodeRecoveryEntry(entry);
    const done = encodeRecoveryEntry({ ...entry, state: 'done' });
    const read = foldRecoveries([
      { key, value },
      { key, value: done.value },
      { key: Buffer.from('0123456789abcdef'), value: Buffer.from('{"format":1,"id":"0123456789abcdef"}') },
      { key: Buffer.from('ffffffffffffffff'), value: Buffer.from('not json') },
      { key: Buffer.from('eeeeeeeeeeeeeeee'), value },
    ]);
    expect(read.entries.get(entry.id)?.state).toBe('done');
    expect(read.invalid.map((i) => i.key).sort()).toEqual(['0123456789abcdef', 'eeeeeeeeeeeeeeee', 'ffffffffffffffff']);
    expect(read.invalid.find((i) => i.key === 'eeeeeeeeeeeeeeee')?.reason).toMatch(/describes recovery .* instead/);
    expect(
      foldRecoveries([
        { key, value },
        { key, value: null },
      ]).entries.size,
    ).toBe(0);
  });
});

describe('recovery into in-memory clusters', () => {
  it('recovers into another cluster: records, gaps kept out, configs set after the write, group offsets translated over the gap', async () => {
    const src = source();
    const backup = await backupOf(src);
    const target = new MemoryKafka({ clusterId: 'dr-cluster' });
    const summary = await new RecoverRun({ kafka: target, backup, registry: null, logger }, opts()).run();
    expect(summary).toMatchObject({ records: 40, topicsCreated: 1, inPlace: false });
    const t = target.topics.get('orders')!;
    for (const p of [0, 1]) expect(t.partitions[p]!.records.map(strip)).toEqual(src.topics.get('orders')!.partitions[p]!.records.map(strip));
    expect(t.configs).toEqual({ 'cleanup.policy': 'compact,delete', 'retention.ms': '-1', 'max.message.bytes': '2000000' });
    expect(t.replicationFactor).toBe(1);
    expect(summary.warnings.join('\n')).toMatch(/replication factor 3 lowered to 1/);
    // Partition 0 holds offsets 0-5, a gap [6, 9), then 9 on: the committed source offset 7 is
    // inside the gap, so the group resumes at the first record after it, which the target holds at 6.
    const offsets = await target.fetchGroupOffsets('billing', ['orders']);
    expect(offsets.map((o) => [o.partition, o.offset])).toEqual([
      [0, 6n],
      [1, 20n],
    ]);
  });

  it('resumes after a crash mid-write: nothing written twice, and only with --resume', async () => {
    const src = source();
    const backup = await backupOf(src);
    const target = new MemoryKafka({ clusterId: 'dr-cluster' });
    // The first run dies after its first produce request of partition 1.
    const realProducer = target.producer.bind(target);
    let sends = 0;
    target.producer = async (): Promise<RecordProducer> => {
      const p = await realProducer();
      const fail = <T>(fn: () => Promise<T>, topicName: string): Promise<T> => {
        if (topicName === 'orders' && ++sends > 1) return Promise.reject(new Error('the connection was reset'));
        return fn();
      };
      return {
        ...p,
        send: (tp, part, recs, o) => fail(() => p.send(tp, part, recs, o), tp),
        sendPlaced: (tp, part, set, o) => fail(() => p.sendPlaced(tp, part, set, o), tp),
        headroom: (tp) => p.headroom(tp),
        close: () => p.close(),
      };
    };
    await expect(new RecoverRun({ kafka: target, backup, registry: null, logger }, opts({ concurrency: 1 })).run()).rejects.toThrow();
    target.producer = realProducer;
    const ledger = foldRecoveries(target.topics.get(DEFAULT_RECOVERY_LEDGER_TOPIC)!.partitions[0]!.records);
    expect([...ledger.entries.values()][0]!.state).toBe('failed');
    const partial = target.topics.get('orders')!.partitions.reduce((n, p) => n + p.records.length, 0);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(40);

    await expect(new RecoverRun({ kafka: target, backup, registry: null, logger }, opts()).run()).rejects.toMatchObject({
      hint: expect.stringMatching(/continue it with --resume/),
    });
    const summary = await new RecoverRun({ kafka: target, backup, registry: null, logger }, opts({ resume: true })).run();
    expect(summary.topics[0]).toMatchObject({ action: 'resume', skippedExisting: partial, records: 40 - partial });
    for (const p of [0, 1])
      expect(target.topics.get('orders')!.partitions[p]!.records.map(strip)).toEqual(src.topics.get('orders')!.partitions[p]!.records.map(strip));
  });

  it('in the backup’s own cluster recreates a deleted topic and refuses one that still exists', async () => {
    const src = source();
    const backup = await backupOf(src);
    await expect(new RecoverRun({ kafka: src, backup, registry: null, logger }, opts()).run()).rejects.toThrow(/still exists in the backup's own cluster/);
    const before = src.topics.get('orders')!.partitions.map((p) => p.records.map(strip));
    await src.deleteTopics(['orders']);
    const summary = await new RecoverRun({ kafka: src, backup, registry: null, logger }, opts()).run();
    expect(summary.inPlace).toBe(true);
    expect(src.topics.get('orders')!.partitions.map((p) => p.records.map(strip))).toEqual(before);
  });
});
