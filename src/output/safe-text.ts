/**
 * Strings from stores, brokers and registries (folder names, keys, topic and subject
 * names, server messages) reach a terminal. Control characters in them could forge lines
 * or drive the terminal (ESC sequences, bidi overrides), so every such string is escaped
 * at the output boundary: the character becomes a visible \uXXXX, which is also a valid
 * escape inside a JSON string.
 */

// C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One value on one line: every control character escaped, newlines included. */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, escape);
}

/** Text whose line breaks kbak itself put there: newlines kept, everything else escaped. */
export function escapeControlKeepLines(s: string): string {
  return s.replace(UNSAFE_KEEP_NEWLINE, escape);
}
