/**
 * The CLI's one table renderer: space-padded columns, for terminals and pipes alike (a tab
 * inside a name from a ledger or broker would be escaped by stdout, so columns are never
 * tab-separated). Every command that prints rows uses it (kbak list, inspect, lane list,
 * lane describe). Pure.
 */
import { escapeControl } from './safe-text';

/** Spaces between columns. */
const GAP = '  ';

/**
 * Fixed-width columns; the last column is not padded, and no line ends in spaces. Cells are
 * escaped here (stdout escapes again, a no-op) so that widths count what the terminal
 * shows. `header` null: rows only (e.g. a label/value block). Widths are a loop, not
 * Math.max(...column): 140 000 rows overflowed the stack as arguments.
 */
export function table(header: readonly string[] | null, rows: ReadonlyArray<readonly string[]>): string[] {
  const cells = rows.map((r) => r.map(escapeControl));
  const all = header === null ? cells : [header.map(escapeControl), ...cells];
  const columns = all.reduce((n, r) => Math.max(n, r.length), 0);
  const widths = new Array<number>(columns).fill(0);
  for (const r of all) for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i]!, r[i]!.length);
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join(GAP)
      .trimEnd();
  return all.map(line);
}
