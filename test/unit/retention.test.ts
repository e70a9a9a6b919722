import { applyRetention, isoWeek, parseDuration } from '../../src/backup/retention';
import { UsageError } from '../../src/errors';

const H = 3_600_000;
const t0 = Date.UTC(2026, 10, 25, 23, 0); // Wednesday 2026-11-25 23:00
// Every 6 hours back over 10 days: 40 backups, newest first.
const backups = Array.from({ length: 40 }, (_, i) => ({ id: `b${String(i).padStart(2, '0')}`, time: t0 - i * 6 * H }));
const kept = (p: Parameters<typeof applyRetention>[1]): string[] => [...applyRetention(backups, p).keys()].sort();

describe('applyRetention', () => {
  it('--keep-last keeps the newest N', () => {
    expect(kept({ keepLast: 3 })).toEqual(['b00', 'b01', 'b02']);
  });

  it('--keep-within counts back from the newest backup, inclusive', () => {
    expect(kept({ keepWithinMs: 12 * H })).toEqual(['b00', 'b01', 'b02']);
  });

  it('--keep-daily keeps the newest backup of each of the N newest days', () => {
    // 23:00, 17:00, 11:00, 05:00 on the 25th; the newest of the 24th is b04 (23:00), of the 23rd b08.
    expect(kept({ keepDaily: 3 })).toEqual(['b00', 'b04', 'b08']);
  });

  it('--keep-weekly uses ISO weeks', () => {
    expect(isoWeek(Date.UTC(2026, 10, 23))).toBe('2026-W48'); // Monday
    expect(isoWeek(Date.UTC(2026, 10, 22))).toBe('2026-W47'); // Sunday
    expect(isoWeek(Date.UTC(2027, 0, 1))).toBe('2026-W53');
    // The 25th is in W48 (b00 newest); the newest of W47 is Sunday 22nd 23:00 = 3 days back = b12.
    expect(kept({ keepWeekly: 2 })).toEqual(['b00', 'b12']);
  });

  it('unions the rules and says why', () => {
    const m = applyRetention(backups, { keepLast: 1, keepDaily: 2 });
    expect(m.get('b00')).toEqual(['last', 'daily 2026-11-25']);
    expect(m.get('b04')).toEqual(['daily 2026-11-24']);
    expect(m.size).toBe(2);
  });

  it('refuses an empty policy and bad durations', () => {
    expect(() => applyRetention(backups, {})).toThrow(UsageError);
    expect(parseDuration('14d', 'x')).toBe(14 * 24 * H);
    expect(parseDuration('2w', 'x')).toBe(14 * 24 * H);
    for (const bad of ['14', 'd', '0d', '1y', '-1d']) expect(() => parseDuration(bad, '--keep-within')).toThrow(/--keep-within/);
  });
});
