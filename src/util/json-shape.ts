/**
 * A linear pre-scan of JSON text before JSON.parse, for JSON from untrusted places (a
 * manifest in a shared bucket). JSON.parse turns every `[]` or `{}` of the text into an
 * object of ~90 bytes, so 64 MiB of nested or tiny containers became gigabytes; and it
 * silently keeps the last of two equal keys, so two readers could see two different
 * documents. The scan refuses, before anything is built:
 *
 * - nesting deeper than `maxDepth` containers;
 * - more than `maxContainers` objects and arrays (each costs a heap object of tens of bytes),
 *   and more than `maxItems` containers and object members together (a member costs a
 *   property slot and its share of a hidden class; scalars in arrays are cheap, not counted);
 * - more than `maxKeys` distinct keys in the whole text: V8 gives every new key sequence its
 *   own hidden class, so 64 MiB of objects with fresh keys cost 3.9 GB (100 keys each) where
 *   the same objects over a small vocabulary cost 0.5 GB; a document format has a small one;
 * - a key that occurs twice in one object (after unescaping: `"a"` and `"\u0061"` are one key).
 *
 * It does not validate the grammar: whatever it lets through still goes to JSON.parse,
 * which refuses malformed text. Time is linear in the text; memory is the vocabulary (at
 * most maxKeys keys) and the key sets of the objects currently open.
 */

export interface JsonShapeLimits {
  maxDepth: number;
  maxContainers: number;
  maxItems: number;
  maxKeys: number;
}

interface Frame {
  /** Keys seen so far (objects), or null (arrays). */
  keys: Set<string> | null;
  /** Objects: the next string is a key. */
  expectKey: boolean;
  /** For the path in messages: the current key (objects) or element index (arrays). */
  at: string | number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * A path in the `a.0.b` form of kbak's messages. Keys come from the input: one that is not a
 * plain name is JSON-quoted, so a key holding a newline cannot break the one-line message.
 */
export function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.map((k) => (typeof k === 'number' || /^[A-Za-z0-9_.-]+$/.test(String(k)) ? String(k) : JSON.stringify(String(k)))).join('.') || '(root)';
}

/** The path of the value being scanned (a container's frame has no key before its first one). */
function pathOf(stack: Frame[]): string {
  return pathText(stack.filter((f) => f.at !== '').map((f) => f.at));
}

/** A key for a message: JSON-quoted and cut short (it comes from the input). */
const shown = (key: string): string => JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);

/** The first problem with `text`'s shape, or null. */
export function jsonShapeProblem(text: string, limits: JsonShapeLimits): string | null {
  const stack: Frame[] = [];
  let items = 0;
  let containers = 0;
  const vocabulary = new Set<string>();
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // The closing quote is the first one not escaped by an odd run of backslashes.
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return null; // unterminated: JSON.parse says so
        let k = j - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, j);
        let key = raw;
        if (raw.includes('\\')) {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string;
          } catch {
            return null; // a bad escape: JSON.parse refuses the whole text
          }
        }
        top.at = key;
        if (top.keys.has(key)) return `has the key ${shown(key)} twice in one object at ${pathOf(stack.slice(0, -1))}`;
        top.keys.add(key);
        top.expectKey = false;
        vocabulary.add(key);
        if (vocabulary.size > limits.maxKeys) return `has more than ${limits.maxKeys} distinct keys (the last one at ${pathOf(stack.slice(0, -1))})`;
        if (++items > limits.maxItems) return `has more than ${limits.maxItems} objects, arrays and members`;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      // { or [
      if (stack.length >= limits.maxDepth) return `is nested deeper than ${limits.maxDepth} levels at ${pathOf(stack)}`;
      if (++containers > limits.maxContainers) return `has more than ${limits.maxContainers} objects and arrays`;
      if (++items > limits.maxItems) return `has more than ${limits.maxItems} objects, arrays and members`;
      stack.push(c === 0x7b ? { keys: new Set(), expectKey: true, at: '' } : { keys: null, expectKey: false, at: 0 });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      // , : the next member (objects) or element (arrays)
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
    }
  }
  return null;
}
