/**
 * The backup ID every shard of a sharded dump agrees on without talking to the others:
 * `--backup-id`, or the scheduled time a CronJob's Job name carries. The Kubernetes CronJob
 * controller names each Job `<cronjob>-<scheduled time in minutes since the epoch>`, so the
 * pods of one run (and a pod retried hours later) all derive the same ID; a new run gets a new
 * one. Pure.
 */
import { UsageError } from '../errors';
import { backupIdTime, newBackupId } from '../backup/layout';

/** The Job's name, passed in by the downward API (metadata.labels['batch.kubernetes.io/job-name']). */
export const JOB_NAME_ENV = 'KBAK_JOB_NAME';

const CRON_SUFFIX = /-([0-9]{1,12})$/;
/** Scheduled times kbak accepts from a Job name: 2001 … 2286 (what 10-digit epoch seconds cover). */
const EARLIEST_MS = Date.UTC(2001, 0, 1);
const LATEST_MS = 9_999_999_999_000;

export function shardedBackupId(backupId: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (backupId !== undefined) {
    if (backupIdTime(backupId) === null)
      throw new UsageError(`--backup-id ${JSON.stringify(backupId)} is not a backup ID`, 'write it as YYYYMMDDTHHMMSSmmmZ in UTC, e.g. 20261206T020000000Z', {
        options: ['backupId'],
      });
    return backupId;
  }
  const job = env[JOB_NAME_ENV];
  if (job === undefined || job === '')
    throw new UsageError(
      'a sharded dump needs a backup ID every shard agrees on',
      `pass --backup-id (e.g. 20261206T020000000Z), or set ${JOB_NAME_ENV} from the Job's name (deploy/components/sharded-dump)`,
      { options: ['backupId'] },
    );
  const m = CRON_SUFFIX.exec(job);
  const ms = m ? Number(m[1]) * 60_000 : NaN;
  if (!m || ms < EARLIEST_MS || ms > LATEST_MS)
    throw new UsageError(
      `${JOB_NAME_ENV}=${JSON.stringify(job.slice(0, 100))} carries no scheduled time (a CronJob names its Jobs <cronjob>-<minutes since the epoch>)`,
      'pass --backup-id for a Job that no CronJob created',
      { options: ['backupId'] },
    );
  return newBackupId(new Date(ms));
}
