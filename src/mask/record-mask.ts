/**
 * One backup record through a topic's mask (compile.ts): the sampling decision on the SOURCE
 * values, then the value, the key and the headers masked. Fail closed: a payload the plan's
 * maskers cannot read — framed with a schema ID the plan did not check, not framed where the
 * topic's subject has schemas, not decodable with its schema, a value an action cannot take
 * — gives `undecodable` with the reason, and the caller stops or drops the record; it is
 * never written as it was. Pure.
 */
import { isUtf8 } from 'node:buffer';
import { KbakError } from '../errors';
import { FRAME_HEADER_BYTES, framedSchemaId } from '../schema/framing';
import type { BackupRecord, RecordHeader } from '../segment/record';
import { UndecodablePayload } from './body';
import type { PartMask, SampleMask, TopicMask } from './compile';
import { hashBytes, hashString } from './hash';
import type { LeafValue } from './leaf';
import { canonicalBytes, inFraction } from './sample';

export type MaskOutcome = { kind: 'write'; record: BackupRecord } | { kind: 'sampled-out' } | { kind: 'undecodable'; reason: string };

/** The body of a framed payload and the masker of its schema, or why there is none. */
function framedBody(
  p: Extract<PartMask, { kind: 'framed' }>,
  payload: Buffer,
  part: string,
): { body: Buffer; masker: NonNullable<ReturnType<typeof p.byId.get>>['masker'] } {
  const id = framedSchemaId(payload);
  if (id === null) throw new UndecodablePayload(`the ${part} is not schema-framed, and the policy's rules need its schema`);
  const s = p.byId.get(id);
  if (s === undefined) throw new UndecodablePayload(`the ${part} is framed with schema ${id}, which the plan did not check against the policy`);
  return { body: payload.subarray(FRAME_HEADER_BYTES), masker: s.masker };
}

function maskPart(p: PartMask, payload: Buffer | null, part: 'key' | 'value'): Buffer | null {
  if (p.kind === 'keep' || payload === null) return payload;
  if (p.kind === 'framed') {
    const { body, masker } = framedBody(p, payload, part);
    const masked = masker.mask(body);
    return masked === body || masked.equals(body) ? payload : Buffer.concat([payload.subarray(0, FRAME_HEADER_BYTES), masked]);
  }
  if (p.kind === 'plain-json') return p.masker.mask(payload);
  // The whole key: as text when it is UTF-8 and the action takes text, else as bytes.
  if (p.action.kind === 'keep') return payload;
  if (p.asString !== null && isUtf8(payload)) return leafToBuffer(p.asString(payload.toString('utf8')));
  if (p.asBytes !== null) return leafToBuffer(p.asBytes(payload));
  throw new UndecodablePayload(`the key is not UTF-8 text, and action ${p.action.kind} needs text`);
}

function leafToBuffer(v: LeafValue): Buffer | null {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(String(v), 'utf8');
}

export class RecordMasker {
  constructor(
    readonly mask: TopicMask,
    private readonly key: Buffer,
  ) {}

  /** The value the sample is decided by, from the source record; null: the record has none (left out). */
  private sampleValue(s: SampleMask, r: BackupRecord): Buffer | null {
    if (s.by === 'key') {
      if (r.key === null) return null;
      // A framed key is sampled by its body: the same key schema gives the same bytes in every topic.
      return framedSchemaId(r.key) !== null ? r.key.subarray(FRAME_HEADER_BYTES) : r.key;
    }
    if (r.value === null) return null;
    const v = this.mask.value;
    let values: LeafValue[];
    if (v.kind === 'framed') {
      const { body, masker } = framedBody(v, r.value, 'value');
      values = masker.values(body, s.path);
    } else if (v.kind === 'plain-json') values = v.masker.values(r.value, s.path);
    else return null;
    const first = values.find((x) => x !== null);
    return first === undefined || first === null ? null : canonicalBytes(first);
  }

  private kept(r: BackupRecord): boolean {
    const s = this.mask.sample;
    if (s === null) return true;
    const v = this.sampleValue(s, r);
    if (v === null) return false;
    if (s.keys !== null) return s.keys.has(v.toString('utf8'));
    return inFraction(this.key, v, s.threshold!);
  }

  private headers(headers: RecordHeader[]): RecordHeader[] {
    const rules = this.mask.headers;
    if (rules.length === 0) return headers;
    const out: RecordHeader[] = [];
    for (const h of headers) {
      const rule = rules.find((x) => x.pattern.test(h.key));
      if (rule === undefined || rule.action === 'keep') out.push(h);
      else if (rule.action === 'hash') {
        const v = h.value;
        out.push({ key: h.key, value: v === null ? null : isUtf8(v) ? Buffer.from(hashString(this.key, v.toString('utf8')), 'utf8') : hashBytes(this.key, v) });
      }
    }
    return out;
  }

  apply(r: BackupRecord): MaskOutcome {
    try {
      if (!this.kept(r)) return { kind: 'sampled-out' };
      const value = maskPart(this.mask.value, r.value, 'value');
      const key = maskPart(this.mask.key, r.key, 'key');
      const headers = this.headers(r.headers);
      if (value === r.value && key === r.key && headers === r.headers) return { kind: 'write', record: r };
      return { kind: 'write', record: { ...r, key, value, headers } };
    } catch (err) {
      // A value an action cannot take (fpe of a too-short id) is a KbakError from leaf.ts's actions.
      if (err instanceof UndecodablePayload || err instanceof KbakError) return { kind: 'undecodable', reason: err.message };
      throw err;
    }
  }
}
