/**
 * The `kbak` command line: one file per command (cmd-*.ts), this file wires them up and
 * turns every failure into one line on stderr and a non-zero exit code.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors';
import { renderError } from './errors';
import { createLogger } from '../output/logger';
import { escapeControl, escapeControlKeepLines } from '../output/safe-text';
import { TOOL_VERSION } from '../version';
import { dumpCommand } from './cmd-dump';
import { laneCommand } from './cmd-lane';
import { listCommand } from './cmd-list';
import { restoreCommand } from './cmd-restore';
import type { CommandEnv } from './common';

export function buildProgram(env: CommandEnv): Command {
  const program = new Command('kbak')
    .description('Back up Kafka topics and seed isolated test lanes from the backups.')
    .version(TOOL_VERSION)
    .exitOverride();
  program.addCommand(dumpCommand(env));
  program.addCommand(listCommand(env));
  program.addCommand(restoreCommand(env));
  program.addCommand(laneCommand(env));
  // Usage errors found by commander take the same one-line form as kbak's own errors.
  const output = {
    outputError: (str: string, write: (s: string) => void) => write(`kbak: ${escapeControl(str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' '))} (run with --help for usage)\n`),
  };
  program.configureOutput(output);
  for (const c of program.commands) {
    c.exitOverride().configureOutput(output);
    for (const sub of c.commands) sub.exitOverride().configureOutput(output);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const env: CommandEnv = {
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
    // Names from stores, brokers and registries end up in these lines: no terminal control.
    stdout: (line) => process.stdout.write(`${escapeControlKeepLines(line)}\n`),
    logger: (quiet) => createLogger({ quiet }),
  };
  try {
    await buildProgram(env).parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version exit through here with code 0; commander already printed the error.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const { line, exitCode } = renderError(err);
    // Messages carry names from stores, brokers and registries: no terminal control.
    process.stderr.write(`kbak: ${escapeControl(line)}\n`);
    if (process.env.KBAK_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return exitCode;
  }
}
