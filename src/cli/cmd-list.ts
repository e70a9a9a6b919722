import { Command, Option } from 'commander';
import { describeBackups } from '../api';
import { formatBytes } from '../output/progress';
import type { CommandEnv } from './common';
import { addExamples, GROUP } from './help';
import { table } from '../output/table';
import { addSourceOptions, openSource, type SourceFlags } from './source';

interface ListFlags extends SourceFlags {
  json?: boolean;
}

const shortTime = (iso: string): string => iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');

export function listCommand(env: CommandEnv): Command {
  const cmd = new Command('list')
    .description('list the complete backups in a store, oldest first')
    .addOption(new Option('--json', 'one JSON array on stdout').helpGroup(GROUP.output));
  addSourceOptions(cmd);
  addExamples(cmd, [
    ['the backups in ./kbak-backups', 'kbak list'],
    ["those in the local stack's S3 bucket, as JSON", 'kbak list --source s3://kbak/backups --json'],
  ]);
  cmd.action(async (flags: ListFlags) => {
    const store = openSource(flags, env);
    const { backups: rows, unreadable } = await describeBackups({ store, cluster: flags.name, signal: env.signal });
    if (flags.json) {
      env.stdout(JSON.stringify([...rows, ...unreadable]));
      return;
    }
    if (rows.length === 0 && unreadable.length === 0) {
      env.stdout(`no complete backup in ${store.location}`);
      return;
    }
    const lines = table(
      ['ID', 'TIME', 'CLUSTER', 'KIND', 'TOPICS', 'RECORDS', 'STORED', 'SHARED'],
      rows.map((r) => [
        r.id,
        shortTime(r.time),
        r.cluster,
        r.kind,
        r.topics.length <= 3 ? r.topics.join(',') : `${r.topics.length} topics`,
        String(r.records),
        formatBytes(r.storedBytes),
        formatBytes(r.sharedBytes),
      ]),
    );
    for (const l of lines) env.stdout(l);
    // Folder names come from the store: one backup per line whatever they contain (stdout escapes).
    for (const u of unreadable) env.stdout(`${u.id}  ${u.cluster}  UNREADABLE: ${u.error}`);
  });
  return cmd;
}
