import { ExitCode, InvalidOptionError, UsageError } from '../../src/errors';
import { parseAt } from '../../src/recover/at-time';

const now = new Date('2026-12-06T09:00:00.000Z');

function refusal(value: string): InvalidOptionError {
  try {
    parseAt(value, now);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toBeInstanceOf(UsageError);
    const e = err as InvalidOptionError;
    expect(e.exitCode).toBe(ExitCode.USAGE);
    expect(e.option).toBe('at');
    expect(e.oneLine()).not.toMatch(/\n/);
    return e;
  }
  throw new Error(`parseAt accepted ${value}`);
}

describe('parseAt', () => {
  it.each([
    ['2026-12-05T14:30:00Z', '2026-12-05T14:30:00.000Z'],
    ['2026-12-05T14:30Z', '2026-12-05T14:30:00.000Z'],
    ['2026-12-05T14:30:00.123Z', '2026-12-05T14:30:00.123Z'],
    ['2026-12-05T14:30:00.1239Z', '2026-12-05T14:30:00.123Z'],
    ['2026-12-05T14:30:00,5Z', '2026-12-05T14:30:00.500Z'],
    ['2026-12-05t14:30:00z', '2026-12-05T14:30:00.000Z'],
    ['2026-12-05T15:30:00+01:00', '2026-12-05T14:30:00.000Z'],
    ['2026-12-05T15:30:00+0100', '2026-12-05T14:30:00.000Z'],
    ['2026-12-05T15:30:00+01', '2026-12-05T14:30:00.000Z'],
    ['2026-12-05T09:00:00-05:30', '2026-12-05T14:30:00.000Z'],
    ['2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['  2026-12-05T14:30:00Z  ', '2026-12-05T14:30:00.000Z'],
  ])('reads the ISO-8601 time %s as %s', (value, iso) => {
    expect(parseAt(value, now).toISOString()).toBe(iso);
  });

  it.each([
    ['90s', '2026-12-06T08:58:30.000Z'],
    ['90m', '2026-12-06T07:30:00.000Z'],
    ['2h', '2026-12-06T07:00:00.000Z'],
    ['3d', '2026-12-03T09:00:00.000Z'],
    ['1w', '2026-11-29T09:00:00.000Z'],
  ])('reads the duration %s as that long before now (%s)', (value, iso) => {
    expect(parseAt(value, now).toISOString()).toBe(iso);
  });

  it('refuses a time without a zone, saying why', () => {
    const e = refusal('2026-12-05T14:30:00');
    expect(e.message).toBe('at "2026-12-05T14:30:00" has no time zone: kbak does not guess whether it is UTC or local time; add Z or an offset such as +01:00');
    expect(e.describeAs('--at')).toMatch(/^--at "2026-12-05T14:30:00" has no time zone/);
    expect(refusal('2026-12-05T14:30').message).toMatch(/has no time zone/);
  });

  it('refuses a date alone, saying it has neither a time of day nor a zone', () => {
    expect(refusal('2026-12-05').message).toMatch(/has no time of day and no time zone/);
  });

  it.each(['yesterday', '', '2h30m', '-2h', '0h', '10x', '2026-12-05 14:30:00Z', '20261205T143000Z', '1e3m'])(
    'refuses %j as neither a time nor a duration',
    (value) => {
      expect(refusal(value).message).toMatch(/is neither an ISO-8601 time nor a duration/);
    },
  );

  it.each(['2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-12-05T24:00:00Z', '2026-12-05T23:60:00Z', '2026-12-05T23:59:60Z'])(
    'refuses %s, which names no real day or time (Date would roll it over)',
    (value) => {
      expect(refusal(value).message).toMatch(/names no real day or time of day/);
    },
  );

  it('refuses a zone offset of 24 hours or more', () => {
    expect(refusal('2026-12-05T14:30:00+24:00').message).toMatch(/offset beyond/);
    expect(refusal('2026-12-05T14:30:00+01:60').message).toMatch(/offset beyond/);
  });

  it('refuses a duration reaching before the year 0000', () => {
    expect(refusal('99999999d').message).toMatch(/lies outside the years 0000 to 9999/);
  });

  it('the hint names both accepted forms', () => {
    expect(refusal('soon').hint).toMatch(/ISO-8601 time with its zone.*duration ago/);
  });
});
