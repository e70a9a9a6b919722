/**
 * What a recovery will do, computed from the backup's manifest, the flags and a few facts
 * about the target before anything is written: target topic names and shapes (configs at
 * creation and after the write), the records per partition (up to a point in time's end
 * offsets), the schemas and subjects to register, the groups to commit. Pure.
 *
 * Configs: a recovered topic is created with CreateTime, no timestamp bounds and no
 * retention, so that every backed-up record is accepted with its timestamp and kept while
 * it is written; once written it gets the backup's own retention, timestamp and compaction
 * settings (POST_WRITE_CONFIGS). The replication factor and min.insync.replicas are fitted
 * to the target (a recovery cluster often has fewer brokers), with a warning.
 */
import { restorableTopicConfigs } from '../backup/topic-configs';
import type { GroupEntry, Manifest, PartitionEntry, SchemaEntry } from '../backup/manifest';
import { selectTopics } from '../dump/select';
import { DROPPED_CONFIGS, laneTopicConfigs } from '../lane/topic-configs';
import type { CodecName } from '../kafka/protocol/codecs';
import { partitionKey } from '../model/partition-key';
import { selectSchemas, type RegistrationTask } from '../schema/register';
import { restoreCodec } from '../restore/plan';
import { RecoveryNaming } from './naming';

/** The configs a recovered topic gets only after its records are written (the allowlist: retention, timestamps, compaction). */
export const POST_WRITE_CONFIGS: ReadonlySet<string> = new Set([
  'retention.ms',
  'retention.bytes',
  'message.timestamp.type',
  'message.timestamp.before.max.ms',
  'message.timestamp.after.max.ms',
  'cleanup.policy',
  'min.compaction.lag.ms',
  'max.compaction.lag.ms',
  'delete.retention.ms',
  'min.cleanable.dirty.ratio',
]);

export interface RecoveryOptions {
  /** Backed-up topics to recover (empty and no regex: all). */
  topics: readonly string[];
  /** A regex over whole topic names (as kbak dump's --topics-regex). */
  topicsRegex?: string;
  renames: ReadonlyMap<string, string>;
  replicationFactor: number | null;
  compression?: CodecName | null;
}

export interface TargetFacts {
  brokers: number;
  minInsyncReplicas: number | null;
}

/** A point in time's effect on the data: per partition of a source topic, the exclusive source end offset. */
export interface RecoveryCut {
  at: Date;
  /** partitionKey(source topic, partition) → first offset not recovered (its timestamp is ≥ at). */
  ends: ReadonlyMap<string, bigint>;
}

export interface RecoveryPartition {
  partition: number;
  /** Records recovered (an upper bound where a point in time cuts through a segment: `exact` false). */
  records: number;
  exact: boolean;
  /** The exclusive source end offset of a point-in-time recovery; null: the whole partition. */
  endOffset: bigint | null;
}

export interface RecoveryTopic {
  source: string;
  target: string;
  partitionCount: number;
  replicationFactor: number;
  /** Created with these… */
  createConfigs: Record<string, string>;
  /** …and given exactly these once written. */
  finalConfigs: Record<string, string>;
  compression: CodecName;
  partitions: RecoveryPartition[];
}

export interface RecoverySubject {
  source: string;
  target: string;
  compatibility: string | null;
}

export interface RecoveryGroup {
  group: string;
  offsets: Array<{ topic: string; target: string; partition: number; sourceOffset: bigint }>;
}

export interface RecoveryPlan {
  backupId: string;
  cluster: { id: string; name: string };
  at: Date | null;
  /** The backup whose group offsets are used (the data's own, or the newest at or before `at`). */
  groupsFrom: string | null;
  topics: RecoveryTopic[];
  schemas: SchemaEntry[];
  registrations: RegistrationTask[];
  subjects: RecoverySubject[];
  unregistrableIds: number[];
  groups: RecoveryGroup[];
  warnings: string[];
}

export interface PlanInput {
  manifest: Manifest;
  options: RecoveryOptions;
  target: TargetFacts;
  cut?: RecoveryCut | null;
  /** Where the group offsets come from; default the data backup's own. */
  groups?: { backupId: string; consumerGroups: readonly GroupEntry[] } | null;
  now?: Date;
}

/** The topics a recovery selects among `all`: --topic names (each must be there), --topics-regex (whole names), else all. */
export function selectedTopics(all: readonly string[], where: string, topics: readonly string[], regex: string | undefined): string[] {
  if (topics.length === 0 && regex === undefined) return [...all].sort();
  return selectTopics({ topics: [...topics], regex }, [...all], {
    where,
    hint: `there are ${all.slice(0, 10).join(', ') || 'no topics'}${all.length > 10 ? ', …' : ''} (kbak inspect lists a backup's topics)`,
  });
}

/** Records of a partition before `end` from the manifest alone: exact unless `end` falls inside a segment. */
export function recordsBefore(p: PartitionEntry, end: bigint | null): { records: number; exact: boolean } {
  if (end === null) return { records: p.records, exact: true };
  let records = 0;
  let exact = true;
  for (const s of p.segments) {
    if (BigInt(s.lastOffset) < end) records += s.records;
    else if (BigInt(s.firstOffset) < end) {
      records += s.records;
      exact = false;
    }
  }
  return { records, exact };
}

/** Create-time and final configs of a recovered topic, with the adjustments made to fit the target. */
export function recoveryConfigs(
  sourceConfigs: Record<string, string>,
  replicationFactor: number,
  targetMinInsyncReplicas: number | null,
): { createConfigs: Record<string, string>; finalConfigs: Record<string, string>; adjustments: string[] } {
  const source = restorableTopicConfigs(sourceConfigs).configs;
  const atCreate: Record<string, string> = {};
  const later: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) (POST_WRITE_CONFIGS.has(k) ? later : atCreate)[k] = v;
  // The lane rules give exactly the create-time shape recovery needs: CreateTime, no bounds,
  // no retention, min.insync.replicas fitted, configs Kafka 4 removed dropped.
  const fitted = laneTopicConfigs({ source: atCreate, retention: { kind: 'forever' }, replicationFactor, targetMinInsyncReplicas });
  const finalConfigs: Record<string, string> = {};
  for (const [k, v] of Object.entries(fitted.configs)) if (!POST_WRITE_CONFIGS.has(k)) finalConfigs[k] = v;
  const adjustments = fitted.adjustments.map((a) => a.replace("the lane's replication factor", 'the replication factor on the target'));
  for (const [k, v] of Object.entries(later)) {
    const why = DROPPED_CONFIGS[k];
    if (why !== undefined) adjustments.push(`${k}=${v} dropped (${why})`);
    else finalConfigs[k] = v;
  }
  return { createConfigs: fitted.configs, finalConfigs, adjustments };
}

export function buildRecoveryPlan(input: PlanInput): RecoveryPlan {
  const { manifest, options, target } = input;
  const now = input.now ?? new Date();
  const naming = new RecoveryNaming(options.renames);
  const backupTopics = manifest.topics.map((t) => t.name);
  const selected = selectedTopics(backupTopics, `in backup ${manifest.backupId}`, options.topics, options.topicsRegex);
  const topicMap = naming.topicMap(selected, backupTopics);
  const warnings: string[] = [];
  const ends = input.cut?.ends ?? new Map<string, bigint>();

  const topics: RecoveryTopic[] = selected.map((name) => {
    const t = manifest.topics.find((x) => x.name === name)!;
    const fitted = target.brokers > 0 ? Math.min(t.replicationFactor, target.brokers) : t.replicationFactor;
    const rf = options.replicationFactor ?? fitted;
    if (options.replicationFactor === null && rf < t.replicationFactor) {
      warnings.push(
        `topic ${topicMap.get(name)}: replication factor ${t.replicationFactor} lowered to ${rf}, the brokers of the target (--replication-factor sets it)`,
      );
    }
    const cfg = recoveryConfigs(t.configs, rf, target.minInsyncReplicas);
    for (const a of cfg.adjustments) warnings.push(`topic ${topicMap.get(name)}: ${a}`);
    const dropped = restorableTopicConfigs(t.configs).dropped;
    if (dropped.length > 0) warnings.push(`topic ${name}: configs not recovered (not a known topic-level config or not a plain value): ${dropped.join(', ')}`);
    const partitions = [...t.partitions]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => {
        const end = ends.get(partitionKey(name, p.partition)) ?? null;
        return { partition: p.partition, endOffset: end, ...recordsBefore(p, end) };
      });
    retentionWarning(name, topicMap.get(name)!, cfg.finalConfigs, t.partitions, now, warnings);
    return {
      source: name,
      target: topicMap.get(name)!,
      partitionCount: t.partitionCount,
      replicationFactor: rf,
      createConfigs: cfg.createConfigs,
      finalConfigs: cfg.finalConfigs,
      compression: restoreCodec(options.compression, t.configs),
      partitions,
    };
  });

  const selection = selectSchemas(manifest.schemas, new Set(backupTopics), new Set(selected), (subjects) => naming.subjectMap(subjects, topicMap));
  const compat = new Map(manifest.subjects.map((s) => [s.subject, s.compatibility]));
  const subjects = [...selection.subjects].map(([source, target]) => ({ source, target, compatibility: compat.get(source) ?? null }));
  if (selection.unregistrable.length > 0) {
    warnings.push(`schema IDs ${selection.unregistrable.join(', ')} have no subject in the backup: payloads using them are recovered unchanged`);
  }

  const groupSource = input.groups ?? { backupId: manifest.backupId, consumerGroups: manifest.consumerGroups };
  const groups: RecoveryGroup[] = [];
  for (const g of groupSource.consumerGroups) {
    const offsets: RecoveryGroup['offsets'] = [];
    for (const o of g.offsets) {
      const t = topics.find((x) => x.source === o.topic);
      if (!t || !t.partitions.some((p) => p.partition === o.partition)) continue;
      offsets.push({ topic: o.topic, target: t.target, partition: o.partition, sourceOffset: BigInt(o.offset) });
    }
    if (offsets.length > 0) groups.push({ group: g.groupId, offsets });
  }

  return {
    backupId: manifest.backupId,
    cluster: { id: manifest.cluster.id, name: manifest.cluster.name },
    at: input.cut?.at ?? null,
    groupsFrom: input.groups === null ? null : groupSource.backupId,
    topics,
    schemas: selection.schemas,
    registrations: selection.tasks,
    subjects,
    unregistrableIds: selection.unregistrable,
    groups,
    warnings,
  };
}

/** Records older than the topic's own retention are deleted by the broker soon after recovery: say so. */
function retentionWarning(
  source: string,
  target: string,
  configs: Record<string, string>,
  partitions: readonly PartitionEntry[],
  now: Date,
  out: string[],
): void {
  const retention = Number(configs['retention.ms']);
  if (!Number.isFinite(retention) || retention <= 0 || (configs['cleanup.policy'] ?? 'delete').split(',').every((p) => p.trim() !== 'delete')) return;
  const oldest = partitions.flatMap((p) => p.segments.map((s) => Number(s.maxTimestamp)));
  const expired = oldest.filter((ts) => ts < now.getTime() - retention).length;
  if (expired > 0) {
    out.push(
      `topic ${target}: ${expired} backed-up segments of ${source} are older than its retention.ms=${retention}: the broker deletes those records soon after the recovery`,
    );
  }
}
