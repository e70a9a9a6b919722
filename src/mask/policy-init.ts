/**
 * The starting policy `kbak policy init` writes (issue 19): the fields detect.ts flagged as
 * rules with their suggested actions, each under a comment saying why, and every other leaf
 * field listed as a commented `keep` rule so a reviewer sees what was judged harmless. The
 * text parses with parsePolicy as written (tested), with `unlisted: refuse`: a topic left
 * out of the policy is refused, not copied.
 *
 * Names come from a backup and its registry (untrusted): topic names go into `match` as
 * escaped regexes that match exactly themselves, field names into paths (quoted where they
 * are not plain names), and nothing from the backup reaches a comment except through
 * JSON-quoted or path text, so no name can end a comment and start a YAML line.
 *
 * Pure: the caller samples the backup and runs the detector.
 */
import type { Document, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { escapeControl } from '../output/safe-text';
import { suggestAction, type Detection } from './detect';
import type { LeafType } from './leaf';
import { formatFieldPath, parseFieldPath, PathSyntaxError } from './path';
import { partialKeepText, type FieldAction } from './policy';

/** The yaml library, loaded when a policy is written: a restore loads this module and never does. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
const yaml = (): typeof import('yaml') => require('yaml') as typeof import('yaml');

export interface StarterField {
  /** The field's policy path text (formatFieldPath); a text that is not a path is taken as one field name. */
  path: string;
  type: LeafType;
  detection: Detection | null;
}

export interface StarterSchema {
  id: number;
  subject: string | null;
  part: 'key' | 'value';
  fields: StarterField[];
}

export interface StarterInput {
  /** The backup the policy was drawn from, as the user named it: shown in the header comment. */
  backup: string;
  topics: Array<{ topic: string; schemas: StarterSchema[] }>;
}

/** A regex (JavaScript syntax) that matches exactly `s`: every metacharacter escaped. */
export function exactRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** The canonical path text of `path`; a text that is not a path is one field's name, quoted if needed. */
function canonicalPath(path: string): string {
  try {
    return formatFieldPath(parseFieldPath(path));
  } catch (e) {
    if (!(e instanceof PathSyntaxError)) throw e;
    return formatFieldPath([{ kind: 'field', name: path }]);
  }
}

/** Comment text on one line: a line break or other control character from a name becomes a visible \uXXXX. */
const oneLine = escapeControl;

/**
 * A quoted path's text with the controls JSON.stringify leaves as they are (U+007F–U+009F,
 * U+2028, bidi marks) written as \uXXXX: the same path (a JSON escape), and printable, so a
 * commented rule names the field exactly.
 */
const printablePath = escapeControl;

/** A topic name as a `match` scalar: double-quoted (escapes visible) when it holds controls, not a block scalar. */
function matchScalar(topic: string): Scalar {
  const node = new (yaml().Scalar)(exactRegex(topic));
  if (escapeControl(topic) !== topic) node.type = yaml().Scalar.QUOTE_DOUBLE;
  return node;
}

/** A field across the schema versions of one part of a topic: every type it had, the first finding. */
interface MergedField {
  path: string;
  types: LeafType[];
  detection: Detection | null;
}

function mergeFields(schemas: readonly StarterSchema[], part: 'key' | 'value'): MergedField[] {
  const byPath = new Map<string, MergedField>();
  for (const schema of schemas) {
    if (schema.part !== part) continue;
    for (const f of schema.fields) {
      const path = canonicalPath(f.path);
      const seen = byPath.get(path);
      if (seen === undefined) byPath.set(path, { path, types: [f.type], detection: f.detection });
      else {
        seen.types.push(f.type);
        // A name finding outranks one by values, as in detectPersonal.
        if (seen.detection === null || (seen.detection.by === 'values' && f.detection?.by === 'name')) seen.detection = f.detection ?? seen.detection;
      }
    }
  }
  return [...byPath.values()];
}

/** A rule's YAML fields, in the order docs/masking-policy.md writes them. */
function ruleFields(path: string, action: FieldAction): Record<string, string> {
  const rule: Record<string, string> = { path, action: action.kind };
  if (action.kind === 'partial') rule.keep = partialKeepText(action);
  if (action.kind === 'fake') rule.fake = action.fake;
  return rule;
}

/** One rule as a flow mapping on one line: what a commented rule shows, and what uncommenting it gives. */
const ruleLine = (rule: Record<string, string>): string => yaml().stringify(rule, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();

/** The rules and the commented lines of one part (value or key fields) of a topic. */
function partRules(doc: Document, fields: readonly MergedField[]): { rules: YAMLSeq | null; listed: string[] } {
  const rules = doc.createNode([]) as YAMLSeq;
  const listed: string[] = [];
  for (const f of fields) {
    const d = f.detection;
    const action = d === null ? null : suggestAction(d.kind, ...f.types);
    if (d === null || action === null) {
      const note = d === null ? '' : ` (looks like ${d.kind}, but no action fits its type in every schema version: mask it by hand)`;
      listed.push(`- ${ruleLine({ path: printablePath(f.path), action: 'keep' })}${note}`);
      continue;
    }
    const node = doc.createNode(ruleFields(f.path, action)) as YAMLMap;
    node.flow = true;
    node.commentBefore = ` ${d.kind}: ${d.by === 'name' ? 'detected by field name' : d.evidence}`;
    rules.items.push(node);
  }
  return { rules: rules.items.length > 0 ? rules : null, listed };
}

/** `: value schemas 1, 2; key schema 3`, for the reviewer (IDs only: subjects are untrusted text). */
function schemaList(schemas: readonly StarterSchema[]): string {
  const parts = (['value', 'key'] as const).flatMap((part) => {
    const ids = [...new Set(schemas.filter((s) => s.part === part).map((s) => s.id))];
    return ids.length === 0 ? [] : [`${part} schema${ids.length === 1 ? '' : 's'} ${ids.join(', ')}`];
  });
  return parts.length === 0 ? '' : `: ${parts.join('; ')}`;
}

/**
 * The starting policy's YAML text. Topics keep their order (a topic named twice is one entry),
 * fields their schema order, deduplicated across the schema versions of a topic.
 */
export function renderStarterPolicy(input: StarterInput): string {
  const doc = new (yaml().Document)({ version: 1, key: { env: 'KBAK_MASK_KEY', encoding: 'base64' }, unlisted: 'refuse', topics: [] });
  doc.commentBefore = [
    ` A starting masking policy for backup ${JSON.stringify(input.backup)}, written by kbak policy init.`,
    ' Fields were flagged by their names and by sampled values: review every rule, and the fields',
    ' listed as comments (copied as they are), before seeding a lane with it (docs/masking-policy.md).',
    ' Headers are kept unless a rule says otherwise: add { name: ".*", action: drop } to drop them.',
    ' The key is never written here: KBAK_MASK_KEY holds it (openssl rand -base64 32).',
  ]
    .map(oneLine)
    .join('\n');
  (doc.get('key') as YAMLMap).flow = true;
  const topics = doc.get('topics') as YAMLSeq;

  const merged = new Map<string, StarterSchema[]>();
  for (const t of input.topics) merged.set(t.topic, [...(merged.get(t.topic) ?? []), ...t.schemas]);

  for (const [topic, schemas] of merged) {
    const entry = doc.createNode({ match: matchScalar(topic) }) as YAMLMap;
    entry.commentBefore = oneLine(` topic ${JSON.stringify(topic)}${schemaList(schemas)}`);
    const notes: string[] = [];
    for (const part of ['value', 'key'] as const) {
      const fields = mergeFields(schemas, part);
      if (fields.length === 0) continue;
      const { rules, listed } = partRules(doc, fields);
      if (rules !== null) {
        if (listed.length > 0) rules.comment = [' not flagged (copied as they are):', ...listed.map((l) => ` ${l}`)].map(oneLine).join('\n');
        entry.set(part, part === 'key' ? doc.createNode({ fields: rules }) : rules);
      } else {
        const n = fields.length;
        notes.push(`nothing flagged in the ${part}'s ${n} field${n === 1 ? '' : 's'}: copied as they are`);
        notes.push(...(part === 'key' ? ['key:', '  fields:'] : ['value:']));
        notes.push(...listed.map((l) => `${part === 'key' ? '    ' : '  '}${l}`));
      }
    }
    if (schemas.length === 0) notes.push('no schema-framed records found: records are copied as they are (key: { action: hash } masks the whole key)');
    if (notes.length > 0) entry.comment = notes.map((n) => oneLine(` ${n}`)).join('\n');
    topics.items.push(entry);
  }
  return doc.toString({ lineWidth: 0 });
}
