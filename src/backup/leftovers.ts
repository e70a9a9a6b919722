/**
 * Leftovers: objects in the backup layout of a cluster folder that no manifest names, such
 * as the segments of a dump that was interrupted before it wrote its manifest. Prune finds
 * them by listing the cluster folder and decides here, per dump, whether they may go. Pure.
 *
 * Which dump wrote a leftover comes from its name: a pool segment's writer tag
 * (`<firstOffset>-<backupId>-<8 hex>.kseg`), a v1 object's backup folder. A name that says
 * nothing (or names no calendar instant) has an unknown writer.
 *
 * A sharded dump's plan folder (`plans/<backupId>/`: its plan and partial manifests) counts as
 * that dump's leftovers too, so it goes with them once the backup is complete or the plan is
 * abandoned, and stays while the plan is live (prune.ts decides which plans are).
 *
 * The evidence that a dump is over, so that its leftovers may go (RELIABILITY.md P21):
 * - no live lock names it. Prune deletes only under its exclusive lock, which it gets only
 *   when no other lock of the cluster is live (unexpired, and not of a process of this host
 *   that is gone); a dump takes its shared lock before it writes anything and refreshes it
 *   while it runs. The lease (the lock's expiry) is the age evidence: a dump whose lock
 *   expired cannot commit (it checks its lock first), so its segments are orphans either way.
 *   The same rule is applied to the locks listed at the time of the decision, so a dry run
 *   (which takes no lock) reports a running dump's leftovers as kept;
 * - a live lock whose dump cannot be told (another prune, an unreadable lock, a holder that
 *   names no backup ID) could be any dump's: then no leftover goes;
 * - its dump started no later than the prune's clock says "now": a later one started after
 *   the prune took its lock and should have met it; whatever it wrote stays (a host with a
 *   clock ahead only delays the clean-up to a later prune).
 * No extra age margin on the segments themselves: it would keep a crashed dump's leftovers
 * for nothing (the locks already say whether it runs) and would protect only a writer that
 * takes no lock, which kbak never is.
 */
import { backupIdTime, isBackupId, PLANS_DIR, SEGMENTS_DIR } from './layout';

/** Pool segment names as kbak writes them: 20-digit offset, writer tag (backup ID, 8 hex digits). */
const POOL_SEGMENT = /^\d{20}-(\d{8}T\d{9}Z)-[0-9a-f]{8}\.kseg$/;

/**
 * The backup ID of the dump that wrote `key` (relative to the store root: `<cluster>/...`),
 * or null when its name does not say. Only called for valid keys.
 */
export function leftoverWriter(key: string): string | null {
  const parts = key.split('/');
  const id =
    parts[1] === SEGMENTS_DIR
      ? (POOL_SEGMENT.exec(parts[parts.length - 1]!)?.[1] ?? null)
      : parts[1] === PLANS_DIR
        ? parts.length === 4 && isBackupId(parts[2]!)
          ? parts[2]!
          : null
        : parts.length >= 3 && isBackupId(parts[1]!)
          ? parts[1]!
          : null;
  return id !== null && backupIdTime(id) !== null ? id : null;
}

const DUMP_HOLDER = /^kbak dump (\d{8}T\d{9}Z)$/;

/** The `holder` of a dump's lock, naming its backup ID, so that a prune can tell whose leftovers are still being written. */
export function dumpLockHolder(backupId: string): string {
  return `kbak dump ${backupId}`;
}

/** The backup ID a lock's holder names (a dump's lock), or null for any other holder. */
export function dumpOfHolder(holder: string): string | null {
  return DUMP_HOLDER.exec(holder)?.[1] ?? null;
}

export interface LiveLocks {
  /** Backup IDs of dumps holding a live lock. */
  dumps: ReadonlySet<string>;
  /**
   * Backup IDs of sharded dumps whose plan is live (no manifest yet, not expired): their
   * shards may be between runs, holding no lock, with segments and partials already written.
   */
  plans?: ReadonlySet<string>;
  /** A live lock whose dump cannot be told (holder, for the message), or null. */
  unknown: string | null;
}

export type LeftoverAction = 'remove' | 'keep';

export interface LeftoverVerdict {
  action: LeftoverAction;
  reason: string;
}

/** Whether the leftovers written by `writer` (null: unknown) may go, and why. */
export function leftoverVerdict(writer: string | null, live: LiveLocks, now: number): LeftoverVerdict {
  if (writer !== null && live.dumps.has(writer)) return { action: 'keep', reason: 'its dump is running (live lock)' };
  if (writer !== null && live.plans?.has(writer)) return { action: 'keep', reason: 'its sharded dump is in progress (live plan)' };
  if (live.unknown !== null) return { action: 'keep', reason: `a live lock could be its dump's (${live.unknown})` };
  if (writer !== null && backupIdTime(writer)! > now) return { action: 'keep', reason: 'its dump started after this prune (or its clock is ahead)' };
  return { action: 'remove', reason: writer === null ? 'named by no manifest, written by an unknown dump' : "no manifest, and its dump's lock is gone" };
}

export interface LeftoverGroup extends LeftoverVerdict {
  /** The backup ID of the dump that wrote them, or null when the names do not say. */
  dump: string | null;
  objects: number;
  bytes: number;
}
