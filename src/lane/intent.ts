/**
 * How a restore evolves a lane's ledger entry. The entry is written BEFORE each object is
 * created (topics as `pending` intents, subjects and groups by name), then completed with
 * what was created (topic IDs, registered versions), so a restore killed at any point
 * leaves nothing the lane does not own. Pure.
 */
import { escapeControl } from '../output/safe-text';
import type { LaneTemplates } from './ownership';
import type { LaneIntent, LedgerEntry, LedgerSubject, LedgerTopic } from './ledger';
import { LEDGER_FORMAT, MAX_REASON_LENGTH } from './ledger';

export interface RestoreIntentInput {
  lane: string;
  templates: LaneTemplates;
  origin: LedgerEntry['origin'];
  /** The restore's own intent (claim.ts). */
  intent: LaneIntent;
  now: Date;
  kbakVersion: string;
  /** --ttl; null keeps the lane's earlier TTL (none for a new lane). */
  ttlMs: number | null;
  topics: Array<{ name: string; source: string; existingId: string | null; willCreate: boolean }>;
  subjects: Array<{ name: string; source: string }>;
  groups: Array<{ name: string; source: string }>;
}

/** The earlier objects with the new ones merged in by name (fields a newer kbak added to an earlier object are kept). */
function mergeBy<T extends { name: string }>(prev: readonly T[], next: readonly T[]): T[] {
  const out = new Map(prev.map((x) => [x.name, x]));
  for (const x of next) out.set(x.name, { ...out.get(x.name), ...x });
  return [...out.values()];
}

export function restoreIntent(prev: LedgerEntry | null, input: RestoreIntentInput): LedgerEntry {
  const now = input.now.toISOString();
  const topics: LedgerTopic[] = input.topics.map((t) => {
    const before = prev?.topics.find((x) => x.name === t.name);
    // A topic about to be (re)created stays owned through its old ID until the new one is recorded.
    if (t.willCreate) return { name: t.name, source: t.source, id: t.existingId ?? before?.id ?? null, pending: true };
    return { name: t.name, source: t.source, id: t.existingId ?? before?.id ?? null, pending: t.existingId === null ? (before?.pending ?? true) : false };
  });
  const subjects: LedgerSubject[] = input.subjects.map((s) => {
    const before = prev?.subjects.find((x) => x.name === s.name);
    return { name: s.name, source: s.source, versions: before?.versions ?? [], ids: before?.ids ?? [] };
  });
  const ttlMs = input.ttlMs ?? prev?.ttlMs ?? null;
  return {
    // Fields a newer kbak wrote within format 2 stay (LEDGER.md "Versioning").
    ...prev,
    format: LEDGER_FORMAT,
    lane: input.lane,
    origin: input.origin,
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    kbakVersion: input.kbakVersion,
    ttlMs,
    expiresAt: input.ttlMs !== null ? new Date(input.now.getTime() + input.ttlMs).toISOString() : (prev?.expiresAt ?? null),
    state: 'restoring',
    failure: null,
    intent: input.intent,
    templates: { ...prev?.templates, ...input.templates },
    topics: mergeBy(prev?.topics ?? [], topics),
    subjects: mergeBy(prev?.subjects ?? [], subjects),
    groups: mergeBy(prev?.groups ?? [], input.groups),
    leases: prev?.leases ?? [],
  };
}

/** Records the IDs of topics kbak has just created: from here on they are owned by ID. */
export function withTopicIds(entry: LedgerEntry, ids: ReadonlyMap<string, string>, now: Date): LedgerEntry {
  return { ...entry, updatedAt: now.toISOString(), topics: entry.topics.map((t) => (ids.has(t.name) ? { ...t, id: ids.get(t.name)!, pending: false } : t)) };
}

const union = (a: readonly number[], b: readonly number[]): number[] => [...new Set([...a, ...b])].sort((x, y) => x - y);

/** Adds the lane versions registered under each subject, with their schema IDs. */
export function withSubjectVersions(
  entry: LedgerEntry,
  registered: ReadonlyMap<string, ReadonlyArray<{ version: number; id: number }>>,
  now: Date,
): LedgerEntry {
  return {
    ...entry,
    updatedAt: now.toISOString(),
    subjects: entry.subjects.map((s) => {
      const more = registered.get(s.name);
      return more
        ? {
            ...s,
            versions: union(
              s.versions,
              more.map((r) => r.version),
            ),
            ids: union(
              s.ids,
              more.map((r) => r.id),
            ),
          }
        : s;
    }),
  };
}

/** A new state; leaving `restoring` releases the intent. */
export function withState(entry: LedgerEntry, state: LedgerEntry['state'], now: Date): LedgerEntry {
  return {
    ...entry,
    state,
    updatedAt: now.toISOString(),
    intent: state === 'restoring' ? entry.intent : null,
    failure: state === 'failed' ? entry.failure : null,
  };
}

/** The running restore's heartbeat. */
export function withHeartbeat(entry: LedgerEntry, now: Date): LedgerEntry {
  return entry.intent ? { ...entry, intent: { ...entry.intent, heartbeatAt: now.toISOString() } } : entry;
}

/** One line, control characters escaped, at most MAX_REASON_LENGTH characters. */
export function failureReason(message: string): string {
  const line = escapeControl(message);
  return line.length <= MAX_REASON_LENGTH ? line : `${line.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

/** The restore failed after its intent: the lane shows `failed` with the reason, and its intent is released. */
export function withFailure(entry: LedgerEntry, message: string, now: Date): LedgerEntry {
  return { ...entry, state: 'failed', failure: { at: now.toISOString(), reason: failureReason(message) }, intent: null, updatedAt: now.toISOString() };
}

/** What is left of a lane after a (partial) delete: only the objects that could not be removed. */
export function withRemaining(
  entry: LedgerEntry,
  left: { topics: ReadonlySet<string>; subjects: ReadonlySet<string>; groups: ReadonlySet<string> },
  now: Date,
): LedgerEntry {
  return {
    ...entry,
    state: 'deleting',
    updatedAt: now.toISOString(),
    topics: entry.topics.filter((t) => left.topics.has(t.name)),
    subjects: entry.subjects.filter((s) => left.subjects.has(s.name)),
    groups: entry.groups.filter((g) => left.groups.has(g.name)),
  };
}
