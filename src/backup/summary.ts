/**
 * What `kbak list` and `kbak inspect` show, computed from manifests only (pure). "Shared"
 * bytes are those of segments an older backup of the same cluster also names: with
 * incremental backups they are stored once, so a backup's own cost is stored − shared.
 */
import type { AclBinding } from './acls';
import type { Backup } from './catalog';
import { cutTime } from './manifest';

export interface BackupRow {
  id: string;
  cluster: string;
  time: string;
  formatVersion: number;
  kind: 'full' | 'incremental';
  topics: string[];
  records: number;
  storedBytes: number;
  sharedBytes: number;
}

/** Rows in the order given (oldest first); `backups` must be sorted by ID. */
export function backupRows(backups: Backup[]): BackupRow[] {
  const seen = new Map<string, Set<string>>();
  return backups.map((b) => {
    const older = seen.get(b.ref.cluster) ?? new Set<string>();
    let shared = 0;
    const mine: string[] = [];
    for (const t of b.manifest.topics) {
      for (const p of t.partitions) {
        for (const s of p.segments) {
          const key = b.storeKey(s);
          if (older.has(key)) shared += s.storedBytes;
          mine.push(key);
        }
      }
    }
    for (const k of mine) older.add(k);
    seen.set(b.ref.cluster, older);
    return {
      id: b.ref.backupId,
      cluster: b.ref.cluster,
      time: b.manifest.startedAt,
      formatVersion: b.manifest.formatVersion,
      kind: b.manifest.incremental ? 'incremental' : 'full',
      topics: b.manifest.topics.map((t) => t.name),
      records: b.manifest.stats.records,
      storedBytes: b.manifest.stats.storedBytes,
      sharedBytes: shared,
    };
  });
}

const minTs = (a: string, b: string): string => (BigInt(a) < BigInt(b) ? a : b);
const maxTs = (a: string, b: string): string => (BigInt(a) > BigInt(b) ? a : b);

export interface PartitionDetail {
  partition: number;
  logStartOffset: string;
  startOffset: string;
  endOffset: string;
  records: number;
  segments: number;
  storedBytes: number;
  /** Smallest and largest record timestamp (ms, −1 = none recorded), null without records. */
  minTimestamp: string | null;
  maxTimestamp: string | null;
  basedOn: string | null;
  gaps: Array<{ startOffset: string; endOffset: string }>;
}

export interface BackupDetail {
  id: string;
  cluster: { id: string; name: string };
  formatVersion: number;
  kind: 'full' | 'incremental';
  startedAt: string;
  completedAt: string;
  cut: Backup['manifest']['cut'];
  /** When the cut's offsets were fixed: `cut.time`, or `startedAt` for a manifest without it (FORMAT.md settled point 24). */
  cutTime: string;
  /** Whether the manifest records `cut.time` (false: `cutTime` is `startedAt`, as older kbaks cut at the start). */
  cutTimeRecorded: boolean;
  schemaRegistry: string | null;
  stats: Backup['manifest']['stats'];
  topics: Array<{
    name: string;
    partitionCount: number;
    replicationFactor: number;
    configs: Record<string, string>;
    records: number;
    partitions: PartitionDetail[];
  }>;
  schemas: Array<{ id: number; schemaType: string; subjects: string[]; usedInRecords: boolean }>;
  consumerGroups: Array<{ groupId: string; offsets: Array<{ topic: string; partition: number; offset: string }> }>;
  /** The ACL bindings as in the manifest; null when the dump did not capture them (FORMAT.md settled point 23). */
  acls: AclBinding[] | null;
}

export function backupDetail(b: Backup): BackupDetail {
  const m = b.manifest;
  return {
    id: b.ref.backupId,
    cluster: m.cluster,
    formatVersion: m.formatVersion,
    kind: m.incremental ? 'incremental' : 'full',
    startedAt: m.startedAt,
    completedAt: m.completedAt,
    cut: m.cut,
    cutTime: cutTime(m),
    cutTimeRecorded: m.cut.time !== undefined,
    schemaRegistry: m.schemaRegistry?.url ?? null,
    stats: m.stats,
    topics: m.topics.map((t) => ({
      name: t.name,
      partitionCount: t.partitionCount,
      replicationFactor: t.replicationFactor,
      configs: t.configs,
      records: t.partitions.reduce((n, p) => n + p.records, 0),
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        logStartOffset: p.logStartOffset,
        startOffset: p.startOffset,
        endOffset: p.endOffset,
        records: p.records,
        segments: p.segments.length,
        storedBytes: p.segments.reduce((n, s) => n + s.storedBytes, 0),
        minTimestamp: p.segments.length ? p.segments.map((s) => s.minTimestamp).reduce(minTs) : null,
        maxTimestamp: p.segments.length ? p.segments.map((s) => s.maxTimestamp).reduce(maxTs) : null,
        basedOn: p.basedOn,
        gaps: p.gaps,
      })),
    })),
    schemas: m.schemas.map((s) => ({
      id: s.id,
      schemaType: s.schemaType,
      subjects: s.registrations.map((r) => `${r.subject} v${r.version}`),
      usedInRecords: s.usedInRecords,
    })),
    consumerGroups: m.consumerGroups.map((g) => ({
      groupId: g.groupId,
      offsets: g.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
    })),
    acls: m.acls ?? null,
  };
}
