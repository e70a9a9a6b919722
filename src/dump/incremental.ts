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
import type { ObjectStore } from '../store/store';

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
