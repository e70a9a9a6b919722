/**
 * Where one partition's restored records land in its lane partition. The i-th restored
 * record (in filtered backup order) lands at lane offset L0 + i: the lane partition started
 * empty at L0 and kbak is its only writer (no transactions, so no markers). Resume relies on
 * exactly that: the lane's end offset says how many records are already there, whether or
 * not their batch was acknowledged before a crash; they are checked and passed over, not
 * written again. The groups' committed offsets are translated to lane offsets on the way.
 */
import { SafetyError } from '../errors';
import { OffsetTranslator, type CommittedOffset } from '../remap/offsets';
import type { BackupRecord } from '../segment/record';
import { sameRecord, type LaneRecord } from './lane-record';

/** One hypothesis about where the restore started in the lane partition. */
export interface LaneStart {
  /** Lane offset of the first restored record. */
  laneStart: bigint;
  /** Records already in the lane partition (resume); they are observed, not written again. */
  alreadyWritten: number;
}

/** The partition as writePartition's job names it. */
export interface LanePartition {
  sourceTopic: string;
  laneTopic: string;
  partition: number;
  /**
   * Usually one. On --resume with a log start offset above 0 there are two: the restore
   * began at the log start (an existing empty topic was reused), or at 0 (kbak created the
   * topic and retention has since removed old records). The first whose record at
   * end-1 matches wins; the order is the preference.
   */
  starts: LaneStart[];
  /** The lane partition's last record when anything was already written, to check it is ours. */
  laneLast: BackupRecord | null;
  committed: CommittedOffset[];
}

export interface LaneEnd {
  skippedExisting: number;
  laneEnd: bigint;
  groupOffsets: Map<string, bigint>;
}

export class LanePosition {
  private candidates: Array<LaneStart & { translator: OffsetTranslator }>;
  /** Restored records seen so far (= lane offset - laneStart). */
  private index = 0;
  /** Until this index, some hypothesis still has a last already-written record to check. */
  private readonly checkUntil: number;

  constructor(private readonly job: LanePartition) {
    if (job.starts.length === 0) throw new Error('writePartition needs at least one lane start');
    this.candidates = job.starts.map((c) => ({ ...c, translator: new OffsetTranslator(job.committed) }));
    this.checkUntil = Math.max(...job.starts.map((c) => c.alreadyWritten));
  }

  /**
   * Whether the records of a block up to `lastOffset` must be looked at one by one: one of
   * them must be compared with the lane (resume), or a group's committed offset falls there.
   */
  needsRecords(lastOffset: bigint): boolean {
    return (
      this.index < this.checkUntil ||
      this.candidates.some((c) => {
        const n = c.translator.nextPending();
        return n !== null && n <= lastOffset;
      })
    );
  }

  /** The next restored record, source offset `offset`, passes by (before alreadyWritten). */
  observe(offset: bigint): void {
    for (const c of this.candidates) c.translator.observe(offset, c.laneStart + BigInt(this.index));
  }

  /**
   * Whether the restored record `lr` (source offset `offset`, observed) is already in the
   * lane partition: then it counts as passed, not written. Throws when the lane's last
   * record is not the one this restore would have written there.
   */
  alreadyWritten(lr: LaneRecord, offset: bigint): boolean {
    const index = this.index;
    if (index < this.checkUntil) {
      // Check every hypothesis whose last already-written record this is.
      const laneLast = this.job.laneLast;
      this.candidates = this.candidates.filter((c) => index !== c.alreadyWritten - 1 || (laneLast !== null && sameRecord(lr, laneLast)));
      if (this.candidates.length === 0) {
        throw this.refuse(`its last record is not the matching record of backup ${this.job.sourceTopic}/${this.job.partition} (source offset ${offset})`);
      }
      const chosen = this.candidates[0]!;
      if (index < chosen.alreadyWritten) {
        this.index++;
        return true;
      }
      // The preferred hypothesis is verified: from here on only it counts.
      if (this.candidates.length > 1) this.candidates = [chosen];
    } else this.preferFirst();
    return false;
  }

  /** `n` records were written after the ones observed one by one. */
  written(n: number): void {
    this.index += n;
  }

  /**
   * `n` records of a block ending at `lastOffset` were written without being observed one by
   * one (needsRecords said no group's committed offset lies in it): its last record is all
   * the translators need.
   */
  writtenBlock(lastOffset: bigint, n: number): void {
    this.preferFirst();
    if (n === 0) return;
    this.index += n;
    for (const c of this.candidates) c.translator.observe(lastOffset, c.laneStart + BigInt(this.index - 1));
  }

  /** Where the lane partition ends, and the groups' translated offsets. */
  finish(): LaneEnd {
    const index = this.index;
    const chosen = this.candidates.find((c) => c.alreadyWritten <= index);
    if (!chosen) throw this.refuse(`it holds more records than the restore writes (${index})`);
    const laneEnd = chosen.laneStart + BigInt(index);
    return { skippedExisting: chosen.alreadyWritten, laneEnd, groupOffsets: chosen.translator.finish(laneEnd) };
  }

  private preferFirst(): void {
    if (this.candidates.length > 1) this.candidates = [this.candidates[0]!];
  }

  private refuse(detail: string): SafetyError {
    return new SafetyError(
      `cannot resume ${this.job.laneTopic}/${this.job.partition}: ${detail}`,
      'something else wrote into the lane topic, or the backup, filters or lane header differ from the interrupted restore; replace the lane topics instead',
      { options: ['mode=replace'] },
    );
  }
}
