/**
 * The names a dump stores what it reads under. A plain dump stores every name as the
 * source has it; `kbak lane snapshot` stores a lane's topics, subjects and groups under
 * their base names (the lane prefix removed, src/remap/base-names.ts) and leaves out the
 * groups and subjects the lane does not own. Applied where names enter the backup: the
 * segment keys and topic entries (partitions.ts), the group offsets and the schemas'
 * registrations (here, at commit). Pure.
 */
import type { GroupEntry, ManifestLane } from '../backup/manifest';
import type { CollectedSchemas } from '../schema/collect';

export interface StoredNames {
  /** The name topic `source` is stored under. */
  topic(source: string): string;
  /** The ID group `groupId` is stored under; null leaves the group out. */
  group(groupId: string): string | null;
  /** The name subject `subject` is stored under; null leaves its registrations out. */
  subject(subject: string): string | null;
  /** The lane the backup was taken from (the manifest's `lane`), or null. */
  lane: ManifestLane | null;
}

/** Group offsets under the stored names: left-out groups dropped, topics renamed. */
export function storedGroups(groups: readonly GroupEntry[], names: StoredNames): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const g of groups) {
    const groupId = names.group(g.groupId);
    if (groupId === null) continue;
    out.push({ groupId, offsets: g.offsets.map((o) => ({ ...o, topic: names.topic(o.topic) })) });
  }
  return out;
}

/**
 * Schemas under the stored subject names: registrations and subjects of left-out subjects
 * dropped, references renamed where their subject is kept. Every schema stays: the records
 * need it whatever it is registered under.
 */
export function storedSchemas(collected: CollectedSchemas, names: StoredNames): CollectedSchemas {
  const kept = (list: ReadonlyArray<{ subject: string; version: number }>): Array<{ subject: string; version: number }> =>
    list.flatMap((r) => {
      const subject = names.subject(r.subject);
      return subject === null ? [] : [{ subject, version: r.version }];
    });
  return {
    ...collected,
    schemas: collected.schemas.map((s) => ({
      ...s,
      registrations: kept(s.registrations),
      references: s.references.map((r) => ({ ...r, subject: names.subject(r.subject) ?? r.subject })),
    })),
    subjects: collected.subjects.flatMap((s) => {
      const subject = names.subject(s.subject);
      return subject === null ? [] : [{ ...s, subject }];
    }),
  };
}
