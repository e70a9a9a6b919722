/**
 * Crafted manifests for the hostile-input tests of issue 15 (manifests and output), built
 * deterministically from the v2 test vector. The unit tests use them small; the figures in
 * RELIABILITY.md ("Hostile input, round 2") come from the same builders at full size, run
 * from the repository root after compiling this file alone:
 *   npx tsc --outDir /tmp/hm --module commonjs --target es2022 --types node test/support/hostile-manifests.ts
 *   node /tmp/hm/hostile-manifests.js <case> <dir> [n]
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Compiled elsewhere (above), the vector is found from the repository root.
const VECTOR = [join(__dirname, '..', 'vectors', 'backup-v2'), join(process.cwd(), 'test', 'vectors', 'backup-v2')].find((d) => existsSync(d))!;
export const CLUSTER = 'sample';
export const FULL = '20261126T120000000Z';
export const INCREMENTAL = '20261127T120000000Z';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- crafted manifests are edited freely
export type Forged = Record<string, any>;

/** A fresh copy of one of the vector's manifests, as a plain object. */
export function vectorManifest(backupId: string = FULL): Forged {
  return JSON.parse(readFileSync(join(VECTOR, CLUSTER, backupId, 'manifest.json'), 'utf8')) as Forged;
}

/** A copy of the whole v2 vector store in `dir`. */
export function copyVector(dir: string): string {
  cpSync(VECTOR, dir, { recursive: true });
  return dir;
}

/** Writes `manifest` (an object, or text as is) as `<cluster>/<backupId>/manifest.json` under `root`. */
export function putManifest(root: string, cluster: string, backupId: string, manifest: Forged | string): string {
  const dir = join(root, cluster, backupId);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'manifest.json');
  writeFileSync(path, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return path;
}

const isoOf = (backupId: string): string =>
  `${backupId.slice(0, 4)}-${backupId.slice(4, 6)}-${backupId.slice(6, 8)}T${backupId.slice(9, 11)}:${backupId.slice(11, 13)}:${backupId.slice(13, 15)}.${backupId.slice(15, 18)}Z`;

/** A valid manifest with no topics (nothing to read: it passes every segment check at once). */
export function zeroTopicManifest(cluster: string, backupId: string): Forged {
  const m = vectorManifest(FULL);
  Object.assign(m, {
    incremental: false,
    backupId,
    cluster: { id: m.cluster.id, name: cluster },
    startedAt: isoOf(backupId),
    completedAt: isoOf(backupId),
    topics: [],
    consumerGroups: [],
  });
  Object.assign(m.stats, { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 });
  return m;
}

/**
 * Defect 4: one partition with `n` one-record segments and `n` gaps between them (segment
 * at offset 2i, gap [2i+1, 2i+2)), valid in every rule, so a reader checks all of it. A
 * segment-by-gap nested loop costs n²; at n = 16 384 the text is about 5 MB.
 */
export function gapsAndSegmentsManifest(n: number): Forged {
  const m = vectorManifest(INCREMENTAL);
  const segments = [];
  const gaps = [];
  for (let i = 0; i < n; i++) {
    const off = 2 * i;
    segments.push({
      key: `segments/orders/0/${String(off).padStart(20, '0')}-${INCREMENTAL}-00000002.kseg`,
      firstOffset: String(off),
      lastOffset: String(off),
      records: 1,
      minTimestamp: '1',
      maxTimestamp: '1',
      rawBytes: 40,
      storedBytes: 60,
      sha256: 'a'.repeat(64),
    });
    gaps.push({ startOffset: String(off + 1), endOffset: String(off + 2) });
  }
  const p = { partition: 0, logStartOffset: '0', startOffset: '0', endOffset: String(2 * n), records: n, segments, basedOn: FULL, gaps };
  m.topics = [{ ...m.topics[0], partitions: [p] }];
  Object.assign(m.stats, { records: n, rawBytes: 40 * n, storedBytes: 60 * n, segments: n });
  return m;
}

/** Defect 7: `[[[…]]]`, `bytes` long: JSON.parse builds one array per two bytes. */
export function nestedArraysText(bytes: number): string {
  const half = Math.floor(bytes / 2);
  return `${'['.repeat(half)}${']'.repeat(half)}`;
}

/**
 * Defect 7, the other shapes a pre-scan must bound: a valid manifest padded with an unknown
 * field of tiny containers (`[[],[],…]` or `[{},{},…]`), or with `topics` full of empty
 * objects (zod reported six issues per element), to about `bytes`.
 */
export type PaddingShape =
  'arrays' | 'objects' | 'empty-topics' | 'fresh-keys' | 'limit-arrays' | 'limit-objects' | 'limit-mixed' | 'limit-keys' | 'strings' | 'numbers';

/**
 * The `limit-*` shapes are as dense as kbak's pre-scan lets through (one object or array per
 * 16 bytes, one object, array or member per 8): they give the memory multiple RELIABILITY.md states. `strings` and
 * `numbers` are the densest scalars (not counted by the scan).
 */
export function paddedManifestText(bytes: number, shape: PaddingShape): string {
  const m = zeroTopicManifest(CLUSTER, FULL);
  const head = JSON.stringify({ ...m, topics: '@T@', padding: '@P@' });
  const room = bytes - head.length;
  const fill = (unit: string, last: string): string => `[${unit.repeat(Math.max(0, Math.floor(room / unit.length) - 1))}${last}]`;
  if (shape === 'empty-topics') return head.replace('"@T@"', fill('{},', '{}')).replace('"@P@"', 'null');
  if (shape === 'fresh-keys') {
    // Objects of 100 keys no other object uses: 64 MiB of them cost kbak 3.9 GB before the
    // scan bounded the vocabulary.
    const objects: string[] = [];
    let used = 0;
    for (let o = 0; used < room - 2000; o++) {
      const text = `{${Array.from({ length: 100 }, (_, k) => `"${(o * 100 + k).toString(36).padStart(4, '0')}":0`).join(',')}}`;
      objects.push(text);
      used += text.length + 1;
    }
    return head.replace('"@T@"', '[]').replace('"@P@"', `[${objects.join(',')}]`);
  }
  if (shape === 'limit-keys') {
    // Objects of 10 members in ever new orders (V8 builds a hidden class per new key
    // sequence) over 900 keys (with the manifest's own, just under the 1 000 admitted), as
    // dense as the scan admits.
    const objects: string[] = [];
    let used = 0;
    for (let o = 0; used < room - 200; o++) {
      const members = Array.from({ length: 10 }, (_, j) => `"k${String((o * 7 + j * (13 + (o % 17))) % 900).padStart(3, '0')}":0`);
      const text = `{${[...new Set(members)].join(',')}}`;
      objects.push(text);
      used += text.length + 1;
    }
    return head.replace('"@T@"', '[]').replace('"@P@"', `[${objects.join(',')}]`);
  }
  // 16 bytes per object or array (one object, array or member per 8 bytes with its member).
  const unit = {
    arrays: '[],',
    objects: '{},',
    'limit-arrays': '[1.5]          ,',
    'limit-objects': '{"a":0}        ,',
    'limit-mixed': '[3e9,"xy"]     ,',
    strings: '"ab",',
    numbers: '1.5,',
  }[shape];
  return head.replace('"@T@"', '[]').replace('"@P@"', fill(unit, unit.slice(0, -1)));
}

/** A manifest kbak could write, of about `bytes`: one topic, 100 partitions, as many 1-record segments as fit. */
export function largeValidManifest(bytes: number): Forged {
  const m = vectorManifest(FULL);
  const perSegment = 480; // as kbak writes it, two-space indented
  const n = Math.floor(bytes / perSegment);
  const partitions = [];
  for (let p = 0; p < 100; p++) {
    const segments = [];
    const count = Math.floor(n / 100);
    for (let i = 0; i < count; i++) {
      segments.push({
        key: `segments/orders/${p}/${String(i).padStart(20, '0')}-${FULL}-00000001.kseg`,
        firstOffset: String(i),
        lastOffset: String(i),
        records: 1,
        minTimestamp: '1795690800000',
        maxTimestamp: '1795690800000',
        rawBytes: 100,
        storedBytes: 136,
        sha256: (p * 1_000_000 + i).toString(16).padStart(64, '0'),
      });
    }
    partitions.push({ partition: p, logStartOffset: '0', startOffset: '0', endOffset: String(count), records: count, segments, basedOn: null, gaps: [] });
  }
  m.topics = [{ ...m.topics[0], partitionCount: 100, partitions }];
  const all = partitions.flatMap((p) => p.segments);
  Object.assign(m.stats, { records: all.length, rawBytes: 100 * all.length, storedBytes: 136 * all.length, segments: all.length });
  return m;
}

/** Defect 8: a record timestamp a JavaScript Date cannot hold (legal: any int64). */
export function farTimestampManifest(): Forged {
  const m = vectorManifest(FULL);
  const seg = m.topics[0].partitions[1].segments[0];
  seg.minTimestamp = '8640000000000001';
  seg.maxTimestamp = '9223372036854775807';
  return m;
}

/** Defect 8: `n` small valid backups of one cluster (IDs one millisecond apart). */
export function manyBackups(root: string, n: number): void {
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    const iso = new Date(base + i).toISOString();
    const id = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}Z`;
    putManifest(root, CLUSTER, id, zeroTopicManifest(CLUSTER, id));
  }
}

/** A line an attacker would like a terminal to show as kbak's own. */
export const FORGED_OK = 'ok      sample/20261126T120000000Z: 4 segments, 8 records, 1.1 KiB';

/**
 * Defect 6: a store whose stored strings try to forge output lines: a cluster folder
 * `evil\nok …` with a valid zero-topic manifest, a startedAt with a newline, a backup ID
 * with a newline (refused, but the refusal quotes it), a topic-config value, a consumer
 * group and a schema subject with newlines and bidi overrides.
 */
export function forgedLinesStore(root: string): { evilCluster: string } {
  // No "/" in a folder name: the forged line names cluster prod instead.
  const evilCluster = 'evil\nok      prod\u202e';
  putManifest(root, evilCluster, FULL, zeroTopicManifest(evilCluster, FULL));
  const started = zeroTopicManifest('forged', FULL);
  started.startedAt = `2026-11-26T12:00:00.000Z\n${FULL}  2026-11-26 12:00:00Z  sample  full  orders  8  1.1 KiB  0 B`;
  putManifest(root, 'forged', FULL, started);
  const id = zeroTopicManifest('forged', INCREMENTAL);
  id.backupId = `${INCREMENTAL}\n${FORGED_OK}`;
  putManifest(root, 'forged', INCREMENTAL, id);
  const m = vectorManifest(FULL);
  m.cluster.name = 'names';
  m.topics[0].configs = { 'cleanup.policy': `delete\n${FORGED_OK}` };
  m.consumerGroups = [{ groupId: `g\n${FORGED_OK}\u2066`, offsets: [{ topic: 'orders', partition: 0, offset: '3', metadata: '\u202e' }] }];
  m.subjects = [{ subject: `orders-value\n${FORGED_OK}`, compatibility: 'BACKWARD\u0085' }];
  m.schemas[0].registrations = [{ subject: `orders-value\n${FORGED_OK}`, version: 1 }];
  putManifest(root, 'names', FULL, m);
  cpSync(join(VECTOR, CLUSTER, 'segments'), join(root, 'names', 'segments'), { recursive: true });
  return { evilCluster };
}

if (require.main === module) {
  const [what, dir, arg] = process.argv.slice(2);
  if (!what || !dir)
    throw new Error(
      'usage: hostile-manifests.js <case> <dir> [n]; cases: gaps, nested, padded-arrays, padded-objects, empty-topics, fresh-keys, limit-arrays, limit-objects, limit-mixed, limit-keys, strings, numbers, large-valid, far-timestamp, many, forged, started-x',
    );
  mkdirSync(dir, { recursive: true });
  const n = Number(arg ?? 0);
  const MiB64 = 64 * 1024 * 1024;
  if (what === 'gaps') putManifest(dir, CLUSTER, INCREMENTAL, gapsAndSegmentsManifest(n || 16_384));
  else if (what === 'nested') putManifest(dir, CLUSTER, FULL, nestedArraysText(n || MiB64));
  else if (what === 'padded-arrays') putManifest(dir, CLUSTER, FULL, paddedManifestText(n || MiB64, 'arrays'));
  else if (what === 'padded-objects') putManifest(dir, CLUSTER, FULL, paddedManifestText(n || MiB64, 'objects'));
  else if (['empty-topics', 'fresh-keys', 'limit-arrays', 'limit-objects', 'limit-mixed', 'limit-keys', 'strings', 'numbers'].includes(what))
    putManifest(dir, CLUSTER, FULL, paddedManifestText(n || MiB64, what as PaddingShape));
  else if (what === 'large-valid') putManifest(dir, CLUSTER, FULL, `${JSON.stringify(largeValidManifest(n || MiB64 - 1_000_000), null, 2)}\n`);
  else if (what === 'far-timestamp') {
    copyVector(dir);
    putManifest(dir, CLUSTER, FULL, farTimestampManifest());
  } else if (what === 'many') manyBackups(dir, n || 140_000);
  else if (what === 'forged') forgedLinesStore(dir);
  else if (what === 'started-x') {
    copyVector(dir);
    const m = zeroTopicManifest(CLUSTER, '20261128T120000000Z');
    m.startedAt = 'x';
    putManifest(dir, CLUSTER, '20261128T120000000Z', m);
  } else throw new Error(`unknown case ${what}`);
}
