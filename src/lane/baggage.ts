/**
 * `--lane-baggage KEY`: puts KEY=<lane> into a record's W3C `baggage` header
 * (https://www.w3.org/TR/baggage/) so the mesh and the lane's services route the work the
 * record triggers to the lane. Only that one member changes; the rest of the header (its
 * other members, their order, whitespace and properties) and every other header keep
 * their bytes. A value that is not valid baggage, or that would break the W3C limits once
 * the member is added, is left alone and reported (the caller counts it).
 */
import { UsageError } from '../errors';
import type { WireHeader } from '../kafka/adapter';

/** W3C limits: at most 180 list-members (the grammar's bound) and 8192 bytes. */
export const MAX_BAGGAGE_MEMBERS = 180;
export const MAX_BAGGAGE_BYTES = 8192;

// token (RFC 7230), the key syntax.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// baggage-octet: printable ASCII except space, '"', ',', ';' and '\'.
const VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const OWS = /^[ \t]*|[ \t]*$/g;

export type BaggageOutcome = 'created' | 'replaced' | 'appended' | 'unchanged' | 'invalid';

export function validateBaggageKey(key: string): string {
  if (!TOKEN.test(key))
    throw new UsageError(`--lane-baggage ${JSON.stringify(key)} is not a valid baggage key`, "use letters, digits and !#$%&'*+-.^_`|~, e.g. lane");
  return key;
}

function validProperty(p: string): boolean {
  const t = p.replace(OWS, '');
  const eq = t.indexOf('=');
  if (eq === -1) return TOKEN.test(t);
  return TOKEN.test(t.slice(0, eq).replace(OWS, '')) && VALUE.test(t.slice(eq + 1).replace(OWS, ''));
}

interface Member {
  /** Offsets of the value inside the whole header string (for an in-place replacement). */
  valueStart: number;
  valueEnd: number;
  key: string;
}

/** Parses a baggage string; null when it is not valid W3C baggage. */
function parse(s: string): Member[] | null {
  const members: Member[] = [];
  let pos = 0;
  for (const raw of s.split(',')) {
    const start = pos;
    pos += raw.length + 1;
    const semi = raw.indexOf(';');
    const head = semi === -1 ? raw : raw.slice(0, semi);
    const eq = head.indexOf('=');
    if (eq === -1) return null;
    const key = head.slice(0, eq).replace(OWS, '');
    const rawValue = head.slice(eq + 1);
    const lead = rawValue.length - rawValue.replace(/^[ \t]*/, '').length;
    const value = rawValue.replace(OWS, '');
    if (!TOKEN.test(key) || !VALUE.test(value)) return null;
    if (
      semi !== -1 &&
      !raw
        .slice(semi + 1)
        .split(';')
        .every(validProperty)
    )
      return null;
    const valueStart = start + eq + 1 + lead;
    members.push({ key, valueStart, valueEnd: valueStart + value.length });
  }
  return members;
}

/**
 * Pure: the new value of a baggage header. Every member with the key gets the lane as its
 * value (two routing values would be ambiguous), else `,KEY=lane` is appended.
 */
export function setBaggageMember(value: string, key: string, lane: string): { value: string; outcome: BaggageOutcome } {
  if (value.replace(OWS, '') === '') return { value: `${key}=${lane}`, outcome: 'created' };
  const members = parse(value);
  if (members === null || members.length > MAX_BAGGAGE_MEMBERS || Buffer.byteLength(value) > MAX_BAGGAGE_BYTES) return { value, outcome: 'invalid' };
  const same = members.filter((m) => m.key === key);
  let out: string;
  let outcome: BaggageOutcome;
  if (same.length > 0) {
    out = '';
    let at = 0;
    for (const m of same) {
      out += value.slice(at, m.valueStart) + lane;
      at = m.valueEnd;
    }
    out += value.slice(at);
    outcome = out === value ? 'unchanged' : 'replaced';
  } else {
    if (members.length + 1 > MAX_BAGGAGE_MEMBERS) return { value, outcome: 'invalid' };
    out = `${value},${key}=${lane}`;
    outcome = 'appended';
  }
  if (Buffer.byteLength(out) > MAX_BAGGAGE_BYTES) return { value, outcome: 'invalid' };
  return { value: out, outcome };
}

/** The header --lane-baggage edits: the first whose key is `baggage` in any letter case. */
export const isBaggageKey = (key: string): boolean => key.toLowerCase() === 'baggage';
const isBaggage = (h: WireHeader): boolean => isBaggageKey(h.key);

const BAGGAGE = Buffer.from('baggage', 'latin1');

/**
 * isBaggageKey on a header key's bytes (UTF-8), for the transcoder: only ASCII letters
 * lower-case to those of `baggage`, so the key is 7 bytes that match it up to ASCII case.
 */
export function isBaggageKeyBytes(b: Buffer, from: number, n: number): boolean {
  if (n !== 7) return false;
  for (let i = 0; i < 7; i++) {
    const c = b[from + i]!;
    const lower = BAGGAGE[i]!;
    if (c !== lower && c !== lower - 0x20) return false;
  }
  return true;
}

// ignoreBOM: a leading U+FEFF stays part of the value, so a rewritten value keeps it. One
// decoder for every call (decode without `stream` keeps no state between calls; making one
// per record cost more than the rest of the baggage rewrite).
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decode: a header value that is not UTF-8 text is not baggage. */
function utf8(b: Buffer): string | null {
  try {
    return STRICT_UTF8.decode(b);
  } catch {
    return null;
  }
}

/** The value of the `baggage` header added to a record that has none. */
export const newBaggageValue = (key: string, lane: string): Buffer => Buffer.from(`${key}=${lane}`);

/**
 * Pure: the new bytes of an existing baggage header's value (null value: a null header),
 * or null when the header stays as it is (outcome `unchanged` or `invalid`). Both restore
 * paths use it: withLaneBaggage below and the transcoder (record-transcoder.ts).
 */
export function laneBaggageValue(value: Buffer | null, key: string, lane: string): { value: Buffer | null; outcome: BaggageOutcome } {
  const text = value === null ? null : utf8(value);
  if (text === null) return { value: null, outcome: 'invalid' };
  const r = setBaggageMember(text, key, lane);
  if (r.outcome === 'invalid' || r.outcome === 'unchanged') return { value: null, outcome: r.outcome };
  return { value: Buffer.from(r.value, 'utf8'), outcome: r.outcome };
}

/**
 * Pure: the record's headers with KEY=lane set in the first `baggage` header, or a new
 * `baggage` header appended when there is none. The input array is not modified.
 */
export function withLaneBaggage(headers: readonly WireHeader[], key: string, lane: string): { headers: WireHeader[]; outcome: BaggageOutcome } {
  const i = headers.findIndex(isBaggage);
  if (i === -1) return { headers: [...headers, { key: 'baggage', value: newBaggageValue(key, lane) }], outcome: 'created' };
  const h = headers[i]!;
  const r = laneBaggageValue(h.value, key, lane);
  if (r.value === null) return { headers: [...headers], outcome: r.outcome };
  const out = [...headers];
  out[i] = { key: h.key, value: r.value };
  return { headers: out, outcome: r.outcome };
}
