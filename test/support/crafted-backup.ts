/**
 * Small crafted backups for the hostile-input tests (test/unit/hostile-reading.test.ts):
 * segments built block by block (any codec, payload, count and CRC, honest or not) and a
 * version 2 manifest that names them with their true SHA-256 and size, so the manifest
 * passes every rule and what is tested is the segment or payload itself. Deterministic:
 * the same call writes the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { manifestKey, segmentKey } from '../../src/backup/layout';
import { encodeManifest, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type SchemaEntry } from '../../src/backup/manifest';
import { Codec, encodeBlockHeader, encodeFileHeader, encodeRecord } from '../../src/segment/format';
import { TimestampType, type BackupRecord } from '../../src/segment/record';

export const CRAFTED_CLUSTER = 'crafted';
export const CRAFTED_BACKUP = '20261126T120000000Z';

/** A record at `offset`: timestamp 1 700 000 000 000 + offset, create time, no key, value or headers, then `over`. */
export const craftedRecord = (offset: number, over: Partial<BackupRecord> = {}): BackupRecord => ({
  offset: BigInt(offset),
  timestamp: 1_700_000_000_000n + BigInt(offset),
  timestampType: TimestampType.CreateTime,
  key: null,
  value: null,
  headers: [],
  ...over,
});

/** A maker of temporary folders (under the OS temp folder), all removed after the test file. Call at the top of a test file. */
export function tempFolders(prefix: string): () => string {
  const roots: string[] = [];
  afterAll(() => {
    for (const d of roots) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    roots.push(d);
    return d;
  };
}

/** A segment's bytes and what its manifest entry says about them. */
export interface CraftedSegment {
  bytes: Buffer;
  firstOffset: bigint;
  lastOffset: bigint;
  records: number;
  minTimestamp: bigint;
  maxTimestamp: bigint;
  /** What the manifest declares (honest: the sum of the blocks' raw lengths). */
  rawBytes: number;
  /** What the manifest says the SHA-256 is (default: the bytes' own). */
  sha256?: string;
}

/** One block: header + payload; `crc` defaults to the CRC-32 of `body`. */
export function block(codec: Codec, body: Buffer, payload: Buffer, count: number, crc = crc32(body)): Buffer {
  return Buffer.concat([encodeBlockHeader({ codec, rawLength: body.length, storedLength: payload.length, recordCount: count, crc32: crc }), payload]);
}

/** A segment of stored (codec 0) blocks holding `records`, one block per record group. */
export function storedSegment(groups: BackupRecord[][]): CraftedSegment {
  const blocks = groups.map((g) => {
    const body = Buffer.concat(g.map(encodeRecord));
    return block(Codec.Stored, body, body, g.length);
  });
  return describe(Buffer.concat([encodeFileHeader(), ...blocks]), groups.flat());
}

/** The manifest facts of a segment whose records are `records` (in order). */
export function describe(bytes: Buffer, records: BackupRecord[], rawBytes?: number): CraftedSegment {
  const ts = records.map((r) => r.timestamp);
  let raw = 0;
  for (let p = 16; p + 20 <= bytes.length; p += 20 + bytes.readUInt32BE(p + 8)) raw += bytes.readUInt32BE(p + 4);
  return {
    bytes,
    firstOffset: records[0]!.offset,
    lastOffset: records[records.length - 1]!.offset,
    records: records.length,
    minTimestamp: ts.reduce((a, b) => (b < a ? b : a)),
    maxTimestamp: ts.reduce((a, b) => (b > a ? b : a)),
    rawBytes: rawBytes ?? raw,
  };
}

export interface CraftedPartition {
  partition: number;
  segments: CraftedSegment[];
}

/**
 * Writes cluster `crafted`, backup 20261126T120000000Z, topic `topic` into a disk store at
 * `root`; returns the manifest. Partitions without segments are empty ranges.
 */
export function writeCraftedBackup(
  root: string,
  opts: { topic: string; partitions: CraftedPartition[]; partitionCount?: number; schemas?: SchemaEntry[] },
): Manifest {
  let rawBytes = 0;
  let storedBytes = 0;
  let records = 0;
  let segments = 0;
  const partitions = opts.partitions.map((p) => {
    const entries = p.segments.map((s, i) => {
      const key = segmentKey(opts.topic, p.partition, s.firstOffset, `${CRAFTED_BACKUP}-${(i + 1).toString(16).padStart(8, '0')}`);
      const file = join(root, CRAFTED_CLUSTER, ...key.split('/'));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, s.bytes);
      rawBytes += s.rawBytes;
      storedBytes += s.bytes.length;
      records += s.records;
      segments++;
      return {
        key,
        firstOffset: s.firstOffset.toString(),
        lastOffset: s.lastOffset.toString(),
        records: s.records,
        minTimestamp: s.minTimestamp.toString(),
        maxTimestamp: s.maxTimestamp.toString(),
        rawBytes: s.rawBytes,
        storedBytes: s.bytes.length,
        sha256: s.sha256 ?? createHash('sha256').update(s.bytes).digest('hex'),
      };
    });
    const end = p.segments.length === 0 ? '0' : (p.segments[p.segments.length - 1]!.lastOffset + 1n).toString();
    return {
      partition: p.partition,
      logStartOffset: '0',
      startOffset: '0',
      endOffset: end,
      records: p.segments.reduce((n, s) => n + s.records, 0),
      segments: entries,
      basedOn: null,
      gaps: [],
    };
  });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_VERSION,
    incremental: false,
    tool: { name: 'kbak', version: '0.1.0' },
    backupId: CRAFTED_BACKUP,
    cluster: { id: 'q1Sh-9_tRpe0aM9e4GGa1w', name: CRAFTED_CLUSTER },
    startedAt: '2026-11-26T12:00:00.000Z',
    completedAt: '2026-11-26T12:00:00.500Z',
    cut: { isolationLevel: 'read_committed', since: null, until: null, maxRecordsPerPartition: null },
    schemaRegistry: opts.schemas ? { url: 'http://registry.example:8081' } : null,
    topics: [
      {
        name: opts.topic,
        partitionCount: opts.partitionCount ?? opts.partitions.reduce((n, p) => Math.max(n, p.partition + 1), 1),
        replicationFactor: 1,
        configs: {},
        partitions,
      },
    ],
    schemas: opts.schemas ?? [],
    subjects: [],
    consumerGroups: [],
    stats: { records, rawBytes, storedBytes, segments, unknownSchemaIds: [], framedPayloadsWithUnknownId: 0 },
  };
  const file = join(root, ...manifestKey(CRAFTED_CLUSTER, CRAFTED_BACKUP).split('/'));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodeManifest(manifest));
  return manifest;
}

/** A Confluent-framed payload: magic 0, the schema ID, then `body`. */
export function framed(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, body]);
}
