/** The flags every command that reads a store shares: --source, --name and the S3 settings. */
import type { Command } from 'commander';
import { loadSettings, type ConnectionFlags, type Settings } from '../config/settings';
import { escapeControl } from '../output/safe-text';
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

/**
 * Fixed-width columns for terminal tables; the last column is not padded. Cells are escaped
 * here (stdout escapes again, a no-op) so that widths count what the terminal shows. Widths
 * are a loop, not Math.max(...column): 140 000 rows overflowed the stack as arguments.
 */
export function table(header: string[], rows: string[][]): string[] {
  const cells = rows.map((r) => r.map(escapeControl));
  const widths = header.map((h) => h.length);
  for (const r of cells) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)];
}
