/**
 * The summarise phase of a restore: what it did, from its plan, the lane topics' actions,
 * each partition's result, the schema registration and the seeded groups. Pure.
 */
import type { MaskingProvenance } from '../mask/provenance';
import type { RegistrationResult, SchemaIdMap } from '../schema/register';
import type { RestorePlan } from './plan';
import type { LaneAction } from './safety';
import type { PartitionJob, PartitionResult } from './write-partition';

export interface RestoreSummary {
  lane: string;
  backupId: string;
  cluster: string;
  topics: Array<{ source: string; lane: string; action: LaneAction; partitions: number; records: number; skippedExisting: number }>;
  topicsCreated: number;
  partitions: number;
  records: number;
  skippedExisting: number;
  bytes: number;
  durationMs: number;
  recordsPerSecond: number;
  subjectsRegistered: number;
  schemaVersionsCreated: number;
  idsRewritten: number;
  idMap: Record<string, number>;
  groupsSeeded: number;
  /** Wall time of the group-offset step alone (the bench reports it: seeding N groups). */
  groupsDurationMs: number;
  groups: Array<{ source: string; lane: string; offsets: Array<{ topic: string; partition: number; sourceOffset: string; laneOffset: string }> }>;
  /** The lane's names, for a sandbox controller (--json). */
  laneTopics: string[];
  laneSubjects: string[];
  laneGroups: string[];
  /** Records whose baggage header --lane-baggage left alone (not valid W3C baggage or over its limits). */
  baggageLeftAlone: number;
  ledgerTopic: string;
  expiresAt: string | null;
  warnings: string[];
  /** How the lane was masked (--policy, or the masked lane a snapshot came from); null: unmasked. */
  masking: MaskingProvenance | null;
  /** Records the policy's sample left out. */
  sampledOut: number;
  /** Records that could not be masked, left out by --on-undecodable drop. */
  undecodableDropped: number;
  /** A sharded restore (--shard I/N): this shard's part; every count above is of this shard's partitions alone. Absent otherwise. */
  shard?: ShardOutcome;
}

/** What one shard of a sharded restore did. */
export interface ShardOutcome {
  index: number;
  count: number;
  /** The plan's ID (src/restore/shards.ts). */
  plan: string;
  /** `prepared`: --prepare only; `written`: its partitions written (or found written by its earlier run); `already-restored`: nothing to do. */
  outcome: 'prepared' | 'written' | 'already-restored';
  /** This shard found every shard done and marked the lane ready. */
  finalised: boolean;
}

export interface RestoreSummaryInput {
  plan: RestorePlan;
  backup: { backupId: string; cluster: string };
  actions: ReadonlyMap<string, LaneAction>;
  jobs: readonly PartitionJob[];
  results: ReadonlyMap<PartitionJob, PartitionResult>;
  registration: RegistrationResult | null;
  ids: SchemaIdMap | null;
  groups: RestoreSummary['groups'];
  groupsDurationMs: number;
  ledgerTopic: string;
  expiresAt: string | null;
  durationMs: number;
  masking: MaskingProvenance | null;
  shard?: ShardOutcome | null;
}

/** The sum of f over xs (record and byte counts of a summary). */
export const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((n, x) => n + f(x), 0);

export function summariseRestore(input: RestoreSummaryInput): RestoreSummary {
  const { plan, actions, jobs, results, registration, ids, durationMs } = input;
  const all = [...results.values()];
  const records = sum(all, (r) => r.written);
  return {
    lane: plan.lane,
    backupId: input.backup.backupId,
    cluster: input.backup.cluster,
    topics: plan.topics.map((t) => {
      const rs = jobs.filter((j) => j.laneTopic === t.lane).map((j) => results.get(j)!);
      return {
        source: t.source,
        lane: t.lane,
        action: actions.get(t.lane)!,
        partitions: t.partitionCount,
        records: sum(rs, (r) => r.written),
        skippedExisting: sum(rs, (r) => r.skippedExisting),
      };
    }),
    topicsCreated: [...actions.values()].filter((a) => a === 'create' || a === 'replace').length,
    partitions: jobs.length,
    records,
    skippedExisting: sum(all, (r) => r.skippedExisting),
    bytes: sum(all, (r) => r.bytes),
    durationMs,
    recordsPerSecond: durationMs > 0 ? Math.round((records * 1000) / durationMs) : records,
    subjectsRegistered: registration?.subjectsRegistered.length ?? 0,
    schemaVersionsCreated: registration?.versionsCreated ?? 0,
    idsRewritten: sum(all, (r) => r.idsRewritten),
    idMap: ids?.toJSON() ?? {},
    groupsSeeded: input.groups.filter((g) => g.offsets.length > 0).length,
    groupsDurationMs: input.groupsDurationMs,
    groups: input.groups,
    laneTopics: plan.topics.map((t) => t.lane),
    laneSubjects: plan.subjects.map((s) => s.lane),
    laneGroups: plan.groups.map((g) => g.lane),
    baggageLeftAlone: sum(all, (r) => r.baggageLeftAlone),
    ledgerTopic: input.ledgerTopic,
    expiresAt: input.expiresAt,
    warnings: plan.warnings,
    masking: input.masking,
    sampledOut: sum(all, (r) => r.sampledOut),
    undecodableDropped: sum(all, (r) => r.undecodableDropped),
    ...(input.shard ? { shard: input.shard } : {}),
  };
}
