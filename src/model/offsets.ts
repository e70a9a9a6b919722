/**
 * Where a partition's log stands: `low` is the log start offset, `high` the end offset as
 * the reader sees it (the last stable offset for read_committed readers, which is what
 * kbak always uses). Records live at offsets [low, high), with gaps.
 */
export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Offsets in [low, high): an upper bound of the records (compaction and markers leave gaps). */
export function offsetSpan(offsets: readonly PartitionOffsets[]): bigint {
  return offsets.reduce((n, o) => n + (o.high - o.low), 0n);
}
