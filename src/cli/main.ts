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
import { catCommand } from './cmd-cat';
import { completionCommand } from './cmd-completion';
import { helpCommand } from './cmd-help';
import { addExamples, HELP_CONFIG } from './help';
import { dumpCommand } from './cmd-dump';
import { inspectCommand } from './cmd-inspect';
import { laneCommand } from './cmd-lane';
import { listCommand } from './cmd-list';
import { pruneCommand } from './cmd-prune';
import { policyCommand } from './cmd-policy';
import { restoreCommand } from './cmd-restore';
import { recoverCommand } from './cmd-recover';
import { verifyCommand } from './cmd-verify';
import type { CommandEnv } from './common';

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

export function buildProgram(rawEnv: CommandEnv): Command {
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
  program.addCommand(dumpCommand(env));
  program.addCommand(listCommand(env));
  program.addCommand(inspectCommand(env));
  program.addCommand(verifyCommand(env));
  program.addCommand(pruneCommand(env));
  program.addCommand(catCommand(env));
  program.addCommand(restoreCommand(env));
  program.addCommand(recoverCommand(env));
  program.addCommand(laneCommand(env));
  program.addCommand(policyCommand(env));
  program.addCommand(completionCommand(program, env.write ?? ((text) => env.stdout(text.replace(/\n$/, '')))));
  program.helpCommand(false).addCommand(helpCommand(program));
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
    await buildProgram(env).parseAsync(argv);
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
