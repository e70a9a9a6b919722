/**
 * How `kbak cat` shows the bytes of a key, a value or a header value.
 *
 * Text, when the bytes are valid UTF-8 and hold no control character but tab, newline and
 * carriage return: a JSON consumer then gets back a string whose UTF-8 is exactly these
 * bytes, with nothing it would refuse or cut (PostgreSQL's jsonb refuses \u0000, C strings
 * end at it) and nothing binary dressed up as text (Avro and Protobuf bodies are often all
 * ASCII bytes but begin with length bytes under 0x20; Confluent-framed payloads begin with
 * a 0 byte). Base64 otherwise. Bidi marks, U+2028/2029 and the like are text: the stdout
 * choke point writes them as \uXXXX, which JSON reads as the same character.
 *
 * Large values are looked at and written in pieces of PIECE_BYTES, so no string is made
 * of a whole value (a legal 600 MiB value is longer than V8's longest string).
 */
import { isUtf8 } from 'node:buffer';
import { escapeControl } from '../output/safe-text';

/** Bytes looked at, decoded or written at a time. */
export const PIECE_BYTES = 1 << 20;

// C0 controls but tab, newline and CR; DEL; C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BINARY_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Where a piece of valid UTF-8 starting at `i` ends: at most PIECE_BYTES on, never inside a character. */
export function pieceEnd(buf: Buffer, i: number, end: number): number {
  let j = Math.min(end, i + PIECE_BYTES);
  // Back off continuation bytes (10xxxxxx): at most 3 in valid UTF-8.
  while (j < end && (buf[j]! & 0xc0) === 0x80) j--;
  return j;
}

/**
 * The bytes as a string when they are text by the rule above, else null; only for at most
 * PIECE_BYTES bytes (larger ones: isText, then pieces).
 */
export function textOf(buf: Buffer, start: number, end: number): string | null {
  if (!isUtf8(buf.subarray(start, end))) return null;
  const s = buf.toString('utf8', start, end);
  return BINARY_CHAR.test(s) ? null : s;
}

/** Whether the bytes are text by the rule above, looked at a piece at a time. */
export function isText(buf: Buffer, start: number, end: number): boolean {
  if (!isUtf8(buf.subarray(start, end))) return false;
  for (let i = start; i < end;) {
    const j = pieceEnd(buf, i, end);
    if (BINARY_CHAR.test(buf.toString('utf8', i, j))) return false;
    i = j;
  }
  return true;
}

/**
 * The bytes as a terminal shows them: valid UTF-8 decoded with every control character,
 * newlines included, escaped as \uXXXX (the escaping rule of all terminal output, P13);
 * anything else byte by byte, printable ASCII as it is and every other byte as \xHH.
 * `emit` gets the text a piece at a time.
 */
export function forTerminal(buf: Buffer, start: number, end: number, emit: (text: string) => void): void {
  if (isUtf8(buf.subarray(start, end))) {
    for (let i = start; i < end;) {
      const j = pieceEnd(buf, i, end);
      emit(escapeControl(buf.toString('utf8', i, j)));
      i = j;
    }
    return;
  }
  for (let i = start; i < end; i += PIECE_BYTES) {
    const stop = Math.min(end, i + PIECE_BYTES);
    let s = '';
    for (let k = i; k < stop; k++) {
      const b = buf[k]!;
      s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    }
    emit(s);
  }
}
