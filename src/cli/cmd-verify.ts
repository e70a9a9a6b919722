import { Command } from 'commander';
import { logCompletion } from '../output/logger';
import { verify } from '../api';
import { IntegrityError, PartialSuccessError, UsageError } from '../errors';
import { formatBytes } from '../output/progress';
import type { CommandEnv } from './common';
import { addSourceOptions, openSource, type SourceFlags } from './source';

interface VerifyFlags extends SourceFlags {
  all?: boolean;
  quick?: boolean;
  json?: boolean;
}

export function verifyCommand(env: CommandEnv): Command {
  const cmd = new Command('verify')
    .description('check backups: every checksum, record and manifest rule (exit code 5 when corrupt, 7 when some of --all are)')
    .argument('[backup]', 'a backup ID or latest')
    .option('--all', 'every backup in the store (of --name)')
    .option('--quick', 'only check that every segment exists with the right size')
    .option('--json', 'one JSON line per backup on stdout');
  addSourceOptions(cmd);
  cmd.action(async (which: string | undefined, flags: VerifyFlags) => {
    if (Boolean(which) === Boolean(flags.all))
      throw new UsageError('give one backup ID, latest, or --all', 'e.g. kbak verify latest --source s3://bucket/prefix');
    const store = openSource(flags, env);
    const bad: Array<{ item: string; error: string }> = [];
    const results = await verify({
      store,
      backup: flags.all ? undefined : which,
      all: flags.all,
      cluster: flags.name,
      quick: flags.quick,
      signal: env.signal,
      onResult: (r) => {
        if (flags.json) env.stdout(JSON.stringify(r));
        else if (r.ok)
          env.stdout(
            `ok      ${r.cluster}/${r.backupId}: ${r.segments} segments, ${r.records} records, ${formatBytes(r.bytes)}${flags.quick ? ' (quick: presence and sizes only)' : ''}`,
          );
        else env.stdout(`FAILED  ${r.cluster}/${r.backupId}: ${r.problem!.object}: ${r.problem!.message}`);
        if (!r.ok) bad.push({ item: `${r.cluster}/${r.backupId}`, error: `${r.problem!.object}: ${r.problem!.message}` });
      },
    });
    if (flags.all && results.length === 0)
      throw new UsageError(`no complete backup in ${store.location}${flags.name ? ` for cluster ${flags.name}` : ''}`, 'check --source/--name');
    // Piped (a CronJob's log), the run ends with one JSON summary line; a terminal has the lines above.
    if (bad.length === 0) {
      logCompletion(
        env.logger(),
        { verified: results.length, quick: Boolean(flags.quick) },
        `verify complete: ${results.length} of ${results.length} backups ok`,
      );
      return;
    }
    const message = `${bad.length} of ${results.length} backups failed verification: first bad object ${bad[0]!.item} (${bad[0]!.error.split(': ')[0]})`;
    const hint = 'restore from another backup, and check the store';
    // Exit codes: all checked backups corrupt → CORRUPT; some good, some bad → PARTIAL.
    if (bad.length === results.length) throw new IntegrityError(message, hint);
    throw new PartialSuccessError(message, bad, hint);
  });
  return cmd;
}
