/**
 * `kbak completion bash|zsh|fish`: the scripts are run by the shells themselves. bash: the
 * function complete -F registers, called with COMP_WORDS/COMP_CWORD as bash's programmable
 * completion sets them; fish: `complete -C` (fish's own completion of a command line); zsh: a
 * real interactive zsh in a pseudo-terminal (zpty) completing `kbak du<TAB>`. zsh and fish
 * tests run where the shell is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completionScript, completionTree } from '../../src/cli/cmd-completion';
import { runInProcess } from '../support/cli-in-process';
import { program, runHelp } from '../support/help-text';

const dir = mkdtempSync(join(tmpdir(), 'kbak-completion-'));
const has = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
const script = (shell: 'bash' | 'zsh' | 'fish'): string => {
  const file = join(dir, `kbak.${shell}`);
  writeFileSync(file, completionScript(shell, program()));
  return file;
};

/** What bash offers for the command line `words` (the last word is the one being completed). */
function bashComplete(file: string, words: string[]): string[] {
  const out = execFileSync(
    'bash',
    ['-c', 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _kbak; printf "%s\\n" "${COMPREPLY[@]}"', 'bash', file, ...words],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean);
}

describe('bash', () => {
  const file = script('bash');

  it('registers _kbak for kbak, falling back to file names', () => {
    expect(execFileSync('bash', ['-c', 'source "$1"; complete -p kbak', 'bash', file], { encoding: 'utf8' }).trim()).toBe('complete -o default -F _kbak kbak');
  });

  it('completes commands, subcommands, flags and choices', () => {
    expect(bashComplete(file, ['kbak', 'du'])).toEqual(['dump']);
    expect(bashComplete(file, ['kbak', 'lane', 'de'])).toEqual(['describe', 'delete']);
    expect(bashComplete(file, ['kbak', 'restore', '--dr'])).toEqual(['--dry-run']);
    expect(bashComplete(file, ['kbak', 'dump', '--sasl-mechanism', 'scram'])).toEqual(['scram-sha-256', 'scram-sha-512']);
    expect(bashComplete(file, ['kbak', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete(file, ['kbak', 'help', 'con'])).toEqual(['connection']);
    // lane list talks to no store: no S3 flag to complete.
    expect(bashComplete(file, ['kbak', 'lane', 'list', '--s3'])).toEqual([]);
    expect(bashComplete(file, ['kbak', 'list', '--s3'])).toEqual(['--s3-endpoint', '--s3-region', '--s3-force-path-style']);
  });

  it("skips a flag's value when finding the command: --topic lane is not the lane command", () => {
    expect(bashComplete(file, ['kbak', 'dump', '--topic', 'lane', 'l'])).toEqual([]);
    expect(bashComplete(file, ['kbak', '--log-format', 'json', 'lane', 'l'])).toEqual(['list']);
  });

  it("offers every command's flags exactly as commander defines them (the script is generated from the tree)", () => {
    const nodes = completionTree(program());
    expect(nodes.length).toBeGreaterThan(15);
    for (const n of nodes) {
      const flags = execFileSync('bash', ['-c', 'source "$1"; _kbak_flags "$2"', 'bash', file, n.path], { encoding: 'utf8' }).trim();
      const expected = n.options.flatMap((o) => [o.long, o.short].filter(Boolean)).join(' ');
      expect({ path: n.path, flags }).toEqual({ path: n.path, flags: expected });
    }
  });
});

(has('fish') ? describe : describe.skip)('fish', () => {
  const file = script('fish');
  const complete = (line: string): string[] =>
    execFileSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]!);

  it('completes commands, subcommands, flags and choices', () => {
    expect(complete('kbak du')).toEqual(['dump']);
    expect(complete('kbak lane l')).toEqual(['list']);
    expect(complete('kbak dump --sasl-mechanism scram')).toEqual(['scram-sha-256', 'scram-sha-512']);
    expect(complete('kbak lane list --s3')).toEqual([]);
    expect(complete('kbak dump --topic lane l')).toEqual([]);
  });
});

(has('zsh') ? describe : describe.skip)('zsh', () => {
  it('completes kbak du<TAB> to kbak dump in an interactive zsh', () => {
    const file = script('zsh');
    const home = mkdtempSync(join(tmpdir(), 'kbak-zsh-'));
    writeFileSync(join(home, '.zshrc'), `autoload -U compinit && compinit -u -D\nsource ${file}\nPS1='> '\n`);
    const drive = [
      'zmodload zsh/zpty',
      `zpty -b z "ZDOTDIR=${home} zsh -i"`,
      'sleep 1',
      'zpty -r -t z junk',
      "zpty -w -n z $'kbak du\\t'",
      'sleep 1',
      'zpty -r -t z out',
      'print -r -- "$out"',
      'zpty -d z',
    ].join('\n');
    const out = execFileSync('zsh', ['-f', '-c', drive], { encoding: 'utf8', timeout: 20_000 });
    // The line as the terminal shows it after <TAB>, without its colour and cursor codes.
    const shown = out
      .split('\u001b')
      .join('')
      .split('\b')
      .join('')
      .replace(/\[[0-9;]*[A-Za-z]/g, '');
    expect(shown).toContain('kbak dump');
  });
});

it('kbak completion refuses a shell it has no script for', async () => {
  const r = await runHelp(['completion', 'tcsh'], 80);
  expect(r.code).toBe(2);
  expect(r.err).toBe("kbak: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish. (run with --help for usage)\n");
});

it('kbak completion bash prints the script as generated, unchanged by stdout escaping', async () => {
  const r = await runInProcess(['completion', 'bash']);
  expect(r.code).toBe(0);
  expect(r.pieces.join('')).toBe(completionScript('bash', program()));
});
