/**
 * The tests' independent format decoder (test/support/format-decoder.ts) against the
 * committed test vectors, so it can be trusted to judge what kbak writes.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordJson } from '../vectors/backup-v1/generate';
import { decodeSegment, listBackupsOnDisk, parseStrictJson, verifyBackupOnDisk, type DecodedRecord, type PartitionOnDisk } from '../support/format-decoder';
import type { V2RecordsFile } from '../vectors/backup-v2/generate';

const VECTORS = join(__dirname, '..', 'vectors');

type VectorRecord = RecordJson;

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));
const asVector = (r: DecodedRecord): VectorRecord => ({
  offset: r.offset.toString(),
  timestamp: r.timestamp.toString(),
  timestampType: r.timestampType,
  key: b64(r.key),
  value: b64(r.value),
  headers: r.headers.map(([key, value]) => ({ key, value: b64(value) })),
});

describe('independent format decoder', () => {
  it('decodes the segment vector to its records.json', () => {
    const expected = JSON.parse(readFileSync(join(VECTORS, 'segment-v1', 'records.json'), 'utf8')) as { records: VectorRecord[] };
    const { records } = decodeSegment(readFileSync(join(VECTORS, 'segment-v1', 'sample.kseg')));
    expect(records.map(asVector)).toEqual(
      expected.records.map((r) => ({
        offset: r.offset,
        timestamp: r.timestamp,
        timestampType: r.timestampType,
        key: r.key,
        value: r.value,
        headers: r.headers,
      })),
    );
  });

  it('lists and verifies the backup vector', () => {
    const root = join(VECTORS, 'backup-v1');
    const expected = JSON.parse(readFileSync(join(root, 'records.json'), 'utf8')) as {
      partitions: Array<{ topic: string; partition: number; records: VectorRecord[] }>;
    };
    const backups = listBackupsOnDisk(root);
    expect(backups).toEqual([{ cluster: 'sample', backupId: '20261125T120000000Z' }]);
    const got = verifyBackupOnDisk(root, backups[0]!);
    for (const p of expected.partitions) expect(got.get(`${p.topic}/${p.partition}`)!.map(asVector)).toEqual(p.records);
  });

  it('lists and verifies both backups of the v2 vector, whose segments are shared through the cluster folder, with the gap records.json states', () => {
    const root = join(VECTORS, 'backup-v2');
    const expected = JSON.parse(readFileSync(join(root, 'records.json'), 'utf8')) as V2RecordsFile;
    const backups = listBackupsOnDisk(root);
    expect(backups.map((b) => b.backupId)).toEqual(expected.backups.map((b) => b.backupId));
    expect(new Set(backups.map((b) => b.cluster))).toEqual(new Set([expected.cluster]));
    for (const b of backups) {
      const partitions = new Map<string, PartitionOnDisk>();
      const got = verifyBackupOnDisk(root, b, partitions);
      const want = expected.backups.find((x) => x.backupId === b.backupId)!;
      for (const p of want.partitions) {
        expect(got.get(`${p.topic}/${p.partition}`)!.map(asVector)).toEqual(p.records);
        const info = partitions.get(`${p.topic}/${p.partition}`)!;
        expect({
          ...info,
          logStartOffset: String(info.logStartOffset),
          startOffset: String(info.startOffset),
          endOffset: String(info.endOffset),
          gaps: info.gaps.map(([s, e]) => ({ startOffset: String(s), endOffset: String(e) })),
        }).toEqual({
          logStartOffset: p.logStartOffset,
          startOffset: p.startOffset,
          endOffset: p.endOffset,
          basedOn: p.basedOn,
          gaps: p.gaps,
        });
      }
    }
  });

  it('its own JSON parser reads the vectors’ manifests as JSON.parse does, and refuses what FORMAT.md forbids', () => {
    for (const path of [
      join(VECTORS, 'backup-v1', 'sample', '20261125T120000000Z', 'manifest.json'),
      join(VECTORS, 'backup-v2', 'sample', '20261127T120000000Z', 'manifest.json'),
    ]) {
      const text = readFileSync(path, 'utf8');
      expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    }
    expect(parseStrictJson('{"a":[1,-2.5e3,"\\u00e9\\n",true,null,{}],"b":{}}')).toEqual({ a: [1, -2500, 'é\n', true, null, {}], b: {} });
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow(/duplicate key "a"/);
    expect(() => parseStrictJson('{"a":1,"\\u0061":2}')).toThrow(/duplicate key "a"/);
    expect(() => parseStrictJson('\ufeff{}')).toThrow(/unexpected character/);
    expect(() => parseStrictJson('[NaN]')).toThrow(/unexpected character/);
    expect(() => parseStrictJson('{"a":1,}')).toThrow(/expected a key/);
    expect(() => parseStrictJson('[1] 2')).toThrow(/text after the value/);
  });

  it('rejects a flipped byte, a truncated segment and a manifest that lies', () => {
    const seg = readFileSync(join(VECTORS, 'segment-v1', 'sample.kseg'));
    const flipped = Buffer.from(seg);
    flipped[flipped.length - 3]! ^= 0x40;
    expect(() => decodeSegment(flipped)).toThrow(/CRC-32|unused|length/);
    expect(() => decodeSegment(seg.subarray(0, seg.length - 1))).toThrow(/truncated payload/);
    const dir = mkdtempSync(join(tmpdir(), 'kbak-decoder-'));
    try {
      cpSync(join(VECTORS, 'backup-v1', 'sample'), join(dir, 'sample'), { recursive: true });
      const mpath = join(dir, 'sample', '20261125T120000000Z', 'manifest.json');
      const m = JSON.parse(readFileSync(mpath, 'utf8')) as { topics: Array<{ partitions: Array<{ segments: Array<{ records: number }>; records: number }> }> };
      m.topics[0]!.partitions[0]!.segments[0]!.records += 1;
      m.topics[0]!.partitions[0]!.records += 1;
      writeFileSync(mpath, JSON.stringify(m));
      expect(() => verifyBackupOnDisk(dir, { cluster: 'sample', backupId: '20261125T120000000Z' })).toThrow(/manifest says/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
