/**
 * The next step after a command, as restic and kubectl print it: "restore it: kbak restore
 * --lane NAME --from 20261206T054507020Z ...". On stderr only, through the logger (whose
 * human lines are escaped like every other), and only where a person reads: the human log
 * format and a table (-o table|wide). JSON logs (a CronJob's) and -o json|name output (a
 * script's) never get one. Command lines in hints come from kbak's own values or from
 * applyCommand, which masks secrets.
 */
import { resolveLogFormat, type Logger } from '../output/logger';
import { applyCommand, shellQuote, userArgs } from './apply-command';
import type { Command } from 'commander';
import type { CommandEnv } from './common';
import type { OutputFormat } from './output-options';

/** Whether this run shows next steps. */
export function showsNextSteps(env: CommandEnv, format: OutputFormat): boolean {
  return (format === 'table' || format === 'wide') && resolveLogFormat(env.logFormat, env.isTTY) === 'human';
}

/** Logs each step as `next: ...` (info level: --quiet hides them too). */
export function nextSteps(env: CommandEnv, format: OutputFormat, logger: Logger, steps: readonly string[]): void {
  if (!showsNextSteps(env, format)) return;
  for (const s of steps) logger.info(`next: ${s}`);
}

/** `kbak` and the words given, each quoted for a POSIX shell; a `<placeholder>` is left for the reader to fill in. */
export function kbakLine(...words: string[]): string {
  return ['kbak', ...words].map((w) => (/^<[a-z-]+>$/.test(w) ? w : shellQuote(w))).join(' ');
}

/** The command that ran, without --dry-run, with `add` appended; secrets masked. */
export function sameCommandWith(cmd: Command, add: string[]): string {
  return applyCommand([...userArgs(cmd), ...add]).line;
}
