/**
 * The progress display of a library call: the call hands snapshots to `onProgress`, the
 * display (bars on a terminal, log lines otherwise) shows the newest one. It starts with the
 * first snapshot, so a call refused before its run begins (bad options) shows nothing.
 */
import type { Logger } from '../output/logger';
import type { LaneTopicProgress } from '../restore/restore';
import { startProgress, withProgress, type ProgressDisplay, type ProgressRow } from '../output/progress';

/** How often the library hands a snapshot over: the terminal display's own refresh. */
const SNAPSHOT_INTERVAL_MS = 200;

export interface LiveProgress<T> {
  /** Spread into the call's options (nothing when quiet). */
  callbacks: { onProgress?: (items: T[]) => void; progressIntervalMs?: number };
  /** Runs the call and takes the display down afterwards, whatever happens. */
  run<R>(work: () => Promise<R>): Promise<R>;
}

export function liveProgress<T>(opts: { quiet?: boolean; tty: boolean; logger: Logger; row: (item: T) => ProgressRow }): LiveProgress<T> {
  if (opts.quiet) return { callbacks: {}, run: (work) => work() };
  let latest: ProgressRow[] = [];
  let display: ProgressDisplay | null = null;
  const onProgress = (items: T[]): void => {
    latest = items.map(opts.row);
    display ??= startProgress(() => latest, { logger: opts.logger, tty: opts.tty, what: 'topic' });
  };
  return {
    callbacks: { onProgress, progressIntervalMs: SNAPSHOT_INTERVAL_MS },
    run: (work) => withProgress({ stop: () => display?.stop() }, work),
  };
}

/** The progress row of a topic being written (a lane restore's or a recovery's). */
export function writtenTopicRow(p: LaneTopicProgress): ProgressRow {
  return {
    label: p.topic,
    records: p.records,
    bytes: p.bytes,
    done: BigInt(p.processed),
    total: BigInt(p.total),
    recordsTotal: p.total,
    recordsTotalIsBound: p.totalExact === false,
  };
}
