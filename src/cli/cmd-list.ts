import { Command } from 'commander';
import { loadSettings, type ConnectionFlags } from '../config/settings';
import { openStore, DEFAULT_DESTINATION } from '../store/open';
import { listBackups } from '../backup/catalog';
import { escapeControl } from '../output/safe-text';
import type { CommandEnv } from './common';

interface ListFlags extends ConnectionFlags {
  source?: string;
  name?: string;
  json?: boolean;
}

export function listCommand(env: CommandEnv): Command {
  return new Command('list')
    .description('list the complete backups in a destination, oldest first')
    .option('--source <dest>', `a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--name <cluster>', 'only backups of this cluster')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (env KBAK_S3_ENDPOINT)')
    .option('--s3-region <region>', 'S3 region (env AWS_REGION)')
    .option('--json', 'one JSON array on stdout')
    .action(async (flags: ListFlags) => {
      const settings = loadSettings(flags, env.env);
      const store = openStore(flags.source ?? env.env.KBAK_DEST ?? DEFAULT_DESTINATION, settings.s3);
      const backups = await listBackups(store, flags.name);
      if (flags.json) env.stdout(JSON.stringify(backups));
      else if (backups.length === 0) env.stdout(`no complete backup in ${store.location}`);
      // Folder names come from the store: one backup per line whatever they contain.
      else for (const b of backups) env.stdout(`${escapeControl(b.cluster)}\t${escapeControl(b.backupId)}`);
    });
}
