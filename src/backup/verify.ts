/**
 * `kbak verify`: everything a reader must check (FORMAT.md "What a reader verifies"),
 * reported instead of thrown: the manifest (JSON, types, partition rules), and per segment
 * presence, size, SHA-256, record count, first/last offsets and timestamp range, decoding
 * every record. `quick` checks presence and sizes only. A segment shared by several backups
 * is read once per run (the cache), since its bytes cannot differ between them.
 */
import { loadBackup, type BackupRef } from './catalog';
import { manifestKey } from './layout';
import type { SegmentEntry } from './manifest';
import { scanRecordAt } from '../segment/format';
import { readSegmentRawBlocks } from '../segment/reader';
import type { ObjectStore } from '../store/store';

export interface VerifyResult {
  cluster: string;
  backupId: string;
  ok: boolean;
  segments: number;
  records: number;
  bytes: number;
  /** The first bad object (manifest or segment key) and what is wrong with it. */
  problem: { object: string; message: string } | null;
}

/** Segment store key → the error found in it, or null when it verified. */
export type VerifyCache = Map<string, string | null>;

async function checkSegment(store: ObjectStore, key: string, seg: SegmentEntry, quick: boolean): Promise<string | null> {
  const size = await store.size(key);
  if (size === null) return 'missing';
  if (size !== seg.storedBytes) return `size is ${size} bytes, the manifest says ${seg.storedBytes}`;
  if (quick) return null;
  try {
    // Raw blocks, each record checked in place (scanRecordAt): no object per record or
    // header, so a legal record of millions of headers costs its own bytes, not 12 times them.
    const gen = readSegmentRawBlocks(store.read(key), { name: key, expectedSha256: seg.sha256, expectedRecords: seg.records, expectedRawBytes: seg.rawBytes });
    let first: bigint | null = null;
    let last: bigint | null = null;
    let min: bigint | null = null;
    let max: bigint | null = null;
    for await (const b of gen) {
      let p = 0;
      for (let i = 0; i < b.count; i++) {
        const r = scanRecordAt(b.body, p, b.body.length, b.firstIndex + i, b.ctx, b.basePos);
        first ??= r.offset;
        last = r.offset;
        if (min === null || r.timestamp < min) min = r.timestamp;
        if (max === null || r.timestamp > max) max = r.timestamp;
        p = r.next;
      }
    }
    if (first?.toString() !== seg.firstOffset || last?.toString() !== seg.lastOffset) {
      return `holds offsets ${first}..${last}, the manifest says ${seg.firstOffset}..${seg.lastOffset}`;
    }
    if (min?.toString() !== seg.minTimestamp || max?.toString() !== seg.maxTimestamp) {
      return `holds timestamps ${min}..${max}, the manifest says ${seg.minTimestamp}..${seg.maxTimestamp}`;
    }
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function verifyBackup(store: ObjectStore, ref: BackupRef, opts: { quick: boolean; cache?: VerifyCache }): Promise<VerifyResult> {
  const result: VerifyResult = { cluster: ref.cluster, backupId: ref.backupId, ok: false, segments: 0, records: 0, bytes: 0, problem: null };
  let backup;
  try {
    backup = await loadBackup(store, ref);
  } catch (err) {
    result.problem = { object: manifestKey(ref.cluster, ref.backupId), message: (err as Error).message };
    return result;
  }
  const cache = opts.cache ?? new Map<string, string | null>();
  for (const t of backup.manifest.topics) {
    for (const p of t.partitions) {
      for (const seg of p.segments) {
        const key = backup.storeKey(seg);
        const cacheKey = `${opts.quick ? 'q' : 'f'}:${key}:${seg.sha256}`;
        let problem = cache.get(cacheKey);
        if (problem === undefined) {
          problem = await checkSegment(store, key, seg, opts.quick);
          cache.set(cacheKey, problem);
        }
        if (problem !== null) {
          result.problem = { object: key, message: `segment of ${t.name}/${p.partition}: ${problem}` };
          return result;
        }
        result.segments++;
        result.records += seg.records;
        result.bytes += seg.storedBytes;
      }
    }
  }
  result.ok = true;
  return result;
}
