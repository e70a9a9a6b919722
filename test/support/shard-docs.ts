/**
 * A sharded dump's plan and partial manifests built by hand (FORMAT.md "Sharded dumps"), for
 * the pure tests of their codecs and of the merge: two topics over three shards, each
 * partition's segments covering its range, so that every test changes one thing of a valid set.
 */
import { createHash } from 'node:crypto';
import { segmentKey } from '../../src/backup/layout';
import type { SegmentEntry } from '../../src/backup/manifest';
import type { PlanRequest, ShardPartial, ShardPlan } from '../../src/backup/shard-plan';

export const PLAN_ID = '20261206T020000000Z';
/** A writer tag of this dump (the backup ID plus 8 hex digits), one per shard. */
export const tagOf = (shard: number): string => `${PLAN_ID}-0000000${shard}`;

export function request(over: Partial<PlanRequest> = {}): PlanRequest {
  return { topics: ['events', 'orders'], regex: null, partitions: null, since: null, until: null, maxRecordsPerPartition: null, incremental: false, ...over };
}

/** [topic, partition, logStart, start, end, shard] */
const LAYOUT: Array<[string, number, number, number, number, number]> = [
  ['orders', 0, 0, 0, 100, 0],
  ['orders', 1, 5, 5, 65, 1],
  ['orders', 2, 0, 0, 0, 2],
  ['events', 0, 0, 10, 40, 2],
  ['events', 1, 0, 0, 30, 0],
];

export function handPlan(): ShardPlan {
  const topics = ['orders', 'events'].map((name) => ({
    name,
    partitionCount: name === 'orders' ? 3 : 2,
    replicationFactor: 1,
    configs: { 'cleanup.policy': 'delete' },
    topicId: null,
    basedOn: null,
    partitions: LAYOUT.filter((l) => l[0] === name).map(([, partition, log, start, end, shard]) => ({
      partition,
      logStartOffset: String(log),
      startOffset: String(start),
      endOffset: String(end),
      estimatedBytes: (end - start) * 100,
      shard,
    })),
  }));
  return {
    format: 'kbak-dump-plan',
    formatVersion: 1,
    tool: { name: 'kbak', version: '0.1.0' },
    backupId: PLAN_ID,
    cluster: { id: 'memory-cluster', name: 'prod' },
    createdAt: '2026-12-06T02:00:01.000Z',
    cutTime: '2026-12-06T02:00:02.000Z',
    expiresAt: '2026-12-07T02:00:01.000Z',
    shards: 3,
    request: request(),
    topics,
    consumerGroups: [],
  };
}

/** A segment entry of `records` records from `first` (one offset each), named as `tag`'s pool key. */
export function segment(topic: string, partition: number, first: number, records: number, tag: string): SegmentEntry {
  return {
    key: segmentKey(topic, partition, BigInt(first), tag),
    firstOffset: String(first),
    lastOffset: String(first + records - 1),
    records,
    minTimestamp: '1',
    maxTimestamp: '2',
    rawBytes: records * 40,
    storedBytes: records * 30,
    sha256: createHash('sha256').update(`${topic}/${partition}/${first}`).digest('hex'),
  };
}

/** The partials of `plan` as its shards would write them: each partition in segments of at most 25 records. */
export function handPartials(plan: ShardPlan, planSha: string): Map<number, ShardPartial> {
  const out = new Map<number, ShardPartial>();
  for (let shard = 0; shard < plan.shards; shard++) {
    const tag = tagOf(shard);
    const partitions = plan.topics.flatMap((t) =>
      t.partitions
        .filter((p) => p.shard === shard)
        .map((p) => {
          const segments: SegmentEntry[] = [];
          for (let o = Number(p.startOffset); o < Number(p.endOffset); o += 25)
            segments.push(segment(t.name, p.partition, o, Math.min(25, Number(p.endOffset) - o), tag));
          return { topic: t.name, partition: p.partition, records: segments.reduce((n, s) => n + s.records, 0), segments };
        }),
    );
    out.set(shard, {
      format: 'kbak-dump-partial',
      formatVersion: 1,
      backupId: plan.backupId,
      planSha256: planSha,
      shard,
      shards: plan.shards,
      writerTag: tag,
      completedAt: '2026-12-06T02:10:00.000Z',
      partitions,
      schemaIds: [
        { id: 1, payloads: shard + 1 },
        { id: 10 + shard, payloads: 2 },
      ],
    });
  }
  return out;
}
