/**
 * The recovery ledger: what each `kbak recover` created on the target, so that `--resume`
 * continues kbak's own interrupted recovery and nobody else's. One record per recovery on a
 * compacted topic of the target (default `__kbak_recoveries`; LEDGER.md "Recoveries"), key =
 * the recovery's ID. It is a topic of its own, not the lane ledger: lane commands (`lane gc`,
 * `lane delete`) must never see a recovered production topic as a lane's.
 *
 * The ID is derived from the source cluster and the target topic names, so running the same
 * recovery again finds its record; the record names the backup (and point in time) it
 * recovered from, and a resume must ask for the same. Like the lane ledger, it is cluster data
 * anyone with write access can forge: decoding validates and bounds it, and a topic is only
 * resumed when its Kafka topic ID is the one recorded.
 *
 * Pure: record bytes <-> RecoveryEntry.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { KbakError } from '../errors';
import { backupId, isoTime, MAX_LEDGER_RECORD_BYTES, MAX_REASON_LENGTH, name, topicId } from '../lane/ledger';

export const DEFAULT_RECOVERY_LEDGER_TOPIC = '__kbak_recoveries';
export const RECOVERY_LEDGER_FORMAT = 1;

export class RecoveryLedgerError extends KbakError {
  readonly code = 'LEDGER';
}

export const recoveryEntrySchema = z.looseObject({
  format: z.literal(RECOVERY_LEDGER_FORMAT),
  id: z.string().regex(/^[0-9a-f]{16}$/),
  state: z.enum(['recovering', 'done', 'failed']),
  reason: z.string().max(MAX_REASON_LENGTH).nullable(),
  origin: z.looseObject({
    cluster: z.string().min(1).max(100),
    clusterId: z.string().max(100),
    backupId,
    at: isoTime.nullable(),
  }),
  topics: z
    .array(
      z.looseObject({
        name,
        source: name,
        /** Null until kbak created (or adopted) the topic and read its ID back. */
        id: topicId.nullable(),
      }),
    )
    .max(10_000),
  subjects: z.array(z.looseObject({ name, versions: z.array(z.number().int().positive()).max(10_000) })).max(10_000),
  /** Groups whose offsets this recovery committed. */
  groups: z.array(name).max(10_000),
  startedAt: isoTime,
  updatedAt: isoTime,
  kbakVersion: z.string().max(100),
});

export type RecoveryEntry = z.infer<typeof recoveryEntrySchema>;

/** The recovery's ID: the same source cluster and target topics give the same ID. */
export function recoveryId(cluster: string, targetTopics: readonly string[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([cluster, [...targetTopics].sort()]));
  return h.digest('hex').slice(0, 16);
}

export function encodeRecoveryEntry(entry: RecoveryEntry): { key: Buffer; value: Buffer } {
  const value = Buffer.from(JSON.stringify(recoveryEntrySchema.parse(entry)), 'utf8');
  if (value.length > MAX_LEDGER_RECORD_BYTES) {
    throw new RecoveryLedgerError(
      `the ledger record of recovery ${entry.id} would be ${value.length} bytes, above the ${MAX_LEDGER_RECORD_BYTES} byte limit`,
      'recover fewer topics at once (--topic, --topics-regex)',
    );
  }
  return { key: Buffer.from(entry.id, 'utf8'), value };
}

/** The latest valid record of each recovery; tombstones remove one, invalid records are listed apart. */
export function foldRecoveries(records: Iterable<{ key: Buffer | null; value: Buffer | null }>): {
  entries: Map<string, RecoveryEntry>;
  invalid: Array<{ key: string; reason: string }>;
} {
  const entries = new Map<string, RecoveryEntry>();
  const invalid = new Map<string, string>();
  for (const r of records) {
    const key = r.key?.toString('utf8') ?? '';
    if (r.value === null) {
      entries.delete(key);
      invalid.delete(key);
      continue;
    }
    const shown = `recovery ledger record ${JSON.stringify(key.slice(0, 60))}`;
    try {
      if (r.value.length > MAX_LEDGER_RECORD_BYTES) throw new Error(`is above the ${MAX_LEDGER_RECORD_BYTES} byte limit`);
      const parsed = recoveryEntrySchema.safeParse(JSON.parse(r.value.toString('utf8')));
      if (!parsed.success) throw new Error(`is invalid: ${parsed.error.issues[0]!.path.join('.') || 'value'}: ${parsed.error.issues[0]!.message}`);
      if (parsed.data.id !== key) throw new Error(`describes recovery ${parsed.data.id} instead`);
      entries.set(key, parsed.data);
      invalid.delete(key);
    } catch (err) {
      entries.delete(key);
      invalid.set(key, `${shown} ${err instanceof SyntaxError ? 'is not JSON' : (err as Error).message}`);
    }
  }
  return { entries, invalid: [...invalid].map(([key, reason]) => ({ key, reason })) };
}

/** The record with a new state (and reason), stamped now. */
export function withRecoveryState(entry: RecoveryEntry, state: RecoveryEntry['state'], now: Date, reason: string | null = null): RecoveryEntry {
  const oneLine = reason === null ? null : reason.replace(/\s+/g, ' ').slice(0, MAX_REASON_LENGTH);
  return { ...entry, state, reason: oneLine, updatedAt: now.toISOString() };
}
