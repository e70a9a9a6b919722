/**
 * Pins backup format v1 (layout + manifest + segments) to the committed sample backup in
 * test/vectors/backup-v1. UPDATE_VECTORS=1 npx jest test/unit/backup-vectors --selectProjects unit
 * rewrites it.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { listBackups, openBackup } from '../../src/backup/catalog';
import { manifestKey, segmentKeyV1 } from '../../src/backup/layout';
import { manifestV1Schema as manifestSchema, type ManifestV1 as Manifest } from '../../src/backup/manifest';
import { IntegrityError, NotFoundError } from '../../src/errors';
import { framedSchemaId } from '../../src/schema/framing';
import { readSegment } from '../../src/segment/reader';
import { DiskStore } from '../../src/store/disk';
import { buildSampleBackup, recordToJson, SAMPLE_BACKUP_ID, SAMPLE_CLUSTER, type RecordsFile } from '../vectors/backup-v1/generate';

const dir = join(__dirname, '..', 'vectors', 'backup-v1');
const update = process.env.UPDATE_VECTORS === '1';

/** Every file of the committed backup tree, as store keys. */
function treeKeys(root: string): string[] {
  const base = join(root, SAMPLE_CLUSTER);
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** The reader rules of FORMAT.md "Repository layout" / "Manifest", applied to a manifest. */
function checkManifestRules(m: Manifest, backupId: string, cluster: string): void {
  expect(m.backupId).toBe(backupId);
  expect(m.cluster.name).toBe(cluster);
  let records = 0;
  let segments = 0;
  let rawBytes = 0;
  let storedBytes = 0;
  for (const t of m.topics) {
    const seen = new Set<number>();
    for (const p of t.partitions) {
      expect(p.partition).toBeLessThan(t.partitionCount);
      expect(seen.has(p.partition)).toBe(false);
      seen.add(p.partition);
      const start = BigInt(p.startOffset);
      const end = BigInt(p.endOffset);
      expect(BigInt(p.logStartOffset) <= start && start <= end).toBe(true);
      let prevLast = start - 1n;
      let n = 0;
      for (const s of p.segments) {
        const first = BigInt(s.firstOffset);
        const last = BigInt(s.lastOffset);
        expect(s.key).toBe(segmentKeyV1(t.name, p.partition, first));
        expect(first > prevLast).toBe(true); // non-overlapping, in offset order, ≥ startOffset
        expect(first <= last && last < end).toBe(true);
        expect(BigInt(s.lastOffset) - BigInt(s.firstOffset) + 1n >= BigInt(s.records)).toBe(true);
        expect(BigInt(s.minTimestamp) <= BigInt(s.maxTimestamp)).toBe(true);
        prevLast = last;
        n += s.records;
        rawBytes += s.rawBytes;
        storedBytes += s.storedBytes;
        segments++;
      }
      expect(p.records).toBe(n);
      records += n;
    }
  }
  expect(m.stats).toMatchObject({ records, segments, rawBytes, storedBytes });
}

describe('backup v1 test vectors', () => {
  let expected: RecordsFile;
  // With UPDATE_VECTORS=1 the tree is rewritten first and every assertion below still runs
  // against what was written, so a regeneration cannot commit vectors that break a rule.
  beforeAll(async () => {
    if (update) {
      const v = await buildSampleBackup();
      rmSync(join(dir, SAMPLE_CLUSTER), { recursive: true, force: true });
      // Written through DiskStore itself, so the tree is exactly what kbak would leave.
      const store = new DiskStore(dir);
      for (const [key, bytes] of v.files) await store.put(key, bytes);
      writeFileSync(join(dir, 'records.json'), v.recordsJson);
    }
    expected = JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8')) as RecordsFile;
  });
  const manifestPath = join(dir, ...manifestKey(SAMPLE_CLUSTER, SAMPLE_BACKUP_ID).split('/'));

  it('the committed files match the generator', async () => {
    const v = await buildSampleBackup();
    expect(treeKeys(dir)).toEqual([...v.files.keys()].sort());
    for (const [key, bytes] of v.files) {
      expect({ key, equal: readFileSync(join(dir, ...key.split('/'))).equals(bytes) }).toEqual({ key, equal: true });
    }
    expect(readFileSync(join(dir, 'records.json'), 'utf8')).toBe(v.recordsJson);
  });

  it('manifest.json validates as is: no field unknown to the schema, all rules hold', () => {
    const raw = JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown;
    const parsed = manifestSchema.parse(raw);
    // zod strips unknown keys, so equality means the file has none.
    expect(parsed).toEqual(raw);
    checkManifestRules(parsed, SAMPLE_BACKUP_ID, SAMPLE_CLUSTER);
  });

  it('covers what FORMAT.md promises', () => {
    const recs = expected.partitions.flatMap((p) => p.records);
    const buf = (b: string | null): Buffer | null => (b === null ? null : Buffer.from(b, 'base64'));
    expect(recs.some((r) => r.key === null)).toBe(true);
    expect(recs.some((r) => r.value === null)).toBe(true);
    expect(recs.some((r) => r.value === '')).toBe(true);
    expect(recs.some((r) => new Set(r.headers.map((h) => h.key)).size < r.headers.length)).toBe(true);
    expect(recs.some((r) => r.headers.some((h) => h.key === 'traceparent'))).toBe(true);
    expect(recs.filter((r) => framedSchemaId(buf(r.value)) === 7)).toHaveLength(1);
    expect(recs.filter((r) => framedSchemaId(buf(r.value)) === 99)).toHaveLength(1);
    const p0 = expected.partitions.find((p) => p.partition === 0)!.records.map((r) => r.offset);
    expect(p0).toEqual(['0', '1', '2', '5']);
  });

  it('openBackup(latest) finds the sample, and records() yields records.json', async () => {
    const store = new DiskStore(dir);
    expect(await listBackups(store)).toEqual([{ cluster: SAMPLE_CLUSTER, backupId: SAMPLE_BACKUP_ID }]);
    const backup = await openBackup(store, 'latest');
    expect(backup.ref).toEqual({ cluster: SAMPLE_CLUSTER, backupId: SAMPLE_BACKUP_ID });
    const got: RecordsFile['partitions'] = [];
    for (const t of backup.manifest.topics) {
      for (const p of t.partitions) {
        const records = [];
        for await (const r of backup.records(t.name, p.partition)) records.push(recordToJson(r));
        got.push({ topic: t.name, partition: p.partition, records });
      }
    }
    expect(got).toEqual(expected.partitions);
  });

  it('every segment matches its manifest SHA-256 and record count', async () => {
    const store = new DiskStore(dir);
    const backup = await openBackup(store, SAMPLE_BACKUP_ID);
    const prefix = `${SAMPLE_CLUSTER}/${SAMPLE_BACKUP_ID}`;
    let checked = 0;
    for (const t of backup.manifest.topics) {
      for (const p of t.partitions) {
        for (const s of p.segments) {
          const key = `${prefix}/${s.key}`;
          expect(
            createHash('sha256')
              .update(await store.get(key))
              .digest('hex'),
          ).toBe(s.sha256);
          const it = readSegment(store.read(key), { name: key, expectedSha256: s.sha256, expectedRecords: s.records });
          const offsets: bigint[] = [];
          let r = await it.next();
          while (!r.done) {
            offsets.push(r.value.offset);
            r = await it.next();
          }
          expect(r.value).toMatchObject({ records: s.records, sha256: s.sha256, bytes: s.storedBytes });
          expect(offsets[0]?.toString()).toBe(s.firstOffset);
          expect(offsets[offsets.length - 1]?.toString()).toBe(s.lastOffset);
          checked++;
        }
      }
    }
    expect(checked).toBe(backup.manifest.stats.segments);
  });

  describe('on a damaged copy', () => {
    let copy: string;
    beforeEach(() => {
      copy = mkdtempSync(join(tmpdir(), 'kbak-backup-v1-'));
      cpSync(join(dir, SAMPLE_CLUSTER), join(copy, SAMPLE_CLUSTER), { recursive: true });
    });
    afterEach(() => rmSync(copy, { recursive: true, force: true }));

    it('a flipped byte in a segment fails the read', async () => {
      const backup = await openBackup(new DiskStore(copy), 'latest');
      const seg = backup.manifest.topics[0]!.partitions[1]!.segments[0]!;
      const file = join(copy, SAMPLE_CLUSTER, SAMPLE_BACKUP_ID, ...seg.key.split('/'));
      const bytes = readFileSync(file);
      bytes[bytes.length - 1]! ^= 0x01;
      writeFileSync(file, bytes);
      const drain = async (): Promise<void> => {
        for await (const _r of backup.records('orders', 1)) void _r;
      };
      await expect(drain()).rejects.toBeInstanceOf(IntegrityError);
    });

    it('without manifest.json the backup does not exist', async () => {
      rmSync(join(copy, ...manifestKey(SAMPLE_CLUSTER, SAMPLE_BACKUP_ID).split('/')));
      const store = new DiskStore(copy);
      expect(await listBackups(store)).toEqual([]);
      await expect(openBackup(store, 'latest')).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
