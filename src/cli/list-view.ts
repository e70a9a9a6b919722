/**
 * What `kbak list` prints for people: one aligned row per complete backup (oldest first),
 * its age in words, sizes in binary units; `-o wide` adds the format version and names
 * every topic. Pure: the clock is read by the caller.
 */
import type { BackupRow } from '../backup/summary';
import { formatBytes } from '../output/human-size';
import { ago } from '../output/human-time';
import { escapeControl } from '../output/safe-text';
import { table } from '../output/table';
import { plural } from '../output/words';

export interface UnreadableBackup {
  cluster: string;
  id: string;
  error: string;
}

/** "2026-12-06T05:45:07.020Z" as "2026-12-06 05:45:07Z": seconds are enough to tell backups apart at a glance. */
export const shortTime = (iso: string): string => iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');

/** `kbak list` (`wide`: -o wide), or its empty-state line. */
export function backupListLines(location: string, rows: readonly BackupRow[], unreadable: readonly UnreadableBackup[], now: Date, wide = false): string[] {
  if (rows.length === 0 && unreadable.length === 0) return [`no complete backup in ${location}`];
  const header = ['ID', 'TIME', 'AGE', 'CLUSTER', 'KIND', ...(wide ? ['FORMAT'] : []), 'TOPICS', 'RECORDS', 'STORED', 'SHARED'];
  const lines = table(
    header,
    rows.map((r) => [
      r.id,
      shortTime(r.time),
      ago(now.getTime() - Date.parse(r.time)),
      r.cluster,
      r.kind,
      ...(wide ? [`v${r.formatVersion}`] : []),
      wide || r.topics.length <= 3 ? r.topics.join(',') : plural(r.topics.length, 'topic'),
      String(r.records),
      formatBytes(r.storedBytes),
      formatBytes(r.sharedBytes),
    ]),
  );
  // Folder names come from the store: one backup per line whatever they contain, escaped as table cells are.
  return [...lines, ...unreadable.map((u) => escapeControl(`${u.id}  ${u.cluster}  UNREADABLE: ${u.error}`))];
}
