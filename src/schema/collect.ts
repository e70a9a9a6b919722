/**
 * Dump side of schemas: remember every schema ID that Confluent-framed keys and values
 * claim, then fetch each from the registry with its references (recursively), the
 * subjects/versions it is registered under and those subjects' compatibility levels.
 */
import type { SchemaEntry, SubjectEntry } from '../backup/manifest';
import { framedSchemaId } from './framing';
import { ServiceError } from '../errors';
import { byteOrder } from '../model/byte-order';
import type { RegistryClient } from './registry-client';

export interface CollectedSchemas {
  schemas: SchemaEntry[];
  subjects: SubjectEntry[];
  /** IDs that looked framed but that the registry does not know: kept as raw bytes. */
  unknownIds: number[];
  framedPayloadsWithUnknownId: number;
}

export class SchemaCollector {
  /** id → number of payloads carrying it; cheap enough to call for every record. */
  private readonly seen = new Map<number, number>();

  observe(payload: Buffer | null): void {
    const id = framedSchemaId(payload);
    if (id !== null) this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
  }

  get distinctIds(): number {
    return this.seen.size;
  }

  async resolve(registry: RegistryClient | null): Promise<CollectedSchemas> {
    const entries = new Map<number, SchemaEntry>();
    const unknownIds: number[] = [];
    let framedUnknown = 0;
    if (!registry) {
      // Without a registry a leading 0 byte proves nothing: report, keep the bytes.
      for (const [id, n] of this.seen) {
        unknownIds.push(id);
        framedUnknown += n;
      }
      return { schemas: [], subjects: [], unknownIds: unknownIds.sort((a, b) => a - b), framedPayloadsWithUnknownId: framedUnknown };
    }

    const addById = async (id: number, usedInRecords: boolean): Promise<boolean> => {
      const existing = entries.get(id);
      if (existing) {
        existing.usedInRecords ||= usedInRecords;
        return true;
      }
      const def = await registry.schemaById(id);
      if (!def) return false;
      const registrations = (await registry.idVersions(id)).sort((a, b) => byteOrder(a.subject, b.subject) || a.version - b.version);
      entries.set(id, { id, schemaType: def.schemaType, schema: def.schema, references: def.references, registrations, usedInRecords });
      for (const ref of def.references) {
        const target = await registry.subjectVersion(ref.subject, ref.version);
        if (!target) throw new ServiceError('schema-registry', `schema ${id} references ${ref.subject} version ${ref.version}, which the registry does not have`, 'the source registry is inconsistent; restore the referenced version');
        await addById(target.id, false);
        // The referenced version must be listed even if /schemas/ids/{id}/versions is incomplete.
        const e = entries.get(target.id)!;
        if (!e.registrations.some((r) => r.subject === ref.subject && r.version === ref.version)) {
          e.registrations.push({ subject: ref.subject, version: ref.version });
        }
      }
      return true;
    };

    for (const [id, n] of [...this.seen].sort((a, b) => a[0] - b[0])) {
      if (!(await addById(id, true))) {
        unknownIds.push(id);
        framedUnknown += n;
      }
    }

    for (const e of entries.values()) e.registrations.sort((a, b) => byteOrder(a.subject, b.subject) || a.version - b.version);
    const subjectNames = new Set<string>();
    for (const e of entries.values()) for (const r of e.registrations) subjectNames.add(r.subject);
    const subjects: SubjectEntry[] = [];
    for (const subject of [...subjectNames].sort(byteOrder)) {
      subjects.push({ subject, compatibility: await registry.subjectCompatibility(subject) });
    }
    return {
      schemas: [...entries.values()].sort((a, b) => a.id - b.id),
      subjects,
      unknownIds,
      framedPayloadsWithUnknownId: framedUnknown,
    };
  }
}
