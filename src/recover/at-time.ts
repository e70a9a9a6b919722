/**
 * `kbak recover --at TIME`: an ISO-8601 time with its zone (`2026-12-05T14:30:00Z`,
 * `2026-12-05T15:30+01:00`) or a duration back from now (`90m`, `2h`, `3d`, `1w`). Pure:
 * `now` is passed in.
 *
 * Unlike dump's --since/--until, a time without a zone is refused rather than read as UTC
 * or local time: recovering a cluster to the wrong hour silently loses or keeps an hour of
 * records, and the person typing the time at 3 a.m. may not know which the tool assumes.
 */
import { InvalidOptionError } from '../errors';
import { parseDurationMs } from '../lane/topic-configs';
import { utcFieldsMillis } from '../model/utc-time';

const HINT = 'use an ISO-8601 time with its zone, e.g. 2026-12-05T14:30:00Z or 2026-12-05T15:30:00+01:00, or a duration ago such as 90m, 2h, 3d or 1w';

/** Date, hours and minutes; optional seconds and fraction; then the zone (Z, ±HH:MM, ±HHMM, ±HH) or nothing. */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A zone suffix → minutes east of UTC, or null when its hours or minutes are out of range. */
function zoneMinutes(zone: string): number | null {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const h = Number(digits.slice(0, 2));
  const m = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (h > 23 || m > 59) return null;
  return sign * (h * 60 + m);
}

/**
 * `value` → the instant it names. Throws InvalidOptionError (a UsageError, exit 2) naming
 * why: not a time or duration, a time without a zone, a day or hour that does not exist,
 * or an instant outside the years 0000 to 9999 (what a manifest *time* can spell).
 */
export function parseAt(value: string, now: Date): Date {
  const text = value.trim();
  const refuse = (problem: string): InvalidOptionError => new InvalidOptionError('at', value, problem, HINT);
  const ms = parseDurationMs(text);
  let t: number;
  if (ms !== null) {
    t = now.getTime() - ms;
  } else {
    const m = ISO.exec(text);
    if (!m) {
      // A date alone, or a date and time with a space, is still a time without a zone at best.
      if (/^\d{4}-\d{2}-\d{2}$/.test(text)) throw refuse('has no time of day and no time zone: kbak does not guess whether a day starts in UTC or local time');
      throw refuse('is neither an ISO-8601 time nor a duration');
    }
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    if (zone === undefined) throw refuse('has no time zone: kbak does not guess whether it is UTC or local time; add Z or an offset such as +01:00');
    // Milliseconds: a finer fraction is truncated (record timestamps are whole milliseconds).
    const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
    const local = utcFieldsMillis(Number(y), Number(mo), Number(d), Number(h), Number(mi), s === undefined ? 0 : Number(s), millis);
    const offset = zoneMinutes(zone);
    if (local === null) throw refuse('names no real day or time of day');
    if (offset === null) throw refuse('has a time zone offset beyond ±23:59');
    t = local - offset * 60_000;
  }
  const at = new Date(t);
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 0 || at.getUTCFullYear() > 9999) throw refuse('lies outside the years 0000 to 9999');
  return at;
}
