/**
 * --since/--until take an ISO-8601 time or a duration back from now ("6h", "30m", "2d",
 * "90s", "1w"). Pure: `now` is passed in.
 */
import { InvalidOptionError, UsageError } from '../errors';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Years a manifest *time* can spell (`YYYY-…`, FORMAT.md "Value conventions"). */
const inTimeRange = (t: Date): boolean => !Number.isNaN(t.getTime()) && t.getUTCFullYear() >= 0 && t.getUTCFullYear() <= 9999;

export function parseTimeBound(value: string, option: 'since' | 'until', now: Date): Date {
  const d = /^(\d+)([smhdw])$/.exec(value.trim());
  let t: Date | null = null;
  if (d) t = new Date(now.getTime() - Number(d[1]) * UNIT_MS[d[2]!]!);
  else if (/^\d{4}-\d{2}-\d{2}/.test(value)) t = new Date(value);
  if (t === null || Number.isNaN(t.getTime()))
    throw new InvalidOptionError(option, value, 'is neither an ISO-8601 time nor a duration', 'use e.g. 2026-11-25T08:00:00Z or 6h');
  // The manifest records the bound as a four-digit-year time; a duration of millions of days is not one.
  if (!inTimeRange(t)) throw new InvalidOptionError(option, value, 'lies outside the years 0000 to 9999', 'use e.g. 2026-11-25T08:00:00Z or 6h');
  return t;
}

export interface TimeWindow {
  since: Date | null;
  until: Date | null;
}

export function parseWindow(since: string | undefined, until: string | undefined, now: Date): TimeWindow {
  const w: TimeWindow = {
    since: since ? parseTimeBound(since, 'since', now) : null,
    until: until ? parseTimeBound(until, 'until', now) : null,
  };
  if (w.since && w.until && w.since.getTime() >= w.until.getTime()) {
    throw new UsageError(`the time window starts (${w.since.toISOString()}) at or after its end (${w.until.toISOString()})`, 'swap or widen the window', {
      options: ['since', 'until'],
    });
  }
  return w;
}

export function inWindow(timestampMs: bigint, w: TimeWindow): boolean {
  if (w.since && timestampMs < BigInt(w.since.getTime())) return false;
  if (w.until && timestampMs >= BigInt(w.until.getTime())) return false;
  return true;
}
