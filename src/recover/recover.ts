/**
 * `kbak recover`: a backup back under its original names (or `--rename`d ones) on a new or the
 * same cluster, in phases: plan (plan.ts, and the checks of every target topic, subject and
 * group: safety.ts), prepare (the recovery's ledger record, the schemas, the topics created
 * with permissive configs), write (every partition, with restore's writer), commit (the ends
 * checked, the backup's own configs set, the groups' translated offsets committed, the ledger
 * record done) and summarise.
 */
import { partitionKey } from '../model/partition-key';
import type { Backup } from '../backup/catalog';
import { classifyError, ConflictError, InterruptedError, InvalidOptionError, SafetyError, ServiceError, UsageError } from '../errors';
import { onInterrupt } from '../util/interrupt';
import { KafkaServiceError, type KafkaAdapter, type RecordProducer, type TopicConfigEntry, type TopicSpec } from '../kafka/adapter';
import type { Logger } from '../output/logger';
import type { CommittedOffset } from '../remap/offsets';
import { previewRegistrations, registerSchemas, registrationKey, SchemaIdMap, type RegistrationResult, type SchemaSelection } from '../schema/register';
import type { RegistryClient } from '../schema/registry-client';
import { ensureLedgerTopic, readWholeTopic, targetMinInsyncReplicas, waitForLeaders, withRetry } from '../lane/kafka-ops';
import { inspectLaneTopics, recordsIn } from '../restore/safety';
import { RestoreProducers } from '../restore/producers';
import { sum } from '../restore/summary';
import { partitionJobs } from '../restore/partition-jobs';
import type { PartitionJob, PartitionResult } from '../restore/write-partition';
import { movedEnd, writeJobs, type LaneTopicProgress } from '../restore/write-phase';
import { TOOL_VERSION } from '../version';
import { buildRecoveryPlan, type RecoveryCut, type RecoveryOptions, type RecoveryPlan } from './plan';
import { checkGroup, checkSubject, decideTopicAction, type RecoveryAction, type SafetyContext } from './safety';
import { DEFAULT_RECOVERY_LEDGER_TOPIC, encodeRecoveryEntry, foldRecoveries, recoveryId, withRecoveryState, type RecoveryEntry } from './ledger';
import type { GroupEntry } from '../backup/manifest';
import { previewKeepingIds, registerKeepingIds, type KeepIdsPreview } from '../schema/keep-ids';
import { plural } from '../output/words';
import { recoverAcls, requireBackupAcls, type AclRecoveryPlan } from './acls';

export interface RecoverRunOptions extends RecoveryOptions {
  resume: boolean;
  newVersions: boolean;
  /** Register the schemas with their original IDs through the registry's IMPORT mode (schema/keep-ids.ts). */
  keepSchemaIds?: boolean;
  /** Re-create the backup's ACL bindings (acls.ts): `literal` those of the recovered topics and groups, `all` also prefixed and wildcard ones. */
  withAcls?: 'literal' | 'all' | null;
  concurrency: number;
  ledgerTopic?: string;
  /** A point in time's end offsets (point-in-time.ts); null: every record of the backup. */
  cut?: RecoveryCut | null;
  /** Where group offsets come from; undefined: the data backup's own; null: none (no backup at or before the point in time). */
  groups?: { backupId: string; consumerGroups: readonly GroupEntry[] } | null;
  /** Said before the plan's own (the point in time's choices). */
  warnings?: readonly string[];
}

export interface RecoverContext {
  kafka: KafkaAdapter;
  backup: Backup;
  registry: RegistryClient | null;
  logger: Logger;
}

export interface RecoverSummary {
  recoveryId: string;
  backupId: string;
  cluster: string;
  at: string | null;
  groupsFrom: string | null;
  targetClusterId: string;
  inPlace: boolean;
  topics: Array<{ source: string; target: string; action: RecoveryAction; partitions: number; records: number; skippedExisting: number }>;
  topicsCreated: number;
  partitions: number;
  records: number;
  bytes: number;
  durationMs: number;
  recordsPerSecond: number;
  subjects: Array<{ source: string; target: string }>;
  schemaVersionsCreated: number;
  idsRewritten: number;
  idMap: Record<string, number>;
  groups: Array<{ group: string; offsets: Array<{ topic: string; partition: number; sourceOffset: string; targetOffset: string }>; skipped: string | null }>;
  /** --with-acls: bindings created, already present, and why the others were not re-created; null without it. */
  acls: { created: number; present: number; skipped: string[] } | null;
  ledgerTopic: string;
  warnings: string[];
}

export interface RecoveryDryRun {
  lines: string[];
  json: Record<string, unknown>;
}

interface Planned {
  plan: RecoveryPlan;
  id: string;
  clusterId: string;
  inPlace: boolean;
  entry: RecoveryEntry | null;
  actions: Map<string, RecoveryAction>;
  topicIds: Map<string, string>;
  /** Target subjects that existed before (their compatibility is left alone). */
  existingSubjects: Set<string>;
  /** --keep-schema-ids: the registry's side of it, planned. */
  keepIds: KeepIdsPreview | null;
  /** --with-acls: what the target lacks, planned (read-only) before anything is written. */
  acls: AclRecoveryPlan | null;
}

export class RecoverRun {
  private readonly progressByTopic = new Map<string, LaneTopicProgress>();
  private readonly ledgerTopic: string;

  constructor(
    private readonly ctx: RecoverContext,
    private readonly opts: RecoverRunOptions,
  ) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new InvalidOptionError('concurrency', String(opts.concurrency), 'must be a positive integer');
    if (opts.replicationFactor !== null && (!Number.isInteger(opts.replicationFactor) || opts.replicationFactor < 1)) {
      throw new InvalidOptionError('replicationFactor', String(opts.replicationFactor), 'must be a positive integer');
    }
    this.ledgerTopic = opts.ledgerTopic ?? DEFAULT_RECOVERY_LEDGER_TOPIC;
  }

  progress(): LaneTopicProgress[] {
    return [...this.progressByTopic.values()].map((p) => ({ ...p }));
  }

  /** The plan phase: the plan and every check a real run makes, with read-only calls only. */
  private async planRecovery(): Promise<Planned> {
    const { kafka, registry, backup } = this.ctx;
    const { brokers, clusterId } = await withRetry(() => kafka.cluster());
    const plan = buildRecoveryPlan({
      manifest: backup.manifest,
      options: this.opts,
      target: { brokers, minInsyncReplicas: await targetMinInsyncReplicas(kafka) },
      cut: this.opts.cut ?? null,
      groups: this.opts.groups,
    });
    plan.warnings.unshift(...(this.opts.warnings ?? []));
    if (plan.registrations.length > 0 && !registry) {
      throw new UsageError(
        `the recovered records use ${plan.schemas.length} schemas but no schema registry is configured`,
        'configure the target schema registry (--registry-url)',
        { options: ['registry.url'] },
      );
    }
    const inPlace = clusterId === plan.cluster.id;
    const id = recoveryId(
      plan.cluster.name,
      plan.topics.map((t) => t.target),
    );
    const ledger = foldRecoveries(await readWholeTopic(kafka, this.ledgerTopic));
    const bad = ledger.invalid.find((i) => i.key === id);
    if (bad)
      throw new SafetyError(`${bad.reason} (in ${this.ledgerTopic})`, 'remove the record (a tombstone on its key) if it was tampered with, then recover again');
    const entry = ledger.entries.get(id) ?? null;
    if (this.opts.resume) this.checkResume(entry, plan, id);
    const ctx: SafetyContext = { inPlace, resume: this.opts.resume, entry };

    const targets = plan.topics.map((t) => t.target);
    const states = await inspectLaneTopics(kafka, targets);
    const present = targets.filter((t) => states.get(t)!.exists);
    const topicIds = present.length > 0 ? await withRetry(() => kafka.topicIds(present)) : new Map<string, string>();
    const empty = present.filter((t) => recordsIn(states.get(t)!) === 0n);
    const configs = empty.length > 0 ? await withRetry(() => kafka.describeTopicConfigs(empty)) : new Map<string, TopicConfigEntry[]>();
    const actions = new Map<string, RecoveryAction>();
    for (const t of plan.topics) {
      const logAppendTime = (configs.get(t.target) ?? []).some((c) => c.name === 'message.timestamp.type' && c.value === 'LogAppendTime');
      actions.set(t.target, decideTopicAction(t, { state: states.get(t.target)!, id: topicIds.get(t.target) ?? null, logAppendTime }, ctx));
    }

    const existingSubjects = new Set<string>();
    let keepIds: KeepIdsPreview | null = null;
    if (this.opts.keepSchemaIds && registry && plan.registrations.length > 0) {
      keepIds = await previewKeepingIds(registry, selectionOf(plan));
      for (const s of keepIds.subjects) if (s.versions.length > 0) existingSubjects.add(s.subject);
      if (keepIds.refusals.length > 0) {
        const more = keepIds.refusals.length > 1 ? ` (and ${plural(keepIds.refusals.length - 1, 'more refusal')})` : '';
        throw new SafetyError(
          `--keep-schema-ids: ${keepIds.refusals[0]}${more}`,
          "recover without --keep-schema-ids: payload IDs are then rewritten to the target registry's",
        );
      }
    } else if (registry && plan.subjects.length > 0) {
      const preview = await previewRegistrations(registry, selectionOf(plan));
      for (const s of plan.subjects) {
        const versions = await registry.subjectVersions(s.target);
        if (versions.length === 0) continue;
        existingSubjects.add(s.target);
        const ours = plan.registrations.filter((r) => r.laneSubject === s.target);
        checkSubject(
          s.target,
          versions,
          ours.every((r) => preview.get(registrationKey(r.subject, r.version))),
          this.opts.newVersions,
          ctx,
        );
      }
    }
    // A group can hold committed offsets only on topics that exist (Kafka drops a deleted topic's).
    for (const g of plan.groups) {
      const existing = [...new Set(g.offsets.map((o) => o.target))].filter((t) => states.get(t)?.exists);
      if (existing.length === 0) continue;
      const committed = await withRetry(() => kafka.fetchGroupOffsets(g.group, existing));
      checkGroup(g, committed, ctx);
    }
    // --with-acls: a backup without ACLs, a target without an authorizer or the right to read them, refused now.
    const acls = this.opts.withAcls ? await this.aclRecovery(plan, true) : null;
    return { plan, id, clusterId, inPlace, entry, actions, topicIds, existingSubjects, keepIds, acls };
  }

  private aclRecovery(plan: RecoveryPlan, dryRun: boolean): Promise<AclRecoveryPlan> {
    const acls = requireBackupAcls(this.ctx.backup.manifest.acls, plan.backupId);
    return recoverAcls(this.ctx.kafka, acls, new Map(plan.topics.map((t) => [t.source, t.target])), new Set(plan.groups.map((g) => g.group)), this.ctx.logger, {
      broad: this.opts.withAcls === 'all',
      dryRun,
    });
  }

  /** --resume continues this recovery only from what it started with: the same backup and point in time. */
  private checkResume(entry: RecoveryEntry | null, plan: RecoveryPlan, id: string): void {
    if (!entry) {
      throw new UsageError(`--resume: no interrupted recovery of these topics is recorded in ${this.ledgerTopic} (recovery ${id})`, 'recover without --resume');
    }
    const at = plan.at?.toISOString() ?? null;
    if (entry.origin.backupId !== plan.backupId || entry.origin.at !== at) {
      throw new UsageError(
        `--resume: recovery ${id} was started from backup ${entry.origin.backupId}${entry.origin.at ? ` at ${entry.origin.at}` : ''}, not ${plan.backupId}${at ? ` at ${at}` : ''}`,
        `resume with --backup ${entry.origin.backupId}${entry.origin.at ? ` --at ${entry.origin.at}` : ''}`,
      );
    }
  }

  async dryRun(): Promise<RecoveryDryRun> {
    try {
      const p = await this.planRecovery();
      const { plan } = p;
      const lines = [
        `recovery plan ${p.id} from backup ${plan.cluster.name}/${plan.backupId}${plan.at ? ` to ${plan.at.toISOString()}` : ''} (dry run: nothing is changed)`,
        p.inPlace
          ? `  target: the backup's own cluster (${p.clusterId}): only topics deleted there are recreated`
          : `  target: cluster ${p.clusterId} (the backup was taken from ${plan.cluster.id})`,
        'topics:',
      ];
      for (const t of plan.topics) {
        const exact = t.partitions.every((x) => x.exact);
        const records = sum(t.partitions, (x) => x.records);
        lines.push(
          `  ${t.source}${t.target !== t.source ? ` -> ${t.target}` : ''} [${describeAction(p.actions.get(t.target)!)}]: ${t.partitionCount} partitions, replication factor ${t.replicationFactor}, ${exact ? '' : '≤'}${records} records`,
        );
        const final = Object.entries(t.finalConfigs);
        if (final.length > 0) lines.push(`    configs once written: ${final.map(([k, v]) => `${k}=${v}`).join(', ')}`);
      }
      lines.push(plan.subjects.length > 0 ? 'subjects:' : 'subjects: none');
      for (const s of plan.subjects)
        lines.push(`  ${s.source}${s.target !== s.source ? ` -> ${s.target}` : ''}${p.existingSubjects.has(s.target) ? ' (exists)' : ''}`);
      if (p.keepIds) {
        const creates = p.keepIds.entries.filter((e) => e.action === 'create').length;
        lines.push(
          `schema IDs kept (IMPORT mode): ${plural(creates, 'registration')} with the original ID, ${p.keepIds.entries.length - creates} already there`,
        );
      }
      lines.push(plan.groups.length > 0 ? `consumer groups (offsets from backup ${plan.groupsFrom}, translated):` : 'consumer groups: none');
      for (const g of plan.groups)
        lines.push(`  ${g.group}: ${g.offsets.map((o) => `${o.target}/${o.partition} (source offset ${o.sourceOffset})`).join(', ')}`);
      if (p.acls) {
        lines.push(
          `ACLs: ${plural(p.acls.create.length, 'binding')} to create, ${p.acls.present.length} already there, ${p.acls.skipped.length} not re-created`,
        );
        for (const b of p.acls.create)
          lines.push(
            `  ${b.permissionType} ${b.principal} ${b.operation} on ${b.resourceType} ${b.patternType === 'LITERAL' ? '' : `${b.patternType} `}${b.resourceName} from ${b.host}`,
          );
        for (const x of p.acls.skipped.filter((k) => k.reason !== 'not-recovered')) lines.push(`  not re-created: ${x.why}`);
      }
      lines.push(`recorded in ${this.ledgerTopic} as recovery ${p.id}`);
      for (const w of plan.warnings) lines.push(`warning: ${w}`);
      return { lines, json: { dryRun: true, ...this.planJSON(p) } };
    } catch (err) {
      throw classifyError(err, 'planning the recovery');
    }
  }

  private planJSON(p: Planned): Record<string, unknown> {
    const { plan } = p;
    return {
      recoveryId: p.id,
      backupId: plan.backupId,
      cluster: plan.cluster.name,
      at: plan.at?.toISOString() ?? null,
      groupsFrom: plan.groupsFrom,
      targetClusterId: p.clusterId,
      inPlace: p.inPlace,
      topics: plan.topics.map((t) => ({
        source: t.source,
        target: t.target,
        action: p.actions.get(t.target),
        partitionCount: t.partitionCount,
        replicationFactor: t.replicationFactor,
        createConfigs: t.createConfigs,
        finalConfigs: t.finalConfigs,
        records: sum(t.partitions, (x) => x.records),
        partitions: t.partitions.map((x) => ({ ...x, endOffset: x.endOffset?.toString() ?? null })),
      })),
      subjects: plan.subjects.map((s) => ({ ...s, exists: p.existingSubjects.has(s.target) })),
      keepSchemaIds: p.keepIds ? p.keepIds.entries : null,
      groups: plan.groups.map((g) => ({ group: g.group, offsets: g.offsets.map((o) => ({ ...o, sourceOffset: o.sourceOffset.toString() })) })),
      ledgerTopic: this.ledgerTopic,
      warnings: plan.warnings,
    };
  }

  private ledger: { producer: RecordProducer; entry: RecoveryEntry } | null = null;

  private async record(next: RecoveryEntry): Promise<void> {
    const l = this.ledger!;
    const { key, value } = encodeRecoveryEntry(next);
    await withRetry(() => l.producer.send(this.ledgerTopic, 0, [{ key, value, timestamp: BigInt(Date.now()), headers: [] }], { compression: 'none' }));
    l.entry = next;
  }

  async run(): Promise<RecoverSummary> {
    const t0 = Date.now();
    const producers = new RestoreProducers(this.ctx.kafka);
    let unregister: (() => void) | null = null;
    try {
      const p = await this.planRecovery();
      for (const w of p.plan.warnings) this.ctx.logger.warn(w);
      const partitions = sum(p.plan.topics, (t) => t.partitions.length);
      producers.connectWorkers(Math.min(this.opts.concurrency, Math.max(1, partitions)));
      await ensureLedgerTopic(this.ctx.kafka, this.ledgerTopic);
      this.ledger = { producer: await producers.one(), entry: this.startEntry(p) };
      unregister = onInterrupt(() => this.fail(new InterruptedError('the recovery was interrupted')));
      await this.record(this.ledger.entry);
      this.ctx.logger.info(
        { recovery: p.id, backupId: p.plan.backupId, topics: p.plan.topics.map((t) => `${t.source} -> ${t.target} (${p.actions.get(t.target)})`) },
        'recovery started',
      );

      const registration = await this.registerSchemas(p);
      const ids = registration ? new SchemaIdMap(registration.byId) : null;
      await this.prepareTopics(p);
      const jobs = await this.buildJobs(p);
      const results = await this.writeTopics(jobs, ids, await producers.workers());
      await this.checkEnds(p, jobs, results);
      await this.applyConfigs(p);
      const groups = await this.commitGroups(p, jobs, results);
      const acls = this.opts.withAcls ? await this.aclRecovery(p.plan, false) : null;
      await this.record(withRecoveryState(this.ledger.entry, 'done', new Date()));
      unregister();
      unregister = null;
      return this.summarise(p, jobs, results, registration, ids, groups, acls, Date.now() - t0);
    } catch (err) {
      const e = classifyError(err, 'recovering');
      await this.fail(e);
      throw e;
    } finally {
      unregister?.();
      await producers.close();
    }
  }

  /** Records the failure (best effort: when it cannot be written the record says `recovering`, and --resume still applies). Once only. */
  private async fail(e: Error): Promise<void> {
    const l = this.ledger;
    if (!l) return;
    try {
      await this.record(withRecoveryState(l.entry, 'failed', new Date(), e.message));
    } catch (err) {
      this.ctx.logger.warn({ recovery: l.entry.id }, `could not record the failure in ${this.ledgerTopic}: ${(err as Error).message}`);
    } finally {
      this.ledger = null;
    }
  }

  private startEntry(p: Planned): RecoveryEntry {
    const now = new Date().toISOString();
    const previous = p.entry;
    return {
      format: 1,
      id: p.id,
      state: 'recovering',
      reason: null,
      origin: { cluster: p.plan.cluster.name, clusterId: p.plan.cluster.id, backupId: p.plan.backupId, at: p.plan.at?.toISOString() ?? null },
      topics: p.plan.topics.map((t) => ({
        name: t.target,
        source: t.source,
        id: p.actions.get(t.target) === 'create' ? null : (p.topicIds.get(t.target) ?? null),
      })),
      subjects: previous && this.opts.resume ? previous.subjects : [],
      groups: previous && this.opts.resume ? previous.groups : [],
      startedAt: previous && this.opts.resume ? previous.startedAt : now,
      updatedAt: now,
      kbakVersion: TOOL_VERSION,
    };
  }

  /** Schemas first: a refusal there leaves Kafka untouched. Subjects that existed keep their compatibility. */
  private async registerSchemas(p: Planned): Promise<RegistrationResult | null> {
    const { registry, backup, logger } = this.ctx;
    if (!registry || p.plan.registrations.length === 0) return null;
    const ownSubjects = backup.manifest.subjects.filter(
      (s) => !p.existingSubjects.has(p.plan.subjects.find((x) => x.source === s.subject)?.target ?? s.subject),
    );
    const registration = p.keepIds
      ? await registerKeepingIds(registry, selectionOf(p.plan), ownSubjects, logger)
      : await registerSchemas(registry, selectionOf(p.plan), ownSubjects, logger, (subject) => !p.existingSubjects.has(subject));
    const created = new Map<string, number[]>();
    for (const r of registration.byRegistration.values()) if (r.created) created.set(r.laneSubject, [...(created.get(r.laneSubject) ?? []), r.laneVersion]);
    const subjects = [...this.ledger!.entry.subjects];
    for (const [name, versions] of created) {
      const i = subjects.findIndex((s) => s.name === name);
      if (i >= 0) subjects[i] = { ...subjects[i]!, versions: [...new Set([...subjects[i]!.versions, ...versions])] };
      else subjects.push({ name, versions });
    }
    await this.record({ ...this.ledger!.entry, subjects, updatedAt: new Date().toISOString() });
    return registration;
  }

  /** Creates the absent topics with the create-time configs and records their IDs. */
  private async prepareTopics(p: Planned): Promise<void> {
    const { kafka, logger } = this.ctx;
    const toCreate = p.plan.topics.filter((t) => p.actions.get(t.target) === 'create');
    if (toCreate.length > 0) {
      const specs: TopicSpec[] = toCreate.map((t) => ({
        topic: t.target,
        partitions: t.partitionCount,
        replicationFactor: t.replicationFactor,
        configs: { ...t.createConfigs },
      }));
      try {
        await withRetry(() => kafka.createTopics(specs));
      } catch (err) {
        if (err instanceof KafkaServiceError && (err.kafkaCode === 'TOPIC_ALREADY_EXISTS' || /already exists/i.test(err.message))) {
          throw new ConflictError(`a topic of this recovery was created by someone else meanwhile (${err.message})`, 'check the target, then recover again');
        }
        throw err;
      }
      await waitForLeaders(
        kafka,
        toCreate.map((t) => ({ name: t.target, partitions: t.partitionCount })),
      );
      logger.info({ topics: toCreate.map((t) => t.target) }, 'topics created');
    }
    const all = p.plan.topics.map((t) => t.target);
    const ids = await withRetry(() => kafka.topicIds(all));
    const missing = all.filter((t) => !ids.has(t));
    if (missing.length > 0) throw new ServiceError('kafka', `topics ${missing.join(', ')} vanished right after creation`, 'recover again with --resume');
    for (const [name, id] of ids) p.topicIds.set(name, id);
    await this.record({
      ...this.ledger!.entry,
      topics: this.ledger!.entry.topics.map((t) => ({ ...t, id: ids.get(t.name) ?? t.id })),
      updatedAt: new Date().toISOString(),
    });
  }

  private async buildJobs(p: Planned): Promise<PartitionJob[]> {
    const { kafka } = this.ctx;
    const committed = new Map<string, CommittedOffset[]>();
    for (const g of p.plan.groups) {
      for (const o of g.offsets) {
        const k = partitionKey(o.target, o.partition);
        committed.set(k, [...(committed.get(k) ?? []), { group: g.group, offset: o.sourceOffset }]);
      }
    }
    const offsets = new Map<string, Awaited<ReturnType<KafkaAdapter['listOffsets']>>>();
    for (const t of p.plan.topics) offsets.set(t.target, await withRetry(() => kafka.listOffsets(t.target)));
    const topics = p.plan.topics.map((t) => ({
      source: t.source,
      target: t.target,
      compression: t.compression,
      partitions: t.partitions,
      resume: p.actions.get(t.target) === 'resume',
    }));
    const jobs = await partitionJobs(kafka, topics, offsets, committed, this.opts.concurrency);
    // A point in time: each partition ends at its first record stamped at or after it.
    for (const job of jobs) {
      const end = p.plan.topics.find((t) => t.target === job.laneTopic)?.partitions.find((x) => x.partition === job.partition)?.endOffset;
      if (end !== null && end !== undefined) job.endOffset = end;
    }
    for (const t of p.plan.topics) {
      this.progressByTopic.set(t.target, {
        topic: t.target,
        records: 0,
        bytes: 0,
        processed: 0,
        total: sum(t.partitions, (x) => x.records),
        totalExact: t.partitions.every((x) => x.exact),
      });
    }
    return jobs;
  }

  private writeTopics(jobs: PartitionJob[], ids: SchemaIdMap | null, producers: RecordProducer[]): Promise<Map<PartitionJob, PartitionResult>> {
    const rewrite = { ids, lane: '', laneHeader: null, laneBaggage: null };
    return writeJobs(
      jobs,
      producers,
      { backup: this.ctx.backup, window: { since: null, until: null }, maxRecordsPerPartition: null, rewrite },
      this.progressByTopic,
    );
  }

  /** Every partition ends where kbak's writes put it; else another producer wrote into it and translated offsets would be wrong. */
  private async checkEnds(p: Planned, jobs: PartitionJob[], results: Map<PartitionJob, PartitionResult>): Promise<void> {
    for (const t of p.plan.topics) {
      const moved = await movedEnd(this.ctx.kafka, t.target, jobs, results);
      if (moved) {
        throw new ServiceError(
          'kafka',
          `${t.target}/${moved.partition} ends at offset ${moved.actual} instead of ${moved.expected}: another producer wrote into it during the recovery`,
          'no group offsets were committed; stop that producer, delete the topic and recover it again',
        );
      }
    }
  }

  /** The backup's own retention, timestamp and compaction configs, on the topics this recovery created. */
  private async applyConfigs(p: Planned): Promise<void> {
    for (const t of p.plan.topics) {
      if (p.actions.get(t.target) === 'reuse') continue;
      await withRetry(() => this.ctx.kafka.setTopicConfigs(t.target, t.finalConfigs));
    }
  }

  /**
   * The groups at their translated offsets. A group with members right now is skipped with a
   * warning (a consumer already runs against the recovered topic: moving it is not kbak's call).
   */
  private async commitGroups(p: Planned, jobs: PartitionJob[], results: Map<PartitionJob, PartitionResult>): Promise<RecoverSummary['groups']> {
    const { kafka, logger } = this.ctx;
    const out: RecoverSummary['groups'] = [];
    if (p.plan.groups.length === 0) return out;
    const described = await withRetry(() => kafka.describeGroups(p.plan.groups.map((g) => g.group)));
    for (const g of p.plan.groups) {
      const members = described.find((d) => d.groupId === g.group)?.members.length ?? 0;
      if (members > 0) {
        const why = `${members} active members`;
        logger.warn(
          { group: g.group, members },
          `consumer group ${g.group} has ${why}: its offsets were not committed (stop its consumers and recover again with --resume)`,
        );
        out.push({ group: g.group, offsets: [], skipped: why });
        continue;
      }
      const entry: RecoverSummary['groups'][number] = { group: g.group, offsets: [], skipped: null };
      const byTopic = new Map<string, Array<{ partition: number; offset: bigint }>>();
      for (const o of g.offsets) {
        const job = jobs.find((j) => j.laneTopic === o.target && j.partition === o.partition);
        const target = job ? results.get(job)?.groupOffsets.get(g.group) : undefined;
        if (target === undefined) continue;
        entry.offsets.push({ topic: o.target, partition: o.partition, sourceOffset: o.sourceOffset.toString(), targetOffset: target.toString() });
        byTopic.set(o.target, [...(byTopic.get(o.target) ?? []), { partition: o.partition, offset: target }]);
      }
      for (const [topic, partitions] of byTopic) await withRetry(() => kafka.commitGroupOffsets(g.group, topic, partitions));
      out.push(entry);
      await this.record({ ...this.ledger!.entry, groups: [...new Set([...this.ledger!.entry.groups, g.group])], updatedAt: new Date().toISOString() });
    }
    return out;
  }

  private summarise(
    p: Planned,
    jobs: PartitionJob[],
    results: Map<PartitionJob, PartitionResult>,
    registration: RegistrationResult | null,
    ids: SchemaIdMap | null,
    groups: RecoverSummary['groups'],
    acls: AclRecoveryPlan | null,
    durationMs: number,
  ): RecoverSummary {
    const all = [...results.values()];
    const records = sum(all, (r) => r.written);
    return {
      recoveryId: p.id,
      backupId: p.plan.backupId,
      cluster: p.plan.cluster.name,
      at: p.plan.at?.toISOString() ?? null,
      groupsFrom: p.plan.groupsFrom,
      targetClusterId: p.clusterId,
      inPlace: p.inPlace,
      topics: p.plan.topics.map((t) => {
        const rs = jobs.filter((j) => j.laneTopic === t.target).map((j) => results.get(j)!);
        return {
          source: t.source,
          target: t.target,
          action: p.actions.get(t.target)!,
          partitions: t.partitionCount,
          records: sum(rs, (r) => r.written),
          skippedExisting: sum(rs, (r) => r.skippedExisting),
        };
      }),
      topicsCreated: [...p.actions.values()].filter((a) => a === 'create').length,
      partitions: jobs.length,
      records,
      bytes: sum(all, (r) => r.bytes),
      durationMs,
      recordsPerSecond: durationMs > 0 ? Math.round((records * 1000) / durationMs) : records,
      subjects: p.plan.subjects.map((s) => ({ source: s.source, target: s.target })),
      schemaVersionsCreated: registration?.versionsCreated ?? 0,
      idsRewritten: sum(all, (r) => r.idsRewritten),
      idMap: ids?.toJSON() ?? {},
      groups,
      acls: acls && { created: acls.create.length, present: acls.present.length, skipped: acls.skipped.map((x) => x.why) },
      ledgerTopic: this.ledgerTopic,
      warnings: p.plan.warnings,
    };
  }
}

function describeAction(a: RecoveryAction): string {
  return a === 'create' ? 'create' : a === 'reuse' ? 'exists, empty: written into, its configs left as they are' : 'resume: continue an interrupted recovery';
}

/** What schema registration (and its preview) needs from the plan. */
function selectionOf(plan: RecoveryPlan): SchemaSelection {
  return {
    schemas: plan.schemas,
    tasks: plan.registrations,
    subjects: new Map(plan.subjects.map((s) => [s.source, s.target])),
    unregistrable: plan.unregistrableIds,
  };
}
