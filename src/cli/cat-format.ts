/**
 * `kbak cat -f`: kcat's format strings (`kcat -h`, "Format string tokens"). Placeholders
 * %t topic, %p partition, %o offset, %k key, %K key length (-1 for null), %s value, %S value
 * length (-1 for null), %R the value length as a 4-byte big-endian signed integer, %T
 * timestamp (epoch milliseconds), %h headers (`name=value` joined by commas, a null value as
 * NULL), %% a percent sign; in the text between them \n \r \t, \xHH (one or two hex
 * digits) and \NNN (decimal, up to three digits; octal after a leading 0: \0NNN) are bytes
 * and a backslash before any other character is that character. No line end is added.
 *
 * Not on a terminal (a pipe, a file) the record's bytes are written as they are, as kcat
 * does; on a terminal each key, value, header and topic goes through cat-bytes.ts
 * `forTerminal` (controls as \uXXXX, bytes that are not UTF-8 as \xHH), so a record cannot
 * move the cursor, forge a line or change the terminal. The format's own text is the
 * user's and is written as given.
 */
import { UsageError } from '../errors';
import { eachHeader, type RecordLayout } from '../segment/format';
import type { SchemaDecoder } from '../backup/decode';
import { escapeControl } from '../output/safe-text';
import { forTerminal, PIECE_BYTES } from './cat-bytes';

export type FormatToken = { text: Buffer } | { field: 't' | 'p' | 'o' | 'k' | 'K' | 's' | 'S' | 'R' | 'T' | 'h' };

const FIELDS = 'tpokKsSRTh';
const PLACEHOLDERS = '%t %p %o %k %K %s %S %R %T %h %%';

/** The bytes of the text between placeholders, with kcat's backslash escapes. */
function literal(s: string): Buffer {
  const parts: Buffer[] = [];
  let run = '';
  const byte = (b: number): void => {
    parts.push(Buffer.from(run, 'utf8'), Buffer.from([b]));
    run = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 === s.length) {
      run += c;
      continue;
    }
    const n = s[++i]!;
    const hex = n === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1)) : null;
    // kcat reads digits with strtoul base 0: a leading 0 means octal.
    const num = n === '0' ? /^0[0-7]{0,3}/.exec(s.slice(i)) : /^[1-9][0-9]{0,2}/.exec(s.slice(i));
    if (n === 't') byte(9);
    else if (n === 'n') byte(10);
    else if (n === 'r') byte(13);
    else if (hex) {
      byte(parseInt(hex[0], 16));
      i += hex[0].length;
    } else if (num) {
      byte(parseInt(num[0], n === '0' ? 8 : 10) & 0xff);
      i += num[0].length - 1;
    } else run += n;
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** The tokens of a format string; a usage error (exit 2) for a placeholder kcat does not have. */
export function parseFormat(fmt: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  let text = '';
  const flushText = (): void => {
    if (text !== '') tokens.push({ text: literal(text) });
    text = '';
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') {
      text += c;
      continue;
    }
    const f = fmt[++i];
    if (f === undefined) throw new UsageError('-f ends with a lone %', `placeholders: ${PLACEHOLDERS}`);
    if (f === '%') {
      text += '%';
      continue;
    }
    if (!FIELDS.includes(f)) throw new UsageError(`-f has an unknown placeholder %${escapeControl(f)}`, `placeholders: ${PLACEHOLDERS}`);
    flushText();
    tokens.push({ field: f as 't' });
  }
  flushText();
  return tokens;
}

/** Bytes collected in buffers of PIECE_BYTES and handed to `write`; each buffer is written once and never reused. */
export class ByteWriter {
  private buf: Buffer | null = null;
  private used = 0;
  constructor(private readonly write: (bytes: Buffer) => void) {}

  bytes(src: Buffer, start = 0, end = src.length): void {
    while (start < end) {
      this.buf ??= Buffer.allocUnsafe(PIECE_BYTES);
      const n = Math.min(end - start, PIECE_BYTES - this.used);
      src.copy(this.buf, this.used, start, start + n);
      this.used += n;
      start += n;
      if (this.used === PIECE_BYTES) this.flush();
    }
  }

  text(s: string): void {
    // Short text (numbers, a topic) straight into the buffer; anything else through bytes().
    if (s.length <= 256 && this.used + 3 * s.length <= PIECE_BYTES) {
      this.buf ??= Buffer.allocUnsafe(PIECE_BYTES);
      this.used += this.buf.write(s, this.used);
    } else this.bytes(Buffer.from(s, 'utf8'));
  }

  flush(): void {
    if (this.buf === null || this.used === 0) return;
    this.write(this.buf.subarray(0, this.used));
    this.buf = null;
    this.used = 0;
  }
}

/** What every record of one run shares. */
export interface FormatOptions {
  tokens: FormatToken[];
  topic: string;
  /** stdout is a terminal: escape what records hold (see the module comment). */
  terminal: boolean;
  decoder: SchemaDecoder | null;
}

/** One record through the format string. */
export function writeFormatted(out: ByteWriter, opts: FormatOptions, partition: number, buf: Buffer, r: RecordLayout): void {
  const shown = (start: number, end: number): void => {
    if (opts.terminal) forTerminal(buf, start, end, (t) => out.text(t));
    else out.bytes(buf, start, end);
  };
  const payload = (start: number, length: number): void => {
    if (length <= 0) return;
    const d = opts.decoder?.decode(buf.subarray(start, start + length));
    if (d !== undefined && 'decoded' in d) out.text(opts.terminal ? escapeControl(d.decoded) : d.decoded);
    else shown(start, start + length);
  };
  for (const t of opts.tokens) {
    if ('text' in t) {
      out.bytes(t.text);
      continue;
    }
    switch (t.field) {
      case 't':
        out.text(opts.terminal ? escapeControl(opts.topic) : opts.topic);
        break;
      case 'p':
        out.text(String(partition));
        break;
      case 'o':
        out.text(String(r.offset));
        break;
      case 'T':
        out.text(String(r.timestamp));
        break;
      case 'k':
        payload(r.keyStart, r.keyLength);
        break;
      case 's':
        payload(r.valueStart, r.valueLength);
        break;
      case 'K':
        out.text(String(r.keyLength));
        break;
      case 'S':
        out.text(String(r.valueLength));
        break;
      case 'R': {
        const len = Buffer.alloc(4);
        len.writeInt32BE(r.valueLength);
        if (opts.terminal) forTerminal(len, 0, 4, (s) => out.text(s));
        else out.bytes(len);
        break;
      }
      case 'h': {
        let first = true;
        eachHeader(buf, r, (ks, kl, vs, vl) => {
          if (!first) out.text(',');
          first = false;
          shown(ks, ks + kl);
          out.text('=');
          if (vl < 0) out.text('NULL');
          else shown(vs, vs + vl);
        });
        break;
      }
    }
  }
}
