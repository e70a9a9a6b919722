/**
 * A backup named on the command line: its whole ID, or a unique prefix of it as with git
 * and restic (`20261206T05` for `20261206T054507020Z`). Pure: the caller lists the backups.
 */
import { isBackupId } from './layout';
import type { BackupRef } from './catalog';

/** A prefix is at least a year's digits: shorter ones match nearly everything, and are more often a typo. */
export const MIN_PREFIX = 4;
/** An ambiguous prefix names this many of its matches (the rest are counted). */
export const MAX_LISTED = 5;

// The shape of a leading part of an ID: 20261125T175358123Z.
const ID_PREFIX = /^\d{1,8}(T\d{0,9}Z?)?$/;

export type IdMatch = { kind: 'found'; refs: BackupRef[] } | { kind: 'ambiguous'; ids: string[]; count: number } | { kind: 'none' } | { kind: 'malformed' };

/** Whether `s` could be a backup ID or a usable prefix of one. */
export function isBackupIdPrefix(s: string): boolean {
  return isBackupId(s) || (s.length >= MIN_PREFIX && ID_PREFIX.test(s));
}

/**
 * What `which` names among `all` (sorted by ID): every ref with that exact ID (several when
 * several clusters share it), else every ref whose ID starts with it when they share one ID,
 * else the distinct IDs it could mean (the first MAX_LISTED of them, oldest first).
 */
export function matchBackupId(which: string, all: readonly BackupRef[]): IdMatch {
  if (!isBackupIdPrefix(which)) return { kind: 'malformed' };
  const exact = all.filter((b) => b.backupId === which);
  if (exact.length > 0 || isBackupId(which)) return exact.length > 0 ? { kind: 'found', refs: exact } : { kind: 'none' };
  const matches = all.filter((b) => b.backupId.startsWith(which));
  const ids = [...new Set(matches.map((b) => b.backupId))];
  if (ids.length === 0) return { kind: 'none' };
  if (ids.length === 1) return { kind: 'found', refs: matches };
  return { kind: 'ambiguous', ids: ids.slice(0, MAX_LISTED), count: ids.length };
}
