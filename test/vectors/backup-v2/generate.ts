/**
 * Builds the backup-v2 test vector (FORMAT.md "Backup vector v2"): two backups of cluster
 * `sample` in one disk store, sharing segments through the cluster's segment pool.
 *
 * - 20261126T120000000Z, full: orders/0 offsets 0..2, orders/1 offsets 0..1.
 * - 20261127T120000000Z, incremental (basedOn the first): orders/0 adds offsets 3..4 in a
 *   new segment; on orders/1 the source's retention had deleted offsets 2..3 (log start 4)
 *   before the second dump, so the partition records the gap [2, 4) and adds offset 4.
 *   Its manifest names the first backup's segments too, so it is complete on its own.
 *
 * Everything is fixed (records, writer tags, times), so the output is reproducible.
 */
import { manifestKey, segmentKey } from '../../../src/backup/layout';
import { encodeManifest, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type PartitionEntry, type SegmentEntry } from '../../../src/backup/manifest';
import { type BackupRecord, TimestampType } from '../../../src/segment/record';
import { SegmentWriter } from '../../../src/segment/writer';
import { FRAMED_ORDER_1001, ORDER_SCHEMA, recordToJson, type RecordJson } from '../backup-v1/generate';

export const V2_CLUSTER = 'sample';
export const V2_FULL = '20261126T120000000Z';
export const V2_INCREMENTAL = '20261127T120000000Z';
const BLOCK_BYTES = 256;
const LEVEL = 3;
const TOPIC = 'orders';

const t0 = BigInt(Date.UTC(2026, 10, 26, 11, 0, 0, 0));
const rec = (offset: bigint, key: string | null, value: Buffer | string | null, dt: bigint): BackupRecord => ({
  offset,
  timestamp: t0 + dt,
  timestampType: TimestampType.CreateTime,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : typeof value === 'string' ? Buffer.from(value) : value,
  headers: [{ key: 'traceparent', value: Buffer.from(`00-${offset.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`) }],
});

/** [backup, partition, records] of every segment, in write order. */
const SEGMENTS: Array<[string, number, BackupRecord[]]> = [
  [V2_FULL, 0, [rec(0n, 'order-1001', FRAMED_ORDER_1001, 0n), rec(1n, 'order-1002', '{"id":"1002"}', 10n), rec(2n, 'order-1001', null, 20n)]],
  [V2_FULL, 1, [rec(0n, null, '', 5n), rec(1n, 'order-2001', '{"id":"2001"}', 15n)]],
  [V2_INCREMENTAL, 0, [rec(3n, 'order-1003', '{"id":"1003"}', 86_400_000n), rec(4n, 'order-1004', '{"id":"1004"}', 86_400_010n)]],
  [V2_INCREMENTAL, 1, [rec(4n, 'order-2004', '{"id":"2004"}', 86_400_005n)]],
];
const tag = (backupId: string): string => `${backupId}-0000000${backupId === V2_FULL ? '1' : '2'}`;

async function encode(records: BackupRecord[]): Promise<{ bytes: Buffer; stats: Awaited<ReturnType<SegmentWriter['finish']>> }> {
  const chunks: Buffer[] = [];
  const w = await SegmentWriter.create({ blockBytes: BLOCK_BYTES, level: LEVEL, name: 'vector', zstd: 'wasm', sink: (c) => void chunks.push(c) });
  for (const r of records) await w.append(r);
  const stats = await w.finish();
  return { bytes: Buffer.concat(chunks), stats };
}

/**
 * records.json: what a second implementation needs to check its reading of the vector
 * without trusting kbak (settled question 21): the cluster, the writer settings, and per
 * partition the offset range, basedOn and gaps next to the records.
 */
export interface V2RecordsFile {
  description: string;
  cluster: string;
  writer: { blockBytes: number; zstdLevel: number };
  backups: Array<{
    backupId: string;
    incremental: boolean;
    partitions: Array<{ topic: string; partition: number; logStartOffset: string; startOffset: string; endOffset: string; basedOn: string | null; gaps: Array<{ startOffset: string; endOffset: string }>; records: RecordJson[] }>;
  }>;
}

export async function buildV2Vector(): Promise<{ files: Map<string, Buffer>; manifests: Manifest[]; recordsJson: string }> {
  const files = new Map<string, Buffer>();
  const entries: Array<{ backupId: string; partition: number; entry: SegmentEntry; records: BackupRecord[] }> = [];
  for (const [backupId, partition, records] of SEGMENTS) {
    const { bytes, stats } = await encode(records);
    const key = segmentKey(TOPIC, partition, records[0]!.offset, tag(backupId));
    files.set(`${V2_CLUSTER}/${key}`, bytes);
    entries.push({
      backupId,
      partition,
      records,
      entry: { key, firstOffset: stats.firstOffset!.toString(), lastOffset: stats.lastOffset!.toString(), records: stats.records, minTimestamp: stats.minTimestamp!.toString(), maxTimestamp: stats.maxTimestamp!.toString(), rawBytes: stats.rawBytes, storedBytes: stats.storedBytes, sha256: stats.sha256 },
    });
  }
  const upTo = (backupId: string, partition: number): typeof entries => entries.filter((e) => e.partition === partition && e.backupId <= backupId);

  const partitionsOf = (backupId: string): PartitionEntry[] => {
    const incremental = backupId === V2_INCREMENTAL;
    return [0, 1].map((p) => {
      const segs = upTo(backupId, p);
      const shape = !incremental
        ? { logStartOffset: '0', endOffset: p === 0 ? '3' : '2', gaps: [] }
        : p === 0
          ? { logStartOffset: '0', endOffset: '5', gaps: [] }
          : { logStartOffset: '4', endOffset: '5', gaps: [{ startOffset: '2', endOffset: '4' }] };
      return {
        partition: p,
        logStartOffset: shape.logStartOffset,
        startOffset: '0',
        endOffset: shape.endOffset,
        records: segs.reduce((n, e) => n + e.entry.records, 0),
        segments: segs.map((e) => e.entry),
        basedOn: incremental ? V2_FULL : null,
        gaps: shape.gaps,
      };
    });
  };

  const manifests: Manifest[] = [V2_FULL, V2_INCREMENTAL].map((backupId, i) => {
    const partitions = partitionsOf(backupId);
    const segs = partitions.flatMap((p) => p.segments);
    return {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      incremental: i === 1,
      tool: { name: 'kbak', version: '0.1.0' },
      backupId,
      cluster: { id: 'q1Sh-9_tRpe0aM9e4GGa1w', name: V2_CLUSTER },
      startedAt: `2026-11-2${6 + i}T12:00:00.000Z`,
      completedAt: `2026-11-2${6 + i}T12:00:00.500Z`,
      cut: { isolationLevel: 'read_committed', since: null, until: null, maxRecordsPerPartition: null },
      schemaRegistry: { url: 'http://registry.example:8081' },
      topics: [{ name: TOPIC, partitionCount: 2, replicationFactor: 3, configs: { 'retention.ms': '86400000' }, topicId: 'q7hVtxa2QQGSxzVE3tA8kw', partitions }],
      schemas: [{ id: 7, schemaType: 'AVRO', schema: ORDER_SCHEMA, references: [], registrations: [{ subject: 'orders-value', version: 1 }], usedInRecords: true }],
      subjects: [{ subject: 'orders-value', compatibility: 'BACKWARD' }],
      consumerGroups: [{ groupId: 'orders-service', offsets: [{ topic: TOPIC, partition: 0, offset: i === 0 ? '3' : '5', metadata: null }] }],
      stats: {
        records: segs.reduce((n, s) => n + s.records, 0),
        rawBytes: segs.reduce((n, s) => n + s.rawBytes, 0),
        storedBytes: segs.reduce((n, s) => n + s.storedBytes, 0),
        segments: segs.length,
        unknownSchemaIds: [],
        framedPayloadsWithUnknownId: 0,
      },
    };
  });
  for (const m of manifests) files.set(manifestKey(V2_CLUSTER, m.backupId), encodeManifest(m));

  const recordsFile: V2RecordsFile = {
    description:
      'Records of each backup in test/vectors/backup-v2 (kbak backup format v2, see FORMAT.md), per topic-partition in offset order, with the partition\'s offset range, basedOn and gaps as its manifest states them (no record lies in a gap); conventions as in backup-v1/records.json. The incremental backup\'s orders/1 has the gap [2, 4): the source deleted offsets 2 and 3 before the second dump.',
    cluster: V2_CLUSTER,
    writer: { blockBytes: BLOCK_BYTES, zstdLevel: LEVEL },
    backups: manifests.map((m) => ({
      backupId: m.backupId,
      incremental: m.incremental,
      partitions: m.topics[0]!.partitions.map((p) => ({
        topic: TOPIC,
        partition: p.partition,
        logStartOffset: p.logStartOffset,
        startOffset: p.startOffset,
        endOffset: p.endOffset,
        basedOn: p.basedOn,
        gaps: p.gaps,
        records: upTo(m.backupId, p.partition).flatMap((e) => e.records.map(recordToJson)),
      })),
    })),
  };
  return { files, manifests, recordsJson: `${JSON.stringify(recordsFile, null, 2)}\n` };
}
