/**
 * The masking plan of a restore: a policy's rules compiled, topic by topic, against every
 * schema the backup holds under the topic's subjects (`T-value`, `T-key`), before anything is
 * written. Every refusal is found here — a path that matches no field of a schema, `null` on
 * a field that cannot be null, an action the field's type cannot take, a topic no entry
 * lists — and the first is thrown as one line naming the rule's file:line:col, the path, the
 * topic and the schema (UsageError, exit 2). What compiles is a TopicMask per topic
 * (record-mask.ts applies it), and a view of every field with its action for `--dry-run`.
 */
import type { SchemaDecoder } from '../backup/decode';
import type { SchemaEntry, SchemaType } from '../backup/manifest';
import { UsageError } from '../errors';
import { topicSubject, type RecordPart } from '../model/subject-name';
import { compileAvroBody } from './avro-body';
import type { BodyCompile, BodyMasker, FieldPlanRow } from './body';
import { compileJsonSchemaBody, compilePlainJsonBody } from './json-body';
import { leafMasker, LeafRefusal, type LeafMask, type LeafType } from './leaf';
import { compileProtobufBody } from './protobuf-body';
import { topicRules, unmatchedTopics, type FieldAction, type FieldRule, type HeaderRule, type MaskPolicy, type TopicRules } from './policy';
import { actionText } from './plan-lines';
import { fractionThreshold } from './sample';

/** One schema a part of a topic may be framed with, compiled. */
export interface SchemaMask {
  id: number;
  subject: string;
  schemaType: SchemaType;
  masker: BodyMasker;
}

/** What happens to a key or a value of a topic. */
export type PartMask =
  /** Nothing to do: the bytes are kept (no rule, no sampling by a field of it). */
  | { kind: 'keep' }
  /** Framed payloads, one compiled masker per schema ID; anything else is refused (fail closed). */
  | { kind: 'framed'; byId: ReadonlyMap<number, SchemaMask> }
  /** No schema in the backup for this part: payloads are plain JSON. */
  | { kind: 'plain-json'; masker: BodyMasker }
  /** `key: { action }` on an unframed key: the whole key as one string (UTF-8) or bytes. */
  | { kind: 'whole'; action: FieldAction; asString: LeafMask | null; asBytes: LeafMask | null };

export type SampleMask =
  | { by: 'key'; threshold: bigint | null; keys: ReadonlySet<string> | null }
  | { by: 'field'; path: FieldRule['path']; pathText: string; threshold: bigint | null; keys: ReadonlySet<string> | null };

export interface TopicMask {
  topic: string;
  /** The policy entry that applies (first match wins). */
  rules: TopicRules;
  key: PartMask;
  value: PartMask;
  headers: readonly HeaderRule[];
  sample: SampleMask | null;
  /** Whether records go through unchanged (an entry without rules or sample): the restore's fast path may copy them. */
  passThrough: boolean;
}

/** Per topic, for `--dry-run`: each schema's fields with the action that applies. */
export interface MaskPlanView {
  topics: Array<{
    topic: string;
    /** `copied`: no entry lists it and unlisted topics are copied; `listed`: the entry at `at` applies. */
    status: 'listed' | 'copied';
    at: string | null;
    sample: string | null;
    key: string;
    headers: string[];
    /** `masker` reads the schema's values (the PII detector's samples); the plan's rules are compiled in. */
    schemas: Array<{ id: number; subject: string; part: RecordPart; schemaType: SchemaType; fields: FieldPlanRow[]; masker: BodyMasker }>;
  }>;
}

export interface MaskPlan {
  /** Source topic → its mask; null: copied as it is (unlisted, with unlisted copy). */
  topics: ReadonlyMap<string, TopicMask | null>;
  view: MaskPlanView;
}

export interface MaskPlanInput {
  policy: MaskPolicy;
  key: Buffer;
  /** The backup's schemas. */
  schemas: SchemaDecoder;
  allSchemas: readonly SchemaEntry[];
  /** The source topics the restore writes. */
  topics: readonly string[];
  /** --unlisted copy (or the policy's `unlisted: copy`). */
  unlistedCopy: boolean;
  /** Each keys-from file the policy names, read and parsed (sample.ts parseKeysFile). */
  keySets: ReadonlyMap<string, ReadonlySet<string>>;
}

const WHOLE_KEY_STRING: LeafType = { kind: 'string', nullable: true, label: 'key (UTF-8 text)' };
const WHOLE_KEY_BYTES: LeafType = { kind: 'bytes', nullable: true, label: 'key (bytes)' };

/** The schemas the backup holds under `T-<part>`, by ID. */
function schemasOf(all: readonly SchemaEntry[], topic: string, part: RecordPart): Array<{ entry: SchemaEntry; subject: string }> {
  const subject = topicSubject(topic, part);
  return all.filter((s) => s.registrations.some((r) => r.subject === subject)).map((entry) => ({ entry, subject }));
}

class Compiler {
  constructor(private readonly input: MaskPlanInput) {}

  private refuse(rule: { at: string }, message: string): never {
    throw new UsageError(
      `${rule.at}: ${message}`,
      'fix the policy (see docs/masking-policy.md), or mark a path that only some schemas have with optional: true',
    );
  }

  private body(entry: SchemaEntry, rules: readonly FieldRule[]): BodyCompile {
    const { schemas, key } = this.input;
    try {
      if (entry.schemaType === 'AVRO') return compileAvroBody(schemas.avroType(entry), rules, key);
      if (entry.schemaType === 'PROTOBUF') return compileProtobufBody(schemas.protobufMessages(entry).messages, rules, key);
      const { schema, references } = schemas.jsonSchema(entry);
      return compileJsonSchemaBody(schema, references, rules, key);
    } catch (err) {
      throw new UsageError(
        `schema ${entry.id} of the backup cannot be read to check the masking policy: ${(err as Error).message}`,
        'a masked restore needs every schema of a masked topic; check the backup with kbak verify',
      );
    }
  }

  /** A part's masker: framed by every schema under the topic's subject, or plain JSON without one. */
  private part(topic: string, part: RecordPart, rules: readonly FieldRule[], needed: boolean, view: MaskPlanView['topics'][number]): PartMask {
    const schemas = schemasOf(this.input.allSchemas, topic, part);
    if (!needed) {
      // Still shown in the plan: every field, kept.
      for (const { entry, subject } of schemas) {
        const c = this.body(entry, []);
        if (c.ok) view.schemas.push({ id: entry.id, subject, part, schemaType: entry.schemaType, fields: [...c.masker.fields], masker: c.masker });
      }
      return { kind: 'keep' };
    }
    if (schemas.length === 0) return { kind: 'plain-json', masker: compilePlainJsonBody(rules, this.input.key) };
    const byId = new Map<number, SchemaMask>();
    for (const { entry, subject } of schemas) {
      const c = this.body(entry, rules);
      if (!c.ok) {
        const first = c.errors[0]!;
        this.refuse(
          first.rule,
          `path ${first.rule.pathText} in the ${part} of topic ${topic}, schema ${entry.id} (${subject}, ${entry.schemaType}): ${first.problem}`,
        );
      }
      byId.set(entry.id, { id: entry.id, subject, schemaType: entry.schemaType, masker: c.masker });
      view.schemas.push({ id: entry.id, subject, part, schemaType: entry.schemaType, fields: [...c.masker.fields], masker: c.masker });
    }
    return { kind: 'framed', byId };
  }

  private wholeKey(topic: string, action: FieldAction, at: string): PartMask {
    const framed = schemasOf(this.input.allSchemas, topic, 'key');
    if (framed.length > 0) {
      this.refuse(
        { at },
        `the key of topic ${topic} is schema-framed (schema ${framed[0]!.entry.id}, ${framed[0]!.subject}): give rules for its fields (key: { fields: [...] })`,
      );
    }
    const bind = (t: LeafType): LeafMask | null => {
      const m = leafMasker(action, t, this.input.key);
      return m instanceof LeafRefusal ? null : m;
    };
    const asString = bind(WHOLE_KEY_STRING);
    const asBytes = bind(WHOLE_KEY_BYTES);
    if (action.kind !== 'keep' && asString === null && asBytes === null) {
      const why = leafMasker(action, WHOLE_KEY_STRING, this.input.key);
      this.refuse({ at }, `key action ${actionText(action)} of topic ${topic}: ${(why as LeafRefusal).reason}`);
    }
    return { kind: 'whole', action, asString, asBytes };
  }

  private sample(rules: TopicRules): SampleMask | null {
    const s = rules.sample;
    if (s === null) return null;
    const threshold = 'fraction' in s ? fractionThreshold(s.fraction) : null;
    let keys: ReadonlySet<string> | null = null;
    if ('keysFrom' in s) {
      keys = this.input.keySets.get(s.keysFrom) ?? null;
      if (keys === null) this.refuse(s, `keys-from file ${s.keysFrom} was not read`);
    }
    return s.by.kind === 'key' ? { by: 'key', threshold, keys } : { by: 'field', path: s.by.path, pathText: s.by.pathText, threshold, keys };
  }

  topic(topic: string): { mask: TopicMask | null; view: MaskPlanView['topics'][number] } {
    const rules = topicRules(this.input.policy, topic);
    if (rules === null) {
      return { mask: null, view: { topic, status: 'copied', at: null, sample: null, key: 'kept', headers: [], schemas: [] } };
    }
    const sample = this.sample(rules);
    const view: MaskPlanView['topics'][number] = {
      topic,
      status: 'listed',
      at: rules.at,
      sample:
        rules.sample === null
          ? null
          : `${'fraction' in rules.sample ? `fraction ${rules.sample.fraction}` : `keys from ${rules.sample.keysFrom}`} by ${rules.sample.by.kind === 'key' ? 'key' : rules.sample.by.pathText}`,
      key: 'kept',
      headers: rules.headers.map((h) => `${h.name}: ${h.action}`),
      schemas: [],
    };
    const valueRules = rules.value;
    const sampleByField = sample?.by === 'field';
    const value = this.part(topic, 'value', valueRules, valueRules.length > 0 || sampleByField, view);
    if (sampleByField && value.kind === 'framed') {
      // The sampling path must exist in every value schema: a record whose value lacks it would never be kept.
      for (const s of value.byId.values()) {
        if (!s.masker.fields.some((f) => f.path === sample.pathText)) {
          this.refuse(
            rules.sample!,
            `sample by ${sample.pathText} of topic ${topic}: the path is not a field of schema ${s.id} (${s.subject}, ${s.schemaType})`,
          );
        }
      }
    }
    let key: PartMask = { kind: 'keep' };
    if (rules.key && 'whole' in rules.key) {
      key = this.wholeKey(topic, rules.key.whole, rules.key.at);
      view.key = actionText(rules.key.whole);
    } else if (rules.key) {
      key = this.part(topic, 'key', rules.key.fields, true, view);
      view.key = 'fields';
    } else {
      this.part(topic, 'key', [], false, view);
    }
    const passThrough = value.kind === 'keep' && key.kind === 'keep' && rules.headers.length === 0 && sample === null;
    return { mask: { topic, rules, key, value, headers: rules.headers, sample, passThrough }, view };
  }
}

/**
 * Compiles the policy for the restore's topics, or throws the first refusal (UsageError,
 * exit 2). Topics no entry lists are refused, naming them, unless unlisted ones are copied.
 */
export function compileMaskPlan(input: MaskPlanInput): MaskPlan {
  const unlisted = unmatchedTopics(input.policy, input.topics);
  if (unlisted.length > 0 && !input.unlistedCopy && input.policy.unlisted !== 'copy') {
    const shown = unlisted.slice(0, 10).join(', ') + (unlisted.length > 10 ? ` and ${unlisted.length - 10} more` : '');
    throw new UsageError(
      `the masking policy ${input.policy.source} has no entry for topic${unlisted.length > 1 ? 's' : ''} ${shown}`,
      'add an entry for each (an entry without rules copies a topic as it is), leave them out with --topic, or pass --unlisted copy',
      { options: ['unlisted'] },
    );
  }
  const c = new Compiler(input);
  const topics = new Map<string, TopicMask | null>();
  const view: MaskPlanView = { topics: [] };
  for (const t of input.topics) {
    const r = c.topic(t);
    topics.set(t, r.mask);
    view.topics.push(r.view);
  }
  return { topics, view };
}
