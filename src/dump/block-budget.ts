/**
 * How big a segment block may grow while a dump writes many partitions at once (at most
 * --concurrency: the read opens no more, src/kafka/client/fetch-reader.ts). Every open
 * partition holds the block it fills (plus, process-wide, at most 4 sealed blocks being
 * compressed: src/segment/writer.ts), so with the default 1 MiB block a dump of 200
 * partitions would hold ~200 MiB of blocks: memory would follow the
 * partition count instead of a budget. Above BLOCK_BUDGET_BYTES / 1 MiB partitions the block
 * shrinks so all of them together stay within the budget (never below MIN_BLOCK_BYTES, where
 * zstd's ratio starts to suffer). The format does not depend on the block size.
 */
import { DEFAULT_BLOCK_BYTES } from '../segment/format';

export const BLOCK_BUDGET_BYTES = 32 * 1024 * 1024;
export const MIN_BLOCK_BYTES = 128 * 1024;

/** Pure: the block size for a dump writing `partitions` partitions at once. */
export function budgetedBlockBytes(partitions: number): number {
  const share = Math.floor(BLOCK_BUDGET_BYTES / Math.max(1, partitions));
  return Math.max(MIN_BLOCK_BYTES, Math.min(DEFAULT_BLOCK_BYTES, share));
}
