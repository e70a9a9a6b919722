import { Command } from 'commander';
import { describeBackups } from '../api';
import type { CommandEnv } from './common';
import { backupListLines } from './list-view';
import { nextSteps, kbakLine } from './next-step';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { addExamples } from './help';
import { addSourceOptions, openSource, type SourceFlags } from './source';

type ListFlags = SourceFlags & OutputFlags;

const OUTPUT: OutputSpec = { formats: ['table', 'json', 'wide', 'name'], quiet: false };

export function listCommand(env: CommandEnv): Command {
  const cmd = new Command('list').description('list the complete backups in a store, oldest first');
  addSourceOptions(cmd);
  addOutputOptions(cmd, OUTPUT);
  addExamples(cmd, [
    ['the backups in ./kbak-backups', 'kbak list'],
    ["those in the local stack's S3 bucket, as JSON", 'kbak list --source s3://kbak/backups --json'],
  ]);
  cmd.action(async (flags: ListFlags) => {
    const format = outputFormat(flags, OUTPUT);
    const store = openSource(flags, env);
    const { backups: rows, unreadable } = await describeBackups({ store, cluster: flags.name, signal: env.signal });
    const now = new Date();
    printResult(env, format, {
      json: () => [...rows, ...unreadable],
      table: () => backupListLines(store.location, rows, unreadable, now),
      wide: () => backupListLines(store.location, rows, unreadable, now, true),
      name: () => rows.map((r) => r.id),
    });
    const newest = rows[rows.length - 1];
    nextSteps(
      env,
      format,
      env.logger(),
      newest
        ? [`see one: ${kbakLine('inspect', newest.id, '--source', store.location, '--name', newest.cluster)}`]
        : [`make one: ${kbakLine('dump', '--topic', '<topic>', '--to', store.location)}`],
    );
  });
  return cmd;
}
