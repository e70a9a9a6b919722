/**
 * The consistent cut: per partition, the offset range [start, end) a dump reads. `end` is
 * the last stable offset when the dump began, so records written later (and transactions
 * still open then) are outside the backup. Pure: offsets are looked up by the caller.
 */
import type { PartitionOffsets } from '../model/offsets';

/** A partition's offsets (`high` is the last stable offset) and where the time window starts and ends. */
export interface CutOffsets extends PartitionOffsets {
  /** First offset with timestamp ≥ --since, or null without --since (-1 from the broker: none). */
  sinceOffset: bigint | null;
  /** First offset with timestamp ≥ --until, or null without --until. */
  untilOffset: bigint | null;
}

export interface PartitionRange {
  partition: number;
  logStartOffset: bigint;
  start: bigint;
  end: bigint;
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export function planRange(o: CutOffsets, maxRecords: number | null): PartitionRange {
  // The broker answers -1 when no record is at or after the timestamp: nothing from there on.
  const since = o.sinceOffset === null ? o.low : o.sinceOffset < 0n ? o.high : o.sinceOffset;
  const until = o.untilOffset === null || o.untilOffset < 0n ? o.high : o.untilOffset;
  const end = min(o.high, until);
  let start = max(o.low, since);
  // "The newest N": by offset, so with gaps (compaction, markers) it can be fewer than N records.
  if (maxRecords !== null) start = max(start, end - BigInt(maxRecords));
  if (start > end) start = end;
  return { partition: o.partition, logStartOffset: o.low, start, end };
}
