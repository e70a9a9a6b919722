/**
 * `kbak dump --incremental`: each partition continues where the newest earlier backup of
 * the same cluster and topic ended. The new manifest lists the earlier segments too
 * (shared, as restic snapshots share packs), so every backup is complete on its own and no
 * reader ever replays a chain.
 *
 * Topic recreation: a topic deleted and recreated under the same name gets a new topic ID
 * (Kafka 2.8+), which the manifest records. Without IDs on both sides (a backup written
 * before kbak recorded them, a broker older than 2.8) it is recognised by what Kafka
 * guarantees about one topic's log: offsets never go backwards and partitions are never
 * removed, so a last stable offset below the previous backup's end, or fewer partitions,
 * means a new topic. (A recreated topic that has already grown past the previous end is
 * then missed: only the ID tells.) A recreated topic starts a full backup.
 */
import { listBackups, loadBackup, type Backup } from '../backup/catalog';
import type { GapEntry, PartitionEntry, SchemaEntry, SegmentEntry, SubjectEntry, TopicEntry } from '../backup/manifest';
import { partitionKey } from '../model/partition-key';
import type { Logger } from '../output/logger';
import type { ObjectStore } from '../store/store';
import type { PartitionRange } from './cut';
import type { TopicShape } from './topic-metadata';

/** The newest earlier backup of `cluster` that holds each topic (topics without one are absent). */
export async function findBases(store: ObjectStore, cluster: string, topics: string[]): Promise<Map<string, Backup>> {
  const wanted = new Set(topics);
  const bases = new Map<string, Backup>();
  const refs = (await listBackups(store, cluster)).reverse();
  for (const ref of refs) {
    if (bases.size === wanted.size) break;
    const b = await loadBackup(store, ref);
    for (const t of b.manifest.topics) if (wanted.has(t.name) && !bases.has(t.name)) bases.set(t.name, b);
  }
  return bases;
}

/** The backups a plan names as bases, each loaded once. */
async function pinnedBases(store: ObjectStore, cluster: string, pinned: ReadonlyMap<string, string | null>): Promise<Map<string, Backup>> {
  const loaded = new Map<string, Backup>();
  const bases = new Map<string, Backup>();
  for (const [topic, id] of pinned) {
    if (id === null) continue;
    let b = loaded.get(id);
    if (!b) loaded.set(id, (b = await loadBackup(store, { cluster, backupId: id })));
    bases.set(topic, b);
  }
  return bases;
}

/** A v1 segment key is relative to its backup's folder; as a v2 key it is relative to the cluster folder. */
export function sharedKey(base: Backup, seg: SegmentEntry): string {
  return base.manifest.formatVersion === 1 ? `${base.ref.backupId}/${seg.key}` : seg.key;
}

export interface SourceOffsets {
  /** Log start offset now. */
  low: bigint;
  /** Last stable offset now: the new cut. */
  lastStable: bigint;
}

export interface Continuation {
  /** What this dump reads: [readStart, end). */
  readStart: bigint;
  end: bigint;
  /** Carried from the base: the range start, its segments (as v2 keys), records and gaps. */
  startOffset: bigint;
  segments: SegmentEntry[];
  records: number;
  gaps: GapEntry[];
  /** The new gap, when the source's log start passed the previous end. */
  newGap: GapEntry | null;
  basedOn: string;
}

/**
 * Pure: why the topic the source has now is not the one `previous` describes (a new topic
 * ID, fewer partitions), or null when nothing at topic level says so.
 */
export function recreatedTopicReason(
  baseId: string,
  previous: Pick<TopicEntry, 'partitionCount' | 'topicId'>,
  now: { partitionCount: number; topicId: string | null },
): string | null {
  if (previous.topicId && now.topicId && previous.topicId !== now.topicId) {
    return `its topic ID is ${now.topicId}, backup ${baseId} read topic ID ${previous.topicId}`;
  }
  if (previous.partitionCount > now.partitionCount) return `it has ${now.partitionCount} partitions, backup ${baseId} saw ${previous.partitionCount}`;
  return null;
}

/**
 * Pure: how partition `prev` of `base` continues given the source's offsets now, or a
 * reason why the topic must be treated as new.
 */
export function continuePartition(base: Backup, prev: PartitionEntry, src: SourceOffsets): Continuation | { recreated: string } {
  const prevEnd = BigInt(prev.endOffset);
  if (src.lastStable < prevEnd) {
    return {
      recreated: `its last stable offset ${src.lastStable} on partition ${prev.partition} is below ${prevEnd}, where backup ${base.ref.backupId} ended`,
    };
  }
  const readStart = src.low > prevEnd ? src.low : prevEnd;
  const newGap = src.low > prevEnd ? { startOffset: prevEnd.toString(), endOffset: src.low.toString() } : null;
  return {
    readStart,
    end: src.lastStable,
    startOffset: BigInt(prev.startOffset),
    segments: prev.segments.map((s) => ({ ...s, key: sharedKey(base, s) })),
    records: prev.records,
    gaps: newGap ? [...prev.gaps, newGap] : [...prev.gaps],
    newGap,
    basedOn: base.ref.backupId,
  };
}

/** What an incremental dump continues, and what it tells about it. */
export interface Continued {
  /** By partitionKey(topic, partition): the partitions that continue a base. */
  continuations: Map<string, Continuation>;
  /** The backups continued: their schemas and subjects stay in the new manifest. */
  bases: Backup[];
  /** Topics deleted and recreated since their base: backed up in full. */
  recreatedTopics: string[];
  /** Offset ranges the source deleted since a base ended (each also a gap of its partition). */
  newGaps: Array<{ topic: string; partition: number; startOffset: string; endOffset: string }>;
}

/** A dump that continues nothing (not incremental). */
export const NOTHING_CONTINUED: Readonly<Continued> = { continuations: new Map(), bases: [], recreatedTopics: [], newGaps: [] };

/**
 * Finds, for each planned topic, the newest earlier backup of `cluster` that holds it, and
 * how each of its partitions continues there (a recreated topic is backed up in full). Says
 * so in a warning per recreated topic and per new gap.
 */
export async function continueTopics(
  store: ObjectStore,
  cluster: string,
  plan: { topics: readonly TopicShape[]; ranges: ReadonlyMap<string, readonly PartitionRange[]> },
  logger: Logger,
  /** The base of each topic, as a sharded dump's plan fixed it (null: none), instead of the newest backup now. */
  pinned?: ReadonlyMap<string, string | null>,
): Promise<Continued> {
  const continuations = new Map<string, Continuation>();
  const basesUsed = new Map<string, Backup>();
  const recreatedTopics: string[] = [];
  const newGaps: Continued['newGaps'] = [];
  const bases = pinned
    ? await pinnedBases(store, cluster, pinned)
    : await findBases(
        store,
        cluster,
        plan.topics.map((t) => t.name),
      );
  for (const t of plan.topics) {
    const base = bases.get(t.name);
    if (!base) continue;
    const prevTopic = base.manifest.topics.find((x) => x.name === t.name)!;
    const found = new Map<number, Continuation>();
    let recreated = recreatedTopicReason(base.ref.backupId, prevTopic, t);
    for (const r of plan.ranges.get(t.name)!) {
      if (recreated) break;
      const prev = prevTopic.partitions.find((x) => x.partition === r.partition);
      if (!prev) continue; // a partition added since: backed up in full
      const c = continuePartition(base, prev, { low: r.logStartOffset, lastStable: r.end });
      if ('recreated' in c) recreated = c.recreated;
      else found.set(r.partition, c);
    }
    if (recreated) {
      recreatedTopics.push(t.name);
      logger.warn(
        { topic: t.name, previousBackup: base.ref.backupId },
        `topic ${t.name} was deleted and recreated since backup ${base.ref.backupId} (${recreated}); backing it up in full`,
      );
      continue;
    }
    basesUsed.set(base.ref.backupId, base);
    for (const [p, c] of found) {
      continuations.set(partitionKey(t.name, p), c);
      if (c.newGap) {
        newGaps.push({ topic: t.name, partition: p, ...c.newGap });
        logger.warn(
          { topic: t.name, partition: p, ...c.newGap },
          `offsets ${c.newGap.startOffset}..${BigInt(c.newGap.endOffset) - 1n} of ${t.name}/${p} were deleted by the source's retention before this backup; recorded as a gap`,
        );
      }
    }
  }
  return { continuations, bases: [...basesUsed.values()], recreatedTopics, newGaps };
}

/** Schemas and subjects of the bases, merged with the new ones (new entries win). */
export function mergeSchemas(
  bases: Backup[],
  fresh: { schemas: SchemaEntry[]; subjects: SubjectEntry[]; unknownIds: number[]; framedPayloadsWithUnknownId: number },
): { schemas: SchemaEntry[]; subjects: SubjectEntry[]; unknownIds: number[]; framedPayloadsWithUnknownId: number } {
  const schemas = new Map<number, SchemaEntry>();
  const subjects = new Map<string, SubjectEntry>();
  const unknown = new Set<number>(fresh.unknownIds);
  let framed = fresh.framedPayloadsWithUnknownId;
  for (const b of bases) {
    for (const s of b.manifest.schemas) schemas.set(s.id, s);
    for (const s of b.manifest.subjects) subjects.set(s.subject, s);
    for (const id of b.manifest.stats.unknownSchemaIds) unknown.add(id);
    framed += b.manifest.stats.framedPayloadsWithUnknownId;
  }
  for (const s of fresh.schemas) schemas.set(s.id, { ...s, usedInRecords: s.usedInRecords || Boolean(schemas.get(s.id)?.usedInRecords) });
  for (const s of fresh.subjects) subjects.set(s.subject, s);
  for (const id of schemas.keys()) unknown.delete(id);
  return {
    schemas: [...schemas.values()].sort((a, b) => a.id - b.id),
    subjects: [...subjects.values()].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0)),
    unknownIds: [...unknown].sort((a, b) => a - b),
    framedPayloadsWithUnknownId: framed,
  };
}
