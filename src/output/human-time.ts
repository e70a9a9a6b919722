/**
 * Ages and time left as people read them: "5 min ago", "in 3 d", "expired 2 h ago". Whole
 * units, rounded down, with the next smaller unit while the larger one is below 10 ("in 2 d
 * 23 h" for a 72 h TTL set a minute ago: "in 2 d" would understate it by a day). Pure.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `big` whole units of `bigMs` and, below 10 of them, the rest in `small` units when there is one. */
function twoUnits(abs: number, bigMs: number, big: string, smallMs: number, small: string): string {
  const n = Math.floor(abs / bigMs);
  const rest = Math.floor((abs % bigMs) / smallMs);
  return n < 10 && rest > 0 ? `${n} ${big} ${rest} ${small}` : `${n} ${big}`;
}

/** A span of `ms` (absolute): "45 s", "5 min", "3 h 20 min", "2 d 23 h", "12 d". */
export function span(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= DAY) return twoUnits(abs, DAY, 'd', HOUR, 'h');
  if (abs >= HOUR) return twoUnits(abs, HOUR, 'h', MINUTE, 'min');
  if (abs >= MINUTE) return `${Math.floor(abs / MINUTE)} min`;
  return `${Math.floor(abs / 1000)} s`;
}

/** How long ago something happened `ms` ago ("5 min ago"); a clock behind the writer's shows "just now". */
export const ago = (ms: number): string => (ms < 1000 ? 'just now' : `${span(ms)} ago`);

/** Time left until an expiry `ms` from now: "in 3 d", or "expired 2 h ago" once it has passed. */
export const timeLeft = (ms: number): string => (ms > 0 ? `in ${span(ms)}` : `expired ${span(ms)} ago`);

/**
 * How long a run took: "850 ms", "4.3 s", "2 min 5 s", "1 h 3 min" (tenths of a second
 * below a minute: a dump of a few seconds is compared run to run).
 */
export function duration(ms: number): string {
  const abs = Math.max(0, ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < MINUTE) return `${(Math.floor(abs / 100) / 10).toFixed(1)} s`;
  if (abs < HOUR) {
    const s = Math.floor((abs % MINUTE) / 1000);
    return `${Math.floor(abs / MINUTE)} min${s > 0 ? ` ${s} s` : ''}`;
  }
  return span(abs);
}
