/**
 * `kbak cat`'s JSON line for one record, written in pieces straight from the record's bytes
 * (a RecordLayout checked by scanRecordAt): no object per header and no line-sized string,
 * so a legal record of 33 million headers or a 600 MiB value prints with memory bounded by
 * the record itself, where JSON.stringify of the whole line would pass V8's string limit.
 *
 * One shape, with or without --decode (README "Reading records"):
 * {"topic","partition","offset","timestamp","timestampType","keyEncoding","key",
 *  "valueEncoding","value","headers":[{"key","valueEncoding","value"}]}
 * An encoding is "text" (the value is the string), "base64" (the string is the bytes in
 * base64; cat-bytes.ts says which), null (the key or value is null), or, with --decode, the
 * schema type that decoded it ("avro", "json-schema", "protobuf": the value is the decoded
 * JSON), then followed by keySchemaId/valueSchemaId; a framed payload --decode could not
 * decode keeps its text or base64 form and adds the schema ID (when known) and
 * keyDecodeError/valueDecodeError.
 */
import { eachHeader, type RecordLayout } from '../segment/format';
import type { DecodedPayload, SchemaDecoder } from '../backup/decode';
import type { SchemaType } from '../backup/manifest';
import { isText, pieceEnd, PIECE_BYTES, textOf } from './cat-bytes';

/**
 * Characters collected before they are written: many lines a write, in strings small enough
 * for V8's young generation (1 MiB strings cost more in garbage collection than they save).
 */
const BATCH_CHARS = 1 << 14;
/** Bytes encoded per base64 piece: a multiple of 3, so the pieces concatenate to the whole. */
const BASE64_BYTES = 3 << 18;

/** The `keyEncoding`/`valueEncoding` of a payload a schema decoded. */
const DECODED_ENCODING: Record<SchemaType, string> = { AVRO: 'avro', JSON: 'json-schema', PROTOBUF: 'protobuf' };

/** Collects the pieces of lines and hands them to `write` in batches of about BATCH_CHARS (a base64 or text piece of up to 1 MiB alone). */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly write: (text: string) => void) {}

  add(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= BATCH_CHARS) this.flush();
  }

  /** Ends the line; what is left is written at the latest by `flush`. */
  end(): void {
    this.add('\n');
  }

  /** Writes what is collected (after each block, so a record never waits for the next block). */
  flush(): void {
    if (this.parts.length === 0) return;
    this.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/** What every line of one run shares. */
export interface JsonLineOptions {
  topic: string;
  decoder: SchemaDecoder | null;
  /** Timestamps as epoch milliseconds in a string (the shape before ISO-8601), not ISO-8601. */
  epochMs: boolean;
}

function base64(out: LineWriter, buf: Buffer, start: number, end: number): void {
  out.add('"');
  for (let i = start; i < end; i += BASE64_BYTES) out.add(buf.toString('base64', i, Math.min(end, i + BASE64_BYTES)));
  out.add('"');
}

/** A JSON string of valid UTF-8 bytes, decoded a piece at a time, never split inside a character. */
function jsonString(out: LineWriter, buf: Buffer, start: number, end: number): void {
  if (end - start <= PIECE_BYTES) {
    out.add(JSON.stringify(buf.toString('utf8', start, end)));
    return;
  }
  out.add('"');
  for (let i = start; i < end;) {
    const j = pieceEnd(buf, i, end);
    out.add(JSON.stringify(buf.toString('utf8', i, j)).slice(1, -1));
    i = j;
  }
  out.add('"');
}

/** `"<field>Encoding":…,"<field>":…` for bytes: text or base64. */
function bytesField(out: LineWriter, field: string, buf: Buffer, start: number, end: number): void {
  if (end - start <= PIECE_BYTES) {
    const text = textOf(buf, start, end);
    if (text !== null) out.add(`"${field}Encoding":"text","${field}":${JSON.stringify(text)}`);
    else {
      out.add(`"${field}Encoding":"base64","${field}":`);
      base64(out, buf, start, end);
    }
  } else if (isText(buf, start, end)) {
    out.add(`"${field}Encoding":"text","${field}":`);
    jsonString(out, buf, start, end);
  } else {
    out.add(`"${field}Encoding":"base64","${field}":`);
    base64(out, buf, start, end);
  }
}

function decodedField(out: LineWriter, field: string, d: DecodedPayload): void {
  if ('decoded' in d) {
    out.add(`"${field}Encoding":"${DECODED_ENCODING[d.schemaType]}","${field}":${d.decoded},"${field}SchemaId":${d.schemaId}`);
    return;
  }
  bytesField(out, field, d.raw, 0, d.raw.length);
  if (d.schemaId !== undefined) out.add(`,"${field}SchemaId":${d.schemaId}`);
  if (d.error !== undefined) out.add(`,"${field}DecodeError":${JSON.stringify(d.error)}`);
}

/** A key or value: its encoding and itself (see the module comment). */
function payloadField(out: LineWriter, field: 'key' | 'value', buf: Buffer, start: number, length: number, decoder: SchemaDecoder | null): void {
  if (length < 0) out.add(`"${field}Encoding":null,"${field}":null`);
  else if (decoder === null) bytesField(out, field, buf, start, start + length);
  else decodedField(out, field, decoder.decode(buf.subarray(start, start + length)));
}

/** The last minute formatted by isoTimestamp: records of a block are mostly within one. */
let isoMinute = NaN;
let isoMinutePrefix = '';

/**
 * A Kafka timestamp as ISO-8601 in UTC (`2026-11-26T12:00:05.120Z`); null for -1 (Kafka's
 * "no timestamp") and for values outside what a Date holds (±8.64e15 ms, only in a forged
 * backup).
 */
export function isoTimestamp(ts: bigint): string | null {
  if (ts === -1n || ts > 8_640_000_000_000_000n || ts < -8_640_000_000_000_000n) return null;
  const ms = Number(ts);
  const minute = Math.floor(ms / 60_000);
  if (minute !== isoMinute) {
    isoMinute = minute;
    // "YYYY-MM-DDTHH:MM:" (or "±YYYYYY-…" far from now): everything before the seconds.
    const iso = new Date(minute * 60_000).toISOString();
    isoMinutePrefix = iso.slice(0, iso.length - 7);
  }
  const inMinute = ms - minute * 60_000;
  const sec = Math.floor(inMinute / 1000);
  const milli = inMinute - sec * 1000;
  return `${isoMinutePrefix}${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** One record as a JSON line (see the module comment). */
export function writeRecordLine(out: LineWriter, opts: JsonLineOptions, partition: number, buf: Buffer, r: RecordLayout): void {
  const iso = opts.epochMs ? null : isoTimestamp(r.timestamp);
  const ts = opts.epochMs ? `"${r.timestamp}"` : iso === null ? 'null' : `"${iso}"`;
  out.add(`{"topic":${JSON.stringify(opts.topic)},"partition":${partition},"offset":"${r.offset}","timestamp":${ts},"timestampType":${r.timestampType},`);
  payloadField(out, 'key', buf, r.keyStart, r.keyLength, opts.decoder);
  out.add(',');
  payloadField(out, 'value', buf, r.valueStart, r.valueLength, opts.decoder);
  out.add(',"headers":[');
  let first = true;
  eachHeader(buf, r, (ks, kl, vs, vl) => {
    out.add(first ? '{"key":' : ',{"key":');
    first = false;
    // Header keys are valid UTF-8 (the segment reader checks them): always a string.
    jsonString(out, buf, ks, ks + kl);
    out.add(',');
    if (vl < 0) out.add('"valueEncoding":null,"value":null');
    else bytesField(out, 'value', buf, vs, vs + vl);
    out.add('}');
  });
  out.add(']}');
  out.end();
}
