/**
 * `kbak … --help` in-process at a given width (commander's getOutHelpWidth, which is the
 * terminal's columns in the real CLI), and the command tree the tests walk.
 */
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../src/cli/main';
import type { CommandEnv } from '../../src/cli/common';

const env = (): CommandEnv => ({
  env: {},
  isTTY: false,
  stdout: () => undefined,
  write: () => undefined,
  logger: () => {
    throw new Error('help must not log');
  },
});

export const program = (): Command => buildProgram(env());

/** Every command's words after `kbak` (`[]` for kbak itself, `['lane', 'list']`), depth first. */
export function commandPaths(root: Command = program()): string[][] {
  const paths: string[][] = [];
  const visit = (cmd: Command, path: string[]): void => {
    paths.push(path);
    for (const c of cmd.commands) visit(c, [...path, c.name()]);
  };
  visit(root, []);
  return paths;
}

export function commandAt(root: Command, path: string[]): Command {
  let cmd = root;
  for (const w of path) cmd = cmd.commands.find((c) => c.name() === w)!;
  return cmd;
}

/** Runs `kbak <args>` in-process; what commander wrote to stdout and stderr, and its exit code. */
export async function runHelp(args: string[], width: number): Promise<{ out: string; err: string; code: number }> {
  const root = program();
  let out = '';
  let err = '';
  const all = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(all)];
  for (const c of all(root))
    c.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s), getOutHelpWidth: () => width, getErrHelpWidth: () => width });
  let code = 0;
  try {
    await root.parseAsync(['node', 'kbak', ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode === 0 ? 0 : 2;
  }
  return { out, err, code };
}

export const helpOf = async (path: string[], width: number): Promise<string> => (await runHelp([...path, '--help'], width)).out;
