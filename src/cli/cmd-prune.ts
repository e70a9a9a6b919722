import { Command } from 'commander';
import { breakLocks, prune } from '../api';
import { parseDuration, type RetentionPolicy } from '../backup/retention';
import { DEFAULT_LOCK_WAIT_MS } from '../config/defaults';
import { describeLock } from '../backup/lock';
import { positiveInt, type CommandEnv } from './common';
import { addMetricsOption, withMetrics } from './metrics-flag';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { pruneTable } from './prune-output';
import { addSourceOptions, openSource, type SourceFlags } from './source';
import { addExamples } from './help';

interface PruneFlags extends SourceFlags, OutputFlags {
  keepLast?: number;
  keepWithin?: string;
  keepDaily?: number;
  keepWeekly?: number;
  dryRun?: boolean;
  breakLock?: boolean;
  lockWait: number;
  metricsPush?: string;
}

const OUTPUT: OutputSpec = { formats: ['table', 'json'] };

export function pruneCommand(env: CommandEnv): Command {
  const cmd = new Command('prune')
    .description(
      'delete backups outside a retention policy, then the segments no kept backup uses and the leftovers of interrupted dumps (takes the store lock)',
    )
    .option('--keep-last <n>', 'keep the newest N backups', positiveInt('--keep-last'))
    .option('--keep-within <duration>', 'keep backups whose ID lies within this long before the newest one (e.g. 14d, 36h)')
    .option('--keep-daily <n>', 'keep the newest backup of each of the last N days that have one', positiveInt('--keep-daily'))
    .option('--keep-weekly <n>', 'keep the newest backup of each of the last N ISO weeks that have one', positiveInt('--keep-weekly'))
    .option('--dry-run', 'list what would be deleted (backups and leftovers); delete nothing (takes no lock)')
    .option('--break-lock', 'first remove every lock of the cluster (only when you know their holders are dead)')
    .option(
      '--lock-wait <seconds>',
      'wait this long for running dumps to finish (0: refuse at once)',
      (v: string) => (v === '0' ? 0 : positiveInt('--lock-wait')(v)),
      DEFAULT_LOCK_WAIT_MS / 1000,
    );
  addOutputOptions(cmd, OUTPUT);
  addSourceOptions(cmd);
  addMetricsOption(cmd);
  addExamples(cmd, [
    ['what keeping the newest 7 backups would delete', 'kbak prune --keep-last 7 --dry-run'],
    ['keep one backup a day for 30 days and one a week for 12 weeks', 'kbak prune --keep-daily 30 --keep-weekly 12'],
  ]);
  cmd.action(async (flags: PruneFlags) => {
    const format = outputFormat(flags, OUTPUT);
    const logger = env.logger(flags.quiet);
    const policy: RetentionPolicy = {
      keepLast: flags.keepLast,
      keepWithinMs: flags.keepWithin === undefined ? undefined : parseDuration(flags.keepWithin, '--keep-within'),
      keepDaily: flags.keepDaily,
      keepWeekly: flags.keepWeekly,
    };
    const store = openSource(flags, env);
    if (flags.breakLock)
      for (const l of await breakLocks({ store, cluster: flags.name, logger, signal: env.signal })) {
        // stdout carries only JSON lines with -o json: the removed locks are said on stderr then.
        if (format === 'json') logger.warn({ lock: l }, `removed ${describeLock(l, Date.now())}`);
        else env.stdout(`removed ${describeLock(l, Date.now())}`);
      }
    const results = await withMetrics('prune', flags.metricsPush ?? env.env.KBAK_METRICS_PUSH, flags.name ?? 'all', logger, async () => {
      const r = await prune({
        store,
        cluster: flags.name,
        policy,
        dryRun: Boolean(flags.dryRun),
        lockWaitMs: flags.lockWait * 1000,
        logger,
        signal: env.signal,
      });
      return {
        result: r,
        report: {
          cluster: flags.name ?? 'all',
          extra: [
            {
              name: 'kbak_prune_removed_backups',
              help: 'backups removed by the last successful prune',
              type: 'gauge',
              samples: r.map((x) => ({ labels: { store_cluster: x.cluster }, value: x.removed.length })),
            },
            {
              name: 'kbak_prune_deleted_bytes',
              help: 'bytes deleted by the last successful prune',
              type: 'gauge',
              samples: r.map((x) => ({ labels: { store_cluster: x.cluster }, value: x.deletedBytes })),
            },
          ],
        },
      };
    });
    for (const r of results) {
      if (format === 'json') env.stdout(JSON.stringify(r));
      else for (const l of pruneTable(r)) env.stdout(l);
    }
    if (format === 'table' && results.length === 0) env.stdout(`nothing to prune: ${store.location} holds no backups and no leftovers`);
    // Said last, so that nothing reads "complete" before the dry run's "would remove" lines.
    logger.info({ results }, flags.dryRun ? 'prune dry run complete: nothing deleted' : 'prune complete');
  });
  return cmd;
}
