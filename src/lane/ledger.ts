/**
 * The lane ledger: one record per lane on a compacted topic of the target cluster
 * (default `__kbak_lanes`), key = lane name, value = this JSON. It lists every object kbak
 * created for the lane, so `lane list/describe/delete/gc` and later restores know what
 * the lane owns. The ledger is cluster data that anyone with write access can forge, so
 * decoding validates everything and bounds the size, and ownership (ownership.ts) never
 * rests on the ledger alone.
 *
 * Pure: record bytes <-> LedgerEntry.
 */
import { z } from 'zod';
import { KbakError } from '../errors';
import { MAX_LANE_LENGTH, validateLaneName } from '../remap/lane';

export const DEFAULT_LEDGER_TOPIC = '__kbak_lanes';
export const LEDGER_FORMAT = 1;
/** Below Kafka's default max.message.bytes (1 MiB) with room for the batch overhead. */
export const MAX_LEDGER_RECORD_BYTES = 900 * 1024;

/** Ledger content that cannot be used: named with the lane (key) it was found under. */
export class LedgerError extends KbakError {
  readonly code = 'LEDGER';
}

const name = z.string().min(1).max(255);
const isoTime = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a timestamp');
/** Kafka's Uuid.toString(): 16 bytes, base64url without padding. */
const topicId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a Kafka topic ID');

const topicSchema = z.object({
  name,
  source: name,
  /** The Kafka topic ID once created; with `pending` the ID of an earlier incarnation or null. */
  id: topicId.nullable(),
  /** Written before kbak creates (or re-creates) the topic: the create may not have happened, or its ID not been recorded yet. */
  pending: z.boolean(),
});
const subjectSchema = z.object({ name, source: name, versions: z.array(z.number().int().positive()).max(10_000) });
const groupSchema = z.object({ name, source: name });

export const ledgerEntrySchema = z.object({
  format: z.literal(LEDGER_FORMAT),
  lane: z.string().min(1).max(MAX_LANE_LENGTH),
  seededFrom: z.object({ cluster: z.string().min(1).max(100), backupId: z.string().regex(/^[0-9]{8}T[0-9]{9}Z$/) }),
  createdAt: isoTime,
  updatedAt: isoTime,
  kbakVersion: z.string().min(1).max(64),
  ttlMs: z.number().int().positive().nullable(),
  expiresAt: isoTime.nullable(),
  state: z.enum(['restoring', 'ready', 'deleting']),
  templates: z.object({ topic: z.string().min(1).max(255), subject: z.string().min(1).max(255), group: z.string().min(1).max(255) }),
  topics: z.array(topicSchema).max(10_000),
  subjects: z.array(subjectSchema).max(10_000),
  groups: z.array(groupSchema).max(10_000),
});

export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;
export type LedgerTopic = z.infer<typeof topicSchema>;
export type LedgerSubject = z.infer<typeof subjectSchema>;
export type LedgerGroup = z.infer<typeof groupSchema>;

export function encodeLedgerEntry(entry: LedgerEntry): { key: Buffer; value: Buffer } {
  const value = Buffer.from(JSON.stringify(ledgerEntrySchema.parse(entry)), 'utf8');
  if (value.length > MAX_LEDGER_RECORD_BYTES) {
    throw new LedgerError(
      `the ledger record of lane ${entry.lane} would be ${value.length} bytes, above the ${MAX_LEDGER_RECORD_BYTES} byte limit`,
      'restore fewer topics into one lane',
    );
  }
  return { key: Buffer.from(entry.lane, 'utf8'), value };
}

/** Validates one ledger record read from the cluster; throws LedgerError naming the key. */
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
  const parsed = ledgerEntrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LedgerError(`${shown} is invalid: ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  const entry = parsed.data;
  if (entry.lane !== key.toString('utf8')) throw new LedgerError(`${shown} describes lane ${JSON.stringify(entry.lane)} instead`);
  try {
    validateLaneName(entry.lane);
  } catch {
    throw new LedgerError(`${shown} has an invalid lane name`);
  }
  return entry;
}

export interface LedgerRead {
  entries: Map<string, LedgerEntry>;
  /** Records that could not be used (never trusted, never acted on): key and one-line reason. */
  invalid: Array<{ key: string; reason: string }>;
}

/**
 * Pure: the ledger's state from its records in offset order (compaction may not have run):
 * the last record of a key wins, a tombstone removes the lane.
 */
export function foldLedger(records: Iterable<{ key: Buffer | null; value: Buffer | null }>): LedgerRead {
  const entries = new Map<string, LedgerEntry>();
  const invalidByKey = new Map<string, string>();
  for (const r of records) {
    const k = r.key?.toString('utf8') ?? '';
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
  return { entries, invalid: [...invalidByKey].map(([key, reason]) => ({ key, reason })) };
}

/** The time left before a lane expires (negative: expired), null without a TTL. */
export function ttlLeftMs(entry: LedgerEntry, now: Date): number | null {
  return entry.expiresAt === null ? null : Date.parse(entry.expiresAt) - now.getTime();
}
