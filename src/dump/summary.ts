/**
 * The summarise phase of a dump: what the run did, from its manifest and what its sinks
 * wrote (this run's records and bytes; the manifest's stats also count carried segments).
 * Pure.
 */
import type { Manifest } from '../backup/manifest';
import type { Continued } from './incremental';
import type { Written } from './partitions';

export interface DumpSummary {
  backupId: string;
  cluster: string;
  location: string;
  topics: number;
  partitions: number;
  records: number;
  rawBytes: number;
  storedBytes: number;
  compressionRatio: number;
  segments: number;
  schemas: number;
  consumerGroups: number;
  /** ACL bindings in the backup; null when they were not captured (no authorizer, not allowed). */
  acls: number | null;
  unknownSchemaIds: number[];
  framedPayloadsWithUnknownId: number;
  durationMs: number;
  recordsPerSecond: number;
  /** True when some partition continued from an earlier backup. */
  incremental: boolean;
  /** Records and stored bytes the backup covers, shared segments included (records/storedBytes count this run's). */
  backupRecords: number;
  backupStoredBytes: number;
  /** Per topic, what this run read and wrote (for metrics). */
  perTopic: Array<{ topic: string; records: number; rawBytes: number; storedBytes: number; basedOn: string | null }>;
  /** Offset ranges the source had deleted since the previous backup ended. */
  gaps: Array<{ topic: string; partition: number; startOffset: string; endOffset: string }>;
  /** Topics that were deleted and recreated since their previous backup (backed up in full). */
  recreatedTopics: string[];
}

export interface SummaryInput {
  manifest: Manifest;
  /** Where the backup is: the store's location and the backup's folder. */
  location: string;
  partitions: number;
  /** What this run wrote: in all, and per topic. */
  written: Written;
  writtenByTopic: (topic: string) => Written;
  continued: Pick<Continued, 'newGaps' | 'recreatedTopics'>;
  durationMs: number;
}

export function summariseDump(input: SummaryInput): DumpSummary {
  const { manifest: m, written, durationMs } = input;
  return {
    backupId: m.backupId,
    cluster: m.cluster.name,
    location: input.location,
    topics: m.topics.length,
    partitions: input.partitions,
    records: written.records,
    rawBytes: written.rawBytes,
    storedBytes: written.storedBytes,
    compressionRatio: written.storedBytes > 0 ? written.rawBytes / written.storedBytes : 0,
    segments: written.segments,
    schemas: m.schemas.length,
    consumerGroups: m.consumerGroups.length,
    acls: m.acls?.length ?? null,
    unknownSchemaIds: m.stats.unknownSchemaIds,
    framedPayloadsWithUnknownId: m.stats.framedPayloadsWithUnknownId,
    durationMs,
    recordsPerSecond: durationMs > 0 ? Math.round((written.records * 1000) / durationMs) : written.records,
    incremental: m.incremental,
    backupRecords: m.stats.records,
    backupStoredBytes: m.stats.storedBytes,
    perTopic: m.topics.map((t) => {
      const own = input.writtenByTopic(t.name);
      // A topic continues one base: every continued partition names it.
      const basedOn = t.partitions.find((p) => p.basedOn !== null)?.basedOn ?? null;
      return { topic: t.name, records: own.records, rawBytes: own.rawBytes, storedBytes: own.storedBytes, basedOn };
    }),
    gaps: input.continued.newGaps,
    recreatedTopics: input.continued.recreatedTopics,
  };
}
