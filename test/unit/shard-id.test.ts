/**
 * The backup ID every shard of a sharded dump agrees on (src/dump/shard-id.ts): `--backup-id`,
 * or the scheduled time a CronJob's Job name `<cronjob>-<minutes since the epoch>` carries.
 */
import { JOB_NAME_ENV, shardedBackupId } from '../../src/dump/shard-id';
import { ExitCode, UsageError } from '../../src/errors';
import { thrown } from '../support/thrown';

/** The backup ID of an instant, written out field by field (not through kbak's newBackupId). */
function idOf(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}${String(d.getUTCMilliseconds()).padStart(3, '0')}Z`;
}

/** The UsageError (exit 2) `fn` throws, its message one line. */
function usage(fn: () => unknown): UsageError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(UsageError);
  expect(err.exitCode).toBe(ExitCode.USAGE);
  expect(err.message).not.toContain('\n');
  return err;
}

describe('--backup-id', () => {
  it('a valid backup ID is used as it is, whatever the Job name says', () => {
    expect(shardedBackupId('20261206T020000000Z', {})).toBe('20261206T020000000Z');
    expect(shardedBackupId('20240229T235959999Z', { [JOB_NAME_ENV]: 'nightly-kbak-29911440' })).toBe('20240229T235959999Z');
  });

  it.each([
    ['a day that does not exist', '20260230T020000000Z'],
    ['February 29th of a common year', '20250229T000000000Z'],
    ['hour 24', '20261206T240000000Z'],
    ['minute 60', '20261206T026000000Z'],
    ['month 13', '20261306T020000000Z'],
    ['no milliseconds', '20261206T020000Z'],
    ['an ISO time', '2026-12-06T02:00:00.000Z'],
    ['lower-case t and z', '20261206t020000000z'],
    ['a path', '../20261206T020000000Z'],
    ['empty', ''],
  ])('refuses %s, naming the ID and the form to write', (_, id) => {
    const err = usage(() => shardedBackupId(id, {}));
    expect(err.message).toContain(`--backup-id ${JSON.stringify(id)} is not a backup ID`);
    expect(err.hint).toContain('YYYYMMDDTHHMMSSmmmZ');
  });
});

describe(`${JOB_NAME_ENV}: a CronJob's Job name`, () => {
  it('nightly-kbak-29911440 gives the backup ID of minute 29 911 440 since the epoch', () => {
    const expected = idOf(29_911_440 * 60_000);
    expect(expected).toBe('20261114T200000000Z');
    expect(shardedBackupId(undefined, { [JOB_NAME_ENV]: 'nightly-kbak-29911440' })).toBe(expected);
  });

  it('every pod of the run (and a pod retried later) gets the same ID; the next run another', () => {
    const a = shardedBackupId(undefined, { [JOB_NAME_ENV]: 'kbak-29911440' });
    expect(shardedBackupId(undefined, { [JOB_NAME_ENV]: 'kbak-29911440', JOB_COMPLETION_INDEX: '2' })).toBe(a);
    const next = shardedBackupId(undefined, { [JOB_NAME_ENV]: 'kbak-29912880' });
    expect(next).toBe(idOf(29_912_880 * 60_000));
    expect(next > a).toBe(true);
  });

  it('the first minute of 2001 is the earliest scheduled time taken', () => {
    const first = Date.UTC(2001, 0, 1) / 60_000;
    expect(shardedBackupId(undefined, { [JOB_NAME_ENV]: `kbak-${first}` })).toBe('20010101T000000000Z');
    const err = usage(() => shardedBackupId(undefined, { [JOB_NAME_ENV]: `kbak-${first - 1}` }));
    expect(err.message).toContain('carries no scheduled time');
  });

  it.each([
    ['no suffix', 'nightly-kbak'],
    ['a suffix that is not a number', 'nightly-kbak-manual'],
    ['a hash suffix (a plain Job or kubectl create job)', 'nightly-kbak-x7k2p'],
    ['a small number (a time before 2001)', 'nightly-kbak-1'],
    ['a suffix of a time before 2001', 'nightly-kbak-15000000'],
    ['seconds instead of minutes: far in the future', 'nightly-kbak-1794686400000'],
    ['a name that only is a number', '29911440'],
  ])('%s (%s) is refused, saying to pass --backup-id', (_, name) => {
    const err = usage(() => shardedBackupId(undefined, { [JOB_NAME_ENV]: name }));
    expect(err.message).toContain(JOB_NAME_ENV);
    expect(err.message).toContain('carries no scheduled time');
    expect(err.hint).toContain('--backup-id');
  });

  it('a long hostile Job name is cut short in the message', () => {
    const err = usage(() => shardedBackupId(undefined, { [JOB_NAME_ENV]: `${'x'.repeat(5000)}\n-1` }));
    expect(err.message.length).toBeLessThan(400);
  });

  it('neither --backup-id nor the env: refused, saying what to pass or set', () => {
    for (const env of [{}, { [JOB_NAME_ENV]: '' }]) {
      const err = usage(() => shardedBackupId(undefined, env));
      expect(err.message).toContain('needs a backup ID');
      expect(err.hint).toContain('--backup-id');
      expect(err.hint).toContain(JOB_NAME_ENV);
    }
  });
});
