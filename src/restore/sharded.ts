/**
 * `kbak restore --lane X --shard I/N` (issue 21): one lane restored by N processes (a
 * Kubernetes Indexed Job), with no coordinator but the lane ledger. LEDGER.md "Sharded
 * restores" is the contract; in short:
 *
 * - every shard computes the plan's ID and the partition assignment alone (shards.ts);
 * - shard 0 (or `--prepare --shard 0/N`) claims the lane as any restore does and prepares it
 *   under the plan's shared intent, with the plan's lease (`prepared` once the subjects and
 *   the topics with their IDs are recorded); a rerun of shard 0 finds the lease and goes on;
 * - the other shards wait for the prepared lease, then write their own partitions (resuming
 *   where each stands), commit their own partitions' group offsets, and heartbeat the shared
 *   intent meanwhile; a failing shard leaves the lane alone (Kubernetes retries that index);
 * - each shard ends with a done record under its own key; the one that sees all N done
 *   checks every partition's end, marks the lane ready, and removes the done records and the
 *   plan's claim.
 */
import { classifyError, ConflictError, ServiceError, UsageError } from '../errors';
import { partitionKey } from '../model/partition-key';
import { shardText, type ShardSpec } from '../model/shard';
import { duration } from '../output/human-time';
import { previewRegistrations, registrationKey, SchemaIdMap, type LaneRegistration } from '../schema/register';
import { onInterrupt } from '../util/interrupt';
import { sleep } from '../util/retry';
import { HEARTBEAT_MS } from '../lane/claim';
import { withHeartbeat, withState } from '../lane/intent';
import { readLedger, withdrawClaim, withRetry, writeLedgerEntry } from '../lane/kafka-ops';
import type { LaneIntent, LedgerEntry, LedgerRead } from '../lane/ledger';
import { buildPlan, type RestorePlan } from './plan';
import { RestoreProducers } from './producers';
import { LaneLedger, registrationInput, RestoreRun, type DryRunResult, type PlannedLane, type RestoreContext, type RestoreOptions } from './restore';
import type { LaneAction } from './safety';
import { removeShardDone, writeShardDone } from './shard-ledger';
import {
  allDone,
  alreadyRestored,
  expectedEnds,
  heldLease,
  judgeWhileWaiting,
  partitionShards,
  planId,
  sharedIntent,
  shardOfPlan,
  storedBytesByPartition,
  withLease,
  type ShardedPlan,
} from './shards';
import { summariseRestore, type RestoreSummary, type ShardOutcome } from './summary';
import { movedEnd } from './write-phase';
import type { PartitionJob, PartitionResult } from './write-partition';

/** How long shards 1..N-1 wait for shard 0's preparation by default (--prepare-timeout). */
export const DEFAULT_PREPARE_TIMEOUT_MS = 10 * 60_000;
/** How often a waiting shard reads the ledger. */
const POLL_MS = 1000;

export interface ShardingOptions {
  shard: ShardSpec;
  /** --prepare: shard 0 prepares the lane (ledger entry, subjects, topics) and exits. */
  prepareOnly: boolean;
  /** --prepare-timeout: how long shards 1..N-1 wait for the preparation. */
  prepareTimeoutMs: number;
  /** How often a waiting shard reads the ledger (default 1 s). For tests. */
  pollMs?: number;
  /** Ends a wait at once (an interrupted call). */
  signal?: AbortSignal;
}

/** What the shards of one plan share, computed from the backup and the options alone. */
interface Sharding {
  plan: ShardedPlan;
  /** Every lane partition of the plan (target facts aside: those do not change which partitions there are). */
  whole: RestorePlan;
  /** partitionKey(source topic, partition) → shard. */
  assignment: Map<string, number>;
}

export class ShardedRestoreRun extends RestoreRun {
  private shared: Sharding | null = null;

  constructor(
    ctx: RestoreContext,
    opts: RestoreOptions,
    private readonly sharding: ShardingOptions,
  ) {
    super(ctx, opts);
    const { shard } = sharding;
    if (sharding.prepareOnly && shard.index !== 0)
      throw new UsageError(
        `--prepare is shard 0's step, not shard ${shardText(shard)}'s`,
        `run kbak restore --lane ${opts.lane} --shard 0/${shard.count} --prepare`,
      );
    // Every pod of an Indexed Job runs the same command line: a --replace there would start the
    // lane over whenever shard 0 is retried after the plan finished, and race the other shards.
    if (opts.mode === 'replace' && !sharding.prepareOnly)
      throw new UsageError(
        '--replace with --shard starts the lane over in the preparation step only',
        `run kbak restore --lane ${opts.lane} --shard 0/${shard.count} --prepare --replace first, then the shards without --replace`,
      );
  }

  /** The plan's identity and assignment (once). */
  private sharded(): Sharding {
    if (this.shared) return this.shared;
    const { backup } = this.ctx;
    const whole = buildPlan(backup.manifest, this.opts, null);
    const count = this.sharding.shard.count;
    const id = planId({
      lane: this.scope.lane,
      cluster: backup.ref.cluster,
      backupId: backup.ref.backupId,
      shards: count,
      templates: this.scope.templates,
      topics: whole.topics.map((t) => t.source),
      policySha256: this.maskingOrigin()?.policySha256 ?? null,
    });
    this.shared = {
      whole,
      assignment: partitionShards(backup.manifest, whole, count),
      plan: {
        id,
        lane: this.scope.lane,
        shard: this.sharding.shard,
        cluster: backup.ref.cluster,
        backupId: backup.ref.backupId,
        templates: this.scope.templates,
        laneTopics: whole.topics.map((t) => t.lane),
        policySha256: this.maskingOrigin()?.policySha256 ?? null,
      },
    };
    return this.shared;
  }

  private get index(): number {
    return this.sharding.shard.index;
  }

  private get count(): number {
    return this.sharding.shard.count;
  }

  protected override runIntent(): LaneIntent {
    return sharedIntent(this.sharded().plan.id, this.scope.lane, this.count, new Date(), this.leaseMs());
  }

  protected override preparedEntry(entry: LedgerEntry): LedgerEntry {
    const { plan } = this.sharded();
    const before = heldLease(entry, plan.id);
    const now = new Date();
    return withLease(
      entry,
      { plan: plan.id, shards: this.count, backupId: plan.backupId, cluster: plan.cluster, prepared: false, createdAt: before?.createdAt ?? now.toISOString() },
      now,
    );
  }

  protected override laneJobs(plan: RestorePlan, actions: Map<string, LaneAction>): Promise<PartitionJob[]> {
    const own = this.sharding.prepareOnly ? { ...plan, topics: [] } : shardOfPlan(plan, this.sharded().assignment, this.index);
    return super.laneJobs(own, actions);
  }

  /** A shard that fails leaves the lane's entry alone (its plan is not over: Kubernetes retries that index); it only stops its heartbeat. */
  protected override async release(): Promise<void> {
    try {
      await this.letGo();
    } catch (err) {
      this.ctx.logger.warn({ lane: this.scope.lane }, `could not stop the lane's heartbeat: ${(err as Error).message}`);
    }
  }

  override async dryRun(): Promise<DryRunResult> {
    const result = await super.dryRun();
    const { plan, assignment } = this.sharded();
    const bytes = storedBytesByPartition(this.ctx.backup.manifest);
    const own: Array<{ topic: string; lane: string; partition: number; bytes: number }> = [];
    for (const t of result.plan.topics)
      for (const p of t.partitions) {
        const key = partitionKey(t.source, p.partition);
        if (assignment.get(key) === this.index) own.push({ topic: t.source, lane: t.lane, partition: p.partition, bytes: bytes.get(key) ?? 0 });
      }
    const total = result.plan.topics.reduce((n, t) => n + t.partitions.length, 0);
    const head = `shard ${shardText(this.sharding.shard)} of plan ${plan.id} writes ${own.length} of ${total} partitions (${own.reduce((n, p) => n + p.bytes, 0)} stored bytes)${
      this.index === 0 ? ' and prepares the lane' : ''
    }`;
    const lines = [...result.lines, head, ...own.map((p) => `  ${p.topic}/${p.partition} -> ${p.lane}/${p.partition}`)];
    return {
      ...result,
      lines,
      text: lines.join('\n'),
      json: { ...result.json, shard: { index: this.index, count: this.count, plan: plan.id, partitions: own } },
    };
  }

  override async run(): Promise<RestoreSummary> {
    const t0 = Date.now();
    const { kafka, logger } = this.ctx;
    const producers = new RestoreProducers(kafka);
    try {
      const { plan } = this.sharded();
      logger.info({ lane: plan.lane, plan: plan.id, shard: shardText(plan.shard) }, 'sharded restore');
      const read = await readLedger(kafka, this.ledgerTopic);
      const entry = read.entries.get(plan.lane) ?? null;
      const lease = heldLease(entry, plan.id);
      if (this.index === 0 && !lease?.prepared) {
        if (!lease && this.mode !== 'replace' && alreadyRestored(entry, plan)) return await this.nothingToDo(read, producers, t0);
        return await this.prepareAndWrite(lease !== null, producers, t0);
      }
      if (this.sharding.prepareOnly) return this.outcome('prepared', false, entry, t0);
      const waited = await this.waitForPreparation();
      if (waited.kind === 'already-restored') return await this.nothingToDo(waited.read, producers, t0);
      if (waited.read.shardsDone.get(plan.lane)?.get(plan.id)?.has(this.index)) {
        // This shard's earlier run finished its partitions: nothing to write; the plan may be complete now.
        logger.info({ lane: plan.lane, plan: plan.id }, `shard ${shardText(plan.shard)} already wrote its partitions`);
        return this.outcome('written', await this.finalise(producers), waited.entry, t0);
      }
      return await this.joinAndWrite(producers, t0);
    } catch (err) {
      const e = classifyError(err, 'restoring');
      await this.release();
      throw e;
    } finally {
      await producers.close();
    }
  }

  /** Shard 0: claim and prepare the lane under the plan's lease (`again`: a preparation of this plan was interrupted: resume it), then write. */
  private async prepareAndWrite(again: boolean, producers: RestoreProducers, t0: number): Promise<RestoreSummary> {
    const { plan } = this.sharded();
    this.mode = again ? 'resume' : this.opts.mode;
    let planned = await this.planLane(again ? plan.id : null);
    planned = await this.claimLane(planned, producers);
    for (const w of planned.plan.warnings) this.ctx.logger.warn(w);
    const lane = await this.prepareLane(planned, producers);
    // Done records of an earlier run of the same plan must not count for this one; no shard writes one before `prepared`.
    const left = (await readLedger(this.ctx.kafka, this.ledgerTopic)).shardsDone.get(plan.lane)?.get(plan.id);
    if (left) await removeShardDone(await producers.one(), this.ledgerTopic, plan.lane, plan.id, left.keys());
    await lane.ledger.record((current) => withLease(current, { ...heldLease(current, plan.id)!, prepared: true }, new Date()));
    this.ctx.logger.info({ lane: plan.lane, plan: plan.id, shards: this.count }, 'lane prepared for the shards');
    if (this.sharding.prepareOnly) {
      await this.release();
      return this.outcome('prepared', false, lane.ledger.entry, t0, planned, lane.registration);
    }
    return this.writeOwn(planned, lane.ledger, lane.jobs, lane.ids, producers, t0, lane.registration);
  }

  /** Shards 1..N-1 (and shard 0 once the lane is prepared): plan against the prepared lane, heartbeat, write. */
  private async joinAndWrite(producers: RestoreProducers, t0: number): Promise<RestoreSummary> {
    const { plan } = this.sharded();
    this.mode = 'resume';
    const planned = await this.planLane(plan.id);
    const entry = planned.entry;
    if (!entry || !heldLease(entry, plan.id)?.prepared)
      throw new ConflictError(`lane ${plan.lane} no longer holds plan ${plan.id}: another run took it over`, 'check kbak lane describe; run the shards again');
    const missing = planned.plan.topics.filter((t) => planned.actions.get(t.lane) === 'create').map((t) => t.lane);
    if (missing.length > 0)
      throw new ServiceError(
        'kafka',
        `lane topics ${missing.join(', ')} are missing although plan ${plan.id} prepared lane ${plan.lane}`,
        `delete the lane (kbak lane delete ${plan.lane} --yes) and restore it again`,
      );
    const ids = await this.laneSchemaIds(planned.plan);
    const ledger = new LaneLedger(await producers.one(), this.ledgerTopic, withHeartbeat(entry, new Date()), this.ctx.logger);
    this.held = {
      intent: entry.intent!,
      ledger,
      unregister: onInterrupt(() => this.release()),
      running: () => undefined,
    };
    await ledger.record(ledger.entry);
    ledger.startHeartbeat(this.opts.heartbeatMs ?? HEARTBEAT_MS);
    const jobs = await this.laneJobs(planned.plan, planned.actions);
    producers.connectWorkers(Math.min(this.opts.concurrency, Math.max(1, jobs.length)));
    return this.writeOwn(planned, ledger, jobs, ids, producers, t0, null);
  }

  /** The lane IDs of the backup's schemas, registered by the preparation: looked up, never registered from here. */
  private async laneSchemaIds(plan: RestorePlan): Promise<SchemaIdMap | null> {
    const registry = this.ctx.registry;
    if (!registry || plan.registrations.length === 0) return null;
    const found = await previewRegistrations(registry, registrationInput(plan));
    const byId = new Map<number, LaneRegistration[]>();
    for (const task of plan.registrations) {
      const lane = found.get(registrationKey(task.subject, task.version));
      if (!lane)
        throw new ServiceError(
          'schema-registry',
          `lane subject ${task.laneSubject} does not hold the backup's schema ${task.schemaId} although plan ${this.sharded().plan.id} prepared the lane`,
          `check the subject; delete the lane (kbak lane delete ${plan.lane} --yes) and restore it again`,
        );
      byId.set(task.schemaId, [...(byId.get(task.schemaId) ?? []), lane]);
    }
    return new SchemaIdMap(byId);
  }

  /** Writes this shard's partitions, checks their ends, commits their groups' offsets, records the shard done, and finalises when it is the last. */
  private async writeOwn(
    planned: PlannedLane,
    ledger: LaneLedger,
    jobs: PartitionJob[],
    ids: SchemaIdMap | null,
    producers: RestoreProducers,
    t0: number,
    registration: Parameters<typeof summariseRestore>[0]['registration'],
  ): Promise<RestoreSummary> {
    const { plan, assignment } = this.sharded();
    const own = shardOfPlan(planned.plan, assignment, this.index);
    const results = await this.writeLane(planned, jobs, ids, await producers.workers());
    for (const t of own.topics) {
      const moved = await movedEnd(this.ctx.kafka, t.lane, jobs, results);
      if (moved)
        throw new ServiceError(
          'kafka',
          `lane partition ${t.lane}/${moved.partition} ends at offset ${moved.actual} instead of ${moved.expected}: another producer wrote into it`,
          `group offsets were not seeded; restore the lane again with kbak restore --lane ${plan.lane} --shard 0/${this.count} --prepare --replace`,
        );
    }
    // A shard that lost its hold (no heartbeat for its whole lease) seeds no group and records nothing.
    ledger.assertHeld();
    const groupsStart = Date.now();
    const groups = await this.seedGroups(own, jobs, results);
    const groupsDurationMs = Date.now() - groupsStart;
    // No heartbeat may follow the done record: the last shard's `ready` must be the entry's last word.
    await ledger.stopHeartbeat();
    await writeShardDone(await producers.one(), this.ledgerTopic, {
      format: 2,
      lane: plan.lane,
      plan: plan.id,
      shard: this.index,
      shards: this.count,
      doneAt: new Date().toISOString(),
      ends: endsOf(jobs, results),
    });
    const finalised = await this.finalise(producers);
    await this.release();
    return summariseRestore({
      plan: own,
      backup: this.ctx.backup.ref,
      actions: planned.actions,
      jobs,
      results,
      registration,
      ids,
      groups,
      groupsDurationMs,
      ledgerTopic: this.ledgerTopic,
      expiresAt: ledger.entry.expiresAt,
      durationMs: Date.now() - t0,
      masking: this.maskingOrigin(),
      shard: this.shardOutcome('written', finalised),
    });
  }

  /**
   * When every shard of the plan has written its done record: every lane partition ends where
   * its shard left it, the lane is `ready` (no intent, no lease), and the done records and the
   * plan's claim are removed. Two shards doing it at once write the same. Returns whether the
   * plan is finished.
   */
  private async finalise(producers: RestoreProducers): Promise<boolean> {
    const { plan, whole, assignment } = this.sharded();
    const { kafka } = this.ctx;
    const read = await readLedger(kafka, this.ledgerTopic);
    const done = allDone(read, plan.lane, plan.id, this.count);
    if (!done) return false;
    const entry = read.entries.get(plan.lane) ?? null;
    const producer = await producers.one();
    if (entry && heldLease(entry, plan.id)) {
      const ends = expectedEnds(whole, assignment, done);
      for (const topic of new Set(ends.map((e) => e.topic))) {
        const now = await withRetry(() => kafka.listOffsets(topic));
        for (const e of ends.filter((x) => x.topic === topic)) {
          const actual = now.find((o) => o.partition === e.partition)?.high;
          if (actual !== e.end)
            throw new ServiceError(
              'kafka',
              `lane partition ${topic}/${e.partition} ends at offset ${actual} instead of ${e.end}: another producer wrote into it`,
              `the lane was not marked ready; restore it again with kbak restore --lane ${plan.lane} --shard 0/${this.count} --prepare --replace`,
            );
        }
      }
      await writeLedgerEntry(producer, this.ledgerTopic, { ...withState(entry, 'ready', new Date()), leases: [] });
      this.ctx.logger.info({ lane: plan.lane, plan: plan.id }, `every shard is done: lane ${plan.lane} is ready`);
    } else if (!alreadyRestored(entry, plan)) {
      // The plan no longer holds the lane (another run took it over): its entry is not this run's to write.
      return false;
    }
    await removeShardDone(producer, this.ledgerTopic, plan.lane, plan.id, done.keys());
    await withdrawClaim(producer, this.ledgerTopic, plan.lane, plan.id);
    return true;
  }

  /** Waits (reading the ledger every second) until the lane holds this plan's prepared lease, up to --prepare-timeout. */
  private async waitForPreparation(): Promise<{ kind: 'go' | 'already-restored'; read: LedgerRead; entry: LedgerEntry | null }> {
    const { plan } = this.sharded();
    const deadline = Date.now() + this.sharding.prepareTimeoutMs;
    let said = '';
    for (;;) {
      const read = await readLedger(this.ctx.kafka, this.ledgerTopic);
      const v = judgeWhileWaiting(read, plan, new Date());
      if (v.kind === 'refuse') throw v.error;
      if (v.kind !== 'wait') return { kind: v.kind, read, entry: read.entries.get(plan.lane) ?? null };
      if (v.why !== said) this.ctx.logger.info({ lane: plan.lane, plan: plan.id }, `waiting for the lane's preparation: ${v.why}`);
      said = v.why;
      if (Date.now() >= deadline)
        throw new ServiceError(
          'kafka',
          `shard 0 never prepared lane ${plan.lane} for plan ${plan.id} within ${duration(this.sharding.prepareTimeoutMs)} (${v.why})`,
          `check shard 0 (kbak restore --lane ${plan.lane} --shard 0/${this.count}), then run this shard again`,
          { retriable: true },
        );
      await sleep(this.sharding.pollMs ?? POLL_MS, this.sharding.signal);
    }
  }

  /** The lane is already restored by this plan (a rerun after it finished): done records left behind are removed. */
  private async nothingToDo(read: LedgerRead, producers: RestoreProducers, t0: number): Promise<RestoreSummary> {
    const { plan } = this.sharded();
    const left = read.shardsDone.get(plan.lane)?.get(plan.id);
    if (left) {
      const producer = await producers.one();
      await removeShardDone(producer, this.ledgerTopic, plan.lane, plan.id, left.keys());
      await withdrawClaim(producer, this.ledgerTopic, plan.lane, plan.id);
    }
    this.ctx.logger.info({ lane: plan.lane }, `lane ${plan.lane} is already restored from backup ${plan.cluster}/${plan.backupId}: nothing to do`);
    return this.outcome('already-restored', false, read.entries.get(plan.lane) ?? null, t0);
  }

  private shardOutcome(outcome: ShardOutcome['outcome'], finalised: boolean): ShardOutcome {
    return { index: this.index, count: this.count, plan: this.sharded().plan.id, outcome, finalised };
  }

  /** The summary of a shard that wrote nothing now. */
  private outcome(
    outcome: ShardOutcome['outcome'],
    finalised: boolean,
    entry: LedgerEntry | null,
    t0: number,
    planned: PlannedLane | null = null,
    registration: Parameters<typeof summariseRestore>[0]['registration'] = null,
  ): RestoreSummary {
    const { whole } = this.sharded();
    return summariseRestore({
      plan: { ...whole, topics: [], groups: [] },
      backup: this.ctx.backup.ref,
      actions: planned?.actions ?? new Map(),
      jobs: [],
      results: new Map(),
      registration,
      ids: null,
      groups: [],
      groupsDurationMs: 0,
      ledgerTopic: this.ledgerTopic,
      expiresAt: entry?.expiresAt ?? null,
      durationMs: Date.now() - t0,
      masking: this.maskingOrigin(),
      shard: this.shardOutcome(outcome, finalised),
    });
  }
}

/** Where each job's writes left its lane partition, for the done record. */
function endsOf(jobs: readonly PartitionJob[], results: ReadonlyMap<PartitionJob, PartitionResult>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const j of jobs) (out[j.laneTopic] ??= {})[String(j.partition)] = results.get(j)!.laneEnd.toString();
  return out;
}
