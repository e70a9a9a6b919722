/**
 * The masking policy file of issue 19 (docs/masking-policy.md): parsed from YAML or JSON,
 * validated, and turned into typed rules whose every error names file:line:col. Pure: the
 * caller reads the file; nothing here touches the disk, the environment or Kafka.
 */
import { z } from 'zod';
import type { UsageError } from '../errors';
import { formatFieldPath, parseFieldPath, PathSyntaxError, type FieldPath } from './path';
import { PolicySource, type DocPath } from './yaml-source';

export const FIELD_ACTIONS = ['keep', 'redact', 'null', 'partial', 'hash', 'fpe', 'fake'] as const;
export const FAKE_KINDS = ['email', 'name', 'phone', 'address', 'ip', 'uuid'] as const;
export const HEADER_ACTIONS = ['keep', 'drop', 'hash'] as const;
export const KEY_ENCODINGS = ['base64', 'hex'] as const;
/** `partial` keeps at most this many characters at each end: more is not masking. */
export const MAX_PARTIAL_KEEP = 100;

export type FakeKind = (typeof FAKE_KINDS)[number];
export type HeaderAction = (typeof HEADER_ACTIONS)[number];
export type KeyEncoding = (typeof KEY_ENCODINGS)[number];

export type FieldAction =
  | { kind: 'keep' | 'redact' | 'null' | 'hash' | 'fpe' }
  /** Keeps the first and last characters (either may be 0); the rest becomes `*`. */
  | { kind: 'partial'; first: number; last: number }
  | { kind: 'fake'; fake: FakeKind };

export interface FieldRule {
  path: FieldPath;
  /** The canonical text of `path` (formatFieldPath): what messages and the plan show. */
  pathText: string;
  action: FieldAction;
  /** A path that matches no schema of the topic is an error unless the rule is optional. */
  optional: boolean;
  /** `file:line:col` of the rule, for errors found later (schema checks). */
  at: string;
}

export interface HeaderRule {
  name: string;
  /** `^(?:name)$`: the whole header name. */
  pattern: RegExp;
  action: HeaderAction;
  at: string;
}

/** The record key: one action for the whole key, or rules for fields of a schema-framed key. */
export type KeyRules = { whole: FieldAction; at: string } | { fields: FieldRule[]; at: string };

export type SampleBy = { kind: 'key' } | { kind: 'field'; path: FieldPath; pathText: string };
export type Sample = ({ fraction: number } | { keysFrom: string }) & { by: SampleBy; at: string };

export interface TopicRules {
  match: string;
  /** `^(?:match)$`, as kbak dump's --topics-regex: whole source topic names. */
  pattern: RegExp;
  value: FieldRule[];
  key: KeyRules | null;
  headers: HeaderRule[];
  sample: Sample | null;
  at: string;
}

export type KeySource = ({ from: 'env'; env: string } | { from: 'file'; file: string }) & { encoding: KeyEncoding; at: string };

export interface MaskPolicy {
  /** The name the policy was read under (its file), as errors show it. */
  source: string;
  version: 1;
  key: KeySource;
  /** What a restore does with topics no `match` covers: refuse them (default) or copy them as they are. */
  unlisted: 'refuse' | 'copy';
  /** In file order: the first whose `match` matches a topic applies (topicRules). */
  topics: TopicRules[];
}

// ---------------------------------------------------------------------------------------------
// The shape, checked by zod; the messages are built from its issues in issueMessage below.

/** An object that refuses unknown fields, naming the ones it knows. */
function obj<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field ${JSON.stringify(iss.keys[0])} (use ${known})` : undefined),
  });
}

/** YAML reads `action: null` as null: the action named null. */
const fieldAction = z.preprocess((v) => (v === null ? 'null' : v), z.enum(FIELD_ACTIONS));

const ruleSchema = obj({
  path: z.string(),
  action: fieldAction,
  keep: z.string().optional(),
  fake: z.enum(FAKE_KINDS).optional(),
  optional: z.boolean().optional(),
});

const policySchema = obj({
  version: z.literal(1),
  key: obj({ env: z.string().min(1).optional(), file: z.string().min(1).optional(), encoding: z.enum(KEY_ENCODINGS) }),
  unlisted: z.enum(['refuse', 'copy']).optional(),
  topics: z
    .array(
      obj({
        match: z.string(),
        value: z.array(ruleSchema).optional(),
        key: obj({
          action: fieldAction.optional(),
          keep: z.string().optional(),
          fake: z.enum(FAKE_KINDS).optional(),
          fields: z.array(ruleSchema).optional(),
        }).optional(),
        headers: z.array(obj({ name: z.string(), action: z.enum(HEADER_ACTIONS) })).optional(),
        sample: obj({ fraction: z.number().gt(0).max(1).optional(), 'keys-from': z.string().min(1).optional(), by: z.string().optional() }).optional(),
      }),
    )
    .min(1),
});
type RawPolicy = z.infer<typeof policySchema>;
type RawRule = z.infer<typeof ruleSchema>;

// ---------------------------------------------------------------------------------------------

/**
 * Parses and validates a policy's text (YAML, or JSON: the same parser). Every refusal is a
 * one-line UsageError (exit 2) starting `<source.name>:<line>:<col>: `.
 */
export function parsePolicy(text: string, source: { name: string }): MaskPolicy {
  const { source: src, value } = PolicySource.parse(text, source.name);
  if (value === null || value === undefined) throw src.error([], 'the policy is empty');
  // Before the shape: a key written into the policy is refused as such, never echoed.
  const key = (value as { key?: unknown }).key;
  if (key !== null && typeof key === 'object' && 'value' in key) {
    throw src.error(['key', 'value'], 'the masking key never appears in a policy: name the environment variable (env) or the file (file) that holds it', true);
  }
  const parsed = policySchema.safeParse(value);
  if (!parsed.success) throw firstIssue(src, value, parsed.error.issues);
  return new Builder(src).policy(parsed.data);
}

/**
 * The issue that comes first in the file (zod's order is its walk's), as an error. A missing
 * field is positioned at its parent, so it comes after every problem with a written value:
 * `acton: hash` is reported as the unknown field it is, not as a missing action.
 */
function firstIssue(src: PolicySource, value: unknown, issues: readonly z.core.$ZodIssue[]): UsageError {
  const located = issues.map((iss) => {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    const atKey = iss.code === 'unrecognized_keys';
    const at = atKey ? [...path, iss.keys[0]!] : path;
    const missing = !atKey && valueAt(value, at) === undefined && !src.isWritten(at);
    return { iss, at, atKey, missing, offset: src.offset(at, atKey) };
  });
  located.sort((a, b) => Number(a.missing) - Number(b.missing) || a.offset - b.offset);
  const first = located[0]!;
  return src.error(first.at, issueMessage(src, value, first.iss, first.at), first.atKey);
}

const EXPECTED: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping' };

function issueMessage(src: PolicySource, root: unknown, iss: z.core.$ZodIssue, path: DocPath): string {
  const field = [...path].reverse().find((p): p is string => typeof p === 'string') ?? 'the policy';
  // Nothing under `key:` is echoed: a mistyped policy may hold key material anywhere there.
  const secret = path[0] === 'key';
  const input = valueAt(root, path);
  if (input === undefined && !src.isWritten(path)) return `missing field ${JSON.stringify(field)}`;
  switch (iss.code) {
    case 'unrecognized_keys':
      return iss.message;
    case 'invalid_value': {
      const values = iss.values.map(String);
      if (field === 'version') return `version must be ${values.join(' or ')}`;
      const label = field === 'fake' ? 'fake kind' : path.includes('headers') ? 'header action' : field;
      if (secret) return `${label} must be ${values.join(' or ')}`;
      return `unknown ${label} ${show(input)} (use ${values.join(', ')})`;
    }
    case 'invalid_type':
      if (field === 'fraction' && typeof input === 'number') return `fraction ${input} is outside (0, 1]`;
      return `${field} must be ${EXPECTED[iss.expected] ?? iss.expected}`;
    case 'too_small':
    case 'too_big':
      if (field === 'fraction') return `fraction ${show(input)} is outside (0, 1]`;
      if (field === 'topics') return 'topics is empty: list at least one topic';
      return `${field} is empty`;
    default:
      return `${field}: ${iss.message}`;
  }
}

function valueAt(root: unknown, path: DocPath): unknown {
  let v = root;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The checks zod's shape cannot express, each positioned, turning the raw shape into rules. */
class Builder {
  constructor(private readonly src: PolicySource) {}

  policy(raw: RawPolicy): MaskPolicy {
    return {
      source: this.src.name,
      version: 1,
      key: this.keySource(raw.key),
      unlisted: raw.unlisted ?? 'refuse',
      topics: raw.topics.map((t, i) => this.topic(t, ['topics', i])),
    };
  }

  private at(path: DocPath): string {
    return `${this.src.name}:${this.src.where(path)}`;
  }

  private keySource(raw: RawPolicy['key']): KeySource {
    const at = this.at(['key']);
    if (raw.env !== undefined && raw.file !== undefined) throw this.src.error(['key'], 'key names both env and file: use one');
    if (raw.env !== undefined) return { from: 'env', env: raw.env, encoding: raw.encoding, at };
    if (raw.file !== undefined) return { from: 'file', file: raw.file, encoding: raw.encoding, at };
    throw this.src.error(['key'], 'key names neither env nor file: say where the masking key is (key: { env: KBAK_MASK_KEY, encoding: base64 })');
  }

  private topic(raw: RawPolicy['topics'][number], at: DocPath): TopicRules {
    return {
      match: raw.match,
      pattern: this.regex(raw.match, [...at, 'match']),
      value: this.rules(raw.value ?? [], [...at, 'value']),
      key: raw.key === undefined ? null : this.keyRules(raw.key, [...at, 'key']),
      headers: this.headers(raw.headers ?? [], [...at, 'headers']),
      sample: raw.sample === undefined ? null : this.sample(raw.sample, [...at, 'sample']),
      at: this.at(at),
    };
  }

  /** Compiled as kbak dump's --topics-regex: the whole name. */
  private regex(re: string, at: DocPath): RegExp {
    try {
      return new RegExp(`^(?:${re})$`);
    } catch (e) {
      throw this.src.error(at, `invalid regex ${show(re)}: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`);
    }
  }

  private path(text: string, at: DocPath): FieldPath {
    try {
      return parseFieldPath(text);
    } catch (e) {
      if (!(e instanceof PathSyntaxError)) throw e;
      throw this.src.error(at, `malformed path ${show(text)}: ${e.message}`);
    }
  }

  private rules(raws: readonly RawRule[], at: DocPath): FieldRule[] {
    const seen = new Map<string, DocPath>();
    return raws.map((raw, i) => {
      const ruleAt = [...at, i];
      const path = this.path(raw.path, [...ruleAt, 'path']);
      const pathText = formatFieldPath(path);
      const before = seen.get(pathText);
      if (before) throw this.src.error([...ruleAt, 'path'], `a second rule for path ${show(pathText)} (the first is at ${this.src.where(before)})`);
      seen.set(pathText, ruleAt);
      return { path, pathText, action: this.action(raw, ruleAt), optional: raw.optional ?? false, at: this.at(ruleAt) };
    });
  }

  /** An action with what it needs: `partial` its `keep`, `fake` its kind, and nothing extra. */
  private action(
    raw: { action?: (typeof FIELD_ACTIONS)[number] | undefined; keep?: string | undefined; fake?: FakeKind | undefined },
    at: DocPath,
  ): FieldAction {
    const kind = raw.action!;
    if (kind === 'null' && !this.src.isWritten([...at, 'action'])) {
      throw this.src.error([...at, 'action'], `action is empty (use ${FIELD_ACTIONS.join(', ')})`, true);
    }
    if (raw.keep !== undefined && kind !== 'partial') throw this.src.error([...at, 'keep'], `keep applies to action partial only, not ${kind}`, true);
    if (raw.fake !== undefined && kind !== 'fake') throw this.src.error([...at, 'fake'], `fake applies to action fake only, not ${kind}`, true);
    if (kind === 'partial') {
      if (raw.keep === undefined) throw this.src.error([...at, 'action'], 'action partial needs keep: lastN, firstN or firstN+lastN (e.g. keep: last4)');
      return { kind, ...this.partialKeep(raw.keep, [...at, 'keep']) };
    }
    if (kind === 'fake') {
      if (raw.fake === undefined) throw this.src.error([...at, 'action'], `action fake needs fake: one of ${FAKE_KINDS.join(', ')}`);
      return { kind, fake: raw.fake };
    }
    return { kind };
  }

  private partialKeep(text: string, at: DocPath): { first: number; last: number } {
    const m = /^(?:first(\d{1,4})|last(\d{1,4})|first(\d{1,4})\+last(\d{1,4}))$/.exec(text);
    if (!m) throw this.src.error(at, `keep ${show(text)} is not lastN, firstN or firstN+lastN (e.g. last4, first6+last4)`);
    const first = Number(m[1] ?? m[3] ?? 0);
    const last = Number(m[2] ?? m[4] ?? 0);
    if (first + last === 0 || first > MAX_PARTIAL_KEEP || last > MAX_PARTIAL_KEEP) {
      throw this.src.error(at, `keep ${show(text)}: each count must be 1 to ${MAX_PARTIAL_KEEP}`);
    }
    return { first, last };
  }

  private keyRules(raw: NonNullable<RawPolicy['topics'][number]['key']>, at: DocPath): KeyRules {
    if (raw.fields !== undefined) {
      if (raw.action !== undefined || raw.keep !== undefined || raw.fake !== undefined) {
        throw this.src.error(at, 'key has both an action (the whole key) and fields: use one');
      }
      return { fields: this.rules(raw.fields, [...at, 'fields']), at: this.at(at) };
    }
    if (raw.action === undefined) throw this.src.error(at, 'key needs an action (the whole key) or fields (rules for fields of a schema-framed key)');
    return { whole: this.action(raw, at), at: this.at(at) };
  }

  private headers(raws: RawPolicy['topics'][number]['headers'] & object, at: DocPath): HeaderRule[] {
    const seen = new Map<string, DocPath>();
    return raws.map((raw, i) => {
      const ruleAt = [...at, i];
      const before = seen.get(raw.name);
      if (before) throw this.src.error([...ruleAt, 'name'], `a second rule for header ${show(raw.name)} (the first is at ${this.src.where(before)})`);
      seen.set(raw.name, ruleAt);
      return { name: raw.name, pattern: this.regex(raw.name, [...ruleAt, 'name']), action: raw.action, at: this.at(ruleAt) };
    });
  }

  private sample(raw: NonNullable<RawPolicy['topics'][number]['sample']>, at: DocPath): Sample {
    let by: SampleBy = { kind: 'key' };
    if (raw.by !== undefined && raw.by !== 'key') {
      const path = this.path(raw.by, [...at, 'by']);
      by = { kind: 'field', path, pathText: formatFieldPath(path) };
    }
    const where = this.at(at);
    if (raw.fraction !== undefined && raw['keys-from'] !== undefined) {
      throw this.src.error([...at, 'keys-from'], 'sample has both fraction and keys-from: use one', true);
    }
    if (raw.fraction !== undefined) return { fraction: raw.fraction, by, at: where };
    if (raw['keys-from'] !== undefined) return { keysFrom: raw['keys-from'], by, at: where };
    throw this.src.error(at, 'sample needs fraction (e.g. 0.01) or keys-from (a file of keys)');
  }
}

/** A `partial` action's `keep` as a policy writes it (`last4`, `first6+last4`): the inverse of what the parser reads. */
export function partialKeepText(a: { first: number; last: number }): string {
  return [a.first > 0 ? `first${a.first}` : '', a.last > 0 ? `last${a.last}` : ''].filter(Boolean).join('+');
}

/** The rules of the first topic entry whose `match` matches the whole source topic name. */
export function topicRules(policy: MaskPolicy, topic: string): TopicRules | null {
  return policy.topics.find((t) => t.pattern.test(topic)) ?? null;
}

/** The topics no entry matches, in the given order: what `unlisted: refuse` refuses. */
export function unmatchedTopics(policy: MaskPolicy, topics: readonly string[]): string[] {
  return topics.filter((t) => topicRules(policy, t) === null);
}
