/**
 * The one output layer: -o picks the view (json one line, name one per line, wide or table),
 * --json stays an alias, a format a command lacks is a usage error, and next steps go to
 * stderr only, in the human log format only, never with -o json|name, secrets masked.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { failedLaneSteps } from '../../src/cli/cmd-lane';
import { buildProgram } from '../../src/cli/main';
import type { CommandEnv } from '../../src/cli/common';
import { kbakLine, nextSteps, sameCommandWith, showsNextSteps } from '../../src/cli/next-step';
import { resultLines } from '../../src/cli/print-result';
import { UsageError } from '../../src/errors';
import { createLogger } from '../../src/output/logger';

const views = { json: () => ({ a: 'x\ny' }), table: () => ['T1', 'T2'], wide: () => ['W'], name: () => ['n1', 'n2'] };

describe('resultLines', () => {
  it('prints the view -o asks for', () => {
    expect(resultLines('json', views)).toEqual(['{"a":"x\\ny"}']);
    expect(resultLines('table', views)).toEqual(['T1', 'T2']);
    expect(resultLines('wide', views)).toEqual(['W']);
    expect(resultLines('name', views)).toEqual(['n1', 'n2']);
    expect(resultLines('wide', { json: () => null, table: () => ['T'] })).toEqual(['T']);
  });
});

/** A program whose stdout and stderr (human or JSON log lines) are collected. */
function run(argv: string[], logFormat: 'human' | 'json' = 'human'): Promise<{ stdout: string[]; stderr: string[]; error: unknown }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const env: CommandEnv = {
    env: {},
    isTTY: logFormat === 'human',
    stdout: (l) => stdout.push(l),
    logger: (quiet) => createLogger({ quiet, format: logFormat, write: (s) => stderr.push(s.trimEnd()) }),
  };
  const program = buildProgram(env);
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  for (const c of program.commands) c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  return program.parseAsync(['node', 'kbak', ...argv]).then(
    () => ({ stdout, stderr, error: null }),
    (error: unknown) => ({ stdout, stderr, error }),
  );
}

describe('kbak list through the output layer', () => {
  const empty = mkdtempSync(join(tmpdir(), 'kbak-out-'));

  it('an empty store: the empty-state line on stdout, the next step on stderr', async () => {
    const r = await run(['list', '--source', empty]);
    expect(r.error).toBeNull();
    expect(r.stdout).toEqual([`no complete backup in ${empty}`]);
    expect(r.stderr).toEqual([`kbak: next: make one: kbak dump --topic <topic> --to ${empty}`]);
  });
  it('-o json and --json print the same JSON, and no next step', async () => {
    for (const flag of [['-o', 'json'], ['--json']]) {
      const r = await run(['list', '--source', empty, ...flag]);
      expect(r.stdout).toEqual(['[]']);
      expect(r.stderr).toEqual([]);
    }
  });
  it('-o name prints nothing for no backups, and no next step', async () => {
    const r = await run(['list', '--source', empty, '-o', 'name']);
    expect(r).toEqual({ stdout: [], stderr: [], error: null });
  });
  it('JSON logs (a CronJob) get no next step', async () => {
    const r = await run(['list', '--source', empty], 'json');
    expect(r.stdout).toEqual([`no complete backup in ${empty}`]);
    expect(r.stderr).toEqual([]);
  });
  it('a format the command lacks, or --json against -o, is a usage error', async () => {
    const bad = await run(['inspect', 'latest', '--source', empty, '-o', 'wide']);
    expect(bad.error).toBeInstanceOf(UsageError);
    expect((bad.error as Error).message).toBe('-o must be one of table, json, got "wide"');
    const clash = await run(['list', '--source', empty, '--json', '-o', 'name']);
    expect((clash.error as Error).message).toBe('--json and -o name disagree: give one of them');
  });
});

describe('next steps', () => {
  const env = (logFormat: string | undefined, isTTY: boolean): CommandEnv => ({
    env: {},
    isTTY,
    logFormat,
    stdout: () => undefined,
    logger: () => createLogger(),
  });
  it('show on a person-facing run only', () => {
    expect(showsNextSteps(env(undefined, true), 'table')).toBe(true);
    expect(showsNextSteps(env(undefined, true), 'wide')).toBe(true);
    expect(showsNextSteps(env(undefined, false), 'table')).toBe(false);
    expect(showsNextSteps(env('json', true), 'table')).toBe(false);
    expect(showsNextSteps(env('human', false), 'table')).toBe(true);
    expect(showsNextSteps(env(undefined, true), 'json')).toBe(false);
    expect(showsNextSteps(env(undefined, true), 'name')).toBe(false);
  });
  it('are escaped like every other log line, and hidden by --quiet', () => {
    const lines: string[] = [];
    const human = env('human', true);
    nextSteps(human, 'table', createLogger({ format: 'human', write: (s) => lines.push(s) }), [`see: ${kbakLine('lane', 'describe', 'a\u001b[2Jb')}`]);
    expect(lines).toEqual(["kbak: next: see: kbak lane describe 'a\\u001b[2Jb'\n"]);
    nextSteps(human, 'table', createLogger({ format: 'human', quiet: true, write: (s) => lines.push(s) }), ['x']);
    expect(lines).toHaveLength(1);
  });
  it('quote words for a shell and leave <placeholders> for the reader', () => {
    expect(kbakLine('restore', '--lane', '<lane>', '--source', '/my backups')).toBe("kbak restore --lane <lane> --source '/my backups'");
  });
  it('repeat the command without --dry-run, with secrets masked', async () => {
    let line = '';
    const program = new Command('kbak').exitOverride();
    program.addCommand(
      new Command('lane').addCommand(
        new Command('delete')
          .argument('<lane>')
          .option('--dry-run')
          .option('--sasl-password <p>')
          .action((_l: string, _f: unknown, cmd: Command) => {
            line = sameCommandWith(cmd, ['--yes']);
          }),
      ),
    );
    await program.parseAsync(['node', 'kbak', 'lane', 'delete', 'feature-x', '--dry-run', '--sasl-password', 's3cret']);
    expect(line).toBe("kbak lane delete feature-x --sasl-password '***' --yes");
    expect(line).not.toContain('s3cret');
  });
  it('for a failed lane: resume it from the backup it was seeded from, or delete it', () => {
    expect(failedLaneSteps('broken', 'prod/20261201T030000000Z', { ledgerTopic: 'my-ledger' })).toEqual([
      'resume it: kbak restore --lane broken --resume --source <backups> --name prod --from 20261201T030000000Z --ledger-topic my-ledger',
      'or delete it: kbak lane delete broken --dry-run --ledger-topic my-ledger',
    ]);
  });
});
