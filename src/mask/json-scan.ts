/**
 * One validating pass over JSON text (RFC 8259) as UTF-8 bytes, following a tree of path
 * steps (ScanNode): the masker of json-body.ts learns where each covered value's token starts
 * and ends, so it can replace those bytes and copy every other byte as it was (key order,
 * whitespace, number text, escapes, duplicate keys).
 *
 * Hand-written rather than a library: the parsers that give offsets (jsonc-parser) work on JS
 * strings (UTF-16 offsets, so the text is decoded and re-encoded whole) and accept comments
 * and trailing commas, which a fail-closed masker must refuse; this scanner reads the bytes
 * once, strictly, and decodes only the keys on a covered path and the covered values.
 *
 * Linear in the text; nesting deeper than DECODE_LIMITS.maxDepth is refused before the
 * recursion could go deeper.
 */
import { isUtf8 } from 'node:buffer';
import { DECODE_LIMITS } from '../backup/decode';
import { UndecodablePayload } from './body';

/** A node of the path tree: where the steps so far lead, and the leaf found there (if a path ends here). */
export interface ScanNode<L> {
  fields: Map<string, ScanNode<L>> | null;
  /** The same children by the UTF-8 bytes of their names: a key without escapes is matched on its bytes, never decoded. */
  fieldBytes: { name: Buffer; child: ScanNode<L> }[] | null;
  items: ScanNode<L> | null;
  values: ScanNode<L> | null;
  leaf: L | null;
}

export function scanNode<L>(): ScanNode<L> {
  return { fields: null, fieldBytes: null, items: null, values: null, leaf: null };
}

/** Adds the child a step leads to (or finds it). */
export function scanChild<L>(node: ScanNode<L>, step: { kind: 'field'; name: string } | { kind: 'items' } | { kind: 'values' }): ScanNode<L> {
  if (step.kind === 'items') return (node.items ??= scanNode());
  if (step.kind === 'values') return (node.values ??= scanNode());
  node.fields ??= new Map();
  let child = node.fields.get(step.name);
  if (child === undefined) {
    node.fields.set(step.name, (child = scanNode()));
    (node.fieldBytes ??= []).push({ name: Buffer.from(step.name, 'utf8'), child });
  }
  return child;
}

/** A value token a path ends on. `container`: an object or array (no end: the scanner skips it after the call, if the call returns). */
export type TokenKind = 'string' | 'int' | 'float' | 'true' | 'false' | 'null' | 'container';

/** Called for each value a leaf covers, in text order, with the token's bytes [start, end); `escaped`: a string token with a backslash escape. */
export type LeafVisitor<L> = (leaf: L, kind: TokenKind, start: number, end: number, escaped: boolean) => void;

const Q = 0x22; // "
const BS = 0x5c; // \
/** The bytes that end a run of plain string content: the closing quote, a backslash, a control character (not allowed raw). */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[Q] = 1;
STRING_STOP[BS] = 1;
const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/**
 * Scans the whole text, calling `visit` for each value a leaf of `root` covers. Throws
 * UndecodablePayload on invalid UTF-8, invalid JSON, trailing bytes or nesting deeper than
 * the limit. Where several paths lead to one value (`a.b` and `a{*}`), the leaf reached by
 * a named step wins over `{*}` (the more specific path).
 */
export function scanJson<L>(text: Buffer, root: ScanNode<L>, visit: LeafVisitor<L>): void {
  if (!isUtf8(text)) throw new UndecodablePayload('the JSON payload is not valid UTF-8');
  const s = new Scanner(text, visit);
  s.ws();
  s.value(root.leaf === null && root.fields === null && root.items === null && root.values === null ? null : [root], 0);
  s.ws();
  if (s.i < text.length) s.fail('expected the end of the payload');
}

/** The child whose name's UTF-8 bytes are b[start, end), if any (names in a policy are few: a linear look is cheaper than decoding the key). */
function byBytes<L>(names: readonly { name: Buffer; child: ScanNode<L> }[], b: Buffer, start: number, end: number): ScanNode<L> | undefined {
  const len = end - start;
  outer: for (const { name, child } of names) {
    if (name.length !== len) continue;
    for (let k = 0; k < len; k++) if (name[k] !== b[start + k]) continue outer;
    return child;
  }
  return undefined;
}

class Scanner<L> {
  i = 0;
  /** Whether the last string scanned had a backslash escape. */
  escaped = false;
  constructor(
    readonly b: Buffer,
    readonly visit: LeafVisitor<L>,
  ) {}

  fail(what: string): never {
    throw new UndecodablePayload(`invalid JSON at byte ${this.i}: ${what}`);
  }

  ws(): void {
    const b = this.b;
    while (this.i < b.length && isWs(b[this.i]!)) this.i++;
  }

  /** A value; `active`: the path nodes that lead here (null: none, the value is only checked). */
  value(active: ScanNode<L>[] | null, depth: number): void {
    const b = this.b;
    const c = b[this.i];
    let leaf: L | null = null;
    if (active !== null) {
      for (const n of active) {
        if (n.leaf !== null) {
          leaf = n.leaf;
          break;
        }
      }
    }
    if (c === 0x7b || c === 0x5b) {
      if (depth >= DECODE_LIMITS.maxDepth) this.fail(`nested deeper than ${DECODE_LIMITS.maxDepth} levels`);
      if (leaf !== null) {
        this.visit(leaf, 'container', this.i, this.i, false);
        active = null;
      }
      if (c === 0x7b) this.object(active, depth + 1);
      else this.array(active, depth + 1);
      return;
    }
    const start = this.i;
    let kind: TokenKind;
    if (c === Q) {
      this.string();
      kind = 'string';
    } else if (c === 0x2d || (c !== undefined && isDigit(c))) {
      kind = this.number() ? 'int' : 'float';
    } else if (c === 0x74) {
      this.literal('true');
      kind = 'true';
    } else if (c === 0x66) {
      this.literal('false');
      kind = 'false';
    } else if (c === 0x6e) {
      this.literal('null');
      kind = 'null';
    } else {
      this.fail(c === undefined ? 'unexpected end of the payload' : 'expected a value');
    }
    if (leaf !== null) this.visit(leaf, kind, start, this.i, kind === 'string' && this.escaped);
  }

  object(active: ScanNode<L>[] | null, depth: number): void {
    const b = this.b;
    this.i++; // {
    this.ws();
    if (b[this.i] === 0x7d) {
      this.i++;
      return;
    }
    for (;;) {
      if (b[this.i] !== Q) this.fail('expected a member name');
      const keyStart = this.i;
      this.string();
      let next: ScanNode<L>[] | null = null;
      if (active !== null) {
        for (const n of active) {
          if (n.fields === null) continue;
          const f = this.escaped
            ? n.fields.get(JSON.parse(b.toString('utf8', keyStart, this.i)) as string)
            : byBytes(n.fieldBytes!, b, keyStart + 1, this.i - 1);
          if (f !== undefined) (next ??= []).push(f);
        }
        // Named steps first: their leaves win over {*}'s.
        for (const n of active) if (n.values !== null) (next ??= []).push(n.values);
      }
      this.ws();
      if (b[this.i] !== 0x3a) this.fail('expected ":" after the member name');
      this.i++;
      this.ws();
      this.value(next, depth);
      if (this.closes(0x7d, 'expected "," or "}"')) return;
    }
  }

  array(active: ScanNode<L>[] | null, depth: number): void {
    const b = this.b;
    this.i++; // [
    let next: ScanNode<L>[] | null = null;
    if (active !== null) for (const n of active) if (n.items !== null) (next ??= []).push(n.items);
    this.ws();
    if (b[this.i] === 0x5d) {
      this.i++;
      return;
    }
    for (;;) {
      this.value(next, depth);
      if (this.closes(0x5d, 'expected "," or "]"')) return;
    }
  }

  /** After a member or item: true at the closing bracket, false at a comma (each consumed, with the whitespace around). */
  closes(close: number, expected: string): boolean {
    this.ws();
    const c = this.b[this.i];
    if (c !== close && c !== 0x2c) this.fail(expected);
    this.i++;
    if (c === close) return true;
    this.ws();
    return false;
  }

  /** A string token from its opening quote; sets `escaped`. UTF-8 was checked whole before. */
  string(): void {
    const b = this.b;
    let i = this.i + 1;
    let escaped = false;
    const n = b.length;
    for (;;) {
      while (i < n && STRING_STOP[b[i]!] === 0) i++;
      if (i >= n) {
        this.i = i;
        this.fail('unterminated string');
      }
      const c = b[i]!;
      if (c === Q) break;
      if (c === BS) {
        escaped = true;
        const e = b[i + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) {
            const h = b[i + k];
            if (h === undefined || !isHex(h)) {
              this.i = i;
              this.fail('invalid \\u escape');
            }
          }
          i += 6;
        } else if (e === Q || e === BS || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2;
        } else {
          this.i = i;
          this.fail('invalid escape');
        }
      } else {
        this.i = i;
        this.fail('control character in a string');
      }
    }
    this.i = i + 1;
    this.escaped = escaped;
  }

  /** A number token; true when it is an integer (no fraction, no exponent). */
  number(): boolean {
    const b = this.b;
    let i = this.i;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (b[i] !== undefined && isDigit(b[i]!)) while (i < b.length && isDigit(b[i]!)) i++;
    else {
      this.i = i;
      this.fail('expected a digit');
    }
    let int = true;
    if (b[i] === 0x2e) {
      int = false;
      i++;
      if (b[i] === undefined || !isDigit(b[i]!)) {
        this.i = i;
        this.fail('expected a digit after "."');
      }
      while (i < b.length && isDigit(b[i]!)) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      int = false;
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (b[i] === undefined || !isDigit(b[i]!)) {
        this.i = i;
        this.fail('expected a digit in the exponent');
      }
      while (i < b.length && isDigit(b[i]!)) i++;
    }
    this.i = i;
    return int;
  }

  literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.b[this.i + k] !== word.charCodeAt(k)) this.fail(`expected ${word}`);
    }
    this.i += word.length;
  }
}
