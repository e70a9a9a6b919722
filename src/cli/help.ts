/**
 * How `kbak … --help` looks: options in groups (selection, store, lane, output; the
 * connection flags summarised in one line and listed once by `kbak help connection`),
 * wrapped to the terminal's width without breaking words, and examples at the end.
 *
 * The layout is commander's own Help with its formatHelp and formatItem replaced: commander
 * pads every description to the longest flag, and when the column left is under 40
 * characters it stops wrapping, so an 80-column terminal cut the lines mid-word. Here a flag
 * longer than the column (40% of the width at most) gets its description on the next line.
 */
import { Help, type Argument, type Command, type HelpConfiguration, type Option } from 'commander';

/** The option groups, in the order help shows them (other headings go before "Options:"). */
export const GROUP = {
  selection: 'Selection options:',
  store: 'Store options:',
  lane: 'Lane options:',
  other: 'Options:',
  output: 'Output options:',
  connection: 'Connection options:',
} as const;

const ORDER: readonly string[] = [GROUP.selection, GROUP.store, GROUP.lane, GROUP.other, GROUP.output, GROUP.connection];

/** What help adds to a command: examples, and how its connection flags are summarised. */
interface HelpExtras {
  examples: Array<{ what: string; command: string }>;
}

const extras = new WeakMap<Command, HelpExtras>();

/**
 * Examples for `cmd --help`: a line saying what each does, then the command. They run as
 * printed against the local stack (README "The local stack") and its defaults.
 */
export function addExamples(cmd: Command, examples: Array<[what: string, command: string]>): Command {
  extras.set(cmd, { examples: examples.map(([what, command]) => ({ what, command })) });
  return cmd;
}

export function examplesOf(cmd: Command): ReadonlyArray<{ what: string; command: string }> {
  return extras.get(cmd)?.examples ?? [];
}

/**
 * The one line help shows for a command's connection flags: families by their first word
 * (`--tls…`), single flags by name, then where they are explained.
 */
export function connectionSummary(options: readonly Option[]): string {
  const longs = options.map((o) => o.long).filter((l): l is string => l !== undefined);
  const families = new Map<string, string[]>();
  for (const l of longs) {
    const family = /^--(tls|sasl|schema-registry|s3)(-|$)/.exec(l)?.[1] ?? l;
    families.set(family, [...(families.get(family) ?? []), l]);
  }
  // `--tls…` when the family's name is a flag itself, else `--sasl-…`.
  const names = [...families.entries()].map(([family, flags]) =>
    flags.length === 1 ? flags[0]! : flags.includes(`--${family}`) ? `--${family}…` : `--${family}-…`,
  );
  return `${names.join(', ')}: see kbak help connection`;
}

const indent = 2;
const spacer = 2;

/** The width of the flag column: the longest term, but at most 40% of the width (and at least 12). */
function termColumn(terms: string[], width: number): number {
  const longest = Math.max(0, ...terms.map((t) => t.length));
  return Math.min(longest, Math.max(12, Math.floor(width * 0.4)));
}

/** `term  description`, the description wrapped in its column, or under the term when the term is too long. */
function item(helper: Help, term: string, column: number, description: string, width: number): string {
  const pad = ' '.repeat(indent);
  if (!description) return pad + term;
  const descIndent = indent + column + spacer;
  const body = helper.boxWrap(description, Math.max(20, width - descIndent)).replace(/\n/g, `\n${' '.repeat(descIndent)}`);
  if (term.length > column) return `${pad}${term}\n${' '.repeat(descIndent)}${body}`;
  return `${pad}${term.padEnd(column)}${' '.repeat(spacer)}${body}`;
}

/** Groups of options in help order: named groups first, then "Options:", output, connection. */
function optionGroups(helper: Help, cmd: Command): Map<string, Option[]> {
  const groups = new Map<string, Option[]>();
  for (const o of helper.visibleOptions(cmd)) {
    const g = o.helpGroupHeading ?? GROUP.other;
    groups.set(g, [...(groups.get(g) ?? []), o]);
  }
  const rank = (g: string): number => (ORDER.includes(g) ? ORDER.indexOf(g) : ORDER.indexOf(GROUP.other) - 0.5);
  return new Map([...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0])));
}

/** The option lines of a list of options, wrapped to `width` (for `kbak help connection` too). */
export function formatOptionList(helper: Help, options: readonly Option[], width: number): string[] {
  const terms = options.map((o) => helper.optionTerm(o));
  const column = termColumn(terms, width);
  return options.map((o, i) => item(helper, terms[i]!, column, helper.optionDescription(o), width));
}

function formatHelp(cmd: Command, helper: Help): string {
  const width = helper.helpWidth ?? 80;
  const args: Argument[] = helper.visibleArguments(cmd);
  const groups = optionGroups(helper, cmd);
  const connection = groups.get(GROUP.connection) ?? [];
  groups.delete(GROUP.connection);
  const shown = [...groups.values()].flat();
  const commands = helper.visibleCommands(cmd);
  // One column for the whole page, from what it lists (not from the summarised connection flags).
  const column = termColumn(
    [...args.map((a) => helper.argumentTerm(a)), ...shown.map((o) => helper.optionTerm(o)), ...commands.map((c) => helper.subcommandTerm(c))],
    width,
  );
  const out: string[] = [`Usage: ${helper.commandUsage(cmd)}`, ''];
  const description = helper.commandDescription(cmd);
  if (description) out.push(helper.boxWrap(description, width), '');
  const section = (heading: string, lines: string[]): void => {
    if (lines.length > 0) out.push(heading, ...lines, '');
  };
  section(
    'Arguments:',
    args.map((a) => item(helper, helper.argumentTerm(a), column, helper.argumentDescription(a), width)),
  );
  for (const [heading, options] of groups) {
    section(
      heading,
      options.map((o) => item(helper, helper.optionTerm(o), column, helper.optionDescription(o), width)),
    );
  }
  if (connection.length > 0) section(GROUP.connection, [indented(helper, connectionSummary(connection), width)]);
  section(
    'Commands:',
    commands.map((c) => item(helper, helper.subcommandTerm(c), column, helper.subcommandDescription(c), width)),
  );
  // Commands are never wrapped: a copied line must run as printed.
  section(
    'Examples:',
    examplesOf(cmd).flatMap((e) => [indented(helper, `# ${e.what}`, width, '# '), `  ${e.command}`]),
  );
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** Text indented by two, wrapped; continuation lines start with `continued` (a comment's `# `). */
function indented(helper: Help, text: string, width: number, continued = ''): string {
  return helper
    .boxWrap(text, Math.max(20, width - indent - continued.length))
    .split('\n')
    .map((l, i) => `  ${i > 0 ? continued : ''}${l}`)
    .join('\n');
}

/**
 * `(default: [])` says nothing: a repeatable flag that starts empty shows no default.
 * Every other default, choice and preset is described as commander does.
 */
function optionDescription(this: Help, option: Option): string {
  const base = Help.prototype;
  if (Array.isArray(option.defaultValue) && option.defaultValue.length === 0 && option.defaultValueDescription === undefined) {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { defaultValue: undefined });
    return base.optionDescription.call(this, copy);
  }
  return base.optionDescription.call(this, option);
}

/** The help configuration of every kbak command (main.ts applies it to the whole tree). */
export const HELP_CONFIG: HelpConfiguration = {
  formatHelp,
  optionDescription,
};
