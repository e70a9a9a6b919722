/**
 * What `kbak prune` prints per cluster in table form: one summary line, then a table of
 * what stays and what goes (backups and the leftovers of interrupted dumps), then totals.
 * A dry run says "would" on every line that deletes. Pure.
 */
import type { PruneResult } from '../backup/prune';
import { formatBytes } from '../output/human-size';
import { table } from '../output/table';
import { plural } from '../output/words';

const HEADER = ['ACTION', 'WHAT', 'ID', 'OBJECTS', 'SIZE', 'WHY'];

export function pruneTable(r: PruneResult): string[] {
  const remove = r.dryRun ? 'would remove' : 'removed';
  const goes = r.leftovers.filter((g) => g.action === 'remove');
  const stays = r.leftovers.filter((g) => g.action === 'keep');
  let goesText = `${remove} ${plural(r.removed.length, 'backup')}`;
  if (goes.length > 0) goesText += ` and the leftovers of ${plural(goes.length, 'interrupted dump')}`;
  const staysText = stays.length > 0 ? `; the leftovers of ${plural(stays.length, 'dump')} stay (see WHY)` : '';
  const first = `${r.cluster}: keeping ${plural(r.kept.length, 'backup')}, ${goesText}${staysText}${r.dryRun ? ' (dry run, nothing deleted)' : ''}`;
  const rows = [
    ...r.kept.map((k) => ['keep', 'backup', k.id, '-', '-', k.reasons.join(', ')]),
    ...r.removedBackups.map((b) => [remove, 'backup', b.id, String(b.objects), formatBytes(b.bytes), 'outside the policy']),
    ...r.leftovers.map((g) => [g.action === 'keep' ? 'keep' : remove, 'leftovers', g.dump ?? '-', String(g.objects), formatBytes(g.bytes), g.reason]),
  ];
  return [
    first,
    ...(rows.length > 0 ? table(HEADER, rows).map((l) => `  ${l}`) : ['  no backups and no leftovers']),
    `  ${remove} ${plural(r.deletedObjects, 'object')}, ${formatBytes(r.deletedBytes)}; ${plural(r.keptSegments, 'segment')} ${r.keptSegments === 1 ? 'stays' : 'stay'} referenced`,
    ...(r.skippedNames > 0
      ? [
          `  skipped ${r.skippedNames} ${r.skippedNames === 1 ? 'name that is not a valid key' : 'names that are not valid keys'} (left in place, see the warnings)`,
        ]
      : []),
  ];
}
