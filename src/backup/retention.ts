/**
 * Which backups a retention policy keeps, with restic's semantics (pure): --keep-last N
 * newest; --keep-within D all backups started within D before the NEWEST backup (not
 * before now, so a source that stopped being backed up does not lose everything);
 * --keep-daily/--keep-weekly N the newest backup of each of the N newest UTC days / ISO
 * weeks that have one. A backup kept by any rule is kept.
 *
 * A backup's time is its backup ID's (backupIdTime), never a manifest field: the manifest
 * is untrusted content, the ID is the key it was found under. Two guards keep one planted
 * backup from pushing genuine ones out: a backup whose ID lies after now + MAX_CLOCK_SKEW_MS
 * ("from the future") and one whose ID is no calendar time are always kept and take no
 * part in the policy (no --keep-last slot, no day or week), so the --keep-within anchor,
 * the newest counted backup, is never later than now + MAX_CLOCK_SKEW_MS.
 */
import { UsageError } from '../errors';

export interface RetentionPolicy {
  keepLast?: number;
  keepWithinMs?: number;
  keepDaily?: number;
  keepWeekly?: number;
}

export interface Candidate {
  id: string;
  /** The backup ID's time, ms since the epoch (backupIdTime); null when it is no calendar time. */
  time: number | null;
}

/** How far a writer's clock may run ahead of the pruning host's before its backups count as "from the future". */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Reasons for the backups no rule decides on. */
export const KEPT_FUTURE = 'future';
export const KEPT_UNDATED = 'undated';

export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return p.keepLast === undefined && p.keepWithinMs === undefined && p.keepDaily === undefined && p.keepWeekly === undefined;
}

const day = (t: number): string => new Date(t).toISOString().slice(0, 10);

/** ISO 8601 week, e.g. 2026-W48 (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(t: number): string {
  const d = new Date(t);
  const date = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Backup ID → the reasons it is kept; backups absent from the map are to be removed.
 * `now` (ms since the epoch) is the pruning host's clock.
 */
export function applyRetention(backups: Candidate[], policy: RetentionPolicy, now: number): Map<string, string[]> {
  if (isEmptyPolicy(policy))
    throw new UsageError('prune needs a retention policy', 'pass at least one of --keep-last, --keep-within, --keep-daily, --keep-weekly');
  const keep = new Map<string, string[]>();
  const add = (id: string, why: string): void => {
    keep.set(id, [...(keep.get(id) ?? []), why]);
  };
  const latest = now + MAX_CLOCK_SKEW_MS;
  const counted: Array<{ id: string; time: number }> = [];
  for (const b of backups) {
    if (b.time === null || !Number.isFinite(b.time)) add(b.id, KEPT_UNDATED);
    else if (b.time > latest) add(b.id, KEPT_FUTURE);
    else counted.push({ id: b.id, time: b.time });
  }
  const newestFirst = counted.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
  if (policy.keepLast !== undefined) newestFirst.slice(0, policy.keepLast).forEach((b) => add(b.id, 'last'));
  if (policy.keepWithinMs !== undefined && newestFirst.length > 0) {
    // Never later than now + skew, as backups after that are not counted.
    const from = newestFirst[0]!.time - policy.keepWithinMs;
    for (const b of newestFirst) if (b.time >= from) add(b.id, 'within');
  }
  const buckets = (n: number | undefined, bucket: (t: number) => string, why: string): void => {
    if (n === undefined) return;
    const seen = new Set<string>();
    for (const b of newestFirst) {
      const k = bucket(b.time);
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      add(b.id, `${why} ${k}`);
    }
  };
  buckets(policy.keepDaily, day, 'daily');
  buckets(policy.keepWeekly, isoWeek, 'weekly');
  return keep;
}

/** 90m, 36h, 14d, 2w → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)(m|h|d|w)$/.exec(text.trim());
  if (!m || Number(m[1]) < 1) throw new UsageError(`${flag} "${text}" is not a duration`, 'use a number with m, h, d or w, e.g. 14d');
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}
