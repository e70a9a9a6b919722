/**
 * Calendar-valid UTC times in the two fixed-width forms of the backup format (FORMAT.md,
 * "Value conventions" and "Backup IDs"): `YYYY-MM-DDTHH:MM:SS.mmmZ` and the backup ID
 * `YYYYMMDDTHHMMSSmmmZ`. Pure. A pattern alone would accept 2026-02-30 or hour 24, which
 * no clock produced; `Date` would roll those over silently, so the fields are checked here.
 */

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;

const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Milliseconds since the epoch of year … millisecond (month 1-12), or null when they name
 * no instant: month, day (leap years included), hour 0-23, minute and second 0-59 (no leap
 * second: kbak's clock never writes one).
 */
export function utcFieldsMillis(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number | null {
  if (month < 1 || month > 12 || day < 1) return null;
  if (day > (month === 2 && isLeap(year) ? 29 : DAYS[month - 1]!)) return null;
  if (hour > 23 || minute > 59 || second > 59 || ms > 999) return null;
  // Date.UTC maps years 0-99 to 1900-1999; set the year separately (the day is valid for it).
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  d.setUTCFullYear(year);
  return d.getTime();
}

function fromMatch(m: RegExpExecArray | null): number | null {
  if (!m) return null;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return utcFieldsMillis(y, mo, d, h, mi, s, ms);
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` → ms since the epoch, or null when it is not a calendar-valid time of that form. */
export function isoTimeMillis(s: string): number | null {
  return fromMatch(ISO_TIME.exec(s));
}

/** `YYYYMMDDTHHMMSSmmmZ` → ms since the epoch, or null (the compact form of backup IDs). */
export function compactTimeMillis(s: string): number | null {
  return fromMatch(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(s));
}

/** The largest |ms| a JavaScript Date holds (±8.64e15, about 275 760 years). */
export const MAX_DATE_MS = 8_640_000_000_000_000n;

/**
 * A record timestamp (ms since the epoch, any int64) for people: the ISO time when a Date
 * can hold it, else the number itself with a marker. Never throws ("Invalid time value").
 */
export function describeTimestamp(ms: bigint): string {
  if (ms < -MAX_DATE_MS || ms > MAX_DATE_MS) return `${ms} (ms, beyond the calendar)`;
  return new Date(Number(ms)).toISOString();
}
