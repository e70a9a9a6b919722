/**
 * The lane ledger (LEDGER.md, format 2): one record per lane on a compacted topic of the
 * target cluster (default `__kbak_lanes`), key = lane name, value = this JSON, plus the claims
 * of running restores under keys of their own (claim.ts). It lists every object kbak created
 * for the lane, so `lane list/describe/delete/gc` and later restores know what the lane owns.
 * The ledger is cluster data that anyone with write access can forge, so decoding validates
 * everything and bounds the size, and ownership (ownership.ts) never rests on the ledger alone.
 * Format 1 records are read and upgraded in memory; fields kbak does not know are kept.
 *
 * Pure: record bytes <-> LedgerEntry.
 */
import { z } from 'zod';
import { KbakError, SafetyError } from '../errors';
import { MAX_LANE_LENGTH, validateLaneName } from '../remap/lane';
import { MAX_SHARDS } from '../model/shard';

export const DEFAULT_LEDGER_TOPIC = '__kbak_lanes';
/** The format this kbak writes (LEDGER.md). It reads 1 (upgraded in memory) and 2; a higher one only for display. */
export const LEDGER_FORMAT = 2;
/** Below Kafka's default max.message.bytes (1 MiB) with room for the batch overhead. */
export const MAX_LEDGER_RECORD_BYTES = 900 * 1024;
/** Fields kbak does not know (written by a newer kbak) are kept on rewrite, but no deeper than this: re-encoding them must not blow the stack. */
export const MAX_UNKNOWN_DEPTH = 32;
/** A failure reason is one line of at most this many characters. */
export const MAX_REASON_LENGTH = 500;

/** Ledger content that cannot be used: named with the lane (key) it was found under. */
export class LedgerError extends KbakError {
  readonly code = 'LEDGER';
}

/** The field types kbak's ledgers share (the recovery ledger, src/recover/ledger.ts, too). */
export const name = z.string().min(1).max(255);
export const isoTime = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a timestamp');
/** Kafka's Uuid.toString(): 16 bytes, base64url without padding. */
export const topicId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a Kafka topic ID');
export const backupId = z.string().regex(/^[0-9]{8}T[0-9]{9}Z$/);
const cluster = z.string().min(1).max(100);

// Every object keeps the fields it does not know (z.looseObject): a newer kbak may add
// fields within format 2, and an older one must not drop them when it rewrites the record.
const topicSchema = z.looseObject({
  name,
  source: name,
  /** The Kafka topic ID once created; with `pending` the ID of an earlier incarnation or null. */
  id: topicId.nullable(),
  /** Written before kbak creates (or re-creates) the topic: the create may not have happened, or its ID not been recorded yet. */
  pending: z.boolean(),
});
const versions = z.array(z.number().int().positive()).max(10_000);
const subjectSchema = z.looseObject({
  name,
  source: name,
  versions,
  /** The schema IDs of the versions kbak registered (ownership.ts: they must still be there). */
  ids: versions,
});
const groupSchema = z.looseObject({ name, source: name });

const holderSchema = z.looseObject({
  host: z.string().min(1).max(255),
  pid: z.number().int(),
  pidNamespace: z.string().max(100).nullable(),
  /** What runs, for messages: `restore --lane fx --resume` (never the whole command line: it may hold secrets). */
  command: z.string().max(300),
});
export const intentSchema = z.looseObject({
  /** Random, one per run. */
  id: z.string().regex(/^[0-9a-f]{8,64}$/, 'not an intent ID'),
  holder: holderSchema,
  startedAt: isoTime,
  heartbeatAt: isoTime,
  /** The intent is live until heartbeatAt + leaseMs (or until its holder is provably gone). */
  leaseMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3_600_000),
});

const common = {
  lane: z.string().min(1).max(MAX_LANE_LENGTH),
  createdAt: isoTime,
  updatedAt: isoTime,
  kbakVersion: z.string().min(1).max(64),
  ttlMs: z.number().int().positive().nullable(),
  expiresAt: isoTime.nullable(),
  templates: z.looseObject({ topic: z.string().min(1).max(255), subject: z.string().min(1).max(255), group: z.string().min(1).max(255) }),
  topics: z.array(topicSchema).max(10_000),
  groups: z.array(groupSchema).max(10_000),
};

/** A masked lane's provenance: the policy's name and SHA-256, the key's fingerprint, the fake-data library (FORMAT.md settled point 25). */
const maskingSchema = z.object({
  policy: z.string().min(1).max(255),
  policySha256: z.string().regex(/^[0-9a-f]{64}$/),
  keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  faker: z.string().min(1).max(100),
});

export const ledgerEntrySchema = z.looseObject({
  ...common,
  /** LEDGER_FORMAT when written by this kbak; a higher one is kept for display only (isWritable). */
  format: z.number().int().min(2),
  /** What the lane was seeded from: a backup (its store when known) or a lane snapshot (lane), and the masking policy applied (null: none). */
  origin: z.looseObject({
    cluster,
    backupId,
    location: z.string().max(2000).nullable(),
    lane: z.string().min(1).max(MAX_LANE_LENGTH).nullable(),
    /**
     * The masking the lane's records went through (FORMAT.md settled point 25's object), null:
     * unmasked. A kbak before masking reads only null here: it lists a masked lane as invalid
     * and never acts on it (a reset by it would reseed the lane unmasked).
     */
    policy: maskingSchema.nullable(),
  }),
  state: z.enum(['restoring', 'ready', 'deleting', 'failed']),
  failure: z.looseObject({ at: isoTime, reason: z.string().max(MAX_REASON_LENGTH) }).nullable(),
  /** The restore that holds the lane now (claim.ts); null when none runs. */
  intent: intentSchema.nullable(),
  subjects: z.array(subjectSchema).max(10_000),
  /** Reserved for per-plan leases (sharded restores): kept as they are. */
  leases: z.array(z.unknown()).max(10_000),
});

/** Format 1 (kbak before LEDGER.md): read and upgraded in memory, never written. */
const formatOneSchema = z.object({
  ...common,
  format: z.literal(1),
  seededFrom: z.object({ cluster, backupId }),
  state: z.enum(['restoring', 'ready', 'deleting']),
  subjects: z.array(z.object({ name, source: name, versions })).max(10_000),
});

export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;
export type LedgerTopic = z.infer<typeof topicSchema>;
export type LedgerSubject = z.infer<typeof subjectSchema>;
export type LedgerGroup = z.infer<typeof groupSchema>;
export type LaneIntent = z.infer<typeof intentSchema>;
export type LaneState = LedgerEntry['state'];

/** Format 1 as format 2: no store location or lane of origin, no registered IDs, no failure, no live intent. */
export function upgradeFormatOne(old: z.infer<typeof formatOneSchema>): LedgerEntry {
  const { seededFrom, format: _format, ...rest } = old;
  return {
    ...rest,
    format: LEDGER_FORMAT,
    origin: { cluster: seededFrom.cluster, backupId: seededFrom.backupId, location: null, lane: null, policy: null },
    failure: null,
    intent: null,
    subjects: old.subjects.map((s) => ({ ...s, ids: [] })),
    leases: [],
  };
}

/** Whether this kbak may rewrite the entry: not when a newer kbak wrote it (it would drop what it does not understand). */
export function isWritable(entry: LedgerEntry): boolean {
  return entry.format === LEDGER_FORMAT;
}

/** Refuses to act on a lane whose record a newer kbak wrote (exit 6: a rewrite could lose what that kbak recorded). */
export function assertWritable(entry: LedgerEntry): void {
  if (!isWritable(entry)) {
    throw new SafetyError(
      `lane ${entry.lane} was recorded in ledger format ${entry.format} by kbak ${entry.kbakVersion}; this kbak writes format ${LEDGER_FORMAT} and would lose what it does not understand`,
      `use kbak ${entry.kbakVersion} or later for this lane`,
    );
  }
}

/** The depth of nested arrays and objects in a JSON value, without recursion; stops counting at `limit` + 1. */
function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

export function encodeLedgerEntry(entry: LedgerEntry): { key: Buffer; value: Buffer } {
  assertWritable(entry);
  const value = Buffer.from(JSON.stringify(ledgerEntrySchema.parse(entry)), 'utf8');
  if (value.length > MAX_LEDGER_RECORD_BYTES) {
    throw new LedgerError(
      `the ledger record of lane ${entry.lane} would be ${value.length} bytes, above the ${MAX_LEDGER_RECORD_BYTES} byte limit`,
      'restore fewer topics into one lane',
    );
  }
  return { key: Buffer.from(entry.lane, 'utf8'), value };
}

/** Validates one ledger record read from the cluster (format 1 is upgraded); throws LedgerError naming the key. */
export function decodeLedgerEntry(key: Buffer | null, value: Buffer): LedgerEntry {
  const shown = key === null ? 'a ledger record without a key' : `ledger record ${JSON.stringify(key.toString('utf8').slice(0, 60))}`;
  if (key === null) throw new LedgerError(`${shown} is invalid`);
  if (value.length > MAX_LEDGER_RECORD_BYTES) throw new LedgerError(`${shown} is ${value.length} bytes, above the ${MAX_LEDGER_RECORD_BYTES} byte limit`);
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    throw new LedgerError(`${shown} is not JSON`);
  }
  if (jsonDepth(json, MAX_UNKNOWN_DEPTH) > MAX_UNKNOWN_DEPTH) throw new LedgerError(`${shown} is nested more than ${MAX_UNKNOWN_DEPTH} levels deep`);
  const format = (json as { format?: unknown } | null)?.format;
  const parsed = format === 1 ? formatOneSchema.safeParse(json) : ledgerEntrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const newer = typeof format === 'number' && format > LEDGER_FORMAT ? ` (format ${format}, written by a newer kbak: upgrade kbak)` : '';
    throw new LedgerError(`${shown} is invalid${newer}: ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  const entry = parsed.data.format === 1 ? upgradeFormatOne(parsed.data as z.infer<typeof formatOneSchema>) : (parsed.data as LedgerEntry);
  if (entry.lane !== key.toString('utf8')) throw new LedgerError(`${shown} describes lane ${JSON.stringify(entry.lane)} instead`);
  try {
    validateLaneName(entry.lane);
  } catch {
    throw new LedgerError(`${shown} has an invalid lane name`);
  }
  return entry;
}

// ---- claims: how one restore per lane is decided (LEDGER.md "One restore per lane") ----

/** The key of a run's claim on a lane: never a lane name (lane names have no `/`). */
export function claimKey(lane: string, intentId: string): string {
  return `${lane}/claim/${intentId}`;
}
const CLAIM_KEY = /^([a-z0-9-]{1,200})\/claim\/([0-9a-f]{8,64})$/;

const claimSchema = z.looseObject({ format: z.number().int().min(2), lane: z.string().min(1).max(MAX_LANE_LENGTH), claim: intentSchema });

export function encodeClaim(lane: string, intent: LaneIntent): { key: Buffer; value: Buffer } {
  return {
    key: Buffer.from(claimKey(lane, intent.id), 'utf8'),
    value: Buffer.from(JSON.stringify(claimSchema.parse({ format: LEDGER_FORMAT, lane, claim: intent })), 'utf8'),
  };
}

/** A live-or-not claim as read from the ledger; `seq` orders claims by their offset (lower: earlier). */
export interface LaneClaim {
  lane: string;
  intent: LaneIntent;
  seq: number;
}

// ---- shard done records: a sharded restore's completion, one key per shard (LEDGER.md "Sharded restores") ----

/** The key of shard `shard`'s done record of plan `plan`: never a lane name (lane names have no `/`), never a claim key. */
export function shardDoneKey(lane: string, plan: string, shard: number): string {
  return `${lane}/shard/${plan}/${shard}`;
}
const SHARD_DONE_KEY = /^([a-z0-9-]{1,200})\/shard\/([0-9a-f]{16})\/(0|[1-9][0-9]{0,3})$/;
/** Decimal offsets as text (int64 does not fit a JSON number). */
const laneEnd = z.string().regex(/^(0|[1-9][0-9]{0,18})$/);

const shardDoneSchema = z.looseObject({
  format: z.number().int().min(2),
  lane: z.string().min(1).max(MAX_LANE_LENGTH),
  plan: z.string().regex(/^[0-9a-f]{16}$/),
  shard: z.number().int().nonnegative().max(1023),
  shards: z.number().int().positive().max(MAX_SHARDS),
  doneAt: isoTime,
  /** Where the shard's writes left each of its lane partitions: `<lane topic>` → `<partition>` → end offset. The finaliser checks them. */
  ends: z.record(name, z.record(z.string().regex(/^(0|[1-9][0-9]{0,9})$/), laneEnd)),
});
export type ShardDone = z.infer<typeof shardDoneSchema>;

export function encodeShardDone(done: ShardDone): { key: Buffer; value: Buffer } {
  const value = Buffer.from(JSON.stringify(shardDoneSchema.parse(done)), 'utf8');
  if (value.length > MAX_LEDGER_RECORD_BYTES)
    throw new LedgerError(
      `the done record of shard ${done.shard} of lane ${done.lane} would be ${value.length} bytes`,
      'use more shards: fewer partitions each',
    );
  return { key: Buffer.from(shardDoneKey(done.lane, done.plan, done.shard), 'utf8'), value };
}

export interface LedgerRead {
  entries: Map<string, LedgerEntry>;
  /** Claims not withdrawn, by lane, earliest first. */
  claims: Map<string, LaneClaim[]>;
  /** Done records of sharded restores not tombstoned: lane → plan → by shard index. */
  shardsDone: Map<string, Map<string, Map<number, ShardDone>>>;
  /** Records that could not be used (never trusted, never acted on): key and one-line reason. */
  invalid: Array<{ key: string; reason: string }>;
}

/**
 * Pure: the ledger's state from its records in offset order (compaction may not have run):
 * the last record of a key wins, a tombstone removes the lane (or withdraws a claim).
 */
export function foldLedger(records: Iterable<{ key: Buffer | null; value: Buffer | null }>): LedgerRead {
  const entries = new Map<string, LedgerEntry>();
  const claims = new Map<string, LaneClaim>();
  const invalidByKey = new Map<string, string>();
  const done = new Map<string, ShardDone>();
  let seq = 0;
  for (const r of records) {
    seq++;
    const k = r.key?.toString('utf8') ?? '';
    const shard = SHARD_DONE_KEY.exec(k);
    if (shard) {
      done.delete(k);
      if (r.value === null || r.value.length > MAX_LEDGER_RECORD_BYTES) continue;
      try {
        const d = shardDoneSchema.parse(JSON.parse(r.value.toString('utf8')));
        // Key and content must agree (as for claims): anything else was not written by kbak and is ignored.
        if (d.lane === shard[1] && d.plan === shard[2] && d.shard === Number(shard[3]) && d.shard < d.shards) done.set(k, d);
      } catch {
        // Not a done record kbak wrote: ignored, as a forged claim is.
      }
      continue;
    }
    const claim = CLAIM_KEY.exec(k);
    if (claim) {
      if (r.value === null || r.value.length > 64 * 1024) {
        claims.delete(k);
        continue;
      }
      try {
        const c = claimSchema.parse(JSON.parse(r.value.toString('utf8')));
        // A claim whose key and content disagree was not written by kbak: ignored.
        if (c.lane === claim[1] && c.claim.id === claim[2] && !claims.has(k)) claims.set(k, { lane: c.lane, intent: c.claim, seq });
      } catch {
        claims.delete(k);
      }
      continue;
    }
    if (r.value === null) {
      entries.delete(k);
      invalidByKey.delete(k);
      continue;
    }
    try {
      entries.set(k, decodeLedgerEntry(r.key, r.value));
      invalidByKey.delete(k);
    } catch (err) {
      entries.delete(k);
      invalidByKey.set(k, (err as Error).message);
    }
  }
  const byLane = new Map<string, LaneClaim[]>();
  for (const c of [...claims.values()].sort((a, b) => a.seq - b.seq)) byLane.set(c.lane, [...(byLane.get(c.lane) ?? []), c]);
  const shardsDone = new Map<string, Map<string, Map<number, ShardDone>>>();
  for (const d of done.values()) {
    const plans = shardsDone.get(d.lane) ?? new Map<string, Map<number, ShardDone>>();
    shardsDone.set(d.lane, plans);
    const shards = plans.get(d.plan) ?? new Map<number, ShardDone>();
    plans.set(d.plan, shards);
    shards.set(d.shard, d);
  }
  return { entries, claims: byLane, shardsDone, invalid: [...invalidByKey].map(([key, reason]) => ({ key, reason })) };
}

/** The time left before a lane expires (negative: expired), null without a TTL. */
export function ttlLeftMs(entry: LedgerEntry, now: Date): number | null {
  return entry.expiresAt === null ? null : Date.parse(entry.expiresAt) - now.getTime();
}
