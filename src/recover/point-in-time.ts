/**
 * `kbak recover --at TIME`: which backup of the cluster's chain each topic's records are
 * read from, and which backup's consumer-group offsets are used. Pure: the caller lists
 * the backups and reads the records (point-in-time-read.ts finds where each partition
 * ends).
 *
 * A time on a log means what Kafka's ListOffsets by timestamp means: a partition as of
 * TIME is its records before the first offset whose timestamp is at or after TIME. Every
 * backup is complete on its own (FORMAT.md "Incremental backups": an incremental one names
 * its bases' segments too), so one backup per topic is read: the first whose cut is at or
 * after TIME, which holds every record the log had at TIME (unless retention removed it
 * before that backup was taken, which the chain cannot undo). The groups' offsets come
 * from the newest backup cut at or before TIME, the last position known not to be in the
 * future; the writer translates them and clamps them to the recovered end.
 */
import type { Manifest, TopicEntry } from '../backup/manifest';
import { recreatedTopicReason } from '../dump/incremental';
import { InvalidOptionError, NotFoundError } from '../errors';
import { MAX_DATE_MS } from '../model/utc-time';

export interface ChainBackup {
  backupId: string;
  /** The manifest's `cut.time`, or `startedAt` when absent (FORMAT.md settled point 24; backup/manifest.ts cutTime). */
  cutTime: Date;
  manifest: Manifest;
}

export interface PointInTimeChoice {
  at: Date;
  /** per source topic: the backup whose records are read */
  topics: Map<string, { backupId: string }>;
  /** the backup whose consumer-group offsets are used (newest with cut ≤ at), or null when none (say so as a warning) */
  groupsFrom: string | null;
  /**
   * The topics whose group offsets may be taken from `groupsFrom`: it holds them, and as the
   * same topic the records are read from (not deleted and recreated between the two
   * backups, whose offsets would name other records). Empty when `groupsFrom` is null.
   * Added to the interface the lead gave: offsets of any other topic must not be translated.
   */
  groupTopics: Set<string>;
  /** the chain's range, for messages: first record time, last cut time */
  range: { firstRecord: Date; lastCut: Date };
  warnings: string[];
}

/** Oldest cut first; backups cut at the same instant in ID order (the later ID is the newer). */
function byCut(a: ChainBackup, b: ChainBackup): number {
  return a.cutTime.getTime() - b.cutTime.getTime() || (a.backupId < b.backupId ? -1 : a.backupId > b.backupId ? 1 : 0);
}

const iso = (d: Date): string => d.toISOString();

/**
 * The smallest record timestamp among the topic's segments in `m`, or null when it holds no
 * record with a timestamp. -1 means "no timestamp" (FORMAT.md): such a record has no time
 * to start a range at, so a segment whose smallest timestamp is negative does not count; nor
 * does one beyond what a Date holds (a hostile or broken producer's clock), which no --at reaches.
 */
function firstRecordMs(t: TopicEntry): bigint | null {
  let first: bigint | null = null;
  for (const p of t.partitions)
    for (const s of p.segments) {
      const min = BigInt(s.minTimestamp);
      if (min >= 0n && min <= MAX_DATE_MS && (first === null || min < first)) first = min;
    }
  return first;
}

/** Why the topic `recordsFrom` holds is not the one `groupsFrom` holds under the same name, or null. */
function recreatedBetween(groupsFrom: ChainBackup, g: TopicEntry, r: TopicEntry): string | null {
  const reason = recreatedTopicReason(groupsFrom.backupId, g, { partitionCount: r.partitionCount, topicId: r.topicId ?? null });
  if (reason !== null) return reason;
  const ends = new Map(r.partitions.map((p) => [p.partition, BigInt(p.endOffset)]));
  for (const p of g.partitions) {
    const end = ends.get(p.partition);
    // Offsets never go back on one topic: a later cut below an earlier one is another topic.
    if (end !== undefined && end < BigInt(p.endOffset))
      return `partition ${p.partition} ends at ${end}, below ${p.endOffset}, where backup ${groupsFrom.backupId} ended`;
  }
  return null;
}

/**
 * Chooses, for `topics` as of `at`, the backup each topic is read from and the backup the
 * groups come from. `chain`: every complete backup of the cluster, in any order (full and
 * incremental; a backup without a topic is skipped for it). Throws NotFoundError when a topic
 * is in no backup, and InvalidOptionError (`at`, exit 2) when `at` lies before the first
 * record of the topics or after their last cut, naming the range.
 */
export function choosePointInTime(chain: readonly ChainBackup[], topics: readonly string[], at: Date): PointInTimeChoice {
  const atMs = at.getTime();
  if (Number.isNaN(atMs)) throw new InvalidOptionError('at', String(at), 'is not a time');
  if (topics.length === 0) throw new NotFoundError('no topic to recover as of a point in time', 'name the topics to recover');
  const sorted = [...chain].sort(byCut);
  const holders = new Map<string, Array<{ backup: ChainBackup; topic: TopicEntry }>>();
  for (const name of topics) holders.set(name, []);
  for (const backup of sorted)
    for (const t of backup.manifest.topics) {
      const list = holders.get(t.name);
      if (list !== undefined) list.push({ backup, topic: t });
    }
  const missing = [...holders].filter(([, list]) => list.length === 0).map(([name]) => name);
  if (missing.length > 0)
    throw new NotFoundError(
      `${missing.length === 1 ? 'topic' : 'topics'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} in no backup of the cluster`,
      'list the backed-up topics with kbak inspect',
    );

  // The chain as far as these topics go: from their first record (or, when none has a record
  // with a timestamp, their first cut: nothing is known of them before it) to their last cut.
  let firstMs: bigint | null = null;
  let firstCut: Date | null = null;
  let lastCut: Date | null = null;
  for (const list of holders.values())
    for (const { backup, topic } of list) {
      const f = firstRecordMs(topic);
      if (f !== null && (firstMs === null || f < firstMs)) firstMs = f;
      if (firstCut === null || backup.cutTime < firstCut) firstCut = backup.cutTime;
      if (lastCut === null || backup.cutTime > lastCut) lastCut = backup.cutTime;
    }
  const range = { firstRecord: firstMs !== null ? new Date(Number(firstMs)) : firstCut!, lastCut: lastCut! };
  const choose = `choose a time from ${iso(range.firstRecord)} until the last cut, ${iso(range.lastCut)}`;
  if (atMs < range.firstRecord.getTime())
    throw new InvalidOptionError(
      'at',
      iso(at),
      `is before the first record backed up of ${topics.length === 1 ? 'this topic' : 'these topics'} (${iso(range.firstRecord)})`,
      choose,
    );
  if (atMs > range.lastCut.getTime())
    throw new InvalidOptionError(
      'at',
      iso(at),
      `is after the last cut of the backups of ${topics.length === 1 ? 'this topic' : 'these topics'} (${iso(range.lastCut)}): what came after is in no backup`,
      choose,
    );

  const warnings: string[] = [];
  const chosen = new Map<string, { backupId: string }>();
  const recordsFrom = new Map<string, { backup: ChainBackup; topic: TopicEntry }>();
  const filtered = new Set<string>();
  for (const [name, list] of holders) {
    let pick = list.find((h) => h.backup.cutTime.getTime() >= atMs);
    if (pick === undefined) {
      // Later backups of other topics exist, none of this one: its newest is all there is.
      pick = list[list.length - 1]!;
      warnings.push(
        `topic ${name} was last backed up at ${iso(pick.backup.cutTime)} (backup ${pick.backup.backupId}), before ${iso(at)}: it is recovered as of then`,
      );
    }
    chosen.set(name, { backupId: pick.backup.backupId });
    recordsFrom.set(name, pick);
    const cut = pick.backup.manifest.cut;
    if (!filtered.has(pick.backup.backupId) && (cut.since !== null || cut.until !== null || cut.maxRecordsPerPartition !== null)) {
      filtered.add(pick.backup.backupId);
      const how = [
        cut.since !== null ? `--since ${cut.since}` : '',
        cut.until !== null ? `--until ${cut.until}` : '',
        cut.maxRecordsPerPartition !== null ? `--max-records-per-partition ${cut.maxRecordsPerPartition}` : '',
      ]
        .filter((s) => s !== '')
        .join(' ');
      warnings.push(`backup ${pick.backup.backupId} was dumped with ${how}: the records read from it are not the whole log`);
    }
  }

  // Groups: the newest backup of these topics cut at or before `at`.
  let groups: ChainBackup | null = null;
  for (const b of sorted) if (b.cutTime.getTime() <= atMs && b.manifest.topics.some((t) => holders.has(t.name))) groups = b;
  const groupTopics = new Set<string>();
  if (groups === null) {
    warnings.push(
      `no backup of ${topics.length === 1 ? 'this topic' : 'these topics'} was taken at or before ${iso(at)} (the first cut is ${iso(firstCut!)}): consumer groups are not recovered`,
    );
  } else {
    const inGroups = new Map(groups.manifest.topics.map((t) => [t.name, t]));
    for (const [name, { topic }] of recordsFrom) {
      const g = inGroups.get(name);
      if (g === undefined) {
        warnings.push(
          `consumer-group offsets of topic ${name} are not recovered: backup ${groups.backupId}, the newest taken at or before ${iso(at)}, does not hold it`,
        );
        continue;
      }
      const recreated = recreatedBetween(groups, g, topic);
      if (recreated !== null) {
        warnings.push(
          `consumer-group offsets of topic ${name} are not recovered: it was deleted and recreated between backups ${groups.backupId} and ${chosen.get(name)!.backupId} (${recreated})`,
        );
        continue;
      }
      groupTopics.add(name);
    }
  }
  return { at, topics: chosen, groupsFrom: groups?.backupId ?? null, groupTopics, range, warnings };
}
