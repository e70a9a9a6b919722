/**
 * Finalising a sharded dump: the last shard to finish (or `kbak dump --finalize`) reads every
 * shard's partial manifest, checks them against the plan and each named segment against the
 * store, merges them, adds the schemas the records name and the ACLs, and writes
 * `manifest.json` — if none is there yet: two finalisers may race, and the first write wins.
 * That PUT is still the single commit point; the plan folder goes afterwards (prune removes it
 * should this process die in between).
 */
import { IntegrityError, NotFoundError } from '../errors';
import type { KafkaAdapter } from '../kafka/adapter';
import type { Logger } from '../output/logger';
import { loadBackup } from '../backup/catalog';
import { backupIdTime, backupPrefix, manifestKey, partialIndex, partialKey, planKey, planPrefix } from '../backup/layout';
import type { StoreLock } from '../backup/lock';
import type { Manifest } from '../backup/manifest';
import type { DumpedTopic } from '../backup/manifest-build';
import { decodePartial, decodePlan, MAX_PLAN_BYTES, mergePartials, planSha256, type ShardPartial, type ShardPlan } from '../backup/shard-plan';
import { partitionKey } from '../model/partition-key';
import type { RegistryClient } from '../schema/registry-client';
import { SchemaCollector } from '../schema/collect';
import type { ObjectStore } from '../store/store';
import { runWorkers } from '../util/run-workers';
import { captureAcls } from './acls';
import { commitBackup } from './commit';
import { continueTopics, NOTHING_CONTINUED, type Continued } from './incremental';
import { dumpPlanOf, pinnedBases } from './shard-plan-make';
import { summariseDump, type DumpSummary } from './summary';

/** Segments checked at once against the store. */
const CHECK_CONCURRENCY = 16;

export interface FinalizeContext {
  kafka: KafkaAdapter;
  store: ObjectStore;
  registry: RegistryClient | null;
  logger: Logger;
  now: () => Date;
}

export interface FinalizeResult {
  manifest: Manifest;
  summary: DumpSummary;
  /** False when another finaliser wrote the manifest first (this one's was not needed). */
  wroteManifest: boolean;
}

/** A plan read from the store with the hash its partials name. */
export interface StoredPlan {
  plan: ShardPlan;
  sha256: string;
}

export async function readPlan(store: ObjectStore, cluster: string, backupId: string): Promise<StoredPlan | null> {
  const key = planKey(cluster, backupId);
  if ((await store.size(key)) === null) return null;
  const bytes = await store.get(key, MAX_PLAN_BYTES);
  const plan = decodePlan(bytes, key);
  // A plan names its own place: one copied under another ID or cluster folder is not this dump's.
  if (plan.backupId !== backupId || plan.cluster.name !== cluster)
    throw new IntegrityError(
      `plan ${key} is the plan of backup ${plan.cluster.name}/${plan.backupId}`,
      'remove the misplaced plan folder; it is no plan of this backup',
    );
  return { plan, sha256: planSha256(bytes) };
}

/** Whether the backup's manifest is there: the sharded dump is complete (its one commit point). */
export async function backupExists(store: ObjectStore, cluster: string, backupId: string): Promise<boolean> {
  return (await store.size(manifestKey(cluster, backupId))) !== null;
}

/** The shard indexes whose partial manifest is not in the store: one listing of the plan folder (N size checks per shard would be N² requests per Job). */
export async function missingShards(store: ObjectStore, cluster: string, plan: ShardPlan): Promise<number[]> {
  const present = new Set<number>();
  for await (const key of store.list(planPrefix(cluster, plan.backupId))) {
    const i = partialIndex(key.slice(key.lastIndexOf('/') + 1));
    if (i !== null && key === partialKey(cluster, plan.backupId, i)) present.add(i);
  }
  return Array.from({ length: plan.shards }, (_, i) => i).filter((i) => !present.has(i));
}

/**
 * Writes the manifest; the summary's duration is the whole sharded dump's, from the plan's
 * creation. Two shards finishing together both finalise: the one that loses the race may find
 * the partials already gone, which is no failure once the other's manifest is there.
 */
export async function finalizeShards(ctx: FinalizeContext, stored: StoredPlan, lock: StoreLock): Promise<FinalizeResult> {
  try {
    return await finalizeOnce(ctx, stored, lock);
  } catch (err) {
    const done = await completedBackup(ctx, stored.plan);
    if (done === null) throw err;
    ctx.logger.info({ backupId: stored.plan.backupId }, 'another shard finalised the backup first');
    return done;
  }
}

/** The backup, when another finaliser has written its manifest; else null. */
async function completedBackup(ctx: FinalizeContext, plan: ShardPlan): Promise<FinalizeResult | null> {
  const cluster = plan.cluster.name;
  if (!(await backupExists(ctx.store, cluster, plan.backupId))) return null;
  const b = await loadBackup(ctx.store, { cluster, backupId: plan.backupId });
  const summary = summariseDump({
    manifest: b.manifest,
    location: `${ctx.store.location.replace(/\/$/, '')}/${backupPrefix(cluster, plan.backupId)}`,
    partitions: b.manifest.topics.reduce((n, t) => n + t.partitions.length, 0),
    written: {
      records: b.manifest.stats.records,
      rawBytes: b.manifest.stats.rawBytes,
      storedBytes: b.manifest.stats.storedBytes,
      segments: b.manifest.stats.segments,
    },
    writtenByTopic: () => ({ records: 0, rawBytes: 0, storedBytes: 0, segments: 0 }),
    continued: NOTHING_CONTINUED,
    durationMs: Math.max(0, ctx.now().getTime() - Date.parse(plan.createdAt)),
  });
  return { manifest: b.manifest, summary, wroteManifest: false };
}

async function finalizeOnce(ctx: FinalizeContext, stored: StoredPlan, lock: StoreLock): Promise<FinalizeResult> {
  const { store, logger } = ctx;
  const { plan } = stored;
  const cluster = plan.cluster.name;
  const missing = await missingShards(store, cluster, plan);
  if (missing.length > 0)
    throw new NotFoundError(
      `backup ${plan.backupId} cannot be finalised: ${missing.length === 1 ? 'shard' : 'shards'} ${missing.join(', ')} of ${plan.shards} ${missing.length === 1 ? 'has' : 'have'} not finished (no partial manifest)`,
      `run ${missing.length === 1 ? 'it' : 'them'} (kbak dump --shard I/${plan.shards} --backup-id ${plan.backupId} with the same options); the last one finalises the backup`,
    );
  const partials = new Map<number, ShardPartial>();
  for (let i = 0; i < plan.shards; i++) {
    const key = partialKey(cluster, plan.backupId, i);
    partials.set(i, decodePartial(await store.get(key, MAX_PLAN_BYTES), key));
  }
  const merged = mergePartials(plan, stored.sha256, partials);
  // A partial is a promise that its segments are in the pool: checked, not trusted.
  const segments = [...merged.partitions].flatMap(([p, m]) => m.segments.map((s) => ({ p, s })));
  await runWorkers(segments, CHECK_CONCURRENCY, async ({ p, s }) => {
    const size = await store.size(`${cluster}/${s.key}`);
    if (size !== s.storedBytes)
      throw new IntegrityError(
        `segment ${s.key} of ${p} is ${size === null ? 'missing' : `${size} bytes, not ${s.storedBytes}`}`,
        'delete the partial manifest of the shard that wrote it and run that shard again',
      );
  });
  const dp = dumpPlanOf(plan);
  const continued: Continued = plan.request.incremental ? await continueTopics(store, cluster, dp, logger, pinnedBases(plan, dp)) : NOTHING_CONTINUED;
  const topics: DumpedTopic[] = plan.topics.map((t) => ({
    name: t.name,
    partitionCount: t.partitionCount,
    replicationFactor: t.replicationFactor,
    configs: t.configs,
    topicId: t.topicId,
    partitions: t.partitions.map((p) => {
      const m = merged.partitions.get(`${t.name}/${p.partition}`)!;
      const cont = continued.continuations.get(partitionKey(t.name, p.partition));
      return {
        partition: p.partition,
        logStartOffset: BigInt(p.logStartOffset),
        startOffset: BigInt(p.startOffset),
        endOffset: BigInt(p.endOffset),
        segments: m.segments,
        records: m.records,
        carried: cont ? { basedOn: cont.basedOn, startOffset: cont.startOffset, segments: cont.segments, records: cont.records, gaps: cont.gaps } : null,
      };
    }),
  }));
  const schemas = new SchemaCollector();
  for (const [id, n] of merged.schemaIds) schemas.observeId(id, n);
  const acls = await captureAcls(
    ctx.kafka,
    plan.topics.map((t) => t.name),
    plan.consumerGroups.map((g) => g.groupId),
    logger,
  );
  const written = await commitBackup(ctx, {
    plan: dp,
    name: { cluster, backupId: plan.backupId, prefix: backupPrefix(cluster, plan.backupId), writerTag: '' },
    // The backup ID is when the backup started (FORMAT.md: the same instant as startedAt); the plan's cut follows it.
    started: new Date(backupIdTime(plan.backupId)!),
    window: { since: plan.request.since ? new Date(plan.request.since) : null, until: plan.request.until ? new Date(plan.request.until) : null },
    maxRecordsPerPartition: plan.request.maxRecordsPerPartition,
    topics,
    continued,
    schemas,
    groups: plan.consumerGroups,
    lock,
    names: null,
    acls,
    ifAbsent: true,
  });
  const manifest = written ?? (await loadBackup(store, { cluster, backupId: plan.backupId })).manifest;
  if (written) logger.info({ backupId: plan.backupId, cluster, shards: plan.shards }, 'sharded dump finalised');
  await removePlan(store, cluster, plan, logger);
  const total = { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 };
  const byTopic = new Map<string, typeof total>();
  for (const t of topics) {
    const w = { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 };
    for (const p of t.partitions)
      for (const s of p.segments) {
        w.records += s.records;
        w.rawBytes += s.rawBytes;
        w.storedBytes += s.storedBytes;
        w.segments++;
      }
    byTopic.set(t.name, w);
    for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += w[k];
  }
  const summary = summariseDump({
    manifest,
    location: `${store.location.replace(/\/$/, '')}/${backupPrefix(cluster, plan.backupId)}`,
    partitions: topics.reduce((n, t) => n + t.partitions.length, 0),
    written: total,
    writtenByTopic: (topic) => byTopic.get(topic) ?? { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 },
    continued,
    durationMs: Math.max(0, ctx.now().getTime() - Date.parse(plan.createdAt)),
  });
  return { manifest, summary, wroteManifest: written !== null };
}

/** Deletes the partials, then the plan. Best effort: a left plan of a complete backup is prune's to remove. */
export async function removePlan(store: ObjectStore, cluster: string, plan: ShardPlan, logger: Logger): Promise<void> {
  try {
    if (!(await backupExists(store, cluster, plan.backupId))) return;
    for (let i = 0; i < plan.shards; i++) await store.delete(partialKey(cluster, plan.backupId, i));
    await store.delete(planKey(cluster, plan.backupId));
  } catch (err) {
    logger.warn({ plan: planPrefix(cluster, plan.backupId) }, `could not remove the finished plan (kbak prune will): ${(err as Error).message}`);
  }
}
