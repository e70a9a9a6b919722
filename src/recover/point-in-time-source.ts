/**
 * Where a point-in-time recovery reads from: the cluster's backups (the chain) read from the
 * store, the backup each selected topic's records come from (point-in-time.ts), where each
 * partition ends as of the time (point-in-time-read.ts), and the groups of the newest backup
 * cut at or before it. One data backup for all topics: when the topics would come from
 * different backups (a topic missing from some), they are recovered one at a time.
 */
import { listBackups, loadBackup, type Backup } from '../backup/catalog';
import { cutTime } from '../backup/manifest';
import { UsageError } from '../errors';
import { partitionKey } from '../model/partition-key';
import type { GroupEntry } from '../backup/manifest';
import { choosePointInTime, type ChainBackup } from './point-in-time';
import { endOffsetsAt } from './point-in-time-read';
import { selectedTopics } from './plan';
import type { RecoveryCut } from './plan';

export interface PointInTimeSource {
  backup: Backup;
  topics: string[];
  cut: RecoveryCut;
  groups: { backupId: string; consumerGroups: GroupEntry[] } | null;
  warnings: string[];
}

export async function pointInTimeSource(
  newest: Backup,
  selection: { topics: readonly string[]; regex: string | undefined },
  at: Date,
): Promise<PointInTimeSource> {
  const { store } = newest;
  const chain: ChainBackup[] = [];
  const loaded = new Map<string, Backup>();
  for (const ref of await listBackups(store, newest.ref.cluster)) {
    const b = ref.backupId === newest.ref.backupId ? newest : await loadBackup(store, ref);
    loaded.set(ref.backupId, b);
    chain.push({ backupId: ref.backupId, cutTime: new Date(cutTime(b.manifest)), manifest: b.manifest });
  }
  const names = [...new Set(chain.flatMap((c) => c.manifest.topics.map((t) => t.name)))];
  const topics = selectedTopics(names, `in the backups of cluster ${newest.ref.cluster}`, selection.topics, selection.regex);
  const choice = choosePointInTime(chain, topics, at);
  const sources = [...new Set([...choice.topics.values()].map((t) => t.backupId))];
  if (sources.length > 1) {
    const by = (id: string): string =>
      [...choice.topics]
        .filter(([, t]) => t.backupId === id)
        .map(([n]) => n)
        .join(', ');
    throw new UsageError(
      `as of ${at.toISOString()} the topics come from different backups (${sources.map((id) => `${id}: ${by(id)}`).join('; ')})`,
      'recover them one backup at a time with --topic',
    );
  }
  const backup = loaded.get(sources[0]!)!;
  const ends = new Map<string, bigint>();
  for (const t of topics) for (const [p, end] of await endOffsetsAt(backup, t, BigInt(at.getTime()))) ends.set(partitionKey(t, p), end);
  const groupsFrom = choice.groupsFrom === null ? null : loaded.get(choice.groupsFrom)!;
  const groups = groupsFrom
    ? {
        backupId: groupsFrom.ref.backupId,
        consumerGroups: groupsFrom.manifest.consumerGroups.map((g) => ({ ...g, offsets: g.offsets.filter((o) => choice.groupTopics.has(o.topic)) })),
      }
    : null;
  return { backup, topics, cut: { at, ends }, groups, warnings: choice.warnings };
}
