/**
 * `kbak dump --shard I/N`: one of N processes (the pods of a Kubernetes Indexed Job) that
 * together make one backup, with no coordinator: the store is the shared state.
 *
 * 1. Plan: the first shard to arrive makes the plan (the cut, the groups, the partitions
 *    assigned by bytes) and writes it with a conditional create; the others read it and must
 *    have been started with the same options (else exit 2 naming the difference).
 * 2. Write: each shard reads its own partitions into pool segments named with its own writer
 *    tag and then writes its partial manifest, again with a conditional create (two attempts of
 *    one index: the first wins, the other's segments go). A shard rerun after a crash finds no
 *    partial of its own and redoes only its partitions; one that finds its partial is done.
 * 3. Finalise: a shard that sees every partial writes the manifest (shard-finalize.ts).
 *
 * Throughout, each shard holds the store's shared lock under the backup's name, so a prune
 * keeps what the shards write while any runs; between runs the plan (until it expires) keeps it.
 */
import { randomBytes } from 'node:crypto';
import { classifyError, ConflictError, NotFoundError, UsageError } from '../errors';
import type { Manifest } from '../backup/manifest';
import { dumpLockHolder } from '../backup/leftovers';
import { backupIdTime, partialKey, planKey, validateClusterName } from '../backup/layout';
import { StoreLock } from '../backup/lock';
import { loadBackup } from '../backup/catalog';
import {
  canonicalRequest,
  encodeDocument,
  PARTIAL_FORMAT,
  planMismatch,
  planSha256,
  shardPartitions,
  type PlanRequest,
  type ShardPartial,
} from '../backup/shard-plan';
import { DEFAULT_LOCK_WAIT_MS } from '../config/defaults';
import { shardText, type ShardSpec } from '../model/shard';
import { partitionKey } from '../model/partition-key';
import { checkWriteOptions, type DumpContext, type DumpOptions } from './dump';
import { continueTopics, NOTHING_CONTINUED } from './incremental';
import { DumpPartitions, type TopicProgress } from './partitions';
import { clusterNameFromId } from './plan';
import { backupExists, finalizeShards, missingShards, readPlan, type StoredPlan } from './shard-finalize';
import { dumpPlanOf, makeShardPlan, pinnedBases } from './shard-plan-make';
import type { DumpSummary } from './summary';
import { writeSegments } from './write-segments';

/** How long shards may take by default before prune treats their plan as abandoned. */
export const DEFAULT_PLAN_TTL_MS = 24 * 3_600_000;
/** A plan lives at most this long: a week-long dump is a mistake in the Job, not a plan. */
export const MAX_PLAN_TTL_MS = 7 * 24 * 3_600_000;

export interface ShardedDumpOptions extends DumpOptions {
  shard: ShardSpec;
  /** The backup ID every shard agrees on (shard-id.ts). */
  backupId: string;
  /** How long the shards may take (default DEFAULT_PLAN_TTL_MS). */
  planTtlMs?: number;
}

export type ShardOutcome = 'written' | 'already-written' | 'backup-complete';

export interface ShardDumpResult {
  backupId: string;
  cluster: string;
  shard: ShardSpec;
  /** What this shard did: wrote its partitions, found them written (a rerun), or found the backup complete. */
  outcome: ShardOutcome;
  /** True when this shard made the plan. */
  planCreated: boolean;
  partitions: number;
  records: number;
  rawBytes: number;
  storedBytes: number;
  segments: number;
  /** Shards still without a partial manifest after this one ([] once the backup is complete). */
  waitingFor: number[];
  /** The backup, when this shard finalised it. */
  finalized: { manifest: Manifest; summary: DumpSummary } | null;
  durationMs: number;
}

export class ShardedDumpRun {
  private readonly progressByTopic = new Map<string, TopicProgress>();

  constructor(
    private readonly ctx: DumpContext,
    private readonly opts: ShardedDumpOptions,
  ) {
    if (opts.names) throw new UsageError('a lane snapshot cannot be sharded');
    checkWriteOptions(opts);
    const ttl = opts.planTtlMs ?? DEFAULT_PLAN_TTL_MS;
    if (!Number.isInteger(ttl) || ttl < 60_000 || ttl > MAX_PLAN_TTL_MS)
      throw new UsageError(`--plan-ttl of ${ttl} ms is out of range`, 'use 1m to 7d (the default is 24h)', { options: ['planTtl'] });
    if (opts.incremental && (opts.window.since || opts.window.until || opts.maxRecordsPerPartition !== null))
      throw new UsageError(
        'incremental cannot be combined with since, until or maxRecordsPerPartition',
        'an incremental backup always continues up to the current end of each partition',
        {
          options: ['incremental'],
        },
      );
  }

  progress(): TopicProgress[] {
    return [...this.progressByTopic.values()].map((p) => ({ ...p }));
  }

  async run(): Promise<ShardDumpResult> {
    const { kafka, store, logger } = this.ctx;
    const now = this.ctx.now ?? (() => new Date());
    const t0 = Date.now();
    const { shard, backupId } = this.opts;
    await store.check();
    if (this.ctx.registry) await this.ctx.registry.check();
    const clusterId = (await kafka.cluster()).clusterId;
    const cluster = this.opts.clusterName ? validateClusterName(this.opts.clusterName) : clusterNameFromId(clusterId);
    const result: ShardDumpResult = {
      backupId,
      cluster,
      shard,
      outcome: 'written',
      planCreated: false,
      partitions: 0,
      records: 0,
      rawBytes: 0,
      storedBytes: 0,
      segments: 0,
      waitingFor: [],
      finalized: null,
      durationMs: 0,
    };
    // A rerun of a Job that already made its backup has nothing to do.
    if (await this.complete(cluster, clusterId)) return { ...result, outcome: 'backup-complete', durationMs: Date.now() - t0 };

    let lock: StoreLock | null = null;
    let parts: DumpPartitions | null = null;
    try {
      lock = await StoreLock.acquire(store, cluster, 'shared', {
        holder: dumpLockHolder(backupId),
        waitMs: this.opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
        logger,
      });
      const obtained = await this.obtainPlan(cluster, clusterId, now);
      if (obtained === null) return { ...result, outcome: 'backup-complete', durationMs: Date.now() - t0 };
      const { stored, created } = obtained;
      result.planCreated = created;
      const { plan } = stored;
      if (created && (await backupExists(store, cluster, backupId))) {
        // The backup was finalised (and its plan removed) between our first look and our plan: a late retry.
        await store.delete(planKey(cluster, backupId));
        return { ...result, outcome: 'backup-complete', planCreated: false, durationMs: Date.now() - t0 };
      }
      if (Date.parse(plan.expiresAt) < now().getTime())
        throw new ConflictError(
          `the plan of backup ${backupId} expired at ${plan.expiresAt}: its shards took longer than --plan-ttl`,
          'start the backup again under another --backup-id; kbak prune removes the abandoned plan and its segments',
        );
      const own = shardPartitions(plan, shard.index);
      result.partitions = own.length;
      const pKey = partialKey(cluster, backupId, shard.index);
      if ((await store.size(pKey)) !== null) {
        result.outcome = 'already-written';
        logger.info({ backupId, shard: shardText(shard) }, 'this shard has already written its partitions');
      } else {
        const mine = new Set(own.map((o) => partitionKey(o.topic.name, o.partition.partition)));
        const dp = dumpPlanOf(plan, (t, p) => mine.has(partitionKey(t, p)));
        const continued = plan.request.incremental ? await continueTopics(store, cluster, dp, logger, pinnedBases(plan, dp)) : NOTHING_CONTINUED;
        const writerTag = `${backupId}-${randomBytes(4).toString('hex')}`;
        logger.info({ backupId, cluster, shard: shardText(shard), partitions: own.length, location: store.location }, 'dump shard started');
        parts = new DumpPartitions(store, cluster, writerTag, dp, continued, this.opts, this.progressByTopic);
        const { schemas } = await writeSegments(kafka, parts, { ...this.opts, readGroups: false });
        const partial: ShardPartial = {
          format: PARTIAL_FORMAT,
          formatVersion: 1,
          backupId,
          planSha256: stored.sha256,
          shard: shard.index,
          shards: shard.count,
          writerTag,
          completedAt: now().toISOString(),
          partitions: own.map(({ topic, partition }) => {
            const sink = parts!.sink(topic.name, partition.partition);
            return { topic: topic.name, partition: partition.partition, records: sink.records, segments: sink.segments };
          }),
          schemaIds: schemas.counts(),
        };
        await lock.check();
        if (await store.putIfAbsent(pKey, encodeDocument(partial))) {
          const w = parts.written();
          Object.assign(result, { records: w.records, rawBytes: w.rawBytes, storedBytes: w.storedBytes, segments: w.segments });
        } else {
          // Another attempt of this index (Kubernetes may run two for a moment) finished first: its partial stands.
          logger.warn({ backupId, shard: shardText(shard) }, 'another run of this shard wrote its partial manifest first; removing this run’s segments');
          await parts.abort();
          result.outcome = 'already-written';
        }
        parts = null;
      }
      result.waitingFor = await missingShards(store, cluster, plan);
      if (result.waitingFor.length === 0) {
        const f = await finalizeShards({ ...this.ctx, now }, stored, lock);
        if (f.wroteManifest) result.finalized = { manifest: f.manifest, summary: f.summary };
      } else if (await backupExists(store, cluster, backupId)) {
        // Another shard finalised between our partial and our look (and removed the partials).
        result.waitingFor = [];
      }
      result.durationMs = Date.now() - t0;
      return result;
    } catch (err) {
      await parts?.abort();
      throw classifyError(err, 'dumping');
    } finally {
      await lock?.release();
    }
  }

  /** Whether the backup is already complete (its manifest is there); refuses one of another cluster. */
  private async complete(cluster: string, clusterId: string): Promise<boolean> {
    const { store } = this.ctx;
    if (!(await backupExists(store, cluster, this.opts.backupId))) return false;
    const b = await loadBackup(store, { cluster, backupId: this.opts.backupId });
    if (b.manifest.cluster.id !== clusterId)
      throw new ConflictError(
        `backup ${cluster}/${this.opts.backupId} already exists and is of cluster ${b.manifest.cluster.id}, not ${clusterId}`,
        'use another --backup-id or --name',
      );
    this.ctx.logger.info({ backupId: this.opts.backupId, cluster }, 'the backup is already complete');
    return true;
  }

  /** The plan: the one in the store, or a new one written with a conditional create (the first shard's wins). */
  private async obtainPlan(cluster: string, clusterId: string, now: () => Date): Promise<{ stored: StoredPlan; created: boolean } | null> {
    const { kafka, store, logger } = this.ctx;
    const request = this.request();
    const check = (stored: StoredPlan): StoredPlan => {
      const why = planMismatch(stored.plan, { shards: this.opts.shard.count, clusterId, clusterName: cluster, request });
      if (why !== null)
        throw new UsageError(
          `shard ${shardText(this.opts.shard)} of backup ${this.opts.backupId} does not match its plan: ${why}`,
          'start every shard of one backup with the same options (or use another --backup-id)',
        );
      return stored;
    };
    const existing = await readPlan(store, cluster, this.opts.backupId);
    if (existing) return { stored: check(existing), created: false };
    // A finaliser writes the manifest before it removes the plan: no plan but a manifest is a complete backup.
    if (await backupExists(store, cluster, this.opts.backupId)) return null;
    // The ID is the backup's start (the manifest's startedAt), so the cut taken now must not precede it.
    if (backupIdTime(this.opts.backupId)! > now().getTime())
      throw new UsageError(
        `backup ID ${this.opts.backupId} lies after this host's clock (${now().toISOString()})`,
        "a backup ID is when the backup started: use the run's scheduled time or an earlier one, and check the host's clock",
        { options: ['backupId'] },
      );
    const plan = await makeShardPlan(
      kafka,
      store,
      logger,
      {
        ...this.opts,
        backupId: this.opts.backupId,
        cluster,
        shards: this.opts.shard.count,
        ttlMs: this.opts.planTtlMs ?? DEFAULT_PLAN_TTL_MS,
        incremental: Boolean(this.opts.incremental),
        request,
      },
      now,
    );
    const bytes = encodeDocument(plan);
    if (await store.putIfAbsent(planKey(cluster, this.opts.backupId), bytes)) {
      logger.info({ backupId: this.opts.backupId, shards: plan.shards }, 'sharded dump planned');
      return { stored: { plan, sha256: planSha256(bytes) }, created: true };
    }
    // Another shard wrote its plan between our look and our write: theirs is the plan.
    const theirs = await readPlan(store, cluster, this.opts.backupId);
    if (!theirs) throw new ConflictError(`the plan of backup ${this.opts.backupId} vanished while it was being read`, 'run the shard again');
    return { stored: check(theirs), created: false };
  }

  private request(): PlanRequest {
    const o = this.opts;
    return canonicalRequest({ ...o.selection, ...o.window, maxRecordsPerPartition: o.maxRecordsPerPartition, incremental: Boolean(o.incremental) });
  }
}

/** `kbak dump --finalize`: the manifest of a sharded dump whose shards have all written their partials. */
export async function finalizeShardedDump(ctx: DumpContext, cluster: string, backupId: string, lockWaitMs: number) {
  const { store, logger } = ctx;
  const now = ctx.now ?? (() => new Date());
  await store.check();
  const complete = async () => ({ manifest: (await loadBackup(store, { cluster, backupId })).manifest, summary: null, alreadyComplete: true });
  if (await backupExists(store, cluster, backupId)) return complete();
  const lock = await StoreLock.acquire(store, cluster, 'shared', { holder: dumpLockHolder(backupId), waitMs: lockWaitMs, logger });
  try {
    const stored = await readPlan(store, cluster, backupId);
    // Finalised (and its plan removed) while this one waited for its lock.
    if (!stored && (await backupExists(store, cluster, backupId))) return await complete();
    if (!stored)
      throw new NotFoundError(
        `no sharded dump of backup ${backupId} is in progress in ${cluster}`,
        'check the backup ID and --name (kbak list shows complete backups)',
        {
          options: ['backupId'],
        },
      );
    const f = await finalizeShards({ ...ctx, now }, stored, lock);
    return { manifest: f.manifest, summary: f.summary, alreadyComplete: !f.wroteManifest };
  } catch (err) {
    throw classifyError(err, 'finalising the sharded dump');
  } finally {
    await lock.release();
  }
}
