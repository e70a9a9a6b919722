/**
 * `kbak recover --keep-schema-ids`: registers a backup's schemas under their target subjects
 * with their ORIGINAL schema IDs and versions, through the registry's IMPORT mode, so the
 * records' payloads keep their schema IDs unchanged.
 *
 * How IMPORT works (Confluent Schema Registry's KafkaSchemaRegistry and ModeResource; Redpanda
 * and Karapace follow it):
 * - `PUT /mode/{subject}` `{"mode":"IMPORT"}` is refused with 42205 "Cannot import since found
 *   existing subjects" while the subject holds live versions (Redpanda: any version, soft-deleted
 *   too), unless `?force=true`. Confluent hard-deletes the subject's soft-deleted versions then.
 * - In IMPORT mode `POST /subjects/{subject}/versions` with `id` and `version` in the body stores
 *   the schema under that ID and version without compatibility checks; without an `id` it is
 *   refused, and outside IMPORT an `id` is refused (both 42205). An ID already holding another
 *   schema is refused ("Overwrite new schema with id N is not permitted", 42205); the same
 *   schema may get the same ID under several subjects. An imported ID raises the registry's ID
 *   counter to at least that ID.
 * - `GET /mode/{subject}` answers the subject's own mode or 40409 when it has none;
 *   `DELETE /mode/{subject}` removes it (40401 when there is none).
 *
 * Order of work, so that a refusal leaves the target as it was:
 * 1. A read-only plan (`previewKeepingIds`, also what `--dry-run` prints): per registration,
 *    reuse (the subject holds this schema under this ID), create, or refuse (the subject holds
 *    the schema under another ID, holds live versions that are not the backup's or soft-deleted
 *    ones, which IMPORT would delete for good; or the ID holds another schema). Any refusal stops
 *    here, before anything is written (SafetyError, exit 6).
 * 2. Each subject gets IMPORT only right before its first new version, and every subject's
 *    mode is put back in a `finally` (its previous own mode, or none). A subject whose live
 *    versions are all the backup's own (a recovery resumed after a failure midway) gets IMPORT
 *    with `force`: the registry would refuse it as not empty, and nothing of anyone else's is there.
 * 3. Every answer is verified: the ID the registry returned, then a lookup for the ID and version
 *    it stored.
 *
 * A registry that accepts IMPORT and the `id` but assigns its own ID (Apicurio 3.3.3's ccompat
 * API does) is found by the first registration itself, not by a probe subject: a probe needs
 * an ID of its own, and on a registry that honours IMPORT an imported ID moves the ID counter up
 * for good (Confluent's IncrementalIdGenerator keeps the highest ID seen), so a probe with a free
 * ID would change every ID the registry hands out later, and a probe subject is visible to
 * other users of a shared registry. The first real registration costs nothing on a registry
 * that honours IMPORT (it was to be done anyway); on one that does not, exactly the versions
 * this call created are deleted again (soft, then permanent) before the error, and the modes are
 * put back, so no subject is left behind. Only the registry's ID counter has moved, as any
 * probe would have moved it.
 *
 * Why SafetyError (exit 6) for "does not keep IDs" and not ServiceError (exit 4): the registry
 * did not fail (it answered every call), and a retry, unchanged, never helps; kbak refuses
 * because going on would write records whose payload IDs name other schemas in the target. The
 * fix is the same as for the other refusals here: recover without --keep-schema-ids.
 */
import type { SubjectEntry } from '../backup/manifest';
import { SafetyError, ServiceError } from '../errors';
import type { Logger } from '../output/logger';
import { laneDefinition, registrationKey, type LaneRegistration, type RegistrationResult, type RegistrationTask, type SchemaSelection } from './register';
import { RegistryHttpError, type RegistryClient, type SchemaDefinition } from './registry-client';

/** Confluent's 42205: the registry refuses the operation in the subject's mode or state. */
const OPERATION_NOT_PERMITTED = 42205;

/** What `--keep-schema-ids` will do with one source registration. */
export type KeepIdsAction = 'reuse' | 'create' | 'refuse';

export interface KeepIdsEntry {
  /** Source subject and version. */
  subject: string;
  version: number;
  /** The target subject (the original one, or what --rename gives). */
  targetSubject: string;
  /** The schema ID to keep. */
  schemaId: number;
  /**
   * reuse: the target subject holds this schema under this ID already (`targetVersion` is its
   * version there); create: it will be registered with this ID and version; refuse: it cannot
   * be, `reason` says why.
   */
  action: KeepIdsAction;
  targetVersion: number;
  /** Whether the ID already holds this same schema in the target (under another subject): create then adds a subject to it. */
  idShared: boolean;
  reason?: string;
}

export interface KeepIdsSubject {
  subject: string;
  /** The subject's live versions in the target before anything is done. */
  versions: number[];
  /** Its soft-deleted versions: IMPORT would delete them for good (Confluent) or is refused (Redpanda), so a subject with any gets nothing new. */
  softDeleted: number[];
  /** The subject holds only versions the plan reuses, and gets new ones: IMPORT needs `force` (its existing versions are the backup's own). */
  force: boolean;
}

/** `previewKeepingIds`'s answer: the plan for every registration, in registration order, and every target subject's state. */
export interface KeepIdsPreview {
  entries: KeepIdsEntry[];
  subjects: KeepIdsSubject[];
  /** One line per refused entry (empty when the plan can be carried out). */
  refusals: string[];
}

const listed = (versions: readonly number[]): string => (versions.length > 5 ? `${versions.slice(0, 5).join(', ')}, …` : versions.join(', '));

const WITHOUT = "recover without --keep-schema-ids: payload IDs are then rewritten to the target registry's";

/**
 * Whether `id` in the target holds the schema `def` (registries store a canonical form, so an
 * inexact text is asked of the registry: the lookup of `def` under one of the ID's subjects).
 */
async function idHoldsSchema(registry: RegistryClient, id: number, def: SchemaDefinition): Promise<boolean> {
  const there = await registry.schemaById(id);
  if (!there || there.schemaType !== def.schemaType) return false;
  const sameRefs = JSON.stringify(there.references) === JSON.stringify(def.references);
  if (there.schema === def.schema && sameRefs) return true;
  const [first] = await registry.idVersions(id);
  if (!first) return false;
  try {
    return (await registry.lookup(first.subject, def))?.id === id;
  } catch {
    // A reference the registry cannot resolve (the plan creates it later): not provably the same.
    return false;
  }
}

/**
 * Read-only: what `registerKeepingIds` would do (for `--dry-run`), and the refusals it would
 * stop with. Reads each target subject's versions, looks each schema up under its target
 * subject, and reads each ID to be created.
 */
export async function previewKeepingIds(registry: RegistryClient, selection: SchemaSelection): Promise<KeepIdsPreview> {
  const entries = new Map(selection.schemas.map((s) => [s.id, s]));
  const existing = new Map<string, number[]>();
  const softDeleted = new Map<string, number[]>();
  for (const subject of new Set(selection.tasks.map((t) => t.laneSubject))) {
    const live = await registry.subjectVersions(subject);
    existing.set(subject, live);
    softDeleted.set(
      subject,
      (await registry.subjectVersions(subject, { deleted: true })).filter((v) => !live.includes(v)),
    );
  }

  // Target registrations as planned, so a later schema's references name the versions its
  // references will have (the reused ones' actual versions, the created ones' kept versions).
  const planned = new Map<string, LaneRegistration>();
  const out: KeepIdsEntry[] = [];
  const refusals: string[] = [];
  const refuse = (e: KeepIdsEntry, reason: string): void => {
    e.action = 'refuse';
    e.reason = reason;
    refusals.push(reason);
  };
  const idChecked = new Map<number, boolean>();

  for (const task of selection.tasks) {
    const entry = entries.get(task.schemaId)!;
    const def = laneDefinition(entry, selection.subjects, planned);
    const e: KeepIdsEntry = {
      subject: task.subject,
      version: task.version,
      targetSubject: task.laneSubject,
      schemaId: task.schemaId,
      action: 'create',
      targetVersion: task.version,
      idShared: false,
    };
    out.push(e);
    if (!def) {
      refuse(e, `schema ${task.schemaId} for ${task.laneSubject} references a schema that cannot be registered`);
      continue;
    }
    const found = existing.get(task.laneSubject)!.length > 0 ? await registry.lookup(task.laneSubject, def) : null;
    if (found) {
      e.targetVersion = found.version;
      if (found.id === task.schemaId) e.action = 'reuse';
      else refuse(e, `subject ${task.laneSubject} holds the backup's schema ${task.schemaId} under ID ${found.id}`);
    } else {
      // Created schemas sharing an ID (one schema, several subjects) are checked once: the first creates it.
      let free = idChecked.get(task.schemaId);
      if (free === undefined) {
        const there = await registry.schemaById(task.schemaId);
        e.idShared = there !== null && (await idHoldsSchema(registry, task.schemaId, def));
        free = there === null || e.idShared;
        idChecked.set(task.schemaId, free);
      }
      if (!free) refuse(e, `schema ID ${task.schemaId} (for ${task.laneSubject} version ${task.version}) holds another schema in the target registry`);
    }
    planned.set(registrationKey(task.subject, task.version), {
      laneSubject: task.laneSubject,
      laneVersion: e.targetVersion,
      laneId: task.schemaId,
      created: e.action === 'create',
    });
  }

  const subjects: KeepIdsSubject[] = [];
  for (const [subject, versions] of existing) {
    const mine = out.filter((e) => e.targetSubject === subject);
    const creates = mine.some((e) => e.action === 'create');
    const reused = new Set(mine.filter((e) => e.action === 'reuse').map((e) => e.targetVersion));
    const foreign = versions.filter((v) => !reused.has(v));
    const deleted = softDeleted.get(subject)!;
    if (creates && foreign.length > 0) {
      const reason = `subject ${subject} already holds versions that are not the backup's (${listed(foreign)}): IMPORT mode cannot add schema IDs to it`;
      for (const e of mine) if (e.action === 'create') refuse(e, reason);
    } else if (creates && deleted.length > 0) {
      const reason = `subject ${subject} holds soft-deleted versions (${listed(deleted)}), which IMPORT mode would delete for good`;
      for (const e of mine) if (e.action === 'create') refuse(e, reason);
    }
    subjects.push({ subject, versions, softDeleted: deleted, force: creates && versions.length > 0 && foreign.length === 0 });
  }
  return { entries: out, subjects, refusals: [...new Set(refusals)] };
}

/**
 * Puts a subject in IMPORT mode. A registry without the mode API (404, 405) or one that refuses
 * IMPORT for the subject (42205: it got versions since the plan was made) is a refusal to keep
 * IDs, not an outage: the same one line and exit code as the plan's refusals.
 */
async function enterImport(registry: RegistryClient, subject: string, force: boolean): Promise<void> {
  try {
    await registry.setSubjectMode(subject, 'IMPORT', { force });
  } catch (err) {
    if (!(err instanceof RegistryHttpError)) throw err;
    if (err.status === 404 || err.status === 405) {
      throw new SafetyError(`schema registry ${registry.url} has no IMPORT mode (PUT /mode/${subject} answered HTTP ${err.status})`, WITHOUT, { cause: err });
    }
    if (err.errorCode === OPERATION_NOT_PERMITTED) {
      throw new SafetyError(`cannot keep schema IDs for subject ${subject}: ${err.message}`, WITHOUT, { cause: err });
    }
    throw err;
  }
}

/**
 * Puts a subject's mode back as it was: its own previous mode, or none. The mode this call set
 * is removed first and set again only when the subject then reads otherwise: a registry that
 * answers GET /mode/{subject} with the global mode when the subject has none (Apicurio does)
 * gets no subject-level mode it did not have.
 */
async function restoreMode(registry: RegistryClient, subject: string, previous: string | null): Promise<void> {
  await registry.deleteSubjectMode(subject);
  if (previous !== null && (await registry.subjectMode(subject)) !== previous) await registry.setSubjectMode(subject, previous);
}

/**
 * Registers `selection.tasks` (references first, each subject's versions in source order, as
 * `selectSchemas` ordered them) under their target subjects with their source schema IDs and
 * versions. Refuses (SafetyError, exit 6) before writing anything when a subject or an ID is
 * in the way (see `previewKeepingIds`), and stops when the registry does not keep the IDs
 * (after removing what it created). Subjects it created versions in get the source subject's
 * own compatibility level afterwards (IMPORT checks none).
 */
export async function registerKeepingIds(
  registry: RegistryClient,
  selection: SchemaSelection,
  subjectEntries: readonly SubjectEntry[],
  logger: Logger,
): Promise<RegistrationResult> {
  const plan = await previewKeepingIds(registry, selection);
  if (plan.refusals.length > 0) {
    const more = plan.refusals.length > 1 ? ` (and ${plan.refusals.length - 1} more)` : '';
    throw new SafetyError(`cannot keep schema IDs in ${registry.url}: ${plan.refusals[0]}${more}`, WITHOUT);
  }
  const force = new Map(plan.subjects.map((s) => [s.subject, s.force]));
  const entries = new Map(selection.schemas.map((s) => [s.id, s]));
  const byRegistration = new Map<string, LaneRegistration>();
  const byId = new Map<number, LaneRegistration[]>();
  /** Subjects whose mode this call changed → their own mode before. */
  const modes = new Map<string, string | null>();
  /** What this call created, in order, to be removed again if the registry does not keep IDs. */
  const created: Array<{ subject: string; version: number }> = [];

  const record = (task: RegistrationTask, lane: LaneRegistration): void => {
    byRegistration.set(registrationKey(task.subject, task.version), lane);
    const list = byId.get(task.schemaId) ?? [];
    list.push(lane);
    byId.set(task.schemaId, list);
  };

  let failure: unknown;
  try {
    for (const [i, task] of selection.tasks.entries()) {
      const step = plan.entries[i]!;
      if (step.action === 'reuse') {
        record(task, { laneSubject: task.laneSubject, laneVersion: step.targetVersion, laneId: task.schemaId, created: false });
        continue;
      }
      const def = laneDefinition(entries.get(task.schemaId)!, selection.subjects, byRegistration)!;
      if (!modes.has(task.laneSubject)) {
        const previous = await registry.subjectMode(task.laneSubject);
        await enterImport(registry, task.laneSubject, force.get(task.laneSubject) ?? false);
        modes.set(task.laneSubject, previous);
      }
      const answered = await registry.register(task.laneSubject, def, { id: task.schemaId, version: task.version });
      const found = await registry.lookup(task.laneSubject, def);
      if (found) created.push({ subject: task.laneSubject, version: found.version });
      const stored = found?.id ?? answered;
      if (answered !== task.schemaId || stored !== task.schemaId) {
        await removeCreated(registry, created, plan.subjects, logger);
        throw new SafetyError(
          `schema registry ${registry.url} does not keep schema IDs in IMPORT mode: asked for ID ${task.schemaId}, it assigned ${answered !== task.schemaId ? answered : stored}`,
          WITHOUT,
        );
      }
      if (!found) throw new ServiceError('schema-registry', `registered a schema under ${task.laneSubject} but the registry cannot find it`);
      if (found.version !== task.version) {
        // Payloads name IDs, not versions: the ID is what must hold; later references follow the version it has.
        logger.warn(
          { subject: task.laneSubject, version: task.version, registryVersion: found.version },
          'the registry kept the schema ID but stored another version number',
        );
      }
      record(task, { laneSubject: task.laneSubject, laneVersion: found.version, laneId: task.schemaId, created: true });
    }
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    try {
      await restoreModes(registry, modes, logger);
    } catch (err) {
      // A subject stuck in IMPORT is the more urgent news; what failed before is logged.
      if (failure !== undefined) logger.error({ err: failure }, 'registering with the backup schema IDs failed');
      // eslint-disable-next-line no-unsafe-finally -- the mode error must reach the caller
      throw err;
    }
  }

  const compat = new Map(subjectEntries.map((s) => [s.subject, s.compatibility]));
  const createdSubjects = new Set(created.map((c) => c.subject));
  for (const task of selection.tasks) {
    const level = compat.get(task.subject) ?? null;
    if (level === null || !createdSubjects.delete(task.laneSubject)) continue;
    if ((await registry.subjectCompatibility(task.laneSubject)) !== level) await registry.setSubjectCompatibility(task.laneSubject, level);
  }
  return {
    byRegistration,
    byId,
    subjectsRegistered: [...new Set(selection.tasks.map((t) => t.laneSubject))].sort(),
    versionsCreated: created.length,
  };
}

/**
 * Deletes exactly the versions this call created, newest first (a version may reference an
 * older one), and then a subject this call brought into being when it holds nothing else:
 * Apicurio keeps an empty subject after its last version is deleted.
 */
async function removeCreated(
  registry: RegistryClient,
  created: ReadonlyArray<{ subject: string; version: number }>,
  subjects: readonly KeepIdsSubject[],
  logger: Logger,
): Promise<void> {
  for (const c of [...created].reverse()) {
    await registry.deleteSubjectVersion(c.subject, c.version);
    logger.info({ subject: c.subject, version: c.version }, 'removed a schema version the registry registered under an ID of its own');
  }
  const wasEmpty = new Set(subjects.filter((s) => s.versions.length === 0).map((s) => s.subject));
  for (const subject of new Set(created.map((c) => c.subject))) {
    if (wasEmpty.has(subject) && (await registry.subjectVersions(subject)).length === 0) await registry.deleteSubject(subject);
  }
}

/**
 * Puts every changed subject's mode back, each even when another fails: a subject left in
 * IMPORT refuses every producer's registration. A failure is one error naming the subjects
 * left as they are, and how to put them back by hand.
 */
async function restoreModes(registry: RegistryClient, modes: ReadonlyMap<string, string | null>, logger: Logger): Promise<void> {
  const stuck: string[] = [];
  let cause: unknown;
  for (const [subject, previous] of modes) {
    try {
      await restoreMode(registry, subject, previous);
    } catch (err) {
      cause ??= err;
      stuck.push(subject);
      logger.error({ subject, mode: previous, err }, 'could not put the subject mode back');
    }
  }
  if (stuck.length > 0) {
    throw new ServiceError(
      'schema-registry',
      `could not put the mode of subject ${stuck.join(', ')} back in ${registry.url} (left in IMPORT mode, which refuses producers' registrations)`,
      `remove it by hand: DELETE ${registry.url}/mode/<subject>`,
      { cause },
    );
  }
}
