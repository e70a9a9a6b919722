/**
 * Lane lifecycle I/O: describe the lanes in the ledger, delete a lane's objects (exactly
 * what delete-plan.ts decides), garbage-collect expired lanes. Safe to run twice and after
 * a half-finished delete: the ledger entry is marked `deleting` first, objects already gone
 * are skipped, and the entry is removed (tombstone) only when nothing of the lane is left.
 */
import { ConflictError, UsageError } from '../errors';
import { deleteGroups, deleteLaneTopics, deleteLedgerEntry, existingGroups, readLedger, withRetry, writeLedgerEntry } from './kafka-ops';
import type { KafkaAdapter, RecordProducer } from '../kafka/adapter';
import type { Logger } from '../output/logger';
import type { RegistryClient } from '../schema/registry-client';
import { withRemaining, withState } from './intent';
import type { LedgerEntry, LedgerRead } from './ledger';
import { assertWritable, LEDGER_FORMAT, ttlLeftMs } from './ledger';
import { planLaneDelete, type LaneDeletePlan } from './delete-plan';
import { assertSameTemplates, topicOwnership, type ExistingSubject, type ExistingTopic, type LaneScope } from './ownership';
import { describeHolder, effectiveState, failedHint, intentLiveness } from './claim';

export interface LaneContext {
  kafka: KafkaAdapter;
  registry: RegistryClient | null;
  logger: Logger;
  ledgerTopic: string;
}

export interface LaneOverview {
  lane: string;
  /** As the lane stands: a `restoring` lane whose restore is gone (claim.ts) shows `failed`. */
  state: LedgerEntry['state'];
  /** Why the lane failed (one line), null unless failed. */
  failure: string | null;
  /** What to do about it, null unless failed. */
  next: string | null;
  /** The backup it was seeded from, `cluster/backupId`. */
  seededFrom: string;
  /** How its records were masked (the ledger's origin.policy); null: unmasked, copied as they were. */
  masking: LedgerEntry['origin']['policy'];
  createdAt: string;
  ageMs: number;
  ttlLeftMs: number | null;
  expiresAt: string | null;
  topics: number;
  /** Records in the lane topics that exist now. */
  records: number;
  subjects: number;
  groups: number;
}

export async function readLanes(ctx: LaneContext): Promise<LedgerRead> {
  return readLedger(ctx.kafka, ctx.ledgerTopic);
}

export async function overview(ctx: LaneContext, entry: LedgerEntry, now: Date): Promise<LaneOverview> {
  const existing = new Set(await withRetry(() => ctx.kafka.listTopics()));
  let records = 0n;
  for (const t of entry.topics) {
    if (!existing.has(t.name)) continue;
    for (const o of await withRetry(() => ctx.kafka.listOffsets(t.name))) records += o.high - o.low;
  }
  const { state, reason } = effectiveState(entry, now);
  return {
    lane: entry.lane,
    state,
    failure: reason,
    next: state === 'failed' ? failedHint(entry.lane) : null,
    seededFrom: `${entry.origin.cluster}/${entry.origin.backupId}`,
    masking: entry.origin.policy,
    createdAt: entry.createdAt,
    ageMs: now.getTime() - Date.parse(entry.createdAt),
    ttlLeftMs: ttlLeftMs(entry, now),
    expiresAt: entry.expiresAt,
    topics: entry.topics.length,
    records: Number(records),
    subjects: entry.subjects.length,
    groups: entry.groups.length,
  };
}

/** Looks at the target to decide what a delete of the lane removes (read-only). */
export async function planDelete(ctx: LaneContext, entry: LedgerEntry, scope: LaneScope): Promise<LaneDeletePlan> {
  assertSameTemplates(entry, scope);
  if (entry.subjects.length > 0 && !ctx.registry) {
    throw new UsageError(
      `lane ${entry.lane} has ${entry.subjects.length} schema registry subjects but no schema registry is configured`,
      'set --schema-registry-url / KBAK_SCHEMA_REGISTRY_URL',
    );
  }
  const topics = await existingLaneTopics(
    ctx.kafka,
    entry.topics.map((t) => t.name),
  );
  const subjects = entry.subjects.length > 0 ? await existingLaneSubjects(ctx.registry!, entry) : new Map<string, ExistingSubject>();
  const present = [
    ...(await existingGroups(
      ctx.kafka,
      entry.groups.map((g) => g.name),
    )),
  ];
  const described = present.length > 0 ? await withRetry(() => ctx.kafka.describeGroups(present)) : [];
  const groups = new Map(present.map((g) => [g, described.find((d) => d.groupId === g)?.members.length ?? 0]));
  // Offsets of a lane group on any topic the lane does not own make it shared: it stays (delete-plan.ts).
  const owned = new Set([...topics].filter(([name, actual]) => topicOwnership(entry, scope, name, actual).owned).map(([name]) => name));
  const groupForeignTopics = new Map<string, string[]>();
  if (present.length > 0) {
    const others = (await withRetry(() => ctx.kafka.listTopics())).filter((t) => !owned.has(t) && !t.startsWith('__'));
    for (const g of present) {
      const offsets = others.length > 0 ? await withRetry(() => ctx.kafka.fetchGroupOffsets(g, others)) : [];
      groupForeignTopics.set(g, [...new Set(offsets.filter((o) => o.offset >= 0n).map((o) => o.topic))].sort());
    }
  }
  return planLaneDelete(entry, scope, { topics, subjects, groups, groupForeignTopics });
}

/** Refuses to touch a lane a live restore holds (exit 8), or one a newer kbak recorded (exit 6). */
export function assertNotHeld(entry: LedgerEntry, now: Date): void {
  assertWritable(entry);
  if (entry.intent && intentLiveness(entry.intent, now).live) {
    throw new ConflictError(
      `lane ${entry.lane} is being restored by ${describeHolder(entry.intent)}`,
      'wait for the restore to finish, then run the command again',
    );
  }
}

/**
 * The `restoring` lanes whose restore is gone (heartbeat lapsed, or its process provably dead):
 * failed. lane gc reports them and collects them like any other lane once expired; it does not
 * rewrite their entries (a restore taking the lane over at that moment would be overwritten).
 */
export function abandonedLanes(entries: Iterable<LedgerEntry>, now: Date): LedgerEntry[] {
  return [...entries].filter((e) => e.state === 'restoring' && e.format === LEDGER_FORMAT && effectiveState(e, now).state === 'failed');
}

export interface LaneDeleteResult {
  lane: string;
  deleted: { topics: string[]; subjects: string[]; groups: string[] };
  gone: string[];
  leftAlone: Array<{ name: string; reason: string }>;
  /** What still belongs to the lane (it stays in the ledger): groups with active members. */
  remaining: Array<{ name: string; reason: string }>;
  complete: boolean;
}

export async function deleteLane(ctx: LaneContext, producer: RecordProducer, entry: LedgerEntry, scope: LaneScope): Promise<LaneDeleteResult> {
  assertNotHeld(entry, new Date());
  const plan = await planDelete(ctx, entry, scope);
  // Marked first: a delete that dies half-way shows up as `deleting` and is finished by a rerun.
  const write = (e: LedgerEntry): Promise<void> => writeLedgerEntry(producer, ctx.ledgerTopic, e);
  if (entry.state !== 'deleting') await write(withState(entry, 'deleting', new Date()));

  await withRetry(() => deleteLaneTopics(ctx.kafka, plan.topics));
  const subjects: string[] = [];
  for (const s of plan.subjects) if (await ctx.registry!.deleteSubject(s)) subjects.push(s);
  const failed = await deleteGroups(ctx.kafka, plan.groups);

  const remaining = [
    ...plan.activeGroups.map((g) => ({ name: g.name, reason: `consumer group ${g.name} has ${g.members} active members` })),
    ...[...failed].map(([name, why]) => ({ name, reason: `consumer group ${name} could not be deleted: ${why}` })),
  ];
  if (remaining.length === 0) {
    await deleteLedgerEntry(producer, ctx.ledgerTopic, entry.lane);
  } else {
    const left = new Set(remaining.map((r) => r.name));
    await write(withRemaining(entry, { topics: new Set(), subjects: new Set(), groups: left }, new Date()));
  }
  return {
    lane: entry.lane,
    deleted: { topics: plan.topics, subjects, groups: plan.groups.filter((g) => !failed.has(g)) },
    gone: plan.gone,
    leftAlone: plan.leftAlone,
    remaining,
    complete: remaining.length === 0,
  };
}

/** Those of `names` that exist now, with their topic ID and whether they hold records (for ownership.ts). */
/**
 * The lane's listed subjects as the registry holds them now (absent: gone), with the schema
 * ID of each version the ledger recorded (null: that version is gone): what subjectOwnership
 * decides on.
 */
export async function existingLaneSubjects(registry: RegistryClient, entry: LedgerEntry): Promise<Map<string, ExistingSubject>> {
  const subjects = new Map<string, ExistingSubject>();
  for (const s of entry.subjects) {
    const existing = await registry.subjectVersions(s.name);
    if (existing.length === 0) continue;
    const recorded = new Map<number, number | null>();
    for (const v of s.versions) recorded.set(v, existing.includes(v) ? ((await registry.subjectVersion(s.name, v))?.id ?? null) : null);
    subjects.set(s.name, { recorded, onlyOurSchemas: null });
  }
  return subjects;
}

export async function existingLaneTopics(kafka: KafkaAdapter, names: string[]): Promise<Map<string, ExistingTopic>> {
  const ids = names.length > 0 ? await withRetry(() => kafka.topicIds(names)) : new Map<string, string>();
  const topics = new Map<string, ExistingTopic>();
  for (const [name, id] of ids) {
    const offsets = await withRetry(() => kafka.listOffsets(name));
    topics.set(name, { id, empty: offsets.every((o) => o.high === o.low) });
  }
  return topics;
}
