/**
 * `kbak lane reset`: what a lane is reset to. The seed is the backup its ledger entry says
 * it was restored from; the topics are the lane's own, by the base names its templates (from
 * the command line) give them, and each must be in the seed. Pure: the caller opens the
 * store and the backup, and replaces the topics with restore's replace mode.
 */
import { ConflictError, NotFoundError, SafetyError } from '../errors';
import { LaneBaseNames } from '../remap/base-names';
import type { LedgerEntry } from './ledger';
import { assertSameTemplates, type LaneScope } from './ownership';

export interface LaneSeed {
  cluster: string;
  backupId: string;
}

/** The backup the lane came from, as its ledger entry records it. */
export function laneSeed(entry: LedgerEntry): LaneSeed {
  return { cluster: entry.origin.cluster, backupId: entry.origin.backupId };
}

/** The one-line error for a seed that the store no longer has (pruned, or another store). */
export function seedNotFound(lane: string, seed: LaneSeed, location: string): NotFoundError {
  return new NotFoundError(
    `lane ${lane} was seeded from backup ${seed.cluster}/${seed.backupId}, which is not in ${location} (pruned?)`,
    'pass the store that holds it with --source, or restore the lane from another backup with kbak restore --replace',
    { options: ['source'] },
  );
}

/** The seed's topics to restore: one per lane topic, by its base name; each must be in the seed. */
export function resetTopics(entry: LedgerEntry, scope: LaneScope, seed: LaneSeed, seedTopics: readonly string[]): string[] {
  assertSameTemplates(entry, scope);
  if (entry.state === 'deleting')
    throw new ConflictError(`lane ${entry.lane} is being deleted`, `finish the delete with kbak lane delete ${entry.lane} --yes, then restore it anew`);
  const base = new LaneBaseNames(entry.lane, scope.templates);
  const have = new Set(seedTopics);
  const out: string[] = [];
  for (const t of entry.topics) {
    const b = base.topic(t.name);
    if (b === null)
      throw new SafetyError(
        `the ledger of lane ${entry.lane} lists topic ${JSON.stringify(t.name)}, which its templates cannot have produced`,
        'the ledger record may have been tampered with; inspect it with kbak lane describe',
      );
    if (!have.has(b))
      throw new NotFoundError(
        `lane topic ${t.name} comes from topic ${b}, which seed backup ${seed.cluster}/${seed.backupId} does not hold`,
        'restore the lane from the backup that holds it with kbak restore --replace',
      );
    out.push(b);
  }
  return out;
}
