/**
 * Strings from stores, brokers and registries (folder names, keys, topic and subject
 * names, manifest fields, server messages) reach a terminal or a log collector. Control
 * characters in them could forge lines or drive the terminal (ESC sequences, newlines,
 * bidi overrides), so one rule escapes them at every output boundary: the character
 * becomes a visible \uXXXX, which is also a valid escape inside a JSON string. kbak's own
 * line breaks never go through these functions: its printers write one line at a time.
 */

// C0 controls, DEL, C1 controls, line/paragraph separators, bidi marks, embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- the same set without the newline
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One value on one line: every control character escaped, newlines included. */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, escape);
}

/**
 * Text written in pieces whose line breaks only kbak put there (JSON lines, whose strings
 * cannot hold a raw newline): newlines kept, everything else of the set escaped.
 */
export function escapeControlKeepLines(s: string): string {
  return s.replace(UNSAFE_KEEP_NEWLINE, escape);
}

/**
 * A serialised JSON line (a log line, a `--json` line) with its final newline, if any,
 * kept. JSON already escapes C0 controls inside strings; the rest of the set (DEL, C1,
 * U+2028/2029, bidi) can only occur inside strings, where \uXXXX means the same character:
 * the line stays valid JSON that parses to the same value.
 */
export function escapeJsonLine(line: string): string {
  return line.endsWith('\n') ? `${escapeControl(line.slice(0, -1))}\n` : escapeControl(line);
}
