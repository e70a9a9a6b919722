import { Command } from 'commander';
import { logCompletion } from '../output/logger';
import { listShardedDumps, verify } from '../api';
import type { PlanStatus } from '../backup/plans';
import { IntegrityError, PartialSuccessError, UsageError } from '../errors';
import type { VerifyResult } from '../backup/verify';
import { formatBytes } from '../output/human-size';
import { plural } from '../output/words';
import type { CommandEnv } from './common';
import { kbakLine, nextSteps } from './next-step';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { addExamples } from './help';
import { addSourceOptions, openSource, type SourceFlags } from './source';

interface VerifyFlags extends SourceFlags, OutputFlags {
  all?: boolean;
  quick?: boolean;
}

const OUTPUT: OutputSpec = { formats: ['table', 'json'], quiet: false };

/**
 * One line per backup, printed as soon as it is checked (verify --all of a large store takes
 * long): the status in a fixed-width first column, so the lines align as a table's would.
 */
export function verifyLine(r: VerifyResult, quick: boolean): string {
  if (!r.ok) return `FAILED  ${r.cluster}/${r.backupId}: ${r.problem!.object}: ${r.problem!.message}`;
  const what = `${plural(r.segments, 'segment')}, ${plural(r.records, 'record')}, ${formatBytes(r.bytes)}`;
  return `ok      ${r.cluster}/${r.backupId}: ${what}${quick ? ' (quick: presence and sizes only)' : ''}`;
}

/** A sharded dump in progress (or its leftover plan), for `verify --all`: never a failure. Pure. */
export function planLine(p: PlanStatus): string {
  const where = `${p.cluster}/plans/${p.backupId}`;
  if (p.problem !== null) return `warning ${where}: ${p.problem}`;
  if (p.complete) return `note    ${where}: the plan of a complete backup, left over (kbak prune removes it)`;
  const shards = `${p.finished.length} of ${plural(p.shards!, 'shard')} finished${p.missing.length > 0 ? ` (waiting for ${p.missing.join(', ')})` : ''}`;
  return `running ${where}: a sharded dump, ${shards}; not a backup until the last shard writes its manifest (plan expires ${p.expiresAt})`;
}

export function verifyCommand(env: CommandEnv): Command {
  const cmd = new Command('verify')
    .description('check backups: every checksum, record and manifest rule (exit code 5 when corrupt, 7 when some of --all are)')
    .argument('[backup]', 'a backup ID, a unique prefix of one, or latest')
    .option('--all', 'every backup in the store (of --name)')
    .option('--quick', 'only check that every segment exists with the right size');
  addSourceOptions(cmd);
  addOutputOptions(cmd, OUTPUT);
  addExamples(cmd, [
    ['read back every segment of the newest backup in ./kbak-backups', 'kbak verify latest'],
    ["check that every backup in the local stack's S3 bucket has all its segments", 'kbak verify --all --quick --source s3://kbak/backups'],
  ]);
  cmd.action(async (which: string | undefined, flags: VerifyFlags) => {
    // -o json: one JSON line per backup, as each is checked.
    const format = outputFormat(flags, OUTPUT);
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
        printResult(env, format, { json: () => r, table: () => [verifyLine(r, Boolean(flags.quick))] });
        if (!r.ok) bad.push({ item: `${r.cluster}/${r.backupId}`, error: `${r.problem!.object}: ${r.problem!.message}` });
      },
    });
    // Sharded dumps in progress are no backups: listed for the operator, never a reason to fail.
    if (flags.all && format === 'table') for (const p of await listShardedDumps({ store, cluster: flags.name, signal: env.signal })) env.stdout(planLine(p));
    if (flags.all && results.length === 0)
      throw new UsageError(`no complete backup in ${store.location}${flags.name ? ` for cluster ${flags.name}` : ''}`, 'check --source/--name');
    if (bad.length === 0) {
      // Piped (a CronJob's log), the run ends with one JSON summary line; a terminal has the lines above.
      logCompletion(
        env.logger(),
        { verified: results.length, quick: Boolean(flags.quick) },
        `verify complete: ${results.length} of ${plural(results.length, 'backup')} ok`,
      );
      const one = results.length === 1 ? results[0]! : null;
      nextSteps(env, format, env.logger(), [
        ...(flags.quick
          ? [
              `check every checksum too: ${kbakLine('verify', ...(flags.all ? ['--all'] : [which!]), '--source', store.location, ...(flags.name ? ['--name', flags.name] : []))}`,
            ]
          : []),
        ...(one && !flags.all
          ? [`restore it into a lane: ${kbakLine('restore', '--lane', '<lane>', '--source', store.location, '--name', one.cluster, '--from', one.backupId)}`]
          : []),
      ]);
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
