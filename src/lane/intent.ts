/**
 * How a restore evolves a lane's ledger entry. The entry is written BEFORE each object is
 * created (topics as `pending` intents, subjects and groups by name), then completed with
 * what was created (topic IDs, registered versions), so a restore killed at any point
 * leaves nothing the lane does not own. Pure.
 */
import type { LaneTemplates } from './ownership';
import type { LedgerEntry, LedgerTopic } from './ledger';
import { LEDGER_FORMAT } from './ledger';

export interface RestoreIntentInput {
  lane: string;
  templates: LaneTemplates;
  seededFrom: { cluster: string; backupId: string };
  now: Date;
  kbakVersion: string;
  /** --ttl; null keeps the lane's earlier TTL (none for a new lane). */
  ttlMs: number | null;
  topics: Array<{ name: string; source: string; existingId: string | null; willCreate: boolean }>;
  subjects: Array<{ name: string; source: string }>;
  groups: Array<{ name: string; source: string }>;
}

function mergeBy<T extends { name: string }>(prev: readonly T[], next: readonly T[]): T[] {
  const out = new Map(prev.map((x) => [x.name, x]));
  for (const x of next) out.set(x.name, x);
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
  const subjects = input.subjects.map((s) => ({ name: s.name, source: s.source, versions: prev?.subjects.find((x) => x.name === s.name)?.versions ?? [] }));
  const ttlMs = input.ttlMs ?? prev?.ttlMs ?? null;
  return {
    format: LEDGER_FORMAT,
    lane: input.lane,
    seededFrom: input.seededFrom,
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    kbakVersion: input.kbakVersion,
    ttlMs,
    expiresAt: input.ttlMs !== null ? new Date(input.now.getTime() + input.ttlMs).toISOString() : (prev?.expiresAt ?? null),
    state: 'restoring',
    templates: input.templates,
    topics: mergeBy(prev?.topics ?? [], topics),
    subjects: mergeBy(prev?.subjects ?? [], subjects),
    groups: mergeBy(prev?.groups ?? [], input.groups),
  };
}

/** Records the IDs of topics kbak has just created: from here on they are owned by ID. */
export function withTopicIds(entry: LedgerEntry, ids: ReadonlyMap<string, string>, now: Date): LedgerEntry {
  return { ...entry, updatedAt: now.toISOString(), topics: entry.topics.map((t) => (ids.has(t.name) ? { ...t, id: ids.get(t.name)!, pending: false } : t)) };
}

/** Adds the lane versions registered under each subject. */
export function withSubjectVersions(entry: LedgerEntry, versions: ReadonlyMap<string, readonly number[]>, now: Date): LedgerEntry {
  return {
    ...entry,
    updatedAt: now.toISOString(),
    subjects: entry.subjects.map((s) => {
      const more = versions.get(s.name);
      return more ? { ...s, versions: [...new Set([...s.versions, ...more])].sort((a, b) => a - b) } : s;
    }),
  };
}

export function withState(entry: LedgerEntry, state: LedgerEntry['state'], now: Date): LedgerEntry {
  return { ...entry, state, updatedAt: now.toISOString() };
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
