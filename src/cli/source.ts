/** The flags every command that reads a store shares: --source, --name and the S3 settings (and --config). */
import type { Command } from 'commander';
import { loadSettings, type ConnectionFlags, type Settings } from '../config/settings';
import { DEFAULT_DESTINATION } from '../config/defaults';
import { openStore } from '../store/open';
import type { ObjectStore } from '../store/store';
import type { CommandEnv } from './common';
import { addServiceOptions } from './connection-options';
import { GROUP } from './help';

export interface SourceFlags extends ConnectionFlags {
  source?: string;
  name?: string;
}

export function addSourceOptions(cmd: Command): Command {
  const previous = cmd.optionsGroup();
  cmd
    .optionsGroup(GROUP.store)
    .option('--source <dest>', `a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--name <cluster>', 'the cluster whose backups to use (needed when the store holds several)')
    .optionsGroup(previous);
  // The store is the only service these commands talk to.
  return addServiceOptions(cmd, { s3: true });
}

/** The store --source names (settings: when the command loaded them already). */
export function openSource(flags: SourceFlags, env: CommandEnv, settings: Settings = loadSettings(flags, env.env)): ObjectStore {
  return openStore(flags.source ?? env.env.KBAK_DEST ?? DEFAULT_DESTINATION, settings.s3);
}
