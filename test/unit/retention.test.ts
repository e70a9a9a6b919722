import { backupIdTime, newBackupId } from '../../src/backup/layout';
import { applyRetention, isoWeek, MAX_CLOCK_SKEW_MS, parseDuration } from '../../src/backup/retention';
import { UsageError } from '../../src/errors';

const H = 3_600_000;
const t0 = Date.UTC(2026, 10, 25, 23, 0); // Wednesday 2026-11-25 23:00
// Every 6 hours back over 10 days: 40 backups, newest first.
const backups = Array.from({ length: 40 }, (_, i) => ({ id: `b${String(i).padStart(2, '0')}`, time: t0 - i * 6 * H }));
// The pruning host's clock: an hour after the newest backup.
const now = t0 + H;
const kept = (p: Parameters<typeof applyRetention>[1]): string[] => [...applyRetention(backups, p, now).keys()].sort();

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
    const m = applyRetention(backups, { keepLast: 1, keepDaily: 2 }, now);
    expect(m.get('b00')).toEqual(['last', 'daily 2026-11-25']);
    expect(m.get('b04')).toEqual(['daily 2026-11-24']);
    expect(m.size).toBe(2);
  });

  it('refuses an empty policy and bad durations', () => {
    expect(() => applyRetention(backups, {}, now)).toThrow(UsageError);
    expect(parseDuration('14d', 'x')).toBe(14 * 24 * H);
    expect(parseDuration('2w', 'x')).toBe(14 * 24 * H);
    for (const bad of ['14', 'd', '0d', '1y', '-1d']) expect(() => parseDuration(bad, '--keep-within')).toThrow(/--keep-within/);
  });
});

describe('applyRetention: one planted backup cannot push genuine ones out (issue 15, defect 2)', () => {
  const at = (id: string): { id: string; time: number | null } => ({ id, time: backupIdTime(id) });
  const genuine = ['20261120T120000000Z', '20261125T120000000Z', '20261126T120000000Z'].map(at);
  const clock = backupIdTime('20261126T130000000Z')!;
  const decide = (extra: Array<{ id: string; time: number | null }>, p: Parameters<typeof applyRetention>[1]): Map<string, string[]> =>
    applyRetention([...genuine, ...extra], p, clock);

  it('a backup ID in 2099 is kept as "future" and takes no --keep-last slot, day or --keep-within anchor', () => {
    const planted = at('20990101T000000000Z');
    for (const policy of [{ keepLast: 1 }, { keepWithinMs: 2 * 24 * H }, { keepDaily: 1 }, { keepWeekly: 1 }]) {
      const without = decide([], policy);
      const withPlanted = decide([planted], policy);
      expect(withPlanted.get(planted.id)).toEqual(['future']);
      // Exactly the genuine backups kept without it, for the same reasons.
      withPlanted.delete(planted.id);
      expect(withPlanted).toEqual(without);
    }
    expect([...decide([planted], { keepWithinMs: 2 * 24 * H }).keys()].sort()).toEqual(['20261125T120000000Z', '20261126T120000000Z', '20990101T000000000Z']);
  });

  it('counts a backup up to now + the clock skew, and one beyond it as future', () => {
    const justInside = { id: 'inside', time: clock + MAX_CLOCK_SKEW_MS };
    const justOutside = { id: 'outside', time: clock + MAX_CLOCK_SKEW_MS + 1 };
    const m = decide([justInside, justOutside], { keepLast: 1 });
    expect(m.get('inside')).toEqual(['last']);
    expect(m.get('outside')).toEqual(['future']);
    expect(m.has('20261126T120000000Z')).toBe(false);
  });

  it('an ID that is no calendar time is kept as "undated" and counts for nothing', () => {
    const planted = { id: '20261399T999999999Z', time: backupIdTime('20261399T999999999Z') };
    expect(planted.time).toBeNull();
    const m = decide([planted], { keepLast: 1, keepDaily: 1 });
    expect(m.get(planted.id)).toEqual(['undated']);
    expect([...m.keys()].sort()).toEqual(['20261126T120000000Z', planted.id]);
    // NaN (what Date.parse("x") gave before) is treated the same, never compared.
    expect(applyRetention([...genuine, { id: 'nan', time: Number.NaN }], { keepDaily: 3 }, clock).get('nan')).toEqual(['undated']);
  });
});

describe('backupIdTime', () => {
  it('is the instant the ID names, and round-trips through newBackupId', () => {
    expect(backupIdTime('20261125T175358123Z')).toBe(Date.UTC(2026, 10, 25, 17, 53, 58, 123));
    for (const id of [
      '00000101T000000000Z',
      '00991231T235959999Z',
      '19700101T000000000Z',
      '20000229T120000000Z',
      '20280229T000000000Z',
      '99991231T235959999Z',
    ]) {
      const t = backupIdTime(id);
      expect(t).not.toBeNull();
      expect(newBackupId(new Date(t!))).toBe(id);
    }
  });

  it('is null for an ID that matches the pattern but is no calendar time, and for non-IDs', () => {
    for (const id of [
      '20261301T000000000Z',
      '20260001T000000000Z',
      '20260100T000000000Z',
      '20260230T000000000Z',
      '20270229T000000000Z',
      '21000229T000000000Z',
      '20261126T240000000Z',
      '20261126T236000000Z',
      '20261126T235960000Z',
      '2026112T1200000000Z',
      'latest',
      '',
    ]) {
      expect(backupIdTime(id)).toBeNull();
    }
  });
});
