/**
 * README and `--help` agree. The README's "Command reference" has one `#### \`kbak <command>\``
 * section per command, its flags in bullets named like help's groups (`- Selection: ...`,
 * `- Options: ...`, `- Connection: Kafka, schema registry, S3 ...`); its "Configuration"
 * table names the connection flags, which `kbak help connection` lists. Both sides are read
 * as text: the help as printed (160 columns), the README as written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandAt, commandPaths, helpOf, program, runHelp } from '../support/help-text';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The text between a heading line and the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}"`);
  const level = heading.split(' ')[0]!.length;
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
}

const flagsIn = (text: string): string[] => [...text.matchAll(/`(--?[a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!);
const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** README: command → bullet group → flags, and the services its Connection bullet names. */
function readmeReference(): Map<string, { groups: Map<string, string[]>; services: string[] }> {
  const ref = section(README, '### Command reference');
  const out = new Map<string, { groups: Map<string, string[]>; services: string[] }>();
  for (const part of ref.split(/^#### /m).slice(1)) {
    const command = /^`kbak ([a-z ]+?)(?: [<[].*)?`/.exec(part)?.[1];
    if (!command) throw new Error(`a Command reference heading is not \`kbak <command>\`: ${part.split('\n')[0]}`);
    const groups = new Map<string, string[]>();
    let services: string[] = [];
    for (const m of part.matchAll(/^- ([A-Za-z]+): (.*)$/gm)) {
      if (m[1] === 'Connection') services = ['Kafka', 'schema registry', 'S3'].filter((s) => m[2]!.includes(s));
      else groups.set(m[1] === 'Options' ? 'Options:' : `${m[1]} options:`, flagsIn(m[2]!));
    }
    out.set(command, { groups, services });
  }
  return out;
}

/** Help: option group heading → flags (as printed), and the services of its connection line. */
function helpReference(text: string): { groups: Map<string, string[]>; services: string[] } {
  const groups = new Map<string, string[]>();
  let services: string[] = [];
  for (const block of text.split('\n\n')) {
    const [heading, ...lines] = block.split('\n');
    if (heading === 'Connection options:') {
      const line = lines.join(' ');
      services = [/--brokers/.test(line) && 'Kafka', /--schema-registry/.test(line) && 'schema registry', /--s3-/.test(line) && 'S3'].filter(
        (s): s is string => typeof s === 'string',
      );
    } else if (heading && /options:$|^Options:$/.test(heading)) {
      const flags = lines
        .filter((l) => /^ {2}-/.test(l))
        .flatMap((l) =>
          (
            l
              .slice(2)
              .split(/ {2,}/)[0]!
              .match(/--?[a-zA-Z][a-zA-Z0-9-]*/g) ?? []
          ).filter((f) => f !== '-h' && f !== '--help'),
        );
      if (flags.length > 0) groups.set(heading, [...(groups.get(heading) ?? []), ...flags]);
    }
  }
  return { groups, services };
}

// Groups of commands (kbak lane, kbak policy) have no flags of their own: their subcommands do.
const runnable = commandPaths().filter((p) => p.length > 0 && commandAt(program(), p).commands.length === 0);

it('the README has a Command reference section for every command, and none for a command that does not exist', () => {
  expect(sorted(readmeReference().keys())).toEqual(sorted(runnable.map((p) => p.join(' '))));
});

it.each(runnable.map((p) => [p.join(' ')]))('kbak %s: the README names the flags --help shows, in the same groups, and the same services', async (command) => {
  const readme = readmeReference().get(command)!;
  const help = helpReference(await helpOf(command.split(' '), 160));
  const asObject = (m: Map<string, string[]>): Record<string, string[]> => Object.fromEntries([...m].map(([k, v]) => [k, sorted(v)]));
  expect({ command, groups: asObject(readme.groups) }).toEqual({ command, groups: asObject(help.groups) });
  expect({ command, services: readme.services }).toEqual({ command, services: help.services });
});

it("the README's Configuration table names the connection flags kbak help connection lists", async () => {
  const table = section(README, '### Configuration')
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .join('\n');
  // --to and --source are each command's store location (in its Store group), also settable with KBAK_DEST.
  const readme = flagsIn(table).filter((f) => f !== '--to' && f !== '--source');
  const topic = (await runHelp(['help', 'connection'], 160)).out;
  const help = helpReference(topic.replace(/^[A-Z][^\n]*\(([^)]*)\):$/gm, 'Connection flags options:'));
  expect(sorted(readme)).toEqual(sorted([...help.groups.values()].flat()));
  expect(readme.length).toBeGreaterThan(15);
});
