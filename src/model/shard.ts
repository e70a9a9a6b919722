/**
 * Sharding a dump or a restore over N processes (a Kubernetes Indexed Job): which shard this
 * process is (`--shard I/N`, or I from JOB_COMPLETION_INDEX), and which partitions each shard
 * takes. Pure: the assignment is a function of the plan alone, so every shard computes the
 * same one without talking to the others.
 */
import { UsageError } from '../errors';

/** This process's part: shard `index` (0-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** More shards than this is a mistake in the Job, not a plan (a partition list per shard is stored). */
export const MAX_SHARDS = 1024;

/** Kubernetes sets it in every pod of an Indexed Job (completionMode: Indexed). */
export const JOB_INDEX_ENV = 'JOB_COMPLETION_INDEX';

const DECIMAL = /^(0|[1-9][0-9]{0,8})$/;

/**
 * `--shard I/N` (I in 0..N-1), or `--shard N` with I from JOB_COMPLETION_INDEX (`env`), as
 * Kubernetes numbers an Indexed Job's pods.
 */
export function parseShardSpec(text: string, env: Readonly<Record<string, string | undefined>> = {}): ShardSpec {
  const bad = (why: string, hint: string): never => {
    throw new UsageError(`--shard ${JSON.stringify(text)} ${why}`, hint, { options: ['shard'] });
  };
  const slash = text.indexOf('/');
  const indexText = slash < 0 ? env[JOB_INDEX_ENV] : text.slice(0, slash);
  const countText = slash < 0 ? text : text.slice(slash + 1);
  if (!DECIMAL.test(countText)) bad('is not I/N or N', 'write the shard as I/N (0-based, e.g. 0/3), or N with I from JOB_COMPLETION_INDEX');
  const count = Number(countText);
  if (count < 1 || count > MAX_SHARDS) bad(`has ${count} shards`, `use 1 to ${MAX_SHARDS} shards`);
  if (indexText === undefined)
    bad(`names no shard index and ${JOB_INDEX_ENV} is not set`, `pass --shard I/${count}, or run it in an Indexed Job (completionMode: Indexed)`);
  if (!DECIMAL.test(indexText!))
    bad(
      slash < 0 ? `takes its index from ${JOB_INDEX_ENV}=${JSON.stringify(indexText)}, which is not a number` : 'is not I/N',
      'the index is a whole number from 0 to N-1',
    );
  const index = Number(indexText);
  if (index >= count) bad(`has index ${index}, outside 0..${count - 1}`, `shard indexes run from 0 to ${count - 1} (0-based, as JOB_COMPLETION_INDEX)`);
  return { index, count };
}

export function shardText(s: ShardSpec): string {
  return `${s.index}/${s.count}`;
}

/** One unit of work to assign: a partition (its key, e.g. `orders/3`) and its estimated bytes. */
export interface Weighted {
  key: string;
  bytes: number;
}

/**
 * The shard of each item (in the items' order), balanced by bytes, not by count: largest
 * first, each to the shard with the fewest bytes so far (ties: the lower index) — the
 * longest-processing-time rule, within 4/3 of the best split. Ties between items are broken
 * by key, so the result depends only on the set of items, not on their order.
 */
export function assignShards(items: readonly Weighted[], count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count ${count}`);
  const order = items
    .map((_, i) => i)
    .sort((a, b) => items[b]!.bytes - items[a]!.bytes || (items[a]!.key < items[b]!.key ? -1 : items[a]!.key > items[b]!.key ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const out = new Array<number>(items.length);
  for (const i of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    out[i] = best;
    // A partition with no bytes still counts a little, so empty ones spread out too.
    load[best]! += Math.max(items[i]!.bytes, 1);
  }
  return out;
}
