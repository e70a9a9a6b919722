/**
 * `--help` of every command as users see it: golden files at 80 and 160 columns
 * (test/golden/help/<command>-<width>.txt, `npm run golden:update` rewrites them when flags
 * change), and the rules that hold whatever the flags are: lines fit the width, no word is
 * broken, connection flags are summarised (listed only by `kbak help connection`), each
 * command offers only the services it talks to, examples name real flags, and an unknown
 * command gets one hint line. One real terminal run proves the width is the terminal's.
 */
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { GROUP } from '../../src/cli/help';
import { ensureBuilt, ROOT } from '../support/built-cli';
import { expectGolden } from '../support/golden';
import { commandAt, commandPaths, helpOf, program, runHelp } from '../support/help-text';
import { runInPty } from '../support/pty';

const paths = commandPaths();
const name = (path: string[]): string => (path.length === 0 ? 'kbak' : path.join('-'));
const longs = (cmd: Command): string[] => cmd.options.map((o: Option) => o.long).filter((l): l is string => l !== undefined);
const connectionLongs = (cmd: Command): string[] => cmd.options.filter((o) => o.helpGroupHeading === GROUP.connection && o.long).map((o) => o.long!);

describe('golden help', () => {
  for (const width of [80, 160])
    for (const path of paths)
      it(`kbak ${path.join(' ')} --help at ${width} columns`, async () => {
        expectGolden(`help/${name(path)}-${width}`, await helpOf(path, width));
      });

  for (const width of [80, 160])
    it(`kbak help connection at ${width} columns`, async () => {
      const r = await runHelp(['help', 'connection'], width);
      expect(r.code).toBe(0);
      expectGolden(`help/help-connection-${width}`, r.out);
    });
});

describe('help layout', () => {
  it.each(paths.map((p) => [p.join(' ')]))('kbak %s: every line fits 80 columns and no description word is split', async (joined) => {
    const path = joined ? joined.split(' ') : [];
    const text = await helpOf(path, 80);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // Each word of each shown description is a whole word of the help text (a word cut at a line end is not).
    const words = new Set(text.split(/\s+/));
    const cmd = commandAt(program(), path);
    for (const o of cmd.options.filter((x) => x.helpGroupHeading !== GROUP.connection && !x.hidden))
      for (const w of o.description.split(/\s+/).filter(Boolean))
        expect({ option: o.long, word: w, found: words.has(w) }).toEqual({ option: o.long, word: w, found: true });
    expect(text).not.toContain('(default: [])');
  });

  it('lists connection flags once, in kbak help connection, and summarises them per command', async () => {
    const dump = await helpOf(['dump'], 160);
    expect(dump).not.toMatch(/^ {2}--brokers </m);
    expect(dump).not.toMatch(/^ {2}--sasl-password </m);
    expect(dump).toMatch(
      /^Connection options:\n {2}--brokers, --client-id, --tls…, --sasl-…, --schema-registry-…, --s3-…, --config: see kbak help connection$/m,
    );
    const topic = (await runHelp(['help', 'connection'], 160)).out;
    const all = new Set(paths.flatMap((p) => connectionLongs(commandAt(program(), p))));
    expect(all.size).toBeGreaterThan(15);
    for (const flag of all) expect(topic).toMatch(new RegExp(`^ {2}${flag}\\b`, 'm'));
    expect(topic).toContain('Kafka (dump, restore, recover, every lane command):');
  });

  it('each command offers the connection flags of the services it talks to, and only those', () => {
    const root = program();
    const services = (path: string[]): string => {
      const l = connectionLongs(commandAt(root, path));
      return ['--brokers', '--schema-registry-url', '--s3-endpoint'].filter((f) => l.includes(f)).join(' ');
    };
    // The store commands read backups only; the lane commands talk to Kafka and the registry
    // (a snapshot, clone or reset also to the store the backup lives in).
    for (const c of ['list', 'inspect', 'verify', 'prune', 'cat']) expect([c, services([c])]).toEqual([c, '--s3-endpoint']);
    for (const c of ['dump', 'restore']) expect([c, services([c])]).toEqual([c, '--brokers --schema-registry-url --s3-endpoint']);
    for (const c of ['list', 'describe']) expect([c, services(['lane', c])]).toEqual([c, '--brokers']);
    for (const c of ['delete', 'gc']) expect([c, services(['lane', c])]).toEqual([c, '--brokers --schema-registry-url']);
    for (const c of ['snapshot', 'clone', 'reset']) expect([c, services(['lane', c])]).toEqual([c, '--brokers --schema-registry-url --s3-endpoint']);
  });

  it('lane list takes no S3 flag: the help names none and the flag is refused', async () => {
    expect(await helpOf(['lane', 'list'], 160)).not.toMatch(/s3/i);
    const r = await runHelp(['lane', 'list', '--s3-endpoint', 'http://127.0.0.1:9000'], 80);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--s3-endpoint'");
  });

  it('a mistyped connection flag still gets "did you mean"', async () => {
    const r = await runHelp(['dump', '--brokrs', 'x'], 80);
    expect(r.code).toBe(2);
    expect(r.err).toBe("kbak: unknown option '--brokrs' (Did you mean --brokers?) (run with --help for usage)\n");
  });

  it('an unknown command gets exactly one hint line, with the suggestion', async () => {
    const r = await runHelp(['restroe'], 80);
    expect(r.code).toBe(2);
    expect(r.err).toBe("kbak: unknown command 'restroe' (Did you mean restore?) (run with --help for usage)\n");
  });

  it('kbak help <command> is that command’s help; an unknown topic is a usage error', async () => {
    expect((await runHelp(['help', 'lane', 'list'], 80)).out).toBe(await helpOf(['lane', 'list'], 80));
    await expect(runHelp(['help', 'nope'], 80)).rejects.toThrow('no command or help topic "nope"');
  });

  it.each(paths.filter((p) => p.length > 0).map((p) => [p.join(' ')]))('kbak %s has two or three examples, each with flags it takes', async (joined) => {
    const path = joined.split(' ');
    const cmd = commandAt(program(), path);
    const text = await helpOf(path, 160);
    const examples = text
      .slice(text.indexOf('Examples:\n'))
      .split('\n')
      .filter((l) => /^ {2}[^# ]/.test(l))
      .map((l) => l.trim());
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(examples.length).toBeLessThanOrEqual(3);
    for (const e of examples) {
      // `source <(kbak completion bash)` and the like: the kbak command inside.
      const words = e.slice(e.indexOf('kbak ')).split(/\s+/).slice(1);
      // The command the example runs: this one, or (for a group such as lane) one of its subcommands.
      expect(words.slice(0, path.length)).toEqual(path);
      let target = cmd;
      for (const w of words.slice(path.length)) target = target.commands.find((c) => c.name() === w) ?? target;
      const known = longs(target);
      for (const flag of words.filter((w) => w.startsWith('--')))
        expect({ example: e, flag, known: known.includes(flag) }).toEqual({ example: e, flag, known: true });
    }
  });
});

describe('the built CLI in a terminal', () => {
  beforeAll(ensureBuilt, 180_000);

  it.each([80, 111])('wraps dump --help to the terminal width (%i columns)', async (columns) => {
    const r = await runInPty([process.execPath, join(ROOT, 'bin', 'kbak.js'), 'dump', '--help'], { columns });
    expect(r.code).toBe(0);
    expect(r.output).toBe(await helpOf(['dump'], columns));
  });

  it('prints one hint line for an unknown command', async () => {
    const r = await runInPty([process.execPath, join(ROOT, 'bin', 'kbak.js'), 'restroe'], { columns: 80 });
    expect(r.code).toBe(2);
    expect(r.output).toBe("kbak: unknown command 'restroe' (Did you mean restore?) (run with --help for usage)\n");
  });
});
