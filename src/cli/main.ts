/**
 * The `kbak` command line: one file per command (cmd-*.ts), this file wires them up and
 * turns every failure into one line on stderr and a non-zero exit code.
 */
import { once } from 'node:events';
import { Command, CommanderError } from 'commander';
import { INTERRUPT_CLEANUP_TIMEOUT_MS } from '../config/defaults';
import { ExitCode, UsageError } from '../errors';
import { renderError } from './errors';
import { createLogger, resolveLogFormat } from '../output/logger';
import { escapeControl, escapeControlKeepLines } from '../output/safe-text';
import { stopLiveDisplay } from '../output/stderr';
import { TOOL_VERSION } from '../version';
import { installSignalHandlers, signalReported } from '../util/interrupt';
import { completionCommand } from './cmd-completion';
import { helpCommand } from './cmd-help';
import { addExamples, HELP_CONFIG } from './help';
import type { CommandEnv } from './common';

/**
 * The commands, in the order `kbak --help` lists them, each loaded only when asked for:
 * a command's module pulls in the library code it runs (the dump engine, restore's, the mask,
 * the lane tools), and compiling all of it cost a short command 0.2 s. `main` loads just
 * the command it was given; `kbak --help`, `help`, `completion` and any word that is not a
 * command load them all.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on use, not at start-up (see above) */
const COMMANDS = {
  dump: () => (require('./cmd-dump') as typeof import('./cmd-dump')).dumpCommand,
  list: () => (require('./cmd-list') as typeof import('./cmd-list')).listCommand,
  inspect: () => (require('./cmd-inspect') as typeof import('./cmd-inspect')).inspectCommand,
  verify: () => (require('./cmd-verify') as typeof import('./cmd-verify')).verifyCommand,
  prune: () => (require('./cmd-prune') as typeof import('./cmd-prune')).pruneCommand,
  cat: () => (require('./cmd-cat') as typeof import('./cmd-cat')).catCommand,
  restore: () => (require('./cmd-restore') as typeof import('./cmd-restore')).restoreCommand,
  recover: () => (require('./cmd-recover') as typeof import('./cmd-recover')).recoverCommand,
  lane: () => (require('./cmd-lane') as typeof import('./cmd-lane')).laneCommand,
  policy: () => (require('./cmd-policy') as typeof import('./cmd-policy')).policyCommand,
} satisfies Record<string, () => (env: CommandEnv) => Command>;
/* eslint-enable @typescript-eslint/no-require-imports */
type CommandName = keyof typeof COMMANDS;
const isCommandName = (word: string | undefined): word is CommandName => word !== undefined && Object.hasOwn(COMMANDS, word);

/**
 * The command `kbak <args>` runs when it can be told without parsing: the first word after
 * kbak's own options (--log-format takes a value). Undefined when there is none, or when it is
 * help, completion or not a command (those need every command: a listing, a suggestion).
 */
export function commandOf(args: readonly string[]): CommandName | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--log-format') i++;
    else if (a.startsWith('--log-format=')) continue;
    else if (a.startsWith('-')) return undefined;
    else return isCommandName(a) ? a : undefined;
  }
  return undefined;
}

/**
 * The choke point of stdout: every command prints through this, one line per `stdout` call,
 * and every line is escaped whole (a newline from a folder name or a manifest becomes
 * \u000a, so no stored string can start a line of its own); JSON lines stay valid JSON.
 * `write` takes JSON text in pieces (`kbak cat`), whose strings cannot hold a raw newline:
 * its newlines are kbak's line ends and are kept. `writeBytes` passes unescaped: only
 * `kbak cat -f` uses it, escaping records itself when stdout is a terminal (cat-format.ts).
 */
function escapedStdout(env: CommandEnv): CommandEnv {
  const write = env.write;
  return {
    ...env,
    // Read through: --log-format is set on the caller's env once parsed (the preAction hook below).
    get logFormat() {
      return env.logFormat;
    },
    stdout: (line) => env.stdout(escapeControl(line)),
    ...(write ? { write: (text: string) => write(escapeControlKeepLines(text)) } : {}),
  };
}

/** The whole program, or (`only`) kbak with just that command: what it runs and prints is the same. */
export function buildProgram(rawEnv: CommandEnv, only?: CommandName): Command {
  const env = escapedStdout(rawEnv);
  const program = new Command('kbak')
    .description('Back up Kafka topics and seed isolated test lanes from the backups.')
    .version(TOOL_VERSION)
    .option('--log-format <format>', 'stderr logs: human (default on a terminal) or json (default otherwise; env KBAK_LOG_FORMAT)')
    .exitOverride();
  program.hook('preAction', () => {
    const f = program.opts<{ logFormat?: string }>().logFormat;
    if (f !== undefined && f !== 'human' && f !== 'json') throw new UsageError(`--log-format must be human or json, got "${f}"`);
    // Read by the caller's logger factory (main's reads its own env).
    rawEnv.logFormat = f;
  });
  for (const name of only === undefined ? (Object.keys(COMMANDS) as CommandName[]) : [only]) program.addCommand(COMMANDS[name]()(env));
  if (only === undefined) {
    program.addCommand(completionCommand(program, env.write ?? ((text) => env.stdout(text.replace(/\n$/, '')))));
    program.helpCommand(false).addCommand(helpCommand(program));
  } else program.helpCommand(false);
  addExamples(program, [
    ['back up the topic orders of the local stack into ./kbak-backups', 'kbak dump --topic orders'],
    ['seed the lane feature-x from the newest backup', 'kbak restore --lane feature-x'],
    ['every connection and store flag', 'kbak help connection'],
  ]);
  // Usage errors found by commander take the same one-line form as kbak's own errors, with
  // one hint (commander's "did you mean" stays inside it).
  const output = {
    outputError: (str: string, write: (s: string) => void) =>
      write(
        `kbak: ${escapeControl(
          str
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' '),
        )} (run with --help for usage)\n`,
      ),
  };
  const all = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().configureOutput(output).configureHelp(HELP_CONFIG);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // `kbak cat ... | head`: a closed pipe ends the output, it is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.OK);
  });
  // Only the CLI owns the process's signals (a library user keeps its own): a signal aborts
  // this controller, whose signal every library call gets; the calls release their store
  // locks, and the handler says what they released and exits.
  const controller = new AbortController();
  const env: CommandEnv = {
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
    // Names from stores, brokers and registries end up in these lines: no terminal control.
    stdout: (line) => process.stdout.write(`${escapeControlKeepLines(line)}\n`),
    write: (text) => process.stdout.write(escapeControlKeepLines(text)),
    writeBytes: (bytes) => process.stdout.write(bytes),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stdoutDrained: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve()),
    logger: (quiet) => createLogger({ quiet, format: resolveLogFormat(env.logFormat, Boolean(process.stderr.isTTY)) }),
    signal: controller.signal,
  };
  installSignalHandlers({
    // The bar's line ends before the stop line starts (a terminal shows ^C where the cursor is).
    onSignal: stopLiveDisplay,
    say: (line, report) => {
      // Piped (a CronJob's log), the stop is one JSON log line among the others.
      if (resolveLogFormat(env.logFormat, Boolean(process.stderr.isTTY)) === 'json') {
        createLogger({ format: 'json', level: 'info' }).warn({ ...report, exitCode: ExitCode.INTERRUPTED }, line.replace(/^kbak: /, ''));
      } else process.stderr.write(`${escapeControl(line)}\n`);
    },
    exit: (code) => process.exit(code),
    exitCode: ExitCode.INTERRUPTED,
    timeoutMs: INTERRUPT_CLEANUP_TIMEOUT_MS,
    controller,
  });
  try {
    await buildProgram(env, commandOf(argv.slice(2))).parseAsync(argv);
    return (await stoppedBySignal()) ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version exit through here with code 0; commander already printed the error.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    // After a signal the handler reports, in one line, whatever the command failed with meanwhile
    // (the InterruptedError of the library call it stopped, as a rule).
    const stopped = await stoppedBySignal();
    if (stopped !== null) return stopped;
    const { line, exitCode } = renderError(err);
    // Messages carry names from stores, brokers and registries: no terminal control.
    process.stderr.write(`kbak: ${escapeControl(line)}\n`);
    if (process.env.KBAK_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return exitCode;
  }
}

/** When a signal stopped the command: waits until the handler has said so (it then exits). */
async function stoppedBySignal(): Promise<number | null> {
  const reported = signalReported();
  if (reported === null) return null;
  await reported;
  return ExitCode.INTERRUPTED;
}
