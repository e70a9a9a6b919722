/**
 * Field paths of a masking policy (docs/masking-policy.md "Paths"): where in a record's key
 * or value a rule applies, parsed once into steps so the schema walk (later) never re-reads
 * text. Grammar:
 *
 *   path  = first ( "." name | "[*]" | "{*}" | "[" quoted "]" )*
 *   first = name | "[*]" | "{*}" | "[" quoted "]"
 *   name  = [A-Za-z_$][A-Za-z0-9_$-]*          (Avro, Protobuf and most JSON names)
 *   quoted = a JSON string                      (any other JSON name: ["first name"], ["a.b"])
 *
 * `[*]` is every item of an array (Avro array, Protobuf repeated, JSON array), `{*}` every
 * value of a map (Avro map, Protobuf map, a JSON object used as a map). Unions and oneofs are
 * not steps: a path goes through them to the branch that has the next field.
 */

export type PathStep = { kind: 'field'; name: string } | { kind: 'items' } | { kind: 'values' };
export type FieldPath = readonly PathStep[];

/** Why a path text is not a path: what was expected, and the 0-based character where. */
export class PathSyntaxError extends Error {
  constructor(
    readonly problem: string,
    readonly index: number,
  ) {
    super(`${problem} at character ${index + 1}`);
  }
}

const NAME_START = /[A-Za-z_$]/;
const NAME_PART = /[A-Za-z0-9_$-]/;
/** Policies are written by people: a path longer than this is a mistake, not a schema. */
export const MAX_PATH_CHARS = 1000;

/** Parses a path's text into steps, or throws PathSyntaxError. Linear in the text. */
export function parseFieldPath(text: string): FieldPath {
  if (text.length === 0) throw new PathSyntaxError('empty path', 0);
  if (text.length > MAX_PATH_CHARS) throw new PathSyntaxError(`longer than ${MAX_PATH_CHARS} characters`, MAX_PATH_CHARS);
  const steps: PathStep[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '.') {
      if (steps.length === 0) throw new PathSyntaxError('a path starts with a field name, "[*]" or "{*}", not "."', i);
      i++;
      if (i >= text.length || !NAME_START.test(text[i]!)) throw new PathSyntaxError('expected a field name after "."', i);
      i = readName(text, i, steps);
    } else if (text.startsWith('[*]', i)) {
      steps.push({ kind: 'items' });
      i += 3;
    } else if (text.startsWith('{*}', i)) {
      steps.push({ kind: 'values' });
      i += 3;
    } else if (text.startsWith('["', i)) {
      i = readQuoted(text, i, steps);
    } else if (steps.length === 0 && NAME_START.test(c)) {
      i = readName(text, i, steps);
    } else if (c === '[') {
      throw new PathSyntaxError('expected "[*]" (every item) or ["name"]', i);
    } else if (c === '{') {
      throw new PathSyntaxError('expected "{*}" (every map value)', i);
    } else {
      throw new PathSyntaxError(steps.length === 0 ? `unexpected ${JSON.stringify(c)}` : `expected ".", "[*]" or "{*}", not ${JSON.stringify(c)}`, i);
    }
  }
  return steps;
}

function readName(text: string, i: number, steps: PathStep[]): number {
  let j = i + 1;
  while (j < text.length && NAME_PART.test(text[j]!)) j++;
  steps.push({ kind: 'field', name: text.slice(i, j) });
  return j;
}

/** `["..."]`: a JSON string (escapes as JSON's), then `]`. */
function readQuoted(text: string, i: number, steps: PathStep[]): number {
  let j = i + 2;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  if (j >= text.length) throw new PathSyntaxError('unterminated quoted name', i + 1);
  let name: string;
  try {
    name = JSON.parse(text.slice(i + 1, j + 1)) as string;
  } catch {
    throw new PathSyntaxError('invalid escape in quoted name', i + 1);
  }
  if (name.length === 0) throw new PathSyntaxError('empty quoted name', i + 1);
  if (text[j + 1] !== ']') throw new PathSyntaxError('expected "]" after the quoted name', j + 1);
  steps.push({ kind: 'field', name });
  return j + 2;
}

/** The canonical text of a path: equal paths (however written) give equal text. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const s of path) {
    if (s.kind === 'items') out += '[*]';
    else if (s.kind === 'values') out += '{*}';
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s.name)) out += out === '' ? s.name : `.${s.name}`;
    else out += `[${JSON.stringify(s.name)}]`;
  }
  return out;
}
