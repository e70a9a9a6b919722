/**
 * Where a partition ends as of a point in time: Kafka's ListOffsets by timestamp, asked of
 * a backup instead of a broker. The answer is the first offset whose record timestamp is at
 * or after TIME; the partition as of TIME is every record before it. Timestamps need not
 * grow with offsets (CreateTime is the producer's), so this is a cut by offset, not a
 * filter: a later record with a smaller timestamp is not part of the recovered log.
 *
 * The manifest's segment `maxTimestamp` says which segments can hold the answer, so at most
 * one segment is read: segments are in offset order, none before the first whose largest
 * timestamp reaches TIME holds a record at or after it, and that one holds at least one
 * (somewhere: its smallest timestamp says nothing about where). Reading that segment is
 * linear in its bytes with one block in memory (Backup.rawBlocks, every block's CRC checked).
 */
import type { Backup } from '../backup/catalog';
import { IntegrityError, NotFoundError } from '../errors';
import { describeTimestamp } from '../model/utc-time';
import { SegmentRecordWalker } from '../segment/record-walker';

/**
 * The first offset in the backup's `topic`/`partition` whose record timestamp is ≥ `atMs`,
 * or null when no record of it is (the whole partition lies before TIME). Throws
 * IntegrityError when the segment the manifest says holds such a record does not.
 */
export async function firstOffsetAtOrAfter(backup: Backup, topic: string, partition: number, atMs: bigint): Promise<bigint | null> {
  const seg = backup.partition(topic, partition).segments.find((s) => BigInt(s.maxTimestamp) >= atMs);
  if (seg === undefined) return null;
  const last = BigInt(seg.lastOffset);
  // The timestamp bound as the walker's 32-bit halves: no BigInt per record.
  const atHigh = Number(BigInt.asIntN(32, atMs >> 32n));
  const atLow = Number(BigInt.asUintN(32, atMs));
  const walker = new SegmentRecordWalker();
  for await (const blk of backup.rawBlocks(topic, partition, BigInt(seg.firstOffset))) {
    let p = 0;
    for (let i = 0; i < blk.count; i++) {
      if (!walker.walk(blk.body, p, blk.body.length)) throw walker.error(blk.ctx, blk.firstIndex + i, blk.basePos);
      const high = walker.timestampHigh;
      if (high > atHigh || (high === atHigh && walker.timestampLow >>> 0 >= atLow)) return walker.offset();
      p = walker.next;
    }
    // The segment's last block: stop before the next segment is opened.
    if (blk.lastOffset >= last) break;
  }
  throw new IntegrityError(
    `segment ${backup.storeKey(seg)} of ${topic}/${partition} holds no record at or after ${describeTimestamp(atMs)}, though the manifest of ${backup.ref.cluster}/${backup.ref.backupId} says its largest timestamp is ${seg.maxTimestamp}`,
    'the backup is corrupt; run kbak verify for details',
  );
}

/**
 * Every partition of `topic` in the backup → its exclusive end offset as of `atMs`: the
 * first offset at or after it (firstOffsetAtOrAfter), or the partition's `endOffset` when
 * every record lies before it. One partition at a time: at most one segment each is read.
 */
export async function endOffsetsAt(backup: Backup, topic: string, atMs: bigint): Promise<Map<number, bigint>> {
  const t = backup.manifest.topics.find((x) => x.name === topic);
  if (t === undefined) throw new NotFoundError(`backup ${backup.ref.backupId} has no topic ${topic}`);
  const ends = new Map<number, bigint>();
  for (const p of t.partitions) ends.set(p.partition, (await firstOffsetAtOrAfter(backup, topic, p.partition, atMs)) ?? BigInt(p.endOffset));
  return ends;
}
