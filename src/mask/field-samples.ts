/**
 * Values of a topic's fields as its first records hold them: what the PII detector
 * (detect.ts) looks at for `restore --dry-run --policy` and `kbak policy init`. Reads at most
 * SAMPLE_RECORDS records of the topic (partition by partition, from the start of each), and
 * keeps at most SAMPLE_VALUES values per field: the cost is bounded whatever the backup holds.
 */
import type { Backup } from '../backup/catalog';
import { FRAME_HEADER_BYTES, framedSchemaId } from '../schema/framing';
import type { BodyMasker } from './body';
import type { LeafValue } from './leaf';
import { parseFieldPath, type FieldPath } from './path';

export const SAMPLE_RECORDS = 1000;
export const SAMPLE_VALUES = 50;

export interface SampledSchema {
  id: number;
  part: 'key' | 'value';
  masker: BodyMasker;
  /** The paths to sample (fields no rule covers). */
  paths: readonly string[];
}

/** `part:id:path` → sampled values (nulls left out). */
export type FieldSamples = Map<string, LeafValue[]>;

export const sampleKey = (part: string, id: number, path: string): string => `${part}:${id}:${path}`;

export async function sampleFields(backup: Backup, topic: string, schemas: readonly SampledSchema[], limit = SAMPLE_RECORDS): Promise<FieldSamples> {
  const out: FieldSamples = new Map();
  if (schemas.length === 0) return out;
  const byPart = { key: new Map<number, SampledSchema>(), value: new Map<number, SampledSchema>() };
  for (const s of schemas) byPart[s.part].set(s.id, s);
  const parsed = new Map<string, FieldPath>();
  const pathOf = (p: string): FieldPath => {
    let f = parsed.get(p);
    if (f === undefined) parsed.set(p, (f = parseFieldPath(p)));
    return f;
  };
  const t = backup.manifest.topics.find((x) => x.name === topic);
  let seen = 0;
  for (const p of t?.partitions ?? []) {
    if (seen >= limit) break;
    for await (const r of backup.records(topic, p.partition)) {
      if (seen++ >= limit) break;
      for (const part of ['key', 'value'] as const) {
        const payload = r[part];
        const id = framedSchemaId(payload);
        const s = id === null ? undefined : byPart[part].get(id);
        if (s === undefined || payload === null) continue;
        const body = payload.subarray(FRAME_HEADER_BYTES);
        for (const path of s.paths) {
          const k = sampleKey(part, s.id, path);
          const list = out.get(k) ?? [];
          if (list.length >= SAMPLE_VALUES) continue;
          let values: LeafValue[];
          try {
            values = s.masker.values(body, pathOf(path));
          } catch {
            continue; // an undecodable payload tells the detector nothing; the restore refuses it
          }
          for (const v of values) if (v !== null && list.length < SAMPLE_VALUES) list.push(v);
          out.set(k, list);
        }
      }
    }
  }
  return out;
}
