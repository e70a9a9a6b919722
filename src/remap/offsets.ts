/**
 * Consumer-group offset translation for one partition.
 *
 * Kafka's committed offset C means "the next record to read is the first one at or after
 * C". Source offsets have holes (compaction, transaction markers, aborted records) and a
 * filtered restore (--since) skips a prefix, so C may name a record that was never
 * restored. Translating to "the lane offset of the first restored record whose source
 * offset is >= C" keeps the group's position exactly: it reads the same remaining
 * records, in the same order, in the lane. When nothing at or after C was restored the
 * group was caught up, so it lands on the lane partition's end offset.
 */

export interface CommittedOffset {
  group: string;
  offset: bigint;
}

/**
 * Kafka reports -1 when a group has no committed position on a partition. Such a group
 * starts wherever its `auto.offset.reset` says; committing any lane offset for it would
 * pin a position the source never had, so it is left out of the result and keeps the
 * same reset behaviour in the lane.
 */
export const NO_COMMITTED_OFFSET = -1n;

/**
 * Translates the committed offsets of every group on one partition while the restored
 * records stream by. Memory is O(groups), not O(records): committed offsets are sorted
 * once and a pointer advances as records are observed.
 */
export class OffsetTranslator {
  private readonly pending: CommittedOffset[];
  private next = 0;
  private readonly result = new Map<string, bigint>();
  private lastSource: bigint | undefined;
  private lastLane: bigint | undefined;
  private finished = false;

  constructor(committed: ReadonlyArray<CommittedOffset>) {
    const seen = new Set<string>();
    const pending: CommittedOffset[] = [];
    for (const c of committed) {
      if (seen.has(c.group)) {
        throw new Error(`group ${JSON.stringify(c.group)} has more than one committed offset for the same partition`);
      }
      seen.add(c.group);
      if (c.offset === NO_COMMITTED_OFFSET) continue;
      if (c.offset < 0n) {
        throw new RangeError(`group ${JSON.stringify(c.group)} has committed offset ${c.offset}; only -1 (no position) may be negative`);
      }
      pending.push({ group: c.group, offset: c.offset });
    }
    this.pending = pending.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  }

  /**
   * The smallest committed offset no observed record has reached yet, or null: records below
   * it change nothing, so a caller may observe only the last of a run of them.
   */
  nextPending(): bigint | null {
    return this.pending[this.next]?.offset ?? null;
  }

  /** Call once per restored record, in source order, with the lane offset it was written at. */
  observe(sourceOffset: bigint, laneOffset: bigint): void {
    if (this.finished) throw new Error('observe() called after finish()');
    // The pointer only moves forward, which is only correct if records arrive in order.
    if (this.lastSource !== undefined && sourceOffset <= this.lastSource) {
      throw new Error(`source offsets must strictly increase: got ${sourceOffset} after ${this.lastSource}`);
    }
    if (this.lastLane !== undefined && laneOffset <= this.lastLane) {
      throw new Error(`lane offsets must strictly increase: got ${laneOffset} after ${this.lastLane}`);
    }
    this.lastSource = sourceOffset;
    this.lastLane = laneOffset;
    while (this.next < this.pending.length) {
      const c = this.pending[this.next]!;
      if (c.offset > sourceOffset) break;
      this.result.set(c.group, laneOffset);
      this.next++;
    }
  }

  /** Returns group → lane offset to commit; groups with no position (-1) are absent. */
  finish(laneEndOffset: bigint): Map<string, bigint> {
    if (this.finished) throw new Error('finish() called twice');
    if (this.lastLane !== undefined && laneEndOffset <= this.lastLane) {
      throw new Error(`lane end offset ${laneEndOffset} must be after the last restored record's lane offset ${this.lastLane}`);
    }
    this.finished = true;
    for (; this.next < this.pending.length; this.next++) {
      this.result.set(this.pending[this.next]!.group, laneEndOffset);
    }
    return this.result;
  }
}

/**
 * The rule stated directly, over all (sourceOffset, laneOffset) pairs in source order.
 * O(records) per call; the reference the streaming translator is tested against.
 */
export function translateOffset(committed: bigint, pairs: ReadonlyArray<readonly [bigint, bigint]>, laneEnd: bigint): bigint {
  if (committed < 0n) {
    throw new RangeError(`committed offset ${committed} has no lane equivalent; -1 (no position) groups are skipped, not translated`);
  }
  for (const [source, lane] of pairs) {
    if (source >= committed) return lane;
  }
  return laneEnd;
}
