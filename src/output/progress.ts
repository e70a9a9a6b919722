/**
 * Live progress: bars per topic on a terminal, a JSON log line every few seconds
 * otherwise (CronJob logs). The work reports through a snapshot function, so the
 * display is decoupled from the data path and costs nothing per record.
 */
import cliProgress from 'cli-progress';
import type { Logger } from './logger';
import { formatBytes } from './human-size';
import { span } from './human-time';
import { escapeControl } from './safe-text';
import { claimStderr } from './stderr';

export interface ProgressRow {
  label: string;
  records: number;
  bytes: number;
  /** Work done and to do, in the run's own unit (offsets for a dump, records for a restore): the bar and the ETA. */
  done: bigint;
  total: bigint;
  /** Records the run will handle, when its plan knows them (a restore: the manifest's counts). */
  recordsTotal?: number;
  /** Whether recordsTotal is only an upper bound: a dump knows the offsets to read, of which compaction and transaction markers take some. */
  recordsTotalIsBound?: boolean;
  /** Bytes the run will handle, when its plan knows them (a restore: the manifest's raw sizes). */
  bytesTotal?: number;
}

function percent(done: bigint, total: bigint): number {
  if (total === 0n) return 100;
  return Number((done * 1000n) / total) / 10;
}

/**
 * Time left for a row, in ms, from its own pace since it started moving: null before it
 * has moved (no pace to go by), 0 once done. Topics run side by side, so each keeps its own.
 */
export function etaMs(done: bigint, total: bigint, movingForMs: number): number | null {
  if (done >= total) return 0;
  if (done <= 0n || movingForMs <= 0) return null;
  return Math.ceil((movingForMs * Number(total - done)) / Number(done));
}

/**
 * What a row shows besides its bar, most wanted first (a line wider than the terminal is cut
 * at its end): "ETA 4 s | 1200/~5000 records | 1.2 MiB | 800 rec/s". Pure.
 */
export function describeRow(r: ProgressRow, recordsPerSecond: number, eta: number | null): string {
  const left = r.done >= r.total ? 'done' : eta === null ? 'ETA --' : `ETA ${span(Math.ceil(eta / 1000) * 1000)}`;
  const records = r.recordsTotal === undefined ? `${r.records} records` : `${r.records}/${r.recordsTotalIsBound ? '~' : ''}${r.recordsTotal} records`;
  const size = r.bytesTotal === undefined ? formatBytes(r.bytes) : `${formatBytes(r.bytes)}/${formatBytes(r.bytesTotal)}`;
  return `${left} | ${records} | ${size} | ${recordsPerSecond} rec/s`;
}

const LABEL_WIDTH = 20;
const BAR_WIDTH = 16;

/** One bar line as drawn: label, bar, percentage, then describeRow. Pure (golden-tested). */
export function renderBarLine(r: ProgressRow, recordsPerSecond: number, eta: number | null): string {
  const p = percent(r.done, r.total);
  const filled = Math.round((p / 100) * BAR_WIDTH);
  // Labels are topic names from a broker or a manifest: escaped like every other output line.
  const label = escapeControl(r.label).padEnd(LABEL_WIDTH).slice(0, LABEL_WIDTH);
  return ` ${label} [${'\u2588'.repeat(filled)}${'\u2591'.repeat(BAR_WIDTH - filled)}] ${p.toFixed(1).padStart(5)}% ${describeRow(r, recordsPerSecond, eta)}`;
}

export interface ProgressDisplay {
  stop(): void;
}

/**
 * How long each row has been moving: since the last time it was seen with nothing done (the
 * display's start for a row already moving when first seen), so the pace counts all its work
 * and errs towards a longer ETA, never a shorter one.
 */
function paceClock(now: () => number): (r: ProgressRow) => { movingForMs: number; rate: number } {
  const t0 = now();
  const idleAt = new Map<string, number>();
  return (r) => {
    const t = now();
    if (r.done === 0n) idleAt.set(r.label, t);
    return { movingForMs: t - (idleAt.get(r.label) ?? t0), rate: Math.round(r.records / Math.max(0.001, (t - t0) / 1000)) };
  };
}

export function startProgress(snapshot: () => ProgressRow[], opts: { logger: Logger; tty: boolean; what: string; intervalMs?: number }): ProgressDisplay {
  const pace = paceClock(Date.now);
  if (opts.tty) {
    const multi = new cliProgress.MultiBar(
      {
        format: (_options, _params, payload: { line: string }) => payload.line,
        hideCursor: true,
        // A line longer than the terminal is cut, not wrapped: a wrapped bar breaks the redraw.
        linewrap: false,
        clearOnComplete: false,
        stopOnComplete: false,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    const bars = new Map<string, cliProgress.SingleBar>();
    const tick = (): void => {
      for (const r of snapshot()) {
        const { movingForMs, rate } = pace(r);
        const payload = { line: renderBarLine(r, rate, etaMs(r.done, r.total, movingForMs)) };
        let bar = bars.get(r.label);
        if (!bar) {
          bar = multi.create(1000, 0, payload);
          bars.set(r.label, bar);
        }
        bar.update(Math.round(percent(r.done, r.total) * 10), payload);
      }
    };
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      release();
      clearInterval(timer);
      tick();
      multi.stop();
    };
    // Log lines and the interrupt line go above the bars (src/output/stderr.ts), drawn at once.
    const release = claimStderr({
      log: (text) => {
        if (!multi.isActive) {
          process.stderr.write(text);
          return;
        }
        multi.log(text);
        multi.update();
      },
      stop,
    });
    tick();
    const timer = setInterval(tick, opts.intervalMs ?? 200);
    return { stop };
  }
  const log = (): void => {
    for (const r of snapshot()) {
      const { movingForMs, rate } = pace(r);
      const eta = etaMs(r.done, r.total, movingForMs);
      opts.logger.info(
        {
          [opts.what]: r.label,
          records: r.records,
          bytes: r.bytes,
          ...(r.recordsTotal === undefined ? {} : { [r.recordsTotalIsBound ? 'recordsAtMost' : 'recordsTotal']: r.recordsTotal }),
          ...(r.bytesTotal === undefined ? {} : { bytesTotal: r.bytesTotal }),
          percent: percent(r.done, r.total),
          recordsPerSecond: rate,
          ...(eta === null ? {} : { etaSeconds: Math.ceil(eta / 1000) }),
        },
        'progress',
      );
    }
  };
  const timer = setInterval(log, opts.intervalMs ?? 5000);
  return { stop: () => clearInterval(timer) };
}

/** Runs the work with the display on, and always takes the display down before returning. */
export async function withProgress<T>(display: ProgressDisplay | null, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    display?.stop();
  }
}
