/**
 * The first shard of a sharded dump to arrive makes the plan every shard follows: the dump's
 * own plan phase (topics, the cut, cut.time), the consumer groups' committed offsets read right
 * after the cut (FORMAT.md, "The cut"), for an incremental dump the base of each topic, and the
 * partitions assigned to shards by estimated bytes. Read-only on the cluster and the store.
 */
import { UsageError } from '../errors';
import type { KafkaAdapter } from '../kafka/adapter';
import { assignShards } from '../model/shard';
import { partitionKey } from '../model/partition-key';
import type { Logger } from '../output/logger';
import { PLAN_FORMAT, type PlanRequest, type ShardPlan } from '../backup/shard-plan';
import type { ObjectStore } from '../store/store';
import { TOOL_VERSION } from '../version';
import { collectGroupOffsets } from './group-offsets';
import { continueTopics, NOTHING_CONTINUED } from './incremental';
import { planDump, type DumpPlan, type PlanOptions } from './plan';
import { estimatePartitionBytes } from './size-estimate';

export interface MakePlanInput extends PlanOptions {
  backupId: string;
  cluster: string;
  shards: number;
  ttlMs: number;
  incremental: boolean;
  stallTimeoutMs: number;
  request: PlanRequest;
}

export async function makeShardPlan(kafka: KafkaAdapter, store: ObjectStore, logger: Logger, input: MakePlanInput, now: () => Date): Promise<ShardPlan> {
  const created = now();
  const dp = await planDump(kafka, logger, input, now);
  // Right after the cut, as one dump reads them: every shard's partitions share these offsets.
  const dumped = new Map<string, Set<number>>();
  for (const [topic, ranges] of dp.ranges) dumped.set(topic, new Set(ranges.map((r) => r.partition)));
  const groups = await collectGroupOffsets(kafka, dumped, (g) => kafka.isInternalGroup(g));
  const continued = input.incremental ? await continueTopics(store, input.cluster, dp, logger) : NOTHING_CONTINUED;
  // A backup continues only earlier ones (FORMAT.md "Incremental backups"): with an ID from a schedule, say so plainly.
  const later = continued.bases.find((b) => b.ref.backupId >= input.backupId);
  if (later)
    throw new UsageError(
      `backup ID ${input.backupId} is not after backup ${later.ref.backupId}, which this incremental dump would continue`,
      'use a backup ID after the newest backup of the cluster (a CronJob run gives its scheduled time)',
      { options: ['backupId'] },
    );
  const basedOn = new Map<string, string>();
  for (const t of dp.topics)
    for (const r of dp.ranges.get(t.name)!) {
      const c = continued.continuations.get(partitionKey(t.name, r.partition));
      if (c) basedOn.set(t.name, c.basedOn);
    }
  const targets = readTargets(dp, continued.continuations);
  const estimate = await estimatePartitionBytes(kafka, targets, input.stallTimeoutMs);
  const bytes = estimate.bytes;
  logger.info(
    { backupId: input.backupId, source: estimate.source },
    `partition sizes for the shard assignment: ${estimate.source === 'log-dirs' ? "the brokers' log dirs" : estimate.source === 'sampled' ? 'offsets × sampled record sizes' : 'log dirs where the brokers gave them, else offsets × sampled record sizes'}`,
  );
  const items = targets.map((t) => ({ key: partitionKey(t.topic, t.partition), bytes: bytes.get(partitionKey(t.topic, t.partition)) ?? 0 }));
  const shardOf = new Map(assignShards(items, input.shards).map((s, i) => [items[i]!.key, s]));
  return {
    format: PLAN_FORMAT,
    formatVersion: 1,
    tool: { name: 'kbak', version: TOOL_VERSION },
    backupId: input.backupId,
    cluster: { id: dp.clusterId, name: input.cluster },
    createdAt: created.toISOString(),
    cutTime: dp.cutTime.toISOString(),
    expiresAt: new Date(created.getTime() + input.ttlMs).toISOString(),
    shards: input.shards,
    request: input.request,
    topics: dp.topics.map((t) => ({
      name: t.name,
      partitionCount: t.partitionCount,
      replicationFactor: t.replicationFactor,
      configs: t.configs,
      topicId: t.topicId,
      basedOn: basedOn.get(t.name) ?? null,
      partitions: dp.ranges.get(t.name)!.map((r) => ({
        partition: r.partition,
        logStartOffset: r.logStartOffset.toString(),
        startOffset: r.start.toString(),
        endOffset: r.end.toString(),
        estimatedBytes: bytes.get(partitionKey(t.name, r.partition)) ?? 0,
        shard: shardOf.get(partitionKey(t.name, r.partition))!,
      })),
    })),
    consumerGroups: groups,
  };
}

/** What each partition's shard will read: from its base's end when it continues one. */
function readTargets(dp: DumpPlan, continuations: ReadonlyMap<string, { readStart: bigint }>) {
  return dp.topics.flatMap((t) =>
    dp.ranges.get(t.name)!.map((r) => ({
      topic: t.name,
      partition: r.partition,
      start: continuations.get(partitionKey(t.name, r.partition))?.readStart ?? r.start,
      end: r.end,
      logStart: r.logStartOffset,
    })),
  );
}

/** The plan as the dump's phases take it (topics, ranges, cut time), restricted to `keep` when given. */
export function dumpPlanOf(plan: ShardPlan, keep?: (topic: string, partition: number) => boolean): DumpPlan {
  const topics = plan.topics.filter((t) => !keep || t.partitions.some((p) => keep(t.name, p.partition)));
  return {
    clusterId: plan.cluster.id,
    cutTime: new Date(plan.cutTime),
    topics: topics.map((t) => ({
      name: t.name,
      partitionCount: t.partitionCount,
      replicationFactor: t.replicationFactor,
      configs: t.configs,
      topicId: t.topicId,
    })),
    ranges: new Map(
      topics.map((t) => [
        t.name,
        t.partitions
          .filter((p) => !keep || keep(t.name, p.partition))
          .map((p) => ({ partition: p.partition, logStartOffset: BigInt(p.logStartOffset), start: BigInt(p.startOffset), end: BigInt(p.endOffset) })),
      ]),
    ),
  };
}

/** The bases the plan fixed for the topics of `dp`, for continueTopics. */
export function pinnedBases(plan: ShardPlan, dp: DumpPlan): Map<string, string | null> {
  const wanted = new Set(dp.topics.map((t) => t.name));
  return new Map(plan.topics.filter((t) => wanted.has(t.name)).map((t) => [t.name, t.basedOn]));
}
