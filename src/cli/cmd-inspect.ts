import { Command } from 'commander';
import { openBackup } from '../api';
import { backupDetail } from '../backup/summary';
import type { CommandEnv } from './common';
import { inspectLines } from './inspect-view';
import { kbakLine, nextSteps } from './next-step';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { addExamples } from './help';
import { addSourceOptions, openSource, type SourceFlags } from './source';

type InspectFlags = SourceFlags & OutputFlags;

const OUTPUT: OutputSpec = { formats: ['table', 'json'], quiet: false };

export function inspectCommand(env: CommandEnv): Command {
  const cmd = new Command('inspect')
    .description('show one backup: offset ranges, record counts, time ranges, schemas, groups, configs')
    .argument('<backup>', 'a backup ID, a unique prefix of one, or latest');
  addSourceOptions(cmd);
  addOutputOptions(cmd, OUTPUT);
  addExamples(cmd, [
    ['the newest backup in ./kbak-backups', 'kbak inspect latest'],
    ["the newest in the local stack's S3 bucket, as JSON", 'kbak inspect latest --source s3://kbak/backups --json'],
  ]);
  cmd.action(async (which: string, flags: InspectFlags) => {
    const format = outputFormat(flags, OUTPUT);
    const store = openSource(flags, env);
    const backup = await openBackup(store, which, flags.name);
    const d = backupDetail(backup);
    printResult(env, format, { json: () => d, table: () => inspectLines(d) });
    const { cluster, backupId } = backup.ref;
    nextSteps(env, format, env.logger(), [
      `check it: ${kbakLine('verify', backupId, '--source', store.location, '--name', cluster)}`,
      `restore it: ${kbakLine('restore', '--lane', '<lane>', '--from', backupId, '--source', store.location, '--name', cluster)}`,
    ]);
  });
  return cmd;
}
