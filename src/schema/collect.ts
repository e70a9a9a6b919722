/**
 * Dump side of schemas: remember every schema ID that Confluent-framed keys and values
 * claim, then fetch each from the registry with its references (recursively), the
 * subjects/versions it is registered under and those subjects' compatibility levels.
 */
import type { SchemaEntry, SubjectEntry } from '../backup/manifest';
import { framedSchemaId } from './framing';
import { ServiceError } from '../errors';
import { byteOrder } from '../model/byte-order';
import { subjectTopics } from '../model/subject-name';
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
    if (id !== null) this.observeId(id);
  }

  /** `payloads` payloads carrying `id` (for callers that read the frame themselves, and for merging shards' counts). */
  observeId(id: number, payloads = 1): void {
    this.seen.set(id, (this.seen.get(id) ?? 0) + payloads);
  }

  /** Every ID seen with how many payloads carried it, by ID: what a shard's partial records. */
  counts(): Array<{ id: number; payloads: number }> {
    return [...this.seen].map(([id, payloads]) => ({ id, payloads })).sort((a, b) => a.id - b.id);
  }

  get distinctIds(): number {
    return this.seen.size;
  }

  /**
   * `topics` are the topics being dumped: a schema's registrations are narrowed to the
   * ones a restore of those topics can use (see `relevantRegistrations`), after leaving out
   * the subjects `keepSubject` refuses (a lane snapshot keeps only the lane's own: the
   * narrowing would otherwise prefer a production subject to the lane's copy).
   */
  async resolve(
    registry: RegistryClient | null,
    topics: ReadonlySet<string>,
    keepSubject: (subject: string) => boolean = () => true,
  ): Promise<CollectedSchemas> {
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

    // The registrations of `id` a restore of `topics` can use, among the subjects kept.
    const usable = async (id: number): Promise<Array<{ subject: string; version: number }>> =>
      relevantRegistrations(
        (await registry.idVersions(id)).filter((r) => keepSubject(r.subject)),
        topics,
      );
    const addById = async (id: number, usedInRecords: boolean): Promise<boolean> => {
      const existing = entries.get(id);
      if (existing) {
        if (usedInRecords && !existing.usedInRecords) {
          // First reached as a reference: now the records use it too, so its own subjects count.
          existing.usedInRecords = true;
          for (const r of await usable(id)) {
            if (!existing.registrations.some((x) => x.subject === r.subject && x.version === r.version)) existing.registrations.push(r);
          }
        }
        return true;
      }
      const def = await registry.schemaById(id);
      if (!def) return false;
      // A schema reached only as a reference needs just the subject/version that references
      // name (added below), not every subject that happens to share its content.
      const registrations = usedInRecords ? await usable(id) : [];
      entries.set(id, { id, schemaType: def.schemaType, schema: def.schema, references: def.references, registrations, usedInRecords });
      for (const ref of def.references) {
        const target = await registry.subjectVersion(ref.subject, ref.version);
        if (!target)
          throw new ServiceError(
            'schema-registry',
            `schema ${id} references ${ref.subject} version ${ref.version}, which the registry does not have`,
            'the source registry is inconsistent; restore the referenced version',
          );
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

/**
 * In a shared registry one schema ID is registered under many subjects: every topic and
 * every lane whose schema has the same content (Confluent and Apicurio both give identical
 * content one ID). Lanes seeded from this cluster add a subject per lane, so keeping them
 * all would grow each backup, and the dump's per-subject lookups, with every lane ever
 * made. When the ID is registered under a dumped topic's own TopicNameStrategy subject,
 * that is what the records were written with and all a restore registers; only otherwise
 * (RecordNameStrategy and the like) are all its subjects kept.
 */
export function relevantRegistrations(
  registrations: ReadonlyArray<{ subject: string; version: number }>,
  topics: ReadonlySet<string>,
): Array<{ subject: string; version: number }> {
  const copy = (list: ReadonlyArray<{ subject: string; version: number }>) => list.map((r) => ({ subject: r.subject, version: r.version }));
  const own = registrations.filter((r) => subjectTopics(r.subject).some(({ topic }) => topics.has(topic)));
  if (own.length > 0) return copy(own);
  // No subject of a dumped topic: the records name the schema some other way
  // (RecordNameStrategy). Subjects shaped like another topic's are that topic's (or a
  // lane topic's), and `X.S` next to `S` is a lane copy under the default subject template
  // `{lane}.{subject}`: both are left out when something else remains.
  const notTopics = registrations.filter((r) => subjectTopics(r.subject).length === 0);
  const pool = notTopics.length > 0 ? notTopics : registrations;
  const names = new Set(pool.map((r) => r.subject));
  const originals = pool.filter((r) => !hasSuffixSubject(r.subject, names));
  return copy(originals.length > 0 ? originals : pool);
}

/** Whether `subject` is `<prefix>.<another subject in names>`. */
function hasSuffixSubject(subject: string, names: ReadonlySet<string>): boolean {
  for (let i = subject.indexOf('.'); i >= 0; i = subject.indexOf('.', i + 1)) {
    const rest = subject.slice(i + 1);
    if (rest !== subject && names.has(rest)) return true;
  }
  return false;
}
