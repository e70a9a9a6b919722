/**
 * Ages and time left as people read them: "5 min ago", "in 3 d", "expired 2 h ago". Whole
 * units, rounded down (a TTL shown as "in 2 d" has at least 2 days left). Pure.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A span of `ms` (absolute) in its largest whole unit: "45 s", "5 min", "2 h", "3 d". */
export function span(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= DAY) return `${Math.floor(abs / DAY)} d`;
  if (abs >= HOUR) return `${Math.floor(abs / HOUR)} h`;
  if (abs >= MINUTE) return `${Math.floor(abs / MINUTE)} min`;
  return `${Math.floor(abs / 1000)} s`;
}

/** How long ago something happened `ms` ago ("5 min ago"); a clock behind the writer's shows "just now". */
export const ago = (ms: number): string => (ms < 1000 ? 'just now' : `${span(ms)} ago`);

/** Time left until an expiry `ms` from now: "in 3 d", or "expired 2 h ago" once it has passed. */
export const timeLeft = (ms: number): string => (ms > 0 ? `in ${span(ms)}` : `expired ${span(ms)} ago`);
