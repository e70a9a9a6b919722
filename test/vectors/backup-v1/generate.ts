/**
 * Builds the backup-v1 test vector: a complete, tiny backup in the store layout of
 * FORMAT.md ("Repository layout", "Manifest"), plus records.json with every record decoded.
 * Run by test/unit/backup-vectors.test.ts, which rewrites the files when UPDATE_VECTORS=1
 * and otherwise checks that the committed files still match what this code produces.
 *
 * Everything is fixed (records, writer settings, times, IDs), so the output is byte for
 * byte reproducible with kbak's zstd build.
 */
import { manifestKey, segmentKeyV1 } from '../../../src/backup/layout';
import { encodeManifest, MANIFEST_FORMAT, MANIFEST_VERSION_V1, type ManifestV1, type PartitionEntryV1, type SegmentEntry } from '../../../src/backup/manifest';
import { type BackupRecord, TimestampType } from '../../../src/segment/record';
import { SegmentWriter } from '../../../src/segment/writer';

export const SAMPLE_CLUSTER = 'sample';
export const SAMPLE_BACKUP_ID = '20261125T120000000Z';
export const SAMPLE_TOPIC = 'orders';
/** Writer settings that reproduce the segments. */
export const SAMPLE_BLOCK_BYTES = 256;
export const SAMPLE_ZSTD_LEVEL = 3;

/** The Avro schema registered (in the sample's imaginary source registry) under global ID 7. */
export const ORDER_SCHEMA =
  '{"type":"record","name":"Order","namespace":"com.example.shop","fields":[{"name":"id","type":"string"},{"name":"amountCents","type":"long"},{"name":"currency","type":"string"}]}';

/**
 * Confluent framing (magic 0, schema ID 7 as a big-endian u32) around the Avro binary
 * encoding of {"id": "1001", "amountCents": 2500, "currency": "EUR"}:
 * string = zigzag-varint length + UTF-8 bytes, long = zigzag varint (2500 → 5000 → 88 27).
 */
export const FRAMED_ORDER_1001 = Buffer.from(
  [
    [0x00], // magic
    [0x00, 0x00, 0x00, 0x07], // schema ID 7
    [0x08, 0x31, 0x30, 0x30, 0x31], // id: length 4 (zigzag 8), "1001"
    [0x88, 0x27], // amountCents: 2500
    [0x06, 0x45, 0x55, 0x52], // currency: length 3 (zigzag 6), "EUR"
  ].flat(),
);

/**
 * Starts like a Confluent frame with schema ID 99, which the source registry did not know:
 * kept as raw bytes and counted in stats.unknownSchemaIds / framedPayloadsWithUnknownId.
 */
export const FRAMED_UNKNOWN_99 = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x63, 0x6c, 0x65, 0x67, 0x61, 0x63, 0x79]); // ...99 "legacy"

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const B3 = '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1';
const UBER = '5f4a1c2b3d4e5f60:1a2b3c4d5e6f7a8b:0:1';

const t0 = BigInt(Date.UTC(2026, 10, 25, 11, 58, 0, 0)); // 2026-11-25T11:58:00.000Z
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

interface SamplePartition {
  partition: number;
  logStartOffset: bigint;
  startOffset: bigint;
  endOffset: bigint;
  /** Records of each segment, in offset order. */
  segments: BackupRecord[][];
}

/**
 * orders/0: offsets 0, 1, 2, 5 in two segments (as if kbak had rolled over after offset 2);
 * offsets 3 and 4 are absent (an aborted transactional record and its abort marker), the
 * cut is at 6. orders/1: retention has deleted offsets 0..2, so reading starts at the log
 * start offset 3; offsets 3 and 4, cut at 5.
 */
export function samplePartitions(): SamplePartition[] {
  return [
    {
      partition: 0,
      logStartOffset: 0n,
      startOffset: 0n,
      endOffset: 6n,
      segments: [
        [
          {
            offset: 0n,
            timestamp: t0,
            timestampType: TimestampType.CreateTime,
            key: text('order-1001'),
            value: FRAMED_ORDER_1001,
            headers: [
              { key: 'traceparent', value: text(TRACEPARENT) },
              { key: 'x-retry', value: text('1') },
              { key: 'x-retry', value: text('2') },
            ],
          },
          {
            offset: 1n,
            timestamp: t0 + 1500n,
            timestampType: TimestampType.CreateTime,
            key: null,
            value: text('{"event":"heartbeat"}'),
            headers: [],
          },
          {
            offset: 2n,
            timestamp: t0 + 2000n,
            timestampType: TimestampType.CreateTime,
            key: text('order-1001'),
            value: null, // tombstone
            headers: [{ key: 'b3', value: text(B3) }],
          },
        ],
        [
          {
            offset: 5n, // 3 and 4: aborted record + abort marker, not in the backup
            timestamp: t0 + 4000n,
            timestampType: TimestampType.CreateTime,
            key: text('order-1002'),
            value: text('{"id":"1002","amountCents":990,"currency":"EUR"}'),
            headers: [
              { key: 'uber-trace-id', value: text(UBER) },
              { key: 'x-tenant', value: text('acme') },
              { key: 'x-tenant', value: null },
            ],
          },
        ],
      ],
    },
    {
      partition: 1,
      logStartOffset: 3n,
      startOffset: 3n,
      endOffset: 5n,
      segments: [
        [
          {
            offset: 3n,
            timestamp: t0 + 500n,
            timestampType: TimestampType.CreateTime,
            key: text('order-2001'),
            value: FRAMED_UNKNOWN_99,
            headers: [{ key: 'traceparent', value: text(TRACEPARENT) }],
          },
          {
            offset: 4n,
            timestamp: t0 + 250n, // timestamps need not increase with offsets
            timestampType: TimestampType.CreateTime,
            key: text('order-2001'),
            value: Buffer.alloc(0), // empty, not a tombstone
            headers: [],
          },
        ],
      ],
    },
  ];
}

export interface RecordJson {
  offset: string;
  timestamp: string;
  timestampType: number;
  key: string | null;
  value: string | null;
  headers: Array<{ key: string; value: string | null }>;
}

export interface RecordsFile {
  description: string;
  cluster: string;
  backupId: string;
  writer: { blockBytes: number; zstdLevel: number };
  partitions: Array<{ topic: string; partition: number; records: RecordJson[] }>;
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));

export function recordToJson(r: BackupRecord): RecordJson {
  return {
    offset: r.offset.toString(),
    timestamp: r.timestamp.toString(),
    timestampType: r.timestampType,
    key: b64(r.key),
    value: b64(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: b64(h.value) })),
  };
}

async function writeSegment(name: string, records: BackupRecord[]): Promise<{ bytes: Buffer; entry: SegmentEntry }> {
  const chunks: Buffer[] = [];
  const w = await SegmentWriter.create({ blockBytes: SAMPLE_BLOCK_BYTES, level: SAMPLE_ZSTD_LEVEL, name, zstd: 'wasm', sink: (c) => void chunks.push(c) });
  for (const r of records) await w.append(r);
  const s = await w.finish();
  return {
    bytes: Buffer.concat(chunks),
    entry: {
      key: name,
      firstOffset: s.firstOffset!.toString(),
      lastOffset: s.lastOffset!.toString(),
      records: s.records,
      minTimestamp: s.minTimestamp!.toString(),
      maxTimestamp: s.maxTimestamp!.toString(),
      rawBytes: s.rawBytes,
      storedBytes: s.storedBytes,
      sha256: s.sha256,
    },
  };
}

export interface SampleBackup {
  /** Store key (relative to test/vectors/backup-v1) → file bytes. */
  files: Map<string, Buffer>;
  manifest: ManifestV1;
  recordsJson: string;
}

export async function buildSampleBackup(): Promise<SampleBackup> {
  const files = new Map<string, Buffer>();
  const prefix = `${SAMPLE_CLUSTER}/${SAMPLE_BACKUP_ID}`;
  const partitions: PartitionEntryV1[] = [];
  const decoded: RecordsFile['partitions'] = [];
  let rawBytes = 0;
  let storedBytes = 0;
  let segmentCount = 0;
  for (const p of samplePartitions()) {
    const segments: SegmentEntry[] = [];
    for (const recs of p.segments) {
      const key = segmentKeyV1(SAMPLE_TOPIC, p.partition, recs[0]!.offset);
      const { bytes, entry } = await writeSegment(key, recs);
      files.set(`${prefix}/${key}`, bytes);
      segments.push(entry);
      rawBytes += entry.rawBytes;
      storedBytes += entry.storedBytes;
      segmentCount++;
    }
    const all = p.segments.flat();
    partitions.push({
      partition: p.partition,
      logStartOffset: p.logStartOffset.toString(),
      startOffset: p.startOffset.toString(),
      endOffset: p.endOffset.toString(),
      records: all.length,
      segments,
    });
    decoded.push({ topic: SAMPLE_TOPIC, partition: p.partition, records: all.map(recordToJson) });
  }

  const manifest: ManifestV1 = {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_VERSION_V1,
    tool: { name: 'kbak', version: '0.1.0' },
    backupId: SAMPLE_BACKUP_ID,
    cluster: { id: 'q1Sh-9_tRpe0aM9e4GGa1w', name: SAMPLE_CLUSTER },
    startedAt: '2026-11-25T12:00:00.000Z',
    completedAt: '2026-11-25T12:00:01.250Z',
    cut: { isolationLevel: 'read_committed', since: null, until: null, maxRecordsPerPartition: null },
    schemaRegistry: { url: 'http://registry.example:8081' },
    topics: [
      {
        name: SAMPLE_TOPIC,
        partitionCount: 2,
        replicationFactor: 3,
        configs: { 'cleanup.policy': 'delete', 'retention.ms': '604800000' },
        partitions,
      },
    ],
    schemas: [
      {
        id: 7,
        schemaType: 'AVRO',
        schema: ORDER_SCHEMA,
        references: [],
        registrations: [{ subject: 'orders-value', version: 1 }],
        usedInRecords: true,
      },
    ],
    subjects: [{ subject: 'orders-value', compatibility: 'BACKWARD' }],
    consumerGroups: [
      {
        groupId: 'orders-service',
        offsets: [
          { topic: SAMPLE_TOPIC, partition: 0, offset: '5', metadata: null },
          { topic: SAMPLE_TOPIC, partition: 1, offset: '4', metadata: '' },
        ],
      },
    ],
    stats: {
      records: decoded.reduce((n, p) => n + p.records.length, 0),
      rawBytes,
      storedBytes,
      segments: segmentCount,
      unknownSchemaIds: [99],
      framedPayloadsWithUnknownId: 1,
    },
  };
  files.set(manifestKey(SAMPLE_CLUSTER, SAMPLE_BACKUP_ID), encodeManifest(manifest));

  const recordsFile: RecordsFile = {
    description:
      'Records of the backup sample/20261125T120000000Z (kbak backup format v1, see FORMAT.md), per topic-partition in offset order. offset/timestamp are decimal strings; key, value and header values are base64, null when absent.',
    cluster: SAMPLE_CLUSTER,
    backupId: SAMPLE_BACKUP_ID,
    writer: { blockBytes: SAMPLE_BLOCK_BYTES, zstdLevel: SAMPLE_ZSTD_LEVEL },
    partitions: decoded,
  };
  return { files, manifest, recordsJson: `${JSON.stringify(recordsFile, null, 2)}\n` };
}
