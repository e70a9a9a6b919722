/**
 * `kbak cat`'s JSON line for one record, written in pieces straight from the record's bytes
 * (a RecordLayout checked by scanRecordAt): no object per header and no line-sized string,
 * so a legal record of 33 million headers or a 600 MiB value prints with memory bounded by
 * the record itself, where JSON.stringify of the whole line would pass V8's string limit.
 * The text is exactly JSON.stringify({ partition, offset, timestamp, timestampType, key,
 * value, headers: [{ key, value }] }) with key, value and header values in base64.
 */
import { eachHeader, type RecordLayout } from '../segment/format';
import type { DecodedPayload, SchemaDecoder } from '../backup/decode';

/** Characters collected before they are written. */
const PIECE_CHARS = 1 << 20;
/** Bytes encoded per base64 piece: a multiple of 3, so the pieces concatenate to the whole. */
const BASE64_BYTES = 3 << 18;
/** Bytes of a header key turned into a JSON string at a time. */
const KEY_BYTES = 1 << 20;

/** Collects the pieces of a line and hands them to `write` in batches of about PIECE_CHARS. */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly write: (text: string) => void) {}

  add(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= PIECE_CHARS) this.flush();
  }

  /** Ends the line and writes what is left. */
  end(): void {
    this.parts.push('\n');
    this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    this.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

function base64(out: LineWriter, buf: Buffer, start: number, length: number): void {
  out.add('"');
  for (let i = start; i < start + length; i += BASE64_BYTES) out.add(buf.toString('base64', i, Math.min(start + length, i + BASE64_BYTES)));
  out.add('"');
}

/** A JSON string of valid UTF-8 bytes, decoded a piece at a time, never split inside a character. */
function jsonString(out: LineWriter, buf: Buffer, start: number, length: number): void {
  const end = start + length;
  if (length <= KEY_BYTES) {
    out.add(JSON.stringify(buf.toString('utf8', start, end)));
    return;
  }
  out.add('"');
  for (let i = start; i < end;) {
    let j = Math.min(end, i + KEY_BYTES);
    // Back off continuation bytes (10xxxxxx): the piece ends before a character starts.
    while (j < end && (buf[j]! & 0xc0) === 0x80) j--;
    out.add(JSON.stringify(buf.toString('utf8', i, j)).slice(1, -1));
    i = j;
  }
  out.add('"');
}

function raw(out: LineWriter, d: Extract<DecodedPayload, { raw: Buffer }>): void {
  out.add('{"raw":');
  base64(out, d.raw, 0, d.raw.length);
  if (d.schemaId !== undefined) out.add(`,"schemaId":${d.schemaId}`);
  if (d.error !== undefined) out.add(`,"error":${JSON.stringify(d.error)}`);
  out.add('}');
}

function payload(out: LineWriter, buf: Buffer, start: number, length: number, decoder: SchemaDecoder | null): void {
  if (length < 0) out.add('null');
  else if (decoder === null) base64(out, buf, start, length);
  else {
    const d = decoder.decode(buf.subarray(start, start + length));
    if ('json' in d) out.add(d.json);
    else raw(out, d);
  }
}

/** One record as a JSON line (see the module comment). */
export function writeRecordLine(out: LineWriter, partition: number, buf: Buffer, r: RecordLayout, decoder: SchemaDecoder | null): void {
  out.add(`{"partition":${partition},"offset":"${r.offset}","timestamp":"${r.timestamp}","timestampType":${r.timestampType},"key":`);
  payload(out, buf, r.keyStart, r.keyLength, decoder);
  out.add(',"value":');
  payload(out, buf, r.valueStart, r.valueLength, decoder);
  out.add(',"headers":[');
  let first = true;
  eachHeader(buf, r, (ks, kl, vs, vl) => {
    out.add(first ? '{"key":' : ',{"key":');
    first = false;
    jsonString(out, buf, ks, kl);
    out.add(',"value":');
    if (vl < 0) out.add('null');
    else base64(out, buf, vs, vl);
    out.add('}');
  });
  out.add(']}');
  out.end();
}
