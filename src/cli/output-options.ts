/**
 * How a command prints its result: `-o table|json|wide|name` (kubectl's convention), with
 * `--json` kept as an alias of `-o json`, and `--quiet` for stderr. Every command that prints
 * a result declares these through addOutputOptions and asks outputFormat which one applies,
 * so the flags, their help and their errors are the same everywhere.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors';
import { GROUP } from './help';

export type OutputFormat = 'table' | 'json' | 'wide' | 'name';

export interface OutputFlags {
  output?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The formats a command offers (table and json at least); `quiet`: whether it has --quiet. */
export interface OutputSpec {
  formats: readonly OutputFormat[];
  quiet?: boolean;
}

export function addOutputOptions(cmd: Command, spec: OutputSpec): Command {
  cmd.addOption(new Option('-o, --output <format>', `output format: ${spec.formats.join(', ')} (default table)`).helpGroup(GROUP.output));
  cmd.addOption(new Option('--json', 'the same as -o json').helpGroup(GROUP.output));
  if (spec.quiet !== false) cmd.addOption(new Option('--quiet', 'no progress; only warnings and errors on stderr').helpGroup(GROUP.output));
  return cmd;
}

/** The format the flags ask for; a format the command does not offer is a usage error. */
export function outputFormat(flags: OutputFlags, spec: OutputSpec): OutputFormat {
  const asked = flags.output ?? (flags.json ? 'json' : 'table');
  if (!(spec.formats as readonly string[]).includes(asked)) {
    throw new UsageError(`-o must be one of ${spec.formats.join(', ')}, got "${asked}"`);
  }
  if (flags.json && asked !== 'json') throw new UsageError(`--json and -o ${asked} disagree: give one of them`);
  return asked as OutputFormat;
}
