/**
 * A sharded lane restore (`kbak restore --lane X --shard I/N`, issue 21), its pure parts: the
 * plan's identity every shard computes alone, which lane partitions each shard writes, the
 * plan's lease in the lane's ledger entry (LEDGER.md "Sharded restores"), and how a shard
 * judges the ledger while it waits for the lane to be prepared.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Manifest } from '../backup/manifest';
import { ConflictError, ServiceError } from '../errors';
import { assignShards, MAX_SHARDS, shardText, type ShardSpec } from '../model/shard';
import { partitionKey } from '../model/partition-key';
import { describeHolder, intentLiveness } from '../lane/claim';
import { isoTime, type LaneIntent, type LedgerEntry, type LedgerRead, type ShardDone } from '../lane/ledger';
import type { LaneTemplates } from '../lane/ownership';
import type { RestorePlan } from './plan';

/** What identifies a sharded restore's plan: every shard of one plan computes the same. */
export interface PlanIdentityInput {
  lane: string;
  cluster: string;
  backupId: string;
  shards: number;
  templates: LaneTemplates;
  /** The selected source topics (any order). */
  topics: readonly string[];
  /** SHA-256 of the masking policy file, null for an unmasked restore. */
  policySha256: string | null;
}

/** The first 16 hex digits of SHA-256 over the canonical JSON of the plan's identity (fixed key order, sorted topics). */
export function planId(input: PlanIdentityInput): string {
  const canonical = JSON.stringify({
    lane: input.lane,
    backup: { cluster: input.cluster, backupId: input.backupId },
    shards: input.shards,
    templates: { topic: input.templates.topic, subject: input.templates.subject, group: input.templates.group },
    topics: [...input.topics].sort(),
    policySha256: input.policySha256,
  });
  return createHash('sha256').update(canonical, 'utf8').digest('hex').slice(0, 16);
}

/**
 * The shard of each lane partition of the plan, by partitionKey(source topic, partition):
 * balanced by the stored bytes of the segments the restore reads (model/shard.ts).
 */
export function partitionShards(manifest: Manifest, plan: RestorePlan, count: number): Map<string, number> {
  const bytes = storedBytesByPartition(manifest);
  const items = plan.topics.flatMap((t) =>
    t.partitions.map((p) => {
      const key = partitionKey(t.source, p.partition);
      return { key, bytes: bytes.get(key) ?? 0 };
    }),
  );
  const shards = assignShards(items, count);
  return new Map(items.map((item, i) => [item.key, shards[i]!]));
}

/**
 * The stored bytes of each backed-up partition's segments (what a restore of it reads), by
 * partitionKey(topic, partition): one pass over the manifest, not one search per partition.
 */
export function storedBytesByPartition(manifest: Manifest): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const t of manifest.topics)
    for (const p of t.partitions)
      bytes.set(
        partitionKey(t.name, p.partition),
        p.segments.reduce((n, s) => n + s.storedBytes, 0),
      );
  return bytes;
}

/** The plan as one shard writes it: only its partitions, and only the group offsets on them. Topic shapes stay whole. */
export function shardOfPlan(plan: RestorePlan, shards: ReadonlyMap<string, number>, index: number): RestorePlan {
  const mine = (topic: string, partition: number): boolean => shards.get(partitionKey(topic, partition)) === index;
  return {
    ...plan,
    topics: plan.topics.map((t) => ({ ...t, partitions: t.partitions.filter((p) => mine(t.source, p.partition)) })).filter((t) => t.partitions.length > 0),
    groups: plan.groups.map((g) => ({ ...g, offsets: g.offsets.filter((o) => mine(o.topic, o.partition)) })),
  };
}

// ---- the plan's lease and shared intent --------------------------------------------------

const leaseSchema = z.looseObject({
  plan: z.string().regex(/^[0-9a-f]{16}$/),
  shards: z.number().int().positive().max(MAX_SHARDS),
  backupId: z.string().max(40),
  cluster: z.string().max(100),
  prepared: z.boolean(),
  createdAt: isoTime,
});
export type PlanLease = z.infer<typeof leaseSchema>;

/** The host of a shared intent: no real host has it, so every reader judges the intent by its lease alone. */
export const SHARED_HOST = '(shards)';

/** The intent all shards of a plan share: its ID is the plan's. */
export function sharedIntent(plan: string, lane: string, count: number, now: Date, leaseMs: number): LaneIntent {
  const t = now.toISOString();
  return {
    id: plan,
    holder: { host: SHARED_HOST, pid: 0, pidNamespace: null, command: `restore --lane ${lane} --shard */${count}` },
    startedAt: t,
    heartbeatAt: t,
    leaseMs,
  };
}

/** The valid leases of an entry (a lease that does not parse is not one: never acted on). */
export function leasesOf(entry: LedgerEntry): PlanLease[] {
  return entry.leases.flatMap((l) => {
    const parsed = leaseSchema.safeParse(l);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The lease of `plan` while that plan's shared intent holds the entry; else null (a run that took the lane over ended it). */
export function heldLease(entry: LedgerEntry | null, plan: string): PlanLease | null {
  if (!entry || entry.intent?.id !== plan) return null;
  return leasesOf(entry).find((l) => l.plan === plan) ?? null;
}

/** The entry with `lease` as its only lease: a plan being prepared holds the lane, so no other plan's lease lives (fields a newer kbak added to it are kept). */
export function withLease(entry: LedgerEntry, lease: PlanLease, now: Date): LedgerEntry {
  const before = leasesOf(entry).find((l) => l.plan === lease.plan);
  return { ...entry, updatedAt: now.toISOString(), leases: [{ ...before, ...lease }] };
}

/** What a sharded restore is, as its shards compare it with what the ledger holds. */
export interface ShardedPlan {
  id: string;
  lane: string;
  shard: ShardSpec;
  cluster: string;
  backupId: string;
  templates: LaneTemplates;
  /** The lane topics the plan restores. */
  laneTopics: readonly string[];
  policySha256: string | null;
}

/**
 * The lane was restored from this plan's backup, selection, templates and masking and holds
 * no plan now: a rerun after the whole plan finished has nothing to do.
 */
export function alreadyRestored(entry: LedgerEntry | null, p: ShardedPlan): boolean {
  // A lease lives only while its plan's intent holds the entry: with no intent, leases left by an older kbak's takeover count for nothing.
  if (!entry || entry.state !== 'ready' || entry.intent !== null) return false;
  const t = entry.templates;
  return (
    entry.origin.cluster === p.cluster &&
    entry.origin.backupId === p.backupId &&
    (entry.origin.policy?.policySha256 ?? null) === p.policySha256 &&
    t.topic === p.templates.topic &&
    t.subject === p.templates.subject &&
    t.group === p.templates.group &&
    p.laneTopics.every((name) => entry.topics.some((x) => x.name === name && x.id !== null && !x.pending))
  );
}

/** How a shard that does not prepare the lane judges the ledger while it waits. */
export type WaitVerdict =
  | { kind: 'go'; entry: LedgerEntry; lease: PlanLease }
  | { kind: 'wait'; why: string }
  | { kind: 'already-restored' }
  | { kind: 'refuse'; error: ConflictError };

/** What differs between this shard's plan and the plan that holds the lane (same backup), for the one-line refusal. */
function mismatch(entry: LedgerEntry, lease: PlanLease, p: ShardedPlan): string {
  if (lease.shards !== p.shard.count) return `${lease.shards} shards there, ${p.shard.count} here (--shard ${shardText(p.shard)})`;
  const t = entry.templates;
  if (t.topic !== p.templates.topic || t.subject !== p.templates.subject || t.group !== p.templates.group)
    return `templates ${t.topic} ${t.subject} ${t.group} there, ${p.templates.topic} ${p.templates.subject} ${p.templates.group} here`;
  if ((entry.origin.policy?.policySha256 ?? null) !== p.policySha256)
    return `masking policy ${entry.origin.policy?.policySha256.slice(0, 12) ?? 'none'} there, ${p.policySha256?.slice(0, 12) ?? 'none'} here`;
  return 'another selection of topics';
}

/** Pure: what a waiting shard does about the ledger as read now. */
export function judgeWhileWaiting(read: LedgerRead, p: ShardedPlan, now: Date): WaitVerdict {
  const entry = read.entries.get(p.lane) ?? null;
  const mine = heldLease(entry, p.id);
  if (mine) return mine.prepared ? { kind: 'go', entry: entry!, lease: mine } : { kind: 'wait', why: `shard 0 is preparing lane ${p.lane}` };
  if (alreadyRestored(entry, p)) return { kind: 'already-restored' };
  const intent = entry?.intent ?? null;
  if (entry && intent && intentLiveness(intent, now).live) {
    const other = heldLease(entry, intent.id);
    if (other && other.cluster === p.cluster && other.backupId === p.backupId) {
      return {
        kind: 'refuse',
        error: new ConflictError(
          `lane ${p.lane} is being restored from backup ${p.cluster}/${p.backupId} by another sharded plan (${other.plan}): ${mismatch(entry, other, p)}`,
          'run every shard of one restore with the same flags (--shard, templates, --topic, --policy); wait for that plan to finish or fail',
        ),
      };
    }
    return {
      kind: 'refuse',
      error: new ConflictError(
        `lane ${p.lane} is being restored by ${describeHolder(intent)}`,
        `wait for it to finish, then run the shards again (no heartbeat for ${Math.round(intent.leaseMs / 1000)}s frees the lane)`,
      ),
    };
  }
  return { kind: 'wait', why: entry ? `lane ${p.lane} holds no lease of plan ${p.id} yet` : `lane ${p.lane} is not in the ledger yet` };
}

/** The done records of `plan` when every one of its `count` shards has written one, else null. */
export function allDone(read: LedgerRead, lane: string, plan: string, count: number): ReadonlyMap<number, ShardDone> | null {
  const done = read.shardsDone.get(lane)?.get(plan);
  if (!done) return null;
  for (let i = 0; i < count; i++) if (done.get(i)?.shards !== count) return null;
  return done;
}

/**
 * Where every lane partition of the plan must end, from the done record of the shard it is
 * assigned to; throws naming a partition its shard's done record does not account for.
 */
export function expectedEnds(
  plan: RestorePlan,
  shards: ReadonlyMap<string, number>,
  done: ReadonlyMap<number, ShardDone>,
): Array<{ topic: string; partition: number; end: bigint }> {
  const out: Array<{ topic: string; partition: number; end: bigint }> = [];
  for (const t of plan.topics) {
    for (const p of t.partitions) {
      const shard = shards.get(partitionKey(t.source, p.partition))!;
      const end = done.get(shard)?.ends[t.lane]?.[String(p.partition)];
      if (end === undefined)
        throw new ServiceError('kafka', `the done record of shard ${shard} does not name lane partition ${t.lane}/${p.partition}`, 'rerun that shard');
      out.push({ topic: t.lane, partition: p.partition, end: BigInt(end) });
    }
  }
  return out;
}
