/**
 * The lane form of a backup record (schema IDs rewritten, lane header and baggage added),
 * and what writePartition needs to compare and count such records. Pure.
 */
import type { WireHeader } from '../kafka/adapter';
import { withLaneBaggage, type BaggageOutcome } from '../lane/baggage';
import { framedSchemaId, withSchemaId } from '../schema/framing';
import type { SchemaIdMap } from '../schema/register';
import type { BackupRecord } from '../segment/record';

/** What is written to the lane for one backup record. */
export interface LaneRecord {
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: WireHeader[];
  /** Framed payloads whose schema ID was mapped (0, 1 or 2). */
  rewritten: number;
  /** What --lane-baggage did to the record's baggage header; null without the flag. */
  baggage: BaggageOutcome | null;
}

export interface RewriteOptions {
  ids: SchemaIdMap | null;
  laneTopic: string;
  lane: string;
  laneHeader: string | null;
  /** --lane-baggage KEY: KEY=<lane> in the W3C baggage header. */
  laneBaggage?: string | null;
}

function rewrite(payload: Buffer | null, opts: RewriteOptions, part: 'key' | 'value'): { bytes: Buffer | null; rewritten: boolean } {
  if (payload === null || opts.ids === null) return { bytes: payload, rewritten: false };
  const id = framedSchemaId(payload);
  if (id === null) return { bytes: payload, rewritten: false };
  const target = opts.ids.forPayload(id, opts.laneTopic, part);
  if (target === undefined) return { bytes: payload, rewritten: false };
  return { bytes: target === id ? payload : withSchemaId(payload, target), rewritten: true };
}

/** Pure: the lane form of a backup record. Only the 4 schema-ID bytes may differ. */
export function toLaneRecord(r: BackupRecord, opts: RewriteOptions): LaneRecord {
  const key = rewrite(r.key, opts, 'key');
  const value = rewrite(r.value, opts, 'value');
  // The record's own header list when nothing is added (no copy per record); a copy otherwise.
  let headers: WireHeader[] = opts.laneBaggage || opts.laneHeader !== null ? r.headers.map((h) => ({ key: h.key, value: h.value })) : r.headers;
  let baggage: BaggageOutcome | null = null;
  if (opts.laneBaggage) ({ headers, outcome: baggage } = withLaneBaggage(headers, opts.laneBaggage, opts.lane));
  if (opts.laneHeader !== null) headers.push({ key: opts.laneHeader, value: Buffer.from(opts.lane, 'utf8') });
  return { timestamp: r.timestamp, key: key.bytes, value: value.bytes, headers, rewritten: Number(key.rewritten) + Number(value.rewritten), baggage };
}

const sameBytes = (a: Buffer | null, b: Buffer | null): boolean => (a === null || b === null ? a === b : a.equals(b));

/** Pure: whether a record read from the lane is the one kbak would write there. */
export function sameRecord(expected: LaneRecord, actual: BackupRecord): boolean {
  return (
    expected.timestamp === actual.timestamp &&
    sameBytes(expected.key, actual.key) &&
    sameBytes(expected.value, actual.value) &&
    expected.headers.length === actual.headers.length &&
    expected.headers.every((h, i) => h.key === actual.headers[i]!.key && sameBytes(h.value, actual.headers[i]!.value))
  );
}

export function recordBytes(r: LaneRecord): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}
