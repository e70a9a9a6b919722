/**
 * Pins backup format v2 to test/vectors/backup-v2: two backups sharing segments through the
 * cluster's pool, a gap, v2 key resolution. UPDATE_VECTORS=1 npx jest
 * test/unit/backup-v2-vectors --selectProjects unit rewrites the vector.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { listBackups, openBackup } from '../../src/backup/catalog';
import { manifestKey } from '../../src/backup/layout';
import { manifestSchema } from '../../src/backup/manifest';
import { verifyBackup } from '../../src/backup/verify';
import { IntegrityError } from '../../src/errors';
import { DiskStore } from '../../src/store/disk';
import { recordToJson } from '../vectors/backup-v1/generate';
import { buildV2Vector, V2_CLUSTER, V2_FULL, V2_INCREMENTAL, type V2RecordsFile } from '../vectors/backup-v2/generate';

const dir = join(__dirname, '..', 'vectors', 'backup-v2');

function treeKeys(root: string): string[] {
  const base = join(root, V2_CLUSTER);
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

describe('backup v2 test vector', () => {
  if (process.env.UPDATE_VECTORS === '1') {
    it('rewrites the vector (UPDATE_VECTORS=1)', async () => {
      const v = await buildV2Vector();
      rmSync(join(dir, V2_CLUSTER), { recursive: true, force: true });
      const store = new DiskStore(dir);
      for (const [key, bytes] of v.files) await store.put(key, bytes);
      writeFileSync(join(dir, 'records.json'), v.recordsJson);
    });
    return;
  }

  it('the committed files match the generator, and the manifests have no unknown field', async () => {
    const v = await buildV2Vector();
    expect(treeKeys(dir)).toEqual([...v.files.keys()].sort());
    for (const [key, bytes] of v.files) expect({ key, equal: readFileSync(join(dir, ...key.split('/'))).equals(bytes) }).toEqual({ key, equal: true });
    expect(readFileSync(join(dir, 'records.json'), 'utf8')).toBe(v.recordsJson);
    for (const id of [V2_FULL, V2_INCREMENTAL]) {
      const raw = JSON.parse(readFileSync(join(dir, ...manifestKey(V2_CLUSTER, id).split('/')), 'utf8')) as unknown;
      expect(manifestSchema.parse(raw)).toEqual(raw);
    }
  });

  it('each backup reads to exactly its records.json entry, and verifies', async () => {
    const expected = JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8')) as V2RecordsFile;
    const store = new DiskStore(dir);
    expect((await listBackups(store)).map((b) => b.backupId)).toEqual([V2_FULL, V2_INCREMENTAL]);
    for (const e of expected.backups) {
      const b = await openBackup(store, e.backupId);
      for (const p of e.partitions) {
        const got = [];
        for await (const r of b.records(p.topic, p.partition)) got.push(recordToJson(r));
        expect(got).toEqual(p.records);
      }
      expect(await verifyBackup(store, b.ref, { quick: false })).toMatchObject({ ok: true, problem: null });
    }
  });

  it('records.json states each partition’s range, basedOn and gaps as the manifests do, and no record lies in a gap', async () => {
    const expected = JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8')) as V2RecordsFile;
    expect({ cluster: expected.cluster, writer: expected.writer }).toEqual({ cluster: V2_CLUSTER, writer: { blockBytes: 256, zstdLevel: 3 } });
    const store = new DiskStore(dir);
    let gaps = 0;
    for (const e of expected.backups) {
      const b = await openBackup(store, e.backupId);
      expect(b.manifest.incremental).toBe(e.incremental);
      for (const p of e.partitions) {
        const got = b.partition(p.topic, p.partition);
        expect({ logStartOffset: got.logStartOffset, startOffset: got.startOffset, endOffset: got.endOffset, basedOn: got.basedOn, gaps: got.gaps }).toEqual({
          logStartOffset: p.logStartOffset,
          startOffset: p.startOffset,
          endOffset: p.endOffset,
          basedOn: p.basedOn,
          gaps: p.gaps,
        });
        for (const g of p.gaps) {
          gaps++;
          expect(p.records.filter((r) => BigInt(r.offset) >= BigInt(g.startOffset) && BigInt(r.offset) < BigInt(g.endOffset))).toEqual([]);
          // Records on both sides of the gap: a reader must skip it, not stop at it.
          expect(p.records.some((r) => BigInt(r.offset) < BigInt(g.startOffset)) && p.records.some((r) => BigInt(r.offset) >= BigInt(g.endOffset))).toBe(true);
        }
      }
    }
    expect(gaps).toBe(1);
  });

  it('the incremental backup names the full backup’s segments (shared, not copied) and the gap', async () => {
    const store = new DiskStore(dir);
    const full = await openBackup(store, V2_FULL);
    const inc = await openBackup(store, V2_INCREMENTAL);
    const keys = (b: typeof full): string[] => b.manifest.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => b.storeKey(s)));
    expect(keys(full).every((k) => keys(inc).includes(k))).toBe(true);
    expect(keys(inc).every((k) => k.startsWith(`${V2_CLUSTER}/segments/orders/`))).toBe(true);
    expect(inc.partition('orders', 1).gaps).toEqual([{ startOffset: '2', endOffset: '4' }]);
    expect(inc.manifest.formatVersion).toBe(2);
  });

  it('refuses a manifest naming a key outside the cluster folder, or breaking the gap rules', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kbak-v2-'));
    cpSync(dir, root, { recursive: true });
    const path = join(root, ...manifestKey(V2_CLUSTER, V2_INCREMENTAL).split('/'));
    const original = readFileSync(path, 'utf8');
    const edit = (
      f: (m: { topics: Array<{ partitions: Array<{ segments: Array<{ key: string }>; gaps: Array<{ startOffset: string }> }> }> }) => void,
    ): void => {
      const m = JSON.parse(original);
      f(m);
      writeFileSync(path, JSON.stringify(m));
    };
    edit((m) => (m.topics[0]!.partitions[0]!.segments[0]!.key = '../other/segments/x.kseg'));
    await expect(openBackup(new DiskStore(root), V2_INCREMENTAL)).rejects.toThrow(/not a safe key/);
    edit((m) => (m.topics[0]!.partitions[0]!.segments[0]!.key = 'segments\\orders\\0\\x.kseg'));
    await expect(openBackup(new DiskStore(root), V2_INCREMENTAL)).rejects.toThrow(IntegrityError);
    edit((m) => (m.topics[0]!.partitions[1]!.gaps[0]!.startOffset = '1'));
    await expect(openBackup(new DiskStore(root), V2_INCREMENTAL)).rejects.toThrow(/overlaps the gap/);
    rmSync(root, { recursive: true, force: true });
  });
});
