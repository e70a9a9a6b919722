/**
 * `kbak restore --lane`: backup → lane, in phases: plan (what goes where, and the checks of
 * the lane topics, subjects and groups: safety, ownership), prepare (the ledger entry, the
 * schemas under the lane subjects, the lane topics created, replaced or resumed, a job per
 * partition), write (every partition), commit (the lane's ends checked, the translated
 * offsets of the lane groups, the ledger's ready state) and summarise.
 */
import { partitionKey } from '../model/partition-key';
import { runWorkers } from '../util/run-workers';
import { retry, type RetryPolicy } from '../util/retry';
import { warmCompressWorker } from '../kafka/client/compress-worker';
import type { Backup } from '../backup/catalog';
import { classifyError, ConflictError, InterruptedError, InvalidOptionError, SafetyError, ServiceError, UsageError } from '../errors';
import { onInterrupt } from '../util/interrupt';
import { KafkaServiceError, type GroupDescription, type KafkaAdapter, type RecordProducer, type TopicSpec } from '../kafka/adapter';
import type { Logger } from '../output/logger';
import type { CommittedOffset } from '../remap/offsets';
import { previewRegistrations, registerSchemas, registrationKey, SchemaIdMap, type RegistrationResult, type SchemaSelection } from '../schema/register';
import type { RegistryClient } from '../schema/registry-client';
import { buildPlan, formatPlanLines, planToJSON, type PlanOptions, type RestoreMode, type RestorePlan, type TopicPlan } from './plan';
import { decideActions, inspectLaneTopics, recordsIn, type LaneAction, type LaneTopicState, type PartitionOffsets } from './safety';
import type { PartitionJob, PartitionResult } from './write-partition';
import { movedEnd, writeJobs, type LaneTopicProgress } from './write-phase';
import { partitionJobs } from './partition-jobs';
import {
  deleteLaneTopics,
  ensureLedgerTopic,
  existingGroups,
  readLedger,
  targetMinInsyncReplicas,
  waitForLeaders,
  withdrawClaim,
  withRetry,
  writeClaim,
  writeLedgerEntry,
} from '../lane/kafka-ops';
import { assertWritable, DEFAULT_LEDGER_TOPIC, type LaneIntent, type LedgerEntry } from '../lane/ledger';
import { restoreIntent, withFailure, withHeartbeat, withState, withSubjectVersions, withTopicIds } from '../lane/intent';
import { arbitrate, assertNoLiveHolder, describeHolder, HEARTBEAT_MS, holdHere, intentLiveness, LEASE_MS, newIntent } from '../lane/claim';
import {
  assertSameTemplates,
  groupOwnership,
  LaneScope,
  laneTemplates,
  subjectOwnership,
  topicOwnership,
  type ExistingSubject,
  type Ownership,
} from '../lane/ownership';
import { validateBaggageKey } from '../lane/baggage';
import { TOOL_VERSION } from '../version';
import { RestoreProducers } from './producers';
import { checkKafkaRights, checkSources } from './preflight';
import { summariseRestore, type RestoreSummary } from './summary';
import { SchemaDecoder } from '../backup/decode';
import { compileMaskPlan, type MaskPlan } from '../mask/compile';
import type { MaskKey } from '../mask/key';
import { maskPlanLines, maskPlanJSON } from '../mask/plan-lines';
import type { MaskPolicy } from '../mask/policy';
import type { MaskingProvenance } from '../mask/provenance';
import { RecordMasker } from '../mask/record-mask';
import { personalWarnings } from '../mask/review';

export type { RestoreSummary } from './summary';

export interface RestoreOptions extends PlanOptions {
  mode: RestoreMode;
  laneHeader: string | null;
  concurrency: number;
  /** --lane-baggage KEY: set KEY=<lane> in each record's W3C baggage header. */
  laneBaggage?: string | null;
  /** --ttl: the lane expires this long after the restore (kbak lane gc deletes it). */
  ttlMs?: number | null;
  /** The lane ledger topic on the target (default __kbak_lanes). */
  ledgerTopic?: string;
  /** How often the running restore rewrites its intent (default HEARTBEAT_MS; its lease is six of these). For tests. */
  heartbeatMs?: number;
  /** --policy: a masked restore (issue 19). */
  mask?: RestoreMask | null;
}

/** What a masked restore needs, read and checked by the caller (api.ts): the policy, its key, its provenance. */
export interface RestoreMask {
  policy: MaskPolicy;
  key: MaskKey;
  provenance: MaskingProvenance;
  /** --unlisted copy: topics the policy does not list are copied as they are (default: refused). */
  unlistedCopy: boolean;
  /** --on-undecodable: a record that cannot be masked stops the restore (default) or is left out. */
  onUndecodable: 'stop' | 'drop';
  /** Each keys-from file the policy names, read and parsed. */
  keySets: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The plan, and what the target holds of the lane before a restore touches it. */
export interface PlannedLane {
  plan: RestorePlan;
  states: Map<string, LaneTopicState>;
  actions: Map<string, LaneAction>;
  entry: LedgerEntry | null;
  /** Topic IDs of the lane topics that exist. */
  ids: Map<string, string>;
  /** A masked restore's compiled policy; null without --policy. */
  mask: MaskPlan | null;
}

/** What the prepare phase made ready for the write. */
export interface PreparedLane {
  ledger: LaneLedger;
  registration: RegistrationResult | null;
  ids: SchemaIdMap | null;
  jobs: PartitionJob[];
}

/**
 * The lane's ledger entry, written anew at each step (see lane/intent.ts), and the restore's
 * heartbeat: the entry is rewritten every HEARTBEAT_MS while the restore holds the lane. Writes
 * go one after the other. A run whose heartbeat could not be written for its whole lease may
 * have been taken over (lane/claim.ts): it never writes the lane's entry again and stops
 * before it commits.
 */
export class LaneLedger {
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<void> = Promise.resolve();
  private lastWritten = Date.now();
  private lostBecause: string | null = null;

  constructor(
    private readonly producer: RecordProducer,
    private readonly topic: string,
    public entry: LedgerEntry,
    private readonly logger: Logger,
  ) {}

  /** Whether this run may still write the lane's entry. */
  get lost(): boolean {
    return this.lostBecause !== null;
  }

  private lease(): number {
    return this.entry.intent?.leaseMs ?? Infinity;
  }

  /** Throws once the lease has lapsed without a successful write. */
  assertHeld(): void {
    if (this.lostBecause === null && Date.now() - this.lastWritten > this.lease()) {
      this.lostBecause = `no heartbeat could be written for ${Math.round(this.lease() / 1000)}s`;
    }
    if (this.lostBecause !== null) {
      throw new ConflictError(
        `lane ${this.entry.lane}: this restore lost its hold on the lane (${this.lostBecause}); another run may have taken it over`,
        'nothing more was written to the lane ledger; check kbak lane describe and resume the restore',
      );
    }
  }

  /** Writes the entry (`next`, or what `next` makes of the entry as it is when the write's turn comes). */
  record(next: LedgerEntry | ((current: LedgerEntry) => LedgerEntry)): Promise<void> {
    const write = this.queue.then(async () => {
      this.assertHeld();
      if (typeof next === 'function') next = next(this.entry);
      await writeLedgerEntry(this.producer, this.topic, next);
      this.entry = next;
      this.lastWritten = Date.now();
    });
    this.queue = write.catch(() => undefined);
    return write;
  }

  startHeartbeat(everyMs: number): void {
    this.timer = setInterval(() => {
      this.record((current) => withHeartbeat(current, new Date())).catch((err: unknown) => {
        if (!this.lost) this.logger.warn({ lane: this.entry.lane }, `could not write the lane's heartbeat: ${(err as Error).message}`);
      });
    }, everyMs);
    this.timer.unref();
  }

  async stopHeartbeat(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue;
  }
}

export interface RestoreContext {
  kafka: KafkaAdapter;
  backup: Backup;
  registry: RegistryClient | null;
  logger: Logger;
}

export type { LaneTopicProgress } from './write-phase';

export interface DryRunResult {
  plan: RestorePlan;
  text: string;
  /** `text` as lines (names from the backup unescaped: a printer escapes each line). */
  lines: string[];
  json: Record<string, unknown>;
}

/** Right after a deletion the controller may still report a lane topic's name as taken: asked again every 500 ms, 40 times. */
const NAME_TAKEN_RETRY: RetryPolicy = { initialMs: 500, maxMs: 500, factor: 1, attempts: 41 };
const nameTaken = (err: unknown): boolean =>
  err instanceof KafkaServiceError && (err.kafkaCode === 'TOPIC_ALREADY_EXISTS' || /already exists|marked for deletion/i.test(err.message));

export class RestoreRun {
  protected readonly progressByTopic = new Map<string, LaneTopicProgress>();
  /** The mode the plan is judged in: the option's, or `resume` where a sharded restore continues its own plan. */
  protected mode: RestoreMode;

  constructor(
    protected readonly ctx: RestoreContext,
    protected readonly opts: RestoreOptions,
  ) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new InvalidOptionError('concurrency', String(opts.concurrency), 'must be a positive integer');
    if (opts.replicationFactor !== null && (!Number.isInteger(opts.replicationFactor) || opts.replicationFactor < 1)) {
      throw new InvalidOptionError('replicationFactor', String(opts.replicationFactor), 'must be a positive integer');
    }
    if (opts.laneHeader !== null && opts.laneHeader.length === 0) throw new InvalidOptionError('laneHeader', opts.laneHeader, 'is empty', 'give a header name');
    if (opts.laneBaggage) validateBaggageKey(opts.laneBaggage);
    this.scope = new LaneScope(opts.lane, laneTemplates(opts));
    this.ledgerTopic = opts.ledgerTopic ?? DEFAULT_LEDGER_TOPIC;
    this.mode = opts.mode;
  }

  protected readonly scope: LaneScope;
  protected readonly ledgerTopic: string;

  progress(): LaneTopicProgress[] {
    return [...this.progressByTopic.values()].map((p) => ({ ...p }));
  }

  /** The plan phase: the plan, the preflight and the checks a real run would make, with read-only calls only. */
  protected async planLane(ownIntent: string | null = null): Promise<PlannedLane> {
    const { brokers } = await withRetry(() => this.ctx.kafka.cluster());
    const plan = buildPlan(this.ctx.backup.manifest, this.opts, { brokers, minInsyncReplicas: await targetMinInsyncReplicas(this.ctx.kafka) });
    // The policy against every schema of the restored topics, before anything else is asked.
    const mask = this.compileMask(plan);
    if (plan.registrations.length > 0 && !this.ctx.registry) {
      throw new UsageError(
        `the restored records use ${plan.schemas.length} schemas but no schema registry is configured`,
        'configure a schema registry, usually the one the backup was taken from',
        { options: ['registry.url'] },
      );
    }
    // The preflight (preflight.ts): the store and the registry first, Kafka's rights once the actions are known.
    await checkSources(this.ctx.backup, plan, this.ctx.registry);
    const states = await inspectLaneTopics(
      this.ctx.kafka,
      plan.topics.map((t) => t.lane),
    );
    const { entry, ids } = await this.checkOwnership(plan, states, ownIntent);
    if (entry && this.mode === 'resume') this.assertSameMasking(entry);
    const actions = decideActions(plan, states, this.mode);
    await checkKafkaRights({ kafka: this.ctx.kafka, plan, actions, ledgerTopic: this.ledgerTopic, brokers, spec: topicSpec });
    return { plan, states, actions, entry, ids, mask };
  }

  private compileMask(plan: RestorePlan): MaskPlan | null {
    const m = this.opts.mask;
    if (!m) return null;
    const { manifest } = this.ctx.backup;
    return compileMaskPlan({
      policy: m.policy,
      key: m.key.bytes(),
      schemas: new SchemaDecoder(manifest.schemas),
      allSchemas: manifest.schemas,
      topics: plan.topics.map((t) => t.source),
      unlistedCopy: m.unlistedCopy,
      keySets: m.keySets,
    });
  }

  /**
   * A resume continues the records of the interrupted restore: under the same masking (policy
   * and key), or it would append unmasked records to a masked lane (or masked ones to an
   * unmasked lane). Refused before anything is written.
   */
  private assertSameMasking(entry: LedgerEntry): void {
    const was = entry.origin.policy;
    const now = this.maskingOrigin();
    const same = was === null ? now === null : now !== null && now.policySha256 === was.policySha256 && now.keyFingerprint === was.keyFingerprint;
    if (same) return;
    const describe = (m: MaskingProvenance | null): string =>
      m === null ? 'unmasked' : `masked with policy ${m.policy} (sha256 ${m.policySha256.slice(0, 12)}…, key ${m.keyFingerprint})`;
    throw new SafetyError(
      `lane ${entry.lane} was restored ${describe(was)}; this resume would continue it ${describe(now)}`,
      was === null
        ? 'resume without --policy, or start over with --replace'
        : `resume with the same policy and key (--policy ${was.policy}), or start over with --replace`,
      { options: ['policy'] },
    );
  }

  /** The masking provenance the lane records: this restore's policy, else the one a masked lane's snapshot carries. */
  protected maskingOrigin(): MaskingProvenance | null {
    return this.opts.mask?.provenance ?? this.ctx.backup.manifest.lane?.masking ?? null;
  }

  /**
   * Refuses (before anything is written) to touch any lane topic, subject or group that
   * exists and that this lane does not own: see lane/ownership.ts.
   */
  private async checkOwnership(
    plan: RestorePlan,
    states: Map<string, LaneTopicState>,
    ownIntent: string | null,
  ): Promise<{ entry: LedgerEntry | null; ids: Map<string, string> }> {
    const { kafka } = this.ctx;
    const ledger = await readLedger(kafka, this.ledgerTopic);
    const bad = ledger.invalid.find((i) => i.key === plan.lane);
    if (bad)
      throw new SafetyError(
        `${bad.reason} (in ${this.ledgerTopic})`,
        `inspect it with kbak lane describe ${plan.lane}; remove the lane's objects by hand if the record was tampered with`,
      );
    const entry = ledger.entries.get(plan.lane) ?? null;
    if (entry) assertWritable(entry);
    // Another run restoring this lane right now: exit 8 before anything is written.
    const others = (ledger.claims.get(plan.lane) ?? []).filter((c) => c.intent.id !== ownIntent);
    assertNoLiveHolder(plan.lane, entry?.intent?.id === ownIntent ? { ...entry, intent: null } : entry, others, new Date());
    if (entry) assertSameTemplates(entry, this.scope);
    const refuse = (o: Ownership): void => {
      if (!o.owned)
        throw new SafetyError(
          o.reason,
          'kbak only writes to, replaces or deletes what this lane created: remove or rename it yourself, or use another lane name',
        );
    };
    const present = plan.topics.filter((t) => states.get(t.lane)?.exists).map((t) => t.lane);
    const ids = present.length > 0 ? await withRetry(() => kafka.topicIds(present)) : new Map<string, string>();
    for (const name of present) refuse(topicOwnership(entry, this.scope, name, { id: ids.get(name) ?? null, empty: recordsIn(states.get(name)!) === 0n }));
    if (this.ctx.registry && plan.subjects.length > 0) {
      for (const s of plan.subjects) {
        const existing = await this.ctx.registry.subjectVersions(s.lane);
        if (existing.length > 0) refuse(subjectOwnership(entry, this.scope, s.lane, await this.observeSubject(plan, entry, s.lane, existing)));
      }
    }
    for (const g of await existingGroups(
      kafka,
      plan.groups.map((x) => x.lane),
    ))
      refuse(groupOwnership(entry, this.scope, g));
    return { entry, ids };
  }

  /** What subject ownership needs of an existing lane subject (lane/ownership.ts). */
  private async observeSubject(plan: RestorePlan, entry: LedgerEntry | null, subject: string, existing: number[]): Promise<ExistingSubject> {
    const registry = this.ctx.registry!;
    const listed = entry?.subjects.find((x) => x.name === subject);
    const recorded = new Map<number, number | null>();
    for (const v of listed?.versions ?? []) recorded.set(v, existing.includes(v) ? ((await registry.subjectVersion(subject, v))?.id ?? null) : null);
    let onlyOurSchemas: boolean | null = null;
    if (listed && listed.versions.length === 0) {
      // Named by a restore killed before it recorded the registration: ours only if every
      // version there is a schema this restore registers under it.
      const preview = await previewRegistrations(registry, registrationInput(plan));
      const ours = new Set([...preview.values()].filter((r) => r?.laneSubject === subject).map((r) => r!.laneVersion));
      onlyOurSchemas = existing.every((v) => ours.has(v));
    }
    return { recorded, onlyOurSchemas };
  }

  async dryRun(): Promise<DryRunResult> {
    try {
      const planned = await this.planLane();
      const { plan, states, actions } = planned;
      const laneTopicState: Record<string, string> = {};
      for (const t of plan.topics) {
        const st = states.get(t.lane)!;
        laneTopicState[t.lane] = `${actions.get(t.lane)}${st.exists ? `, exists with ${recordsIn(st)} records` : ''}`;
      }
      const ids: Record<string, number | null> = {};
      if (this.ctx.registry && plan.registrations.length > 0) {
        const preview = await previewRegistrations(this.ctx.registry, registrationInput(plan));
        for (const r of plan.registrations) {
          const lane = preview.get(registrationKey(r.subject, r.version));
          const key = String(r.schemaId);
          if (ids[key] === undefined || ids[key] === null) ids[key] = lane ? lane.laneId : null;
        }
      }
      const lane = {
        ttlMs: this.opts.ttlMs ?? null,
        now: new Date(),
        laneHeader: this.opts.laneHeader,
        laneBaggage: this.opts.laneBaggage ?? null,
        ledgerTopic: this.ledgerTopic,
      };
      const lines = formatPlanLines(plan, { ids, laneTopicState, lane });
      const mask = planned.mask;
      // Fields no rule masks whose names or first values look personal (the topics' first records are read).
      const personal = mask ? await personalWarnings(this.ctx.backup, mask.view) : [];
      if (mask) lines.push(...maskPlanLines(mask.view, this.opts.mask!.provenance, personal));
      return {
        plan,
        text: lines.join('\n'),
        lines,
        json: {
          dryRun: true,
          backupId: this.ctx.backup.ref.backupId,
          cluster: this.ctx.backup.ref.cluster,
          ...planToJSON(plan, { ids, laneTopicState }),
          ledgerTopic: lane.ledgerTopic,
          ttlMs: lane.ttlMs,
          expiresAt: lane.ttlMs === null ? null : new Date(lane.now.getTime() + lane.ttlMs).toISOString(),
          laneHeader: lane.laneHeader,
          laneBaggage: lane.laneBaggage,
          masking: mask ? maskPlanJSON(mask.view, this.opts.mask!.provenance, personal) : null,
        },
      };
    } catch (err) {
      throw classifyError(err, 'planning the restore');
    }
  }

  /** The restore's hold on the lane: its claim, and once won the ledger entry with its intent. */
  protected held: { intent: LaneIntent; ledger: LaneLedger | null; unregister: (() => void) | null; running: () => void } | null = null;

  async run(): Promise<RestoreSummary> {
    const t0 = Date.now();
    const producers = new RestoreProducers(this.ctx.kafka);
    try {
      // Plan (what goes where, and the checks a dry run makes), claim the lane, prepare, write, commit, summarise.
      let planned = await this.planLane();
      planned = await this.claimLane(planned, producers);
      for (const w of planned.plan.warnings) this.ctx.logger.warn(w);
      const lane = await this.prepareLane(planned, producers);
      const results = await this.writeLane(planned, lane.jobs, lane.ids, await producers.workers());
      const { groups, groupsDurationMs } = await this.commitLane(planned.plan, lane, results);
      await this.release(producers, null);
      return summariseRestore({
        plan: planned.plan,
        backup: this.ctx.backup.ref,
        actions: planned.actions,
        jobs: lane.jobs,
        results,
        registration: lane.registration,
        ids: lane.ids,
        groups,
        groupsDurationMs,
        ledgerTopic: this.ledgerTopic,
        expiresAt: lane.ledger.entry.expiresAt,
        durationMs: Date.now() - t0,
        masking: this.maskingOrigin(),
      });
    } catch (err) {
      const e = classifyError(err, 'restoring');
      await this.release(producers, e);
      throw e;
    } finally {
      await producers.close();
    }
  }

  /**
   * Claims the lane (lane/claim.ts): writes this run's claim, reads the ledger back, and goes on
   * only when no earlier live claim or intent of another run is there; else withdraws its claim
   * and throws ConflictError (exit 8) without having written the lane's entry. When the lane's
   * entry changed since the plan (a run that finished meanwhile), plans again under the claim.
   */
  protected async claimLane(planned: PlannedLane, producers: RestoreProducers): Promise<PlannedLane> {
    const { kafka } = this.ctx;
    const intent = this.runIntent();
    await ensureLedgerTopic(kafka, this.ledgerTopic);
    const producer = await producers.one();
    this.held = { intent, ledger: null, unregister: null, running: holdHere(intent.id) };
    await writeClaim(producer, this.ledgerTopic, this.scope.lane, intent);
    const read = await readLedger(kafka, this.ledgerTopic);
    const entry = read.entries.get(this.scope.lane) ?? null;
    const lost = arbitrate(this.scope.lane, intent.id, entry, read.claims.get(this.scope.lane) ?? [], new Date());
    if (lost) throw lost;
    if (entry?.intent && entry.intent.id !== intent.id) {
      const l = intentLiveness(entry.intent, new Date());
      const why = l.live ? 'it is gone' : l.why;
      // Info, not a warning: resuming after a killed restore is the everyday case.
      this.ctx.logger.info(
        { lane: this.scope.lane, holder: entry.intent.holder },
        `taking over lane ${this.scope.lane} from ${describeHolder(entry.intent)}: ${why}`,
      );
    }
    return JSON.stringify(entry) === JSON.stringify(planned.entry) ? planned : this.planLane(intent.id);
  }

  /**
   * Ends the hold (once only: an interrupt's cleanup and the failure it then causes both come
   * here) and stops the heartbeat, its last write awaited; returns the hold as it was, null when none.
   */
  protected async letGo(): Promise<NonNullable<RestoreRun['held']> | null> {
    const held = this.held;
    this.held = null;
    if (!held) return null;
    held.unregister?.();
    held.running();
    await held.ledger?.stopHeartbeat();
    return held;
  }

  /** The intent this run claims the lane with and holds it by. */
  protected runIntent(): LaneIntent {
    const mode = this.mode === 'new' ? '' : ` --${this.mode}`;
    return newIntent(`restore --lane ${this.scope.lane}${mode}`, new Date(), this.leaseMs());
  }

  /** The lease of this run's intent: six heartbeats. */
  protected leaseMs(): number {
    return (LEASE_MS / HEARTBEAT_MS) * (this.opts.heartbeatMs ?? HEARTBEAT_MS);
  }

  /**
   * Ends the hold on the lane: on failure (after the lane's entry was written) the lane is
   * recorded as `failed` with the reason; the claim is withdrawn. Best effort: a failure here
   * is logged, and the lane then shows `failed` once its heartbeat lapses.
   */
  protected async release(producers: RestoreProducers, failure: Error | null): Promise<void> {
    try {
      const held = await this.letGo();
      if (!held) return;
      const ledger = held.ledger;
      // A run that lost its hold leaves the lane's entry to whoever holds it now.
      if (failure && ledger && !ledger.lost) await ledger.record((current) => withFailure(current, failure.message, new Date()));
      await withdrawClaim(await producers.one(), this.ledgerTopic, this.scope.lane, held.intent.id);
    } catch (err) {
      this.ctx.logger.warn({ lane: this.scope.lane }, `could not record the end of the restore in the lane ledger: ${(err as Error).message}`);
    }
  }

  /**
   * The prepare phase: the ledger names the lane's objects before they exist (lane/intent.ts),
   * the schemas are registered under the lane subjects (first: a failure there leaves Kafka
   * untouched), the lane topics created or replaced, and a job made per lane partition. The
   * workers' producers connect meanwhile.
   */
  protected async prepareLane({ plan, actions, entry, ids: existingIds }: PlannedLane, producers: RestoreProducers): Promise<PreparedLane> {
    const { kafka, logger, backup } = this.ctx;
    const partitions = plan.topics.reduce((n, t) => n + t.partitions.length, 0);
    producers.connectWorkers(Math.min(this.opts.concurrency, Math.max(1, partitions)));
    // The compression thread starts (~0.1 s: an isolate and the codecs) during the set-up too,
    // not in front of the first batch.
    if (plan.topics.some((t) => t.compression !== 'none')) warmCompressWorker();

    const ledger = new LaneLedger(
      await producers.one(),
      this.ledgerTopic,
      this.preparedEntry(
        restoreIntent(entry, {
          lane: plan.lane,
          templates: this.scope.templates,
          origin: {
            cluster: backup.ref.cluster,
            backupId: backup.ref.backupId,
            location: backup.store.location,
            // The lane a snapshot was taken of (the manifest's lane provenance, FORMAT.md settled point 22).
            lane: backup.manifest.lane?.name ?? null,
            // The policy this restore masks with; a snapshot of a masked lane keeps its lane's.
            policy: this.maskingOrigin(),
          },
          intent: this.held!.intent,
          now: new Date(),
          kbakVersion: TOOL_VERSION,
          ttlMs: this.opts.ttlMs ?? null,
          topics: plan.topics.map((t) => ({
            name: t.lane,
            source: t.source,
            existingId: existingIds.get(t.lane) ?? null,
            willCreate: actions.get(t.lane) === 'create' || actions.get(t.lane) === 'replace',
          })),
          subjects: plan.subjects.map((s) => ({ name: s.lane, source: s.source })),
          groups: plan.groups.map((g) => ({ name: g.lane, source: g.source })),
        }),
      ),
      logger,
    );
    this.held!.ledger = ledger;
    // Interrupted (SIGINT, an aborted library call), the lane is recorded as failed rather than left restoring.
    this.held!.unregister = onInterrupt(() => this.release(producers, new InterruptedError('the restore was interrupted')));
    await ledger.record(ledger.entry);
    ledger.startHeartbeat(this.opts.heartbeatMs ?? HEARTBEAT_MS);
    logger.info(
      { lane: plan.lane, backupId: backup.ref.backupId, topics: plan.topics.map((t) => `${t.source} -> ${t.lane} (${actions.get(t.lane)})`) },
      'restore started',
    );

    let registration: RegistrationResult | null = null;
    if (this.ctx.registry && plan.registrations.length > 0) {
      registration = await registerSchemas(this.ctx.registry, registrationInput(plan), backup.manifest.subjects, logger);
      const registered = new Map<string, Array<{ version: number; id: number }>>();
      for (const r of registration.byRegistration.values()) {
        registered.set(r.laneSubject, [...(registered.get(r.laneSubject) ?? []), { version: r.laneVersion, id: r.laneId }]);
      }
      await ledger.record((current) => withSubjectVersions(current, registered, new Date()));
    }
    const ids = registration ? new SchemaIdMap(registration.byId) : null;

    const created = await this.prepareTopics(plan, actions);
    if (created.length > 0) {
      const createdIds = await withRetry(() => kafka.topicIds(created));
      const missing = created.filter((t) => !createdIds.has(t));
      if (missing.length > 0) throw new ServiceError('kafka', `lane topics ${missing.join(', ')} vanished right after creation`, 'restore again');
      await ledger.record((current) => withTopicIds(current, createdIds, new Date()));
    }

    return { ledger, registration, ids, jobs: await this.laneJobs(plan, actions) };
  }

  /** The entry the prepare phase writes first (a sharded restore adds its plan's lease). */
  protected preparedEntry(entry: LedgerEntry): LedgerEntry {
    return entry;
  }

  /** A job for each lane partition this run writes, from where it stands now; progress counts from here. */
  protected async laneJobs(plan: RestorePlan, actions: Map<string, LaneAction>): Promise<PartitionJob[]> {
    const offsets = new Map<string, PartitionOffsets[]>();
    for (const t of plan.topics) offsets.set(t.lane, await withRetry(() => this.ctx.kafka.listOffsets(t.lane)));
    const jobs = await this.buildJobs(plan, actions, offsets);
    for (const t of plan.topics) {
      const total = t.partitions.reduce((n, p) => n + p.records, 0);
      const totalExact = t.partitions.every((p) => p.exact);
      this.progressByTopic.set(t.lane, { topic: t.lane, records: 0, bytes: 0, processed: 0, total, totalExact });
    }
    return jobs;
  }

  /** The write phase: every lane partition written by a pool of workers, one producer each. */
  protected writeLane(
    { plan, mask }: PlannedLane,
    jobs: PartitionJob[],
    ids: SchemaIdMap | null,
    producers: RecordProducer[],
  ): Promise<Map<PartitionJob, PartitionResult>> {
    const rewrite = { ids, lane: plan.lane, laneHeader: this.opts.laneHeader, laneBaggage: this.opts.laneBaggage ?? null };
    const masks = new Map<string, RecordMasker>();
    const key = this.opts.mask?.key.bytes();
    for (const [topic, m] of mask?.topics ?? []) if (m && !m.passThrough && key) masks.set(topic, new RecordMasker(m, key));
    return writeJobs(
      jobs,
      producers,
      {
        backup: this.ctx.backup,
        window: plan.window,
        maxRecordsPerPartition: plan.maxRecordsPerPartition,
        rewrite,
        masks,
        onUndecodable: this.opts.mask?.onUndecodable ?? 'stop',
      },
      this.progressByTopic,
    );
  }

  /**
   * The commit phase: the lane partitions end where kbak's writes put them (else another
   * producer wrote into them and the translated offsets would be wrong), the lane groups
   * are seeded, and the ledger says the lane is ready.
   */
  private async commitLane(
    plan: RestorePlan,
    lane: PreparedLane,
    results: Map<PartitionJob, PartitionResult>,
  ): Promise<{ groups: RestoreSummary['groups']; groupsDurationMs: number }> {
    const { kafka } = this.ctx;
    for (const t of plan.topics) {
      const moved = await movedEnd(kafka, t.lane, lane.jobs, results);
      if (moved) {
        throw new ServiceError(
          'kafka',
          `lane partition ${t.lane}/${moved.partition} ends at offset ${moved.actual} instead of ${moved.expected}: another producer wrote into it`,
          'group offsets were not seeded; restore again replacing the lane topics',
          { options: ['mode=replace'] },
        );
      }
    }
    // A run that lost its hold (lane/claim.ts) seeds no group and never says ready.
    lane.ledger.assertHeld();
    const groupsStart = Date.now();
    const groups = await this.seedGroups(plan, lane.jobs, results);
    const groupsDurationMs = Date.now() - groupsStart;
    await lane.ledger.record((current) => withState(current, 'ready', new Date()));
    return { groups, groupsDurationMs };
  }

  /** Deletes (replace mode) and creates the lane topics; returns the names of the created ones. */
  private async prepareTopics(plan: RestorePlan, actions: Map<string, LaneAction>): Promise<string[]> {
    const { kafka } = this.ctx;
    const toReplace = plan.topics.filter((t) => actions.get(t.lane) === 'replace').map((t) => t.lane);
    if (toReplace.length > 0) {
      this.ctx.logger.info({ topics: toReplace }, 'deleting lane topics (replace mode)');
      await deleteLaneTopics(kafka, toReplace);
    }
    const toCreate = plan.topics.filter((t) => actions.get(t.lane) === 'create' || actions.get(t.lane) === 'replace');
    if (toCreate.length === 0) return [];
    await retry(
      async () => {
        try {
          await withRetry(() => kafka.createTopics(toCreate.map(topicSpec)));
        } catch (err) {
          // Taken without a deletion just before: created by a concurrent run, and there they are.
          if (nameTaken(err) && toReplace.length === 0) {
            const listed = new Set(await kafka.listTopics());
            if (toCreate.every((t) => listed.has(t.lane))) return;
          }
          throw err;
        }
      },
      NAME_TAKEN_RETRY,
      { retriable: nameTaken },
    );
    await waitForLeaders(
      kafka,
      toCreate.map((t) => ({ name: t.lane, partitions: t.partitionCount })),
    );
    return toCreate.map((t) => t.lane);
  }

  private buildJobs(plan: RestorePlan, actions: Map<string, LaneAction>, offsets: Map<string, PartitionOffsets[]>): Promise<PartitionJob[]> {
    const committed = new Map<string, CommittedOffset[]>();
    for (const g of plan.groups) {
      for (const o of g.offsets) {
        const k = partitionKey(o.laneTopic, o.partition);
        const list = committed.get(k) ?? [];
        list.push({ group: g.lane, offset: o.sourceOffset });
        committed.set(k, list);
      }
    }
    const topics = plan.topics.map((t) => ({
      source: t.source,
      target: t.lane,
      compression: t.compression,
      partitions: t.partitions,
      resume: actions.get(t.lane) === 'resume',
    }));
    return partitionJobs(this.ctx.kafka, topics, offsets, committed, this.opts.concurrency);
  }

  /**
   * A restore killed while seeding groups leaves kbak's own short-lived member in the lane
   * group until its session times out. Members with kbak's client id are waited out; any
   * other member is a running lane consumer and its group is skipped with a warning.
   */
  private async describeLaneGroups(groupIds: string[]): Promise<Array<{ groupId: string; members: Array<{ clientId: string }> }>> {
    if (groupIds.length === 0) return [];
    const clientId = this.ctx.kafka.clientId;
    let groups: GroupDescription[] = [];
    const stale = new Error('a kbak member is still in a lane group');
    try {
      await retry(
        async () => {
          groups = await withRetry(() => this.ctx.kafka.describeGroups(groupIds));
          const onlyOurs = groups.filter((g) => g.members.length > 0 && g.members.every((m) => m.clientId === clientId));
          if (onlyOurs.length === 0) return;
          this.ctx.logger.info({ groups: onlyOurs.map((g) => g.groupId) }, 'waiting for the group member of an interrupted kbak run to expire');
          throw stale;
        },
        STALE_MEMBER_POLL,
        { retriable: (e) => e === stale },
      );
    } catch (err) {
      // Past the wait, the members still there are reported by the caller.
      if (err !== stale) throw err;
    }
    return groups;
  }

  protected async seedGroups(plan: RestorePlan, jobs: PartitionJob[], results: Map<PartitionJob, PartitionResult>): Promise<RestoreSummary['groups']> {
    const out: RestoreSummary['groups'] = [];
    const commits: Array<{ groupId: string; topic: string; partitions: Array<{ partition: number; offset: bigint }> }> = [];
    const described = await this.describeLaneGroups(plan.groups.map((g) => g.lane));
    for (const g of plan.groups) {
      const entry: RestoreSummary['groups'][number] = { source: g.source, lane: g.lane, offsets: [] };
      out.push(entry);
      const members = described.find((d) => d.groupId === g.lane)?.members.length ?? 0;
      if (members > 0) {
        this.ctx.logger.warn(
          { group: g.lane, members },
          `lane group ${g.lane} has ${members} active members: its offsets were not seeded (stop its consumers and resume the restore)`,
        );
        continue;
      }
      const byTopic = new Map<string, Array<{ partition: number; offset: bigint }>>();
      for (const o of g.offsets) {
        const job = jobs.find((j) => j.laneTopic === o.laneTopic && j.partition === o.partition);
        const laneOffset = job ? results.get(job)?.groupOffsets.get(g.lane) : undefined;
        if (laneOffset === undefined) continue;
        entry.offsets.push({ topic: o.laneTopic, partition: o.partition, sourceOffset: o.sourceOffset.toString(), laneOffset: laneOffset.toString() });
        const list = byTopic.get(o.laneTopic) ?? [];
        list.push({ partition: o.partition, offset: laneOffset });
        byTopic.set(o.laneTopic, list);
      }
      for (const [topic, partitions] of byTopic) commits.push({ groupId: g.lane, topic, partitions });
    }
    // A commit through the Kafka client can take seconds (a short-lived group member): run several at once.
    await runWorkers(commits, GROUP_COMMIT_CONCURRENCY, (c) => withRetry(() => this.ctx.kafka.commitGroupOffsets(c.groupId, c.topic, c.partitions)));
    return out;
  }
}

const GROUP_COMMIT_CONCURRENCY = 8;
export { RESTORE_BUDGET_BYTES } from './write-phase';

/** What schema registration (and its dry-run preview) needs from the plan. */
export function registrationInput(plan: RestorePlan): SchemaSelection {
  return {
    schemas: plan.schemas,
    tasks: plan.registrations,
    subjects: new Map(plan.subjects.map((s) => [s.source, s.lane])),
    unregistrable: plan.unregistrableIds,
  };
}
/** Looked at every second for up to the Kafka client's default consumer session timeout, plus a margin. */
const STALE_MEMBER_POLL: RetryPolicy = { initialMs: 1000, maxMs: 1000, factor: 1, deadlineMs: 40_000 };

export function topicSpec(t: TopicPlan): TopicSpec {
  return { topic: t.lane, partitions: t.partitionCount, replicationFactor: t.replicationFactor, configs: { ...t.configs } };
}
