/**
 * The one place a command's result reaches stdout in the format `-o` asked for: `json` is
 * one JSON line (its shape is the command's contract with scripts), `table` and `wide` are
 * lines for people (tables through src/output/table.ts), `name` one name per line. Every
 * line goes through env.stdout, which escapes it (src/cli/main.ts), so the escaping rule is
 * the same for every command and format.
 */
import type { CommandEnv } from './common';
import type { OutputFormat } from './output-options';

export interface ResultViews {
  /** The value `-o json` prints as one line. */
  json: () => unknown;
  /** The lines a person reads (an empty-state line when there is nothing to show). */
  table: () => string[];
  /** `table` with more columns; the table itself where a command has no more to say. */
  wide?: () => string[];
  /** One name per line (backup IDs, lane names); nothing when there are none. */
  name?: () => string[];
}

/** The lines of `views` for `format`, printed one stdout call each. */
export function printResult(env: CommandEnv, format: OutputFormat, views: ResultViews): void {
  for (const l of resultLines(format, views)) env.stdout(l);
}

export function resultLines(format: OutputFormat, views: ResultViews): string[] {
  switch (format) {
    case 'json':
      return [JSON.stringify(views.json())];
    case 'wide':
      return (views.wide ?? views.table)();
    case 'name':
      // outputFormat refuses `name` for a command that does not offer it.
      return views.name ? views.name() : views.table();
    default:
      return views.table();
  }
}
