/**
 * The manifest of a backup (FORMAT.md, "Manifest") from what a dump gathered: the cut, the
 * segments each partition's sink wrote, what an incremental dump carried over from its base
 * (segments, records, gaps, the range's start), the schemas and the group offsets. Pure: the
 * dump checks the result against the manifest schema and writes it (src/dump/commit.ts).
 *
 * The writer rules of FORMAT.md are applied here, in one place: keys in the order of the
 * format's tables, `incremental` exactly when some partition has a `basedOn`, the stats as
 * sums over the partitions and segments (carried ones included), and the sort orders of
 * settled point 14 (`schemas` by id, `subjects` by name, `consumerGroups` by groupId, a
 * group's `offsets` by topic then partition, `registrations` by subject then version,
 * `unknownSchemaIds` ascending; names compared by UTF-16 code units).
 */
import { compareAcls, type AclBinding } from './acls';
import { byteOrder } from '../model/byte-order';
import type { TimeWindow } from '../model/window';
import {
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type GapEntry,
  type GroupEntry,
  type Manifest,
  type ManifestLane,
  type PartitionEntry,
  type SchemaEntry,
  type SegmentEntry,
  type SubjectEntry,
  type TopicEntry,
} from './manifest';

/** What an incremental dump carried over for a partition from the backup it continues. */
export interface CarriedPartition {
  /** The base's backup ID (the partition's `basedOn`). */
  basedOn: string;
  /** Where the base's range started: the new range starts there too. */
  startOffset: bigint;
  /** The base's segments (keys relative to the cluster folder) and their records, in offset order. */
  segments: SegmentEntry[];
  records: number;
  /** The base's gaps and the new one, in offset order. */
  gaps: GapEntry[];
}

/** One dumped partition: its cut, what this dump wrote, and what it carried over (incremental). */
export interface DumpedPartition {
  partition: number;
  logStartOffset: bigint;
  /** The start of the range this dump read (a carried-over partition's range starts at the base's). */
  startOffset: bigint;
  endOffset: bigint;
  /** The segments this dump wrote, in offset order, and their records. */
  segments: SegmentEntry[];
  records: number;
  carried: CarriedPartition | null;
}

export interface DumpedTopic {
  name: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  /** null when the broker has no topic IDs. */
  topicId: string | null;
  partitions: DumpedPartition[];
}

export interface ManifestInput {
  backupId: string;
  cluster: { id: string; name: string };
  startedAt: Date;
  /**
   * When the cut's offsets were fixed (`cut.time`), kept between startedAt and completedAt.
   * Every dump gives it; absent only where a manifest of an older kbak is rebuilt (the vectors).
   */
  cutTime?: Date;
  completedAt: Date;
  window: TimeWindow;
  maxRecordsPerPartition: number | null;
  /** The registry the schemas were read from, without credentials; null without one. */
  registryUrl: string | null;
  topics: DumpedTopic[];
  /** The schemas and subjects the records need (the bases' merged in), the IDs the registry did not know. */
  schemas: { schemas: SchemaEntry[]; subjects: SubjectEntry[]; unknownIds: number[]; framedPayloadsWithUnknownId: number };
  consumerGroups: GroupEntry[];
  /** kbak's version, for `tool`. */
  toolVersion: string;
  /** The lane a lane snapshot was taken from (the optional `lane` field); absent otherwise. */
  lane?: ManifestLane | null;
  /** The ACL bindings of the backup's topics and groups (the optional `acls` field); null or absent: not captured. */
  acls?: AclBinding[] | null;
}

function partitionEntry(p: DumpedPartition): PartitionEntry {
  const c = p.carried;
  return {
    partition: p.partition,
    logStartOffset: p.logStartOffset.toString(),
    startOffset: (c?.startOffset ?? p.startOffset).toString(),
    endOffset: p.endOffset.toString(),
    records: (c?.records ?? 0) + p.records,
    segments: [...(c?.segments ?? []), ...p.segments],
    basedOn: c?.basedOn ?? null,
    gaps: c ? [...c.gaps] : [],
  };
}

function topicEntry(t: DumpedTopic): TopicEntry {
  return {
    name: t.name,
    partitionCount: t.partitionCount,
    replicationFactor: t.replicationFactor,
    configs: t.configs,
    ...(t.topicId ? { topicId: t.topicId } : {}),
    partitions: t.partitions.map(partitionEntry),
  };
}

/** Sums over every partition and segment of the backup, carried ones included (FORMAT.md, "Stats"). */
function totals(topics: TopicEntry[]): { records: number; rawBytes: number; storedBytes: number; segments: number } {
  const sum = { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 };
  for (const t of topics) {
    for (const p of t.partitions) {
      sum.records += p.records;
      sum.segments += p.segments.length;
      for (const s of p.segments) {
        sum.rawBytes += s.rawBytes;
        sum.storedBytes += s.storedBytes;
      }
    }
  }
  return sum;
}

/** Keys in the order of FORMAT.md's "ACL binding" table. */
function aclEntry(a: AclBinding): AclBinding {
  return {
    resourceType: a.resourceType,
    resourceName: a.resourceName,
    patternType: a.patternType,
    principal: a.principal,
    host: a.host,
    operation: a.operation,
    permissionType: a.permissionType,
  };
}

/** Keys in the order of FORMAT.md's table. */
function laneEntry(l: ManifestLane): ManifestLane {
  const m = l.masking;
  return {
    name: l.name,
    templates: { topic: l.templates.topic, subject: l.templates.subject, group: l.templates.group },
    // Settled point 25: kept as given (null too), absent when absent.
    ...(m === undefined
      ? {}
      : { masking: m === null ? null : { policy: m.policy, policySha256: m.policySha256, keyFingerprint: m.keyFingerprint, faker: m.faker } }),
  };
}

const byNumber = (a: number, b: number): number => a - b;

/**
 * `cut.time` as settled point 24 requires it, between startedAt and completedAt: a wall clock
 * stepped back (NTP) between the readings must not make kbak write a manifest it refuses.
 */
function cutTimeWithin(cutTime: Date, input: ManifestInput): string {
  const ms = Math.min(Math.max(cutTime.getTime(), input.startedAt.getTime()), input.completedAt.getTime());
  return new Date(ms).toISOString();
}

export function buildManifest(input: ManifestInput): Manifest {
  const topics = input.topics.map(topicEntry);
  const sum = totals(topics);
  const { schemas, subjects, unknownIds, framedPayloadsWithUnknownId } = input.schemas;
  return {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_VERSION,
    incremental: topics.some((t) => t.partitions.some((p) => p.basedOn !== null)),
    tool: { name: 'kbak', version: input.toolVersion },
    backupId: input.backupId,
    cluster: { id: input.cluster.id, name: input.cluster.name },
    ...(input.lane ? { lane: laneEntry(input.lane) } : {}),
    startedAt: input.startedAt.toISOString(),
    completedAt: input.completedAt.toISOString(),
    cut: {
      isolationLevel: 'read_committed',
      since: input.window.since?.toISOString() ?? null,
      until: input.window.until?.toISOString() ?? null,
      maxRecordsPerPartition: input.maxRecordsPerPartition,
      ...(input.cutTime ? { time: cutTimeWithin(input.cutTime, input) } : {}),
    },
    schemaRegistry: input.registryUrl !== null ? { url: input.registryUrl } : null,
    topics,
    schemas: schemas
      .map((s) => ({ ...s, registrations: [...s.registrations].sort((a, b) => byteOrder(a.subject, b.subject) || a.version - b.version) }))
      .sort((a, b) => a.id - b.id),
    subjects: [...subjects].sort((a, b) => byteOrder(a.subject, b.subject)),
    consumerGroups: input.consumerGroups
      .map((g) => ({ ...g, offsets: [...g.offsets].sort((a, b) => byteOrder(a.topic, b.topic) || a.partition - b.partition) }))
      .sort((a, b) => byteOrder(a.groupId, b.groupId)),
    ...(input.acls ? { acls: input.acls.map(aclEntry).sort(compareAcls) } : {}),
    stats: {
      records: sum.records,
      rawBytes: sum.rawBytes,
      storedBytes: sum.storedBytes,
      segments: sum.segments,
      unknownSchemaIds: [...unknownIds].sort(byNumber),
      framedPayloadsWithUnknownId,
    },
  };
}
