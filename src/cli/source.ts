/** The flags every command that reads a store shares: --source, --name and the S3 settings. */
import type { Command } from 'commander';
import { loadSettings, type ConnectionFlags, type Settings } from '../config/settings';
import { DEFAULT_DESTINATION } from '../config/defaults';
import { openStore } from '../store/open';
import type { ObjectStore } from '../store/store';
import type { CommandEnv } from './common';

export interface SourceFlags extends ConnectionFlags {
  source?: string;
  name?: string;
}

export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--source <dest>', `a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--name <cluster>', 'the cluster whose backups to use (needed when the store holds several)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (env KBAK_S3_ENDPOINT)')
    .option('--s3-region <region>', 'S3 region (env AWS_REGION)')
    .option('--config <file>', 'JSON config file (env KBAK_CONFIG)');
}

/** The store --source names (settings: when the command loaded them already). */
export function openSource(flags: SourceFlags, env: CommandEnv, settings: Settings = loadSettings(flags, env.env)): ObjectStore {
  return openStore(flags.source ?? env.env.KBAK_DEST ?? DEFAULT_DESTINATION, settings.s3);
}
