/**
 * Live progress: bars per topic on a terminal, a JSON log line every few seconds
 * otherwise (CronJob logs). The work reports through a snapshot function, so the
 * display is decoupled from the data path and costs nothing per record.
 */
import cliProgress from 'cli-progress';
import type { Logger } from './logger';
import { formatBytes } from './human-size';
import { escapeControl } from './safe-text';

export interface ProgressRow {
  label: string;
  records: number;
  bytes: number;
  done: bigint;
  total: bigint;
}

function percent(done: bigint, total: bigint): number {
  if (total === 0n) return 100;
  return Number((done * 1000n) / total) / 10;
}

export interface ProgressDisplay {
  stop(): void;
}

export function startProgress(snapshot: () => ProgressRow[], opts: { logger: Logger; tty: boolean; what: string; intervalMs?: number }): ProgressDisplay {
  const t0 = Date.now();
  const rate = (records: number): number => Math.round(records / Math.max(0.001, (Date.now() - t0) / 1000));
  if (opts.tty) {
    const multi = new cliProgress.MultiBar(
      {
        format: ' {label} [{bar}] {percentage}% | {records} records | {size} | {rate} rec/s',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    const bars = new Map<string, cliProgress.SingleBar>();
    const tick = (): void => {
      for (const r of snapshot()) {
        // Labels are topic names from a broker or a manifest: escaped like every other output line.
        const payload = { label: escapeControl(r.label).padEnd(24).slice(0, 24), records: r.records, size: formatBytes(r.bytes), rate: rate(r.records) };
        let bar = bars.get(r.label);
        if (!bar) {
          bar = multi.create(1000, 0, payload);
          bars.set(r.label, bar);
        }
        bar.update(Math.round(percent(r.done, r.total) * 10), payload);
      }
    };
    const timer = setInterval(tick, opts.intervalMs ?? 200);
    return {
      stop: () => {
        clearInterval(timer);
        tick();
        multi.stop();
      },
    };
  }
  const log = (): void => {
    for (const r of snapshot()) {
      opts.logger.info(
        { [opts.what]: r.label, records: r.records, bytes: r.bytes, percent: percent(r.done, r.total), recordsPerSecond: rate(r.records) },
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
