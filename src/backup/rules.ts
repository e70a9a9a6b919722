/**
 * The manifest rules of FORMAT.md "What a reader verifies" that need no segment bytes:
 * key components, partition offset ranges, segment order and overlap, record and byte
 * totals, gaps. Pure: returns the first violation as text (or null) so that both
 * openBackup (refuses) and verify (reports) use the same rules.
 */
import { resolveSegmentKey } from './keys';
import type { Manifest } from './manifest';

function check(m: Manifest, ref: { cluster: string; backupId: string }): string | null {
  if (m.backupId !== ref.backupId) return `backupId is ${m.backupId} but the manifest lies under ${ref.backupId}`;
  if (m.cluster.name !== ref.cluster) return `cluster.name is ${m.cluster.name} but the manifest lies under ${ref.cluster}`;
  const topics = new Set<string>();
  const totals = { records: 0, segments: 0, rawBytes: 0, storedBytes: 0 };
  for (const t of m.topics) {
    if (topics.has(t.name)) return `topic ${t.name} is listed twice`;
    topics.add(t.name);
    const seen = new Set<number>();
    for (const p of t.partitions) {
      const where = `${t.name}/${p.partition}`;
      if (seen.has(p.partition)) return `${where} is listed twice`;
      seen.add(p.partition);
      if (p.partition >= t.partitionCount) return `${where}: partition is not below partitionCount ${t.partitionCount}`;
      const logStart = BigInt(p.logStartOffset);
      const start = BigInt(p.startOffset);
      const end = BigInt(p.endOffset);
      if (start > end) return `${where}: startOffset ${start} is above endOffset ${end}`;
      // v2 backups keep segments the source's retention has since deleted: only v1 pins the log start.
      if (m.formatVersion === 1 && logStart > start) return `${where}: logStartOffset ${logStart} is above startOffset ${start}`;
      if (logStart > end) return `${where}: logStartOffset ${logStart} is above endOffset ${end}`;
      let prevGapEnd = start;
      for (const g of p.gaps) {
        const gs = BigInt(g.startOffset);
        const ge = BigInt(g.endOffset);
        if (gs < prevGapEnd || ge <= gs || ge > end) return `${where}: gap [${gs}, ${ge}) is out of order, empty or outside [${start}, ${end})`;
        prevGapEnd = ge;
      }
      let prevLast = start - 1n;
      let records = 0;
      for (const [i, s] of p.segments.entries()) {
        const first = BigInt(s.firstOffset);
        const last = BigInt(s.lastOffset);
        const at = `${where} segment ${i} (${s.key})`;
        try {
          resolveSegmentKey(ref, m.formatVersion, s.key);
        } catch (err) {
          return (err as Error).message;
        }
        if (first <= prevLast) return `${at}: firstOffset ${first} overlaps the previous segment or lies below startOffset ${start}`;
        if (last < first) return `${at}: lastOffset ${last} is below firstOffset ${first}`;
        if (last >= end) return `${at}: lastOffset ${last} is not below endOffset ${end}`;
        if (BigInt(s.records) > last - first + 1n) return `${at}: ${s.records} records cannot fit in offsets ${first}..${last}`;
        if (BigInt(s.minTimestamp) > BigInt(s.maxTimestamp)) return `${at}: minTimestamp is above maxTimestamp`;
        for (const g of p.gaps) {
          if (first < BigInt(g.endOffset) && last >= BigInt(g.startOffset)) return `${at}: overlaps the gap [${g.startOffset}, ${g.endOffset})`;
        }
        prevLast = last;
        records += s.records;
        totals.segments++;
        totals.rawBytes += s.rawBytes;
        totals.storedBytes += s.storedBytes;
      }
      if (records !== p.records) return `${where}: segments hold ${records} records but the partition says ${p.records}`;
      totals.records += records;
    }
  }
  for (const k of ['records', 'segments', 'rawBytes', 'storedBytes'] as const) {
    if (m.stats[k] !== totals[k]) return `stats.${k} is ${m.stats[k]} but the segments add up to ${totals[k]}`;
  }
  return null;
}

/** The first rule the manifest breaks, or null. */
export function manifestRuleViolation(m: Manifest, ref: { cluster: string; backupId: string }): string | null {
  return check(m, ref);
}
