/**
 * What a restore will do, computed from the backup's manifest and the flags before any
 * write: lane topic names and shapes, record counts per partition after the filters,
 * schemas and subjects to register (in order), groups to seed. Pure; `--dry-run` prints
 * it and stops, a real restore executes it.
 */
import { restorableTopicConfigs } from '../backup/topic-configs';
import type { Manifest, PartitionEntry, SchemaEntry } from '../backup/manifest';
import { inWindow, type TimeWindow } from '../model/window';
import { NotFoundError, SafetyError } from '../errors';
import { isCodecName, type CodecName } from '../kafka/protocol/codecs';
import { LaneNaming } from '../remap/plan-names';
import { didYouMeanSuffix } from '../util/near-names';
import { selectSchemas, type RegistrationTask } from '../schema/register';
import { formatDurationMs, laneTopicConfigs, type LaneRetention } from '../lane/topic-configs';

export type RestoreMode = 'new' | 'resume' | 'replace';

export interface PlanOptions {
  lane: string;
  /** Empty: every topic in the backup. */
  topics: string[];
  topicTemplate?: string;
  subjectTemplate?: string;
  groupTemplate?: string;
  replicationFactor: number | null;
  window: TimeWindow;
  maxRecordsPerPartition: number | null;
  /** Default: keep the seed data for the lane's life. */
  laneRetention?: LaneRetention;
  /** Codec of the restore's produce requests; null: the source topic's compression.type, else lz4. */
  compression?: CodecName | null;
}

/** What the plan needs to know about the target cluster. */
export interface TargetFacts {
  brokers: number | null;
  /** Effective broker default of min.insync.replicas; null when unknown. */
  minInsyncReplicas?: number | null;
}

export interface PartitionPlan {
  partition: number;
  /** Records of this partition in the backup. */
  backupRecords: number;
  /** Records that will be restored (after --since/--until/--max-records-per-partition). */
  records: number;
  /** False when `records` is an upper bound (a time window cuts through a segment). */
  exact: boolean;
}

export interface TopicPlan {
  source: string;
  lane: string;
  partitionCount: number;
  replicationFactor: number;
  /** The configs the lane topic is created with (see lane/topic-configs.ts). */
  configs: Record<string, string>;
  /** Source configs changed because they could not hold on the lane. */
  configAdjustments: string[];
  /** Codec the lane's records are produced with. */
  compression: CodecName;
  partitions: PartitionPlan[];
}

/**
 * The codec to produce a lane topic with: the one asked for, else the source topic's own
 * compression.type when it names a codec (what its producers used, or what the broker
 * enforced), else lz4 — cheap on CPU and what most Java producers use.
 */
export function restoreCodec(asked: CodecName | null | undefined, sourceConfigs: Record<string, string>): CodecName {
  if (asked) return asked;
  const topic = sourceConfigs['compression.type'];
  if (topic === 'uncompressed') return 'none';
  if (topic !== undefined && topic !== 'none' && isCodecName(topic)) return topic;
  return 'lz4';
}

export interface GroupOffsetPlan {
  topic: string;
  laneTopic: string;
  partition: number;
  /** Committed source offset; the lane offset is known once the records are written. */
  sourceOffset: bigint;
}

export interface GroupPlan {
  source: string;
  lane: string;
  offsets: GroupOffsetPlan[];
}

export interface SubjectPlan {
  source: string;
  lane: string;
  compatibility: string | null;
}

export interface RestorePlan {
  lane: string;
  naming: LaneNaming;
  topics: TopicPlan[];
  schemas: SchemaEntry[];
  registrations: RegistrationTask[];
  subjects: SubjectPlan[];
  /** Schema IDs found in records that cannot be registered: payloads keep their bytes. */
  unregistrableIds: number[];
  groups: GroupPlan[];
  window: TimeWindow;
  maxRecordsPerPartition: number | null;
  warnings: string[];
}

/**
 * Counts a partition's records after the filters from the manifest alone. Without a time
 * window this is exact. With one, segments entirely inside or outside the window are exact
 * and a segment the window cuts through counts fully (an upper bound, `exact: false`);
 * `countInWindow` below gives the exact number when the records are read.
 */
export function countFromManifest(p: PartitionEntry, window: TimeWindow, maxRecords: number | null): { records: number; exact: boolean } {
  let records = 0;
  let exact = true;
  for (const seg of p.segments) {
    const min = BigInt(seg.minTimestamp);
    const max = BigInt(seg.maxTimestamp);
    const allIn = inWindow(min, window) && inWindow(max, window);
    const allOut = (window.since !== null && max < BigInt(window.since.getTime())) || (window.until !== null && min >= BigInt(window.until.getTime()));
    if (allOut) continue;
    records += seg.records;
    if (!allIn) exact = false;
  }
  if (maxRecords !== null && records > maxRecords) {
    // With an inexact count, N is still an upper bound of what is kept.
    records = maxRecords;
  }
  return { records, exact };
}

/** How many leading in-window records to skip so that only the newest `maxRecords` remain. */
export function skipForMax(inWindowCount: number, maxRecords: number | null): number {
  if (maxRecords === null) return 0;
  return Math.max(0, inWindowCount - maxRecords);
}

export function buildPlan(manifest: Manifest, opts: PlanOptions, target: number | null | TargetFacts): RestorePlan {
  const facts: TargetFacts = typeof target === 'object' && target !== null ? target : { brokers: target };
  const targetBrokers = facts.brokers;
  const naming = new LaneNaming({
    lane: opts.lane,
    topicTemplate: opts.topicTemplate,
    subjectTemplate: opts.subjectTemplate,
    groupTemplate: opts.groupTemplate,
  });
  const backupTopics = manifest.topics.map((t) => t.name);
  const backupSet = new Set(backupTopics);

  for (const t of opts.topics) {
    if (!backupSet.has(t)) {
      throw new NotFoundError(
        `topic "${t}" is not in backup ${manifest.backupId}${didYouMeanSuffix(t, backupTopics)}`,
        `it holds ${backupTopics.slice(0, 10).join(', ') || 'no topics'}`,
      );
    }
  }
  const selectedNames = opts.topics.length > 0 ? [...new Set(opts.topics)].sort() : [...backupTopics].sort();
  const selected = new Set(selectedNames);

  const warnings = naming.assertNoCollisions(selectedNames, backupTopics);
  const topicMap = naming.topicMap(selectedNames);
  // assertNoCollisions covers the selection; a lane topic must not be ANY backed-up topic either.
  for (const [source, lane] of topicMap) {
    if (backupSet.has(lane)) {
      throw new SafetyError(
        `lane topic for "${source}" is "${lane}", which is a source topic in backup ${manifest.backupId}: change topicTemplate or the lane name`,
        undefined,
        { options: ['topicTemplate'] },
      );
    }
  }

  const topics: TopicPlan[] = selectedNames.map((name) => {
    const t = manifest.topics.find((x) => x.name === name)!;
    const rf = opts.replicationFactor ?? (targetBrokers === null ? t.replicationFactor : Math.min(t.replicationFactor, targetBrokers));
    // Only known topic-level configs with plain values reach the target (the manifest is untrusted).
    const cfg = laneTopicConfigs({
      source: restorableTopicConfigs(t.configs).configs,
      retention: opts.laneRetention ?? { kind: 'forever' },
      replicationFactor: rf,
      targetMinInsyncReplicas: facts.minInsyncReplicas ?? null,
    });
    const lane = topicMap.get(name)!;
    for (const a of cfg.adjustments) warnings.push(`lane topic ${lane}: ${a}`);
    return {
      source: name,
      lane,
      partitionCount: t.partitionCount,
      replicationFactor: rf,
      configs: cfg.configs,
      configAdjustments: cfg.adjustments,
      compression: restoreCodec(opts.compression, t.configs),
      partitions: [...t.partitions]
        .sort((a, b) => a.partition - b.partition)
        .map((p) => ({ partition: p.partition, backupRecords: p.records, ...countFromManifest(p, opts.window, opts.maxRecordsPerPartition) })),
    };
  });

  for (const name of selectedNames) {
    const dropped = restorableTopicConfigs(manifest.topics.find((x) => x.name === name)!.configs).dropped;
    if (dropped.length > 0)
      warnings.push(
        `topic "${name}": configs not restored (not a known topic-level config or not a plain value): ${dropped.map((d) => JSON.stringify(d)).join(', ')}`,
      );
  }

  const selection = selectSchemas(manifest.schemas, backupSet, selected, (subjects) => naming.subjectMap(subjects, topicMap));
  const compat = new Map(manifest.subjects.map((s) => [s.subject, s.compatibility]));
  const subjects: SubjectPlan[] = [...selection.subjects].map(([source, lane]) => ({ source, lane, compatibility: compat.get(source) ?? null }));
  if (selection.unregistrable.length > 0) {
    warnings.push(`schema IDs ${selection.unregistrable.join(', ')} have no subject in the backup: payloads using them are restored unchanged`);
  }

  const groups: GroupPlan[] = [];
  for (const g of manifest.consumerGroups) {
    const offsets: GroupOffsetPlan[] = [];
    for (const o of g.offsets) {
      const t = topics.find((x) => x.source === o.topic);
      if (!t || !t.partitions.some((p) => p.partition === o.partition)) continue;
      offsets.push({ topic: o.topic, laneTopic: t.lane, partition: o.partition, sourceOffset: BigInt(o.offset) });
    }
    if (offsets.length > 0) groups.push({ source: g.groupId, lane: naming.group(g.groupId), offsets });
  }

  return {
    lane: naming.lane,
    naming,
    topics,
    schemas: selection.schemas,
    registrations: selection.tasks,
    subjects,
    unregistrableIds: selection.unregistrable,
    groups,
    window: opts.window,
    maxRecordsPerPartition: opts.maxRecordsPerPartition,
    warnings,
  };
}

/** The plan as JSON-friendly data (bigints as strings), for --dry-run --json and summaries. */
export function planToJSON(
  plan: RestorePlan,
  extra: { ids?: Record<string, number | null>; laneTopicState?: Record<string, string> } = {},
): Record<string, unknown> {
  return {
    lane: plan.lane,
    window: { since: plan.window.since?.toISOString() ?? null, until: plan.window.until?.toISOString() ?? null },
    maxRecordsPerPartition: plan.maxRecordsPerPartition,
    topics: plan.topics.map((t) => ({
      source: t.source,
      lane: t.lane,
      state: extra.laneTopicState?.[t.lane],
      partitionCount: t.partitionCount,
      replicationFactor: t.replicationFactor,
      configs: t.configs,
      compression: t.compression,
      records: t.partitions.reduce((n, p) => n + p.records, 0),
      partitions: t.partitions,
    })),
    subjects: plan.subjects,
    registrations: plan.registrations,
    idMap: extra.ids ?? {},
    groups: plan.groups.map((g) => ({ source: g.source, lane: g.lane, offsets: g.offsets.map((o) => ({ ...o, sourceOffset: o.sourceOffset.toString() })) })),
    warnings: plan.warnings,
  };
}

export function formatPlan(plan: RestorePlan, extra: { ids?: Record<string, number | null>; laneTopicState?: Record<string, string> } = {}): string {
  return formatPlanLines(plan, extra).join('\n');
}

/** What a restore does besides the plan's objects: the lane's expiry and what it adds to each record. */
export interface LaneSettings {
  /** The lane expires this long after the restore; null: never. */
  ttlMs: number | null;
  /** When the plan is shown: the expiry is about this plus ttlMs. */
  now: Date;
  laneHeader: string | null;
  laneBaggage: string | null;
  ledgerTopic: string;
}

/** The lane settings as plan lines. */
export function laneSettingLines(plan: RestorePlan, s: LaneSettings): string[] {
  const expiry =
    s.ttlMs === null
      ? 'never (no TTL: kbak lane gc leaves the lane alone)'
      : `${formatDurationMs(s.ttlMs)} after the restore, about ${new Date(s.now.getTime() + s.ttlMs).toISOString()} (kbak lane gc deletes it then)`;
  const marks = [
    ...(s.laneHeader ? [`header ${s.laneHeader}: ${plan.lane}`] : []),
    ...(s.laneBaggage ? [`baggage ${s.laneBaggage}=${plan.lane} (set in each record's W3C baggage header, which is created when absent)`] : []),
  ];
  return [
    `lane ${plan.lane}: recorded in ledger topic ${s.ledgerTopic}, expires ${expiry}`,
    `  added to each record: ${marks.length > 0 ? marks.join('; ') : 'nothing (no lane header, no baggage)'}`,
  ];
}

/** The plan as lines, for printers that escape each line whole (names in them come from the backup). */
export function formatPlanLines(
  plan: RestorePlan,
  extra: { ids?: Record<string, number | null>; laneTopicState?: Record<string, string>; lane?: LaneSettings } = {},
): string[] {
  const lines: string[] = [`restore plan for lane ${plan.lane} (dry run: nothing is changed)`];
  if (extra.lane) lines.push(...laneSettingLines(plan, extra.lane));
  if (plan.window.since || plan.window.until || plan.maxRecordsPerPartition !== null) {
    lines.push(
      `  filters: since ${plan.window.since?.toISOString() ?? '-'}, until ${plan.window.until?.toISOString() ?? '-'}, max records/partition ${plan.maxRecordsPerPartition ?? '-'}`,
    );
  }
  lines.push('topics:');
  for (const t of plan.topics) {
    const total = t.partitions.reduce((n, p) => n + p.records, 0);
    const exact = t.partitions.every((p) => p.exact);
    const state = extra.laneTopicState?.[t.lane];
    lines.push(
      `  ${t.source} -> ${t.lane}${state ? ` [${state}]` : ''}: ${t.partitionCount} partitions, replication factor ${t.replicationFactor}, ${exact ? '' : '≤'}${total} records, compression ${t.compression}`,
    );
    const cfg = Object.entries(t.configs);
    if (cfg.length > 0) lines.push(`    configs: ${cfg.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    lines.push(`    records per partition: ${t.partitions.map((p) => `${p.partition}:${p.exact ? '' : '≤'}${p.records}`).join(' ')}`);
  }
  lines.push(plan.subjects.length > 0 ? 'subjects:' : 'subjects: none');
  for (const s of plan.subjects) lines.push(`  ${s.source} -> ${s.lane}${s.compatibility ? ` (compatibility ${s.compatibility})` : ''}`);
  if (plan.registrations.length > 0) {
    lines.push('schema IDs (source -> lane, "new" when still to be registered):');
    for (const id of [...new Set(plan.registrations.map((r) => r.schemaId))]) {
      const lane = extra.ids?.[String(id)];
      lines.push(`  ${id} -> ${lane === undefined || lane === null ? 'new' : lane}`);
    }
  }
  lines.push(plan.groups.length > 0 ? 'consumer groups:' : 'consumer groups: none');
  for (const g of plan.groups) {
    lines.push(`  ${g.source} -> ${g.lane}: ${g.offsets.map((o) => `${o.laneTopic}/${o.partition} (source offset ${o.sourceOffset})`).join(', ')}`);
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines;
}
