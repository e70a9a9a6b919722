/**
 * A policy's text as a YAML document (JSON is YAML: one parser for both) that remembers
 * where every node came from, so an error about any value names its file, line and column.
 */
import type { Document, LineCounter, Node } from 'yaml';
import { UsageError } from '../errors';

/** The yaml library, loaded when a policy is parsed: a restore loads the mask's modules, masked or not. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
const yaml = (): typeof import('yaml') => require('yaml') as typeof import('yaml');

export const POLICY_HINT = 'see docs/masking-policy.md for the policy format';
/** YAML aliases expand: bound the expansion so `&a [*a, *a, ...]` cannot blow up memory. */
const MAX_ALIAS_COUNT = 100;

export type DocPath = readonly (string | number)[];

export class PolicySource {
  private constructor(
    readonly name: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses the text, refusing a syntax error (the first, with its position). */
  static parse(text: string, name: string): { source: PolicySource; value: unknown } {
    const lines = new (yaml().LineCounter)();
    const doc = yaml().parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const source = new PolicySource(name, doc, lines);
    const err = doc.errors[0];
    if (err) throw source.errorAtOffset(err.pos[0], `YAML syntax error: ${firstLine(err.message)}`);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      // The only throw of toJS on a parsed document: too many alias expansions.
      throw source.errorAtOffset(0, `YAML error: ${firstLine((e as Error).message)}`);
    }
    return { source, value };
  }

  /** A UsageError `name:line:col: problem` at the node of `path` (the key itself when `atKey`). */
  error(path: DocPath, problem: string, atKey = false): UsageError {
    return this.errorAtOffset(this.offsetOf(path, atKey), problem);
  }

  /** The offset of a path's node in the text, to order errors as the file does. */
  offset(path: DocPath, atKey = false): number {
    return this.offsetOf(path, atKey);
  }

  /** `line:col` of a path's node, for messages that point at a second place. */
  where(path: DocPath): string {
    const { line, col } = this.lines.linePos(this.offsetOf(path, false));
    return `${line}:${col}`;
  }

  /** Whether the node at `path` is present with a value written (`action:` alone is not). */
  isWritten(path: DocPath): boolean {
    const node = this.nodeAt(path);
    if (node === null || node === undefined) return false;
    if (yaml().isScalar(node) && node.range && node.range[0] === node.range[1]) return false;
    return true;
  }

  private errorAtOffset(offset: number, problem: string): UsageError {
    const { line, col } = this.lines.linePos(offset);
    return new UsageError(`${this.name}:${line}:${col}: ${problem}`, POLICY_HINT);
  }

  /** The node at `path`: null for a key written without a value, undefined when absent. */
  private nodeAt(path: DocPath): Node | null | undefined {
    let node: unknown = this.doc.contents;
    for (const step of path) {
      node = child(node, step, 'value');
      if (node === undefined || node === null) return node;
    }
    return node as Node;
  }

  /** The start of the deepest node on `path` that exists (a missing field: its parent). */
  private offsetOf(path: DocPath, atKey: boolean): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    path.forEach((step, i) => {
      if (node === undefined) return;
      const last = i === path.length - 1;
      node = child(node, step, last && atKey ? 'key' : 'valueOrKey');
      const start = rangeStart(node);
      if (start !== undefined) offset = start;
    });
    return offset;
  }
}

/** A map entry's value (null: written without one), its key, or the value else the key (for positions). */
function child(node: unknown, step: string | number, want: 'value' | 'key' | 'valueOrKey'): unknown {
  if (yaml().isMap(node)) {
    const pair = node.items.find((p) => yaml().isPair(p) && yaml().isScalar(p.key) && String(p.key.value) === String(step));
    if (!pair) return undefined;
    if (want === 'key') return pair.key;
    return want === 'value' ? (pair.value ?? null) : (pair.value ?? pair.key);
  }
  if (yaml().isSeq(node) && typeof step === 'number') return node.items[step];
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : undefined;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]!.trim();
}
