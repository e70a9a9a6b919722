/**
 * Restore side of schemas: register the schemas a restore needs under the lane's
 * subjects, references first and in each subject's source version order, and build the
 * map source schema ID → lane schema ID used to rewrite Confluent-framed payloads.
 *
 * Planning (which schemas, which subjects, in which order) is pure and unit-tested;
 * `registerSchemas` does the I/O. Registering is idempotent: a registry answers an
 * identical schema under the same subject with its existing ID and version.
 */
import { subjectTopics, topicSubject, type RecordPart } from '../model/subject-name';
import type { SchemaEntry, SubjectEntry } from '../backup/manifest';
import { IntegrityError, NotFoundError, SafetyError, ServiceError } from '../errors';
import type { Logger } from '../output/logger';
import { RegistryHttpError, type RegistryClient, type SchemaDefinition, type SchemaReference } from './registry-client';

/** One source subject/version to reproduce under its lane subject. */
export interface RegistrationTask {
  schemaId: number;
  subject: string;
  version: number;
  laneSubject: string;
}

export interface SchemaSelection {
  /** Schemas to register (used by restored records, plus everything they reference), by ID. */
  schemas: SchemaEntry[];
  /** In the order they must be registered. */
  tasks: RegistrationTask[];
  /** Source subject → lane subject, for every subject in `tasks`. */
  subjects: Map<string, string>;
  /** IDs used in records that cannot be registered (no subject left in the source registry). */
  unregistrable: number[];
}

/**
 * A subject belongs to a backed-up topic that is NOT being restored when it follows
 * TopicNameStrategy for that topic; such subjects (and schemas only registered there) are
 * left out of a partial restore. Everything else may be used by the restored records.
 */
export function subjectOfUnselectedTopic(subject: string, backupTopics: ReadonlySet<string>, selected: ReadonlySet<string>): boolean {
  return subjectTopics(subject).some(({ topic }) => backupTopics.has(topic) && !selected.has(topic));
}

export function subjectOfSelectedTopic(subject: string, selected: ReadonlySet<string>): boolean {
  return subjectTopics(subject).some(({ topic }) => selected.has(topic));
}

/**
 * Picks the schemas and registrations a restore of `selected` topics needs and orders
 * them: a subject's versions in source order, and every referenced subject/version before
 * the schema that references it. `laneSubject` maps every chosen source subject
 * (it may throw a SafetyError for colliding subjects: see LaneNaming.subjectMap).
 */
export function selectSchemas(
  schemas: readonly SchemaEntry[],
  backupTopics: ReadonlySet<string>,
  selected: ReadonlySet<string>,
  subjectMap: (subjects: string[]) => Map<string, string>,
): SchemaSelection {
  const byId = new Map(schemas.map((s) => [s.id, s]));
  const byRegistration = new Map<string, SchemaEntry>();
  for (const s of schemas) for (const r of s.registrations) byRegistration.set(registrationKey(r.subject, r.version), s);
  const relevant = (subject: string): boolean => !subjectOfUnselectedTopic(subject, backupTopics, selected);

  const chosen = new Map<string, { schemaId: number; subject: string; version: number }>();
  const needed = new Map<number, SchemaEntry>();
  const unregistrable: number[] = [];

  const addReferences = (entry: SchemaEntry): void => {
    for (const ref of entry.references) {
      const target = byRegistration.get(registrationKey(ref.subject, ref.version));
      if (!target) {
        throw new NotFoundError(
          `schema ${entry.id} references ${ref.subject} version ${ref.version}, which the backup does not contain`,
          'the backup is incomplete; dump again',
        );
      }
      const k = registrationKey(ref.subject, ref.version);
      if (!chosen.has(k)) chosen.set(k, { schemaId: target.id, subject: ref.subject, version: ref.version });
      if (!needed.has(target.id)) {
        needed.set(target.id, target);
        addReferences(target);
      }
    }
  };

  for (const s of [...schemas].sort((a, b) => a.id - b.id)) {
    if (!s.usedInRecords) continue;
    // In a shared registry one ID is registered under many subjects (other topics, other
    // lanes: Apicurio and Confluent give identical content the same ID). When the schema is
    // registered under a restored topic's own TopicNameStrategy subject, that is the one
    // the records were written with; only otherwise (RecordNameStrategy and the like) are
    // its other subjects taken.
    const own = s.registrations.filter((r) => subjectOfSelectedTopic(r.subject, selected));
    const regs = own.length > 0 ? own : s.registrations.filter((r) => relevant(r.subject));
    if (regs.length === 0) {
      // Only registered for topics not being restored: not needed, unless nothing at all.
      if (s.registrations.length === 0) unregistrable.push(s.id);
      continue;
    }
    needed.set(s.id, s);
    for (const r of regs) chosen.set(registrationKey(r.subject, r.version), { schemaId: s.id, subject: r.subject, version: r.version });
    addReferences(s);
  }

  const subjectNames = [...new Set([...chosen.values()].map((c) => c.subject))].sort();
  const subjects = subjectMap(subjectNames);

  // Kahn's algorithm; ties broken by (subject, version) so the order is deterministic.
  const nodes = [...chosen.entries()].map(([k, c]) => ({ key: k, ...c }));
  const deps = new Map<string, Set<string>>();
  for (const n of nodes) deps.set(n.key, new Set());
  const bySubject = new Map<string, typeof nodes>();
  for (const n of nodes) {
    const list = bySubject.get(n.subject) ?? [];
    list.push(n);
    bySubject.set(n.subject, list);
  }
  for (const list of bySubject.values()) {
    list.sort((a, b) => a.version - b.version);
    for (let i = 1; i < list.length; i++) deps.get(list[i]!.key)!.add(list[i - 1]!.key);
  }
  for (const n of nodes) {
    for (const ref of byId.get(n.schemaId)!.references) deps.get(n.key)!.add(registrationKey(ref.subject, ref.version));
  }
  const done = new Set<string>();
  const tasks: RegistrationTask[] = [];
  const cmp = (a: (typeof nodes)[number], b: (typeof nodes)[number]): number =>
    a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version;
  while (done.size < nodes.length) {
    const ready = nodes.filter((n) => !done.has(n.key) && [...deps.get(n.key)!].every((d) => done.has(d))).sort(cmp);
    if (ready.length === 0) {
      const stuck = nodes.filter((n) => !done.has(n.key)).map((n) => `${n.subject}/${n.version}`);
      throw new IntegrityError(`schema references form a cycle among ${stuck.slice(0, 5).join(', ')}`);
    }
    // One at a time keeps the order stable: the first ready node may unblock a smaller one.
    const n = ready[0]!;
    done.add(n.key);
    tasks.push({ schemaId: n.schemaId, subject: n.subject, version: n.version, laneSubject: subjects.get(n.subject)! });
  }

  return { schemas: [...needed.values()].sort((a, b) => a.id - b.id), tasks, subjects, unregistrable };
}

/** Where one source registration ended up in the lane. */
export interface LaneRegistration {
  laneSubject: string;
  laneVersion: number;
  laneId: number;
  /** False when the registry already had it (a rerun, or identical schema). */
  created: boolean;
}

export interface RegistrationResult {
  /** source subject/version → lane registration. */
  byRegistration: Map<string, LaneRegistration>;
  /** source ID → every lane registration of that schema. */
  byId: Map<number, LaneRegistration[]>;
  subjectsRegistered: string[];
  versionsCreated: number;
}

export function registrationKey(subject: string, version: number): string {
  return `${subject}\u0000${version}`;
}

/** The definition to register in the lane: references point at the lane subjects and versions. */
export function laneDefinition(
  entry: SchemaEntry,
  subjects: ReadonlyMap<string, string>,
  done: ReadonlyMap<string, LaneRegistration>,
): SchemaDefinition | null {
  const references: SchemaReference[] = [];
  for (const ref of entry.references) {
    const lane = done.get(registrationKey(ref.subject, ref.version));
    if (!lane) return null;
    references.push({ name: ref.name, subject: subjects.get(ref.subject) ?? lane.laneSubject, version: lane.laneVersion });
  }
  return { schemaType: entry.schemaType, schema: entry.schema, references };
}

function isIncompatible(err: unknown): boolean {
  return err instanceof RegistryHttpError && (err.status === 409 || err.errorCode === 409);
}

/**
 * Registers `selection.tasks` in order. Each lane subject first gets the source subject's
 * compatibility level (when the source had its own), so registering the source's versions
 * in their order reproduces what the source registry accepted. When only some versions are
 * restored, a version may be checked against an older one it was never checked against in
 * the source; then the subject is set to NONE for that one registration and put back.
 */
export async function registerSchemas(
  registry: RegistryClient,
  selection: SchemaSelection,
  subjectEntries: readonly SubjectEntry[],
  logger: Logger,
  /** Whether a subject's compatibility may be set to NONE for one registration (default: always; recovery never relaxes a subject it did not create). */
  mayRelax: (subject: string) => boolean = () => true,
): Promise<RegistrationResult> {
  const entries = new Map(selection.schemas.map((s) => [s.id, s]));
  const compat = new Map(subjectEntries.map((s) => [s.subject, s.compatibility]));
  const byRegistration = new Map<string, LaneRegistration>();
  const byId = new Map<number, LaneRegistration[]>();
  const configured = new Set<string>();
  let versionsCreated = 0;

  for (const task of selection.tasks) {
    const entry = entries.get(task.schemaId)!;
    const level = compat.get(task.subject) ?? null;
    if (level !== null && !configured.has(task.laneSubject)) {
      if ((await registry.subjectCompatibility(task.laneSubject)) !== level) await registry.setSubjectCompatibility(task.laneSubject, level);
    }
    configured.add(task.laneSubject);
    const def = laneDefinition(entry, selection.subjects, byRegistration);
    if (!def) throw new ServiceError('schema-registry', `cannot register ${task.laneSubject}: a referenced schema was not registered first`);

    let found = await registry.lookup(task.laneSubject, def);
    let created = false;
    if (!found) {
      try {
        await registry.register(task.laneSubject, def);
      } catch (err) {
        if (!isIncompatible(err)) throw err;
        if (!mayRelax(task.laneSubject)) {
          throw new SafetyError(
            `the backup's schema ${task.schemaId} (${task.subject} version ${task.version}) is incompatible with subject ${task.laneSubject} under its compatibility level`,
            'kbak does not relax the compatibility of a subject it did not create: recover under another name with --rename, or change the subject yourself',
          );
        }
        logger.warn(
          { subject: task.laneSubject, version: task.version },
          'schema incompatible with an older lane version (intermediate source versions are not restored); registering with compatibility NONE',
        );
        const previous = await registry.subjectCompatibility(task.laneSubject);
        await registry.setSubjectCompatibility(task.laneSubject, 'NONE');
        try {
          await registry.register(task.laneSubject, def);
        } finally {
          if (previous !== null) await registry.setSubjectCompatibility(task.laneSubject, previous);
        }
      }
      created = true;
      versionsCreated++;
      found = await registry.lookup(task.laneSubject, def);
      if (!found) throw new ServiceError('schema-registry', `registered a schema under ${task.laneSubject} but the registry cannot find it`);
    }
    const lane: LaneRegistration = { laneSubject: task.laneSubject, laneVersion: found.version, laneId: found.id, created };
    byRegistration.set(registrationKey(task.subject, task.version), lane);
    const list = byId.get(task.schemaId) ?? [];
    list.push(lane);
    byId.set(task.schemaId, list);
  }
  return { byRegistration, byId, subjectsRegistered: [...new Set(selection.tasks.map((t) => t.laneSubject))].sort(), versionsCreated };
}

/**
 * Which lane ID a payload of a lane topic gets: the schema's registration under the lane
 * topic's own TopicNameStrategy subject when it has one (registries that number per
 * subject give different IDs per subject), else its first lane registration.
 */
export class SchemaIdMap {
  constructor(private readonly byId: ReadonlyMap<number, readonly LaneRegistration[]>) {}

  get size(): number {
    return this.byId.size;
  }

  forPayload(sourceId: number, laneTopic: string, part: RecordPart): number | undefined {
    const regs = this.byId.get(sourceId);
    if (!regs || regs.length === 0) return undefined;
    const subject = topicSubject(laneTopic, part);
    return (regs.find((r) => r.laneSubject === subject) ?? regs[0]!).laneId;
  }

  /** source ID → default lane ID, for summaries. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, regs] of [...this.byId].sort((a, b) => a[0] - b[0])) if (regs[0]) out[String(id)] = regs[0].laneId;
    return out;
  }
}

/** Read-only preview for --dry-run: the lane IDs that already exist, null where registration is still to happen. */
export async function previewRegistrations(registry: RegistryClient, selection: SchemaSelection): Promise<Map<string, LaneRegistration | null>> {
  const entries = new Map(selection.schemas.map((s) => [s.id, s]));
  const done = new Map<string, LaneRegistration>();
  const out = new Map<string, LaneRegistration | null>();
  for (const task of selection.tasks) {
    const def = laneDefinition(entries.get(task.schemaId)!, selection.subjects, done);
    const found = def ? await registry.lookup(task.laneSubject, def) : null;
    const lane = found ? { laneSubject: task.laneSubject, laneVersion: found.version, laneId: found.id, created: false } : null;
    if (lane) done.set(registrationKey(task.subject, task.version), lane);
    out.set(registrationKey(task.subject, task.version), lane);
  }
  return out;
}
