/**
 * Which existing topics, subjects and groups a lane owns. Ownership needs both:
 *  - the lane's ledger entry names the object (topics by Kafka topic ID, so a topic that
 *    someone else deleted and recreated under the same name is not owned), and
 *  - the name is one the lane's templates produce for this lane. The ledger is cluster
 *    data anyone with write access can forge; the templates come from the command line
 *    (defaults or flags), so a forged entry can never point kbak at a name outside the lane.
 * Pure.
 */
import { UsageError } from '../errors';
import { validateLaneName } from '../remap/lane';
import { compileTemplate, DEFAULT_GROUP_TEMPLATE, DEFAULT_SUBJECT_TEMPLATE, DEFAULT_TOPIC_TEMPLATE, type TemplateKind } from '../remap/template';
import type { LedgerEntry } from './ledger';

// A type, not an interface: the ledger's schema keeps unknown fields, so its templates have an index signature.
export type LaneTemplates = {
  topic: string;
  subject: string;
  group: string;
};

export function laneTemplates(opts: { topicTemplate?: string; subjectTemplate?: string; groupTemplate?: string }): LaneTemplates {
  return {
    topic: opts.topicTemplate ?? DEFAULT_TOPIC_TEMPLATE,
    subject: opts.subjectTemplate ?? DEFAULT_SUBJECT_TEMPLATE,
    group: opts.groupTemplate ?? DEFAULT_GROUP_TEMPLATE,
  };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex matching every name `template` renders for `lane` (any non-empty source name). */
function templateRegex(template: string, kind: TemplateKind, flag: string, lane: string): RegExp {
  compileTemplate(template, kind, flag); // throws UsageError on a bad template
  let re = '';
  for (const part of template.split(/(\{lane\}|\{topic\}|\{subject\}|\{group\})/)) {
    if (part === '{lane}') re += escape(lane);
    else if (part === `{${kind}}`) re += '.+';
    else re += escape(part);
  }
  return new RegExp(`^${re}$`, 's');
}

/** The names that belong to one lane, by its templates. */
export class LaneScope {
  readonly lane: string;
  readonly templates: LaneTemplates;
  private readonly topicRe: RegExp;
  private readonly subjectRe: RegExp;
  private readonly groupRe: RegExp;

  constructor(lane: string, templates: LaneTemplates) {
    this.lane = validateLaneName(lane);
    this.templates = templates;
    this.topicRe = templateRegex(templates.topic, 'topic', '--topic-template', lane);
    this.subjectRe = templateRegex(templates.subject, 'subject', '--subject-template', lane);
    this.groupRe = templateRegex(templates.group, 'group', '--group-template', lane);
  }

  topicInLane(name: string): boolean {
    return this.topicRe.test(name);
  }

  /** Subject-template names, and TopicNameStrategy subjects (`-key`/`-value`) of lane topics. */
  subjectInLane(name: string): boolean {
    if (this.subjectRe.test(name)) return true;
    return ['-key', '-value'].some((s) => name.endsWith(s) && this.topicInLane(name.slice(0, -s.length)));
  }

  groupInLane(name: string): boolean {
    return this.groupRe.test(name);
  }
}

/**
 * Refuses to act on a ledger entry written with other templates than the ones in use: the
 * names it lists were derived from those, and the user must say so explicitly.
 */
export function assertSameTemplates(entry: LedgerEntry, scope: LaneScope): void {
  for (const [kind, flag] of [
    ['topic', '--topic-template'],
    ['subject', '--subject-template'],
    ['group', '--group-template'],
  ] as const) {
    if (entry.templates[kind] !== scope.templates[kind]) {
      throw new UsageError(
        `lane ${scope.lane} was created with ${flag} ${JSON.stringify(entry.templates[kind])}, not ${JSON.stringify(scope.templates[kind])}`,
        `pass ${flag} ${JSON.stringify(entry.templates[kind])}`,
      );
    }
  }
}

export type Ownership = { owned: true } | { owned: false; reason: string };

const OWNED: Ownership = { owned: true };

export interface ExistingTopic {
  /** The topic's Kafka topic ID; null when the broker does not report topic IDs. */
  id: string | null;
  /** No records between log start and end. */
  empty: boolean;
}

export function topicOwnership(entry: LedgerEntry | null, scope: LaneScope, name: string, actual: ExistingTopic): Ownership {
  const q = JSON.stringify(name);
  if (!scope.topicInLane(name)) return { owned: false, reason: `topic ${q} is not a name of lane ${scope.lane} (template ${scope.templates.topic})` };
  const listed = entry?.topics.find((t) => t.name === name);
  if (!listed) return { owned: false, reason: `topic ${q} exists but lane ${scope.lane} did not create it (not in the lane ledger)` };
  if (actual.id !== null && listed.id === actual.id) return OWNED;
  if (actual.id === null && !listed.pending) return OWNED;
  // A killed restore may have created the topic after recording its intent but before
  // recording the ID: then kbak has not written into it yet.
  if (listed.pending && actual.empty) return OWNED;
  if (listed.pending) return { owned: false, reason: `topic ${q} holds records but lane ${scope.lane} never recorded creating it` };
  return { owned: false, reason: `topic ${q} was recreated by someone else (topic ID ${actual.id}, lane ${scope.lane} created ${listed.id})` };
}

/**
 * What a subject holds now, as far as ownership needs it: the schema ID of each version the
 * ledger recorded (null: that version is gone), and for a subject with nothing recorded yet
 * whether every version it has is one this restore registers (null when not known: lane delete).
 */
export interface ExistingSubject {
  recorded: ReadonlyMap<number, number | null>;
  onlyOurSchemas: boolean | null;
}

/**
 * A subject is owned when the ledger names it inside the lane and the versions kbak
 * registered are still there with the schema IDs it recorded: later versions (the lane's own
 * services registering) are fine, a subject deleted and re-created by someone else is not.
 * A subject named before its registration was recorded (a killed restore) is owned only while
 * it holds nothing but this restore's own schemas.
 */
export function subjectOwnership(entry: LedgerEntry | null, scope: LaneScope, name: string, actual: ExistingSubject): Ownership {
  const q = JSON.stringify(name);
  if (!scope.subjectInLane(name)) return { owned: false, reason: `subject ${q} is not a name of lane ${scope.lane}` };
  const listed = entry?.subjects.find((s) => s.name === name);
  if (!listed) return { owned: false, reason: `subject ${q} exists but lane ${scope.lane} did not create it (not in the lane ledger)` };
  if (listed.versions.length === 0) {
    if (actual.onlyOurSchemas === true) return OWNED;
    return { owned: false, reason: `subject ${q} holds versions that lane ${scope.lane} never recorded registering` };
  }
  for (const v of listed.versions) {
    const id = actual.recorded.get(v) ?? null;
    if (id === null) return { owned: false, reason: `subject ${q} no longer has version ${v} that lane ${scope.lane} registered: re-created by someone else` };
    // Format 1 recorded no IDs: the versions alone decide.
    if (listed.ids.length > 0 && !listed.ids.includes(id)) {
      return { owned: false, reason: `subject ${q} version ${v} is schema ID ${id}, not one lane ${scope.lane} registered: re-created by someone else` };
    }
  }
  return OWNED;
}

/**
 * A group is owned when the ledger names it inside the lane. What lane delete may do with an
 * owned group depends on its offsets as well: see delete-plan.ts.
 */
export function groupOwnership(entry: LedgerEntry | null, scope: LaneScope, name: string): Ownership {
  const q = JSON.stringify(name);
  if (!scope.groupInLane(name)) return { owned: false, reason: `consumer group ${q} is not a name of lane ${scope.lane}` };
  if (!entry?.groups.some((g) => g.name === name))
    return { owned: false, reason: `consumer group ${q} exists but lane ${scope.lane} did not create it (not in the lane ledger)` };
  return OWNED;
}
