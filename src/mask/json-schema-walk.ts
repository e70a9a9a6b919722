/**
 * Where a policy path leads in a JSON Schema, and what leaf types it finds there (for
 * json-body.ts). Steps: a field is `properties[name]`, `[*]` is `items` / `prefixItems` /
 * `additionalItems`, `{*}` is `additionalProperties` / `patternProperties` and the members
 * `properties` names (the masker covers every member's value, whatever its name). `$ref` (local
 * JSON pointers, `#`, references by name, `name#/pointer`), `allOf` / `anyOf` / `oneOf`,
 * `then` / `else` and `dependentSchemas` are passed through: a path matches if it matches in
 * any branch. `not` and `if` only constrain; they are not walked.
 *
 * The schema comes from a backup, so the walk is bounded: each (schema node, remaining path)
 * is walked once (recursive `$ref`s end), nesting of refs and branches is limited to
 * DECODE_LIMITS.maxDepth, and the whole walk of one schema has a step budget.
 */
import { DECODE_LIMITS } from '../backup/decode';
import type { LeafType } from './leaf';
import type { FieldPath, PathStep } from './path';

/** The leaf types a path ends on, per JSON type (each absent when the schema does not allow it). */
export interface JsonLeafTypes {
  /** No type is stated (`{}`, `true`): bound by the value's runtime type, as plain JSON. */
  untyped: boolean;
  nullable: boolean;
  /** How the plan shows it: `string(email)`, `["string","null"]`. */
  label: string;
  string?: LeafType;
  integer?: LeafType;
  number?: LeafType;
  boolean?: LeafType;
}

/** Schema nodes visited by one schema's walks together, at most: beyond it the schema is refused as too complex. */
export const SCHEMA_WALK_BUDGET = 1_000_000;
/** Leaf rows listed for the plan, at most (a schema of recursive refs can name many paths). */
export const MAX_PLAN_ROWS = 10_000;

/** Keywords whose subschemas expand() adds: a node with one of them leaves its type to them. */
const PASS_THROUGH = ['$ref', 'allOf', 'anyOf', 'oneOf', 'then', 'else', 'dependentSchemas'];
const JSON_VALUE_TYPES = new Set(['string', 'integer', 'number', 'boolean']);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Json, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/** A schema node with the document its local `$ref`s resolve in. */
interface Loc {
  node: unknown;
  doc: unknown;
}

class WalkRefusal extends Error {}

/** What the schema nodes of one value say about it. */
interface Shape {
  container: boolean;
  /** Non-null JSON types named. */
  types: Set<string>;
  nullable: boolean;
  /** Some node accepts anything (`true`, `{}` with no type). */
  open: boolean;
  /** A node says nothing could be valid (`false`) and no other says more. */
  impossible: boolean;
  stringEnum: string[];
  /** A node allows any string (type string without enum or const): the enum's symbols are not all it can hold. */
  freeString: boolean;
  formats: string[];
}

export class JsonSchemaWalk {
  private budget = SCHEMA_WALK_BUDGET;
  private readonly expansions = new Map<object, Loc[]>();

  constructor(
    private readonly schema: unknown,
    private readonly references: ReadonlyMap<string, unknown>,
  ) {}

  /** The leaf types `path` ends on, or the problem (`matches no field` when no branch has it). */
  leafTypes(path: FieldPath): JsonLeafTypes | string {
    const ends: Loc[] = [];
    const seen = new Map<object, Set<number>>();
    try {
      this.follow({ node: this.schema, doc: this.schema }, path, 0, ends, seen);
      if (ends.length === 0) return 'matches no field';
      const shape = this.shape(ends);
      if (shape.container) return 'ends on an object or array, not on a value (name its fields, or its items with [*] or values with {*})';
      if (shape.impossible) return 'matches no field';
      const unknown = [...shape.types].filter((t) => !JSON_VALUE_TYPES.has(t));
      if (unknown.length > 0) return `the schema gives it type ${JSON.stringify(unknown[0]).slice(0, 100)}, which is not a JSON Schema type`;
      return leafTypes(shape);
    } catch (e) {
      if (e instanceof WalkRefusal) return e.message;
      throw e;
    }
  }

  /** Every leaf of the schema in schema order (properties in their order; a recursive `$ref` once on each path). */
  leaves(): { path: FieldPath; type: LeafType }[] {
    const rows: { path: FieldPath; type: LeafType }[] = [];
    const listed = new Set<string>();
    try {
      this.list({ node: this.schema, doc: this.schema }, [], new Set(), rows, listed);
    } catch (e) {
      // The plan rows are a listing: a schema too complex to list in full is listed as far as it went.
      if (!(e instanceof WalkRefusal)) throw e;
    }
    return rows;
  }

  private spend(): void {
    if (--this.budget < 0) throw new WalkRefusal(`the schema is too complex to walk (more than ${SCHEMA_WALK_BUDGET} steps)`);
  }

  private follow(loc: Loc, path: FieldPath, at: number, ends: Loc[], seen: Map<object, Set<number>>): void {
    if (isObj(loc.node)) {
      let s = seen.get(loc.node);
      if (s === undefined) seen.set(loc.node, (s = new Set()));
      if (s.has(at)) return;
      s.add(at);
    }
    const parts = this.expand(loc);
    if (at === path.length) {
      ends.push(...parts);
      return;
    }
    const step = path[at]!;
    for (const p of parts) {
      if (!isObj(p.node)) continue;
      for (const child of children(p.node, step)) this.follow({ node: child, doc: p.doc }, path, at + 1, ends, seen);
    }
  }

  private list(loc: Loc, path: PathStep[], onPath: Set<object>, rows: { path: FieldPath; type: LeafType }[], listed: Set<string>): void {
    if (rows.length >= MAX_PLAN_ROWS || path.length > DECODE_LIMITS.maxDepth) return;
    this.spend();
    const parts = this.expand(loc);
    const shape = this.shape(parts);
    if (!shape.container) {
      const text = JSON.stringify(path);
      if (path.length > 0 && !shape.impossible && !listed.has(text)) {
        listed.add(text);
        const t = leafTypes(shape);
        const type = t.string ?? t.integer ?? t.number ?? t.boolean ?? { kind: 'string', nullable: true, label: t.label };
        rows.push({ path, type: { ...type, label: t.label } });
      }
      return;
    }
    const mine = parts.map((p) => p.node).filter((n): n is Json => isObj(n) && !onPath.has(n));
    for (const n of mine) onPath.add(n);
    for (const p of parts) {
      if (!isObj(p.node) || !mine.includes(p.node)) continue;
      const props = own(p.node, 'properties');
      if (isObj(props))
        for (const name of Object.keys(props)) this.list({ node: props[name], doc: p.doc }, [...path, { kind: 'field', name }], onPath, rows, listed);
      for (const c of children(p.node, { kind: 'values' }, false)) this.list({ node: c, doc: p.doc }, [...path, { kind: 'values' }], onPath, rows, listed);
      for (const c of children(p.node, { kind: 'items' })) this.list({ node: c, doc: p.doc }, [...path, { kind: 'items' }], onPath, rows, listed);
    }
    for (const n of mine) onPath.delete(n);
  }

  /** The node and every node that also speaks of its value: its `$ref` target and its allOf/anyOf/oneOf branches, recursively, each once. */
  private expand(loc: Loc): Loc[] {
    if (!isObj(loc.node)) return [loc];
    const cached = this.expansions.get(loc.node);
    if (cached) return cached;
    const out: Loc[] = [];
    this.expandInto(loc, 0, out, new Set());
    this.expansions.set(loc.node, out);
    return out;
  }

  private expandInto(loc: Loc, depth: number, out: Loc[], seen: Set<object>): void {
    this.spend();
    if (depth > DECODE_LIMITS.maxDepth) throw new WalkRefusal(`the schema nests $ref, allOf, anyOf or oneOf deeper than ${DECODE_LIMITS.maxDepth} levels`);
    const n = loc.node;
    if (!isObj(n)) {
      out.push(loc);
      return;
    }
    if (seen.has(n)) return;
    seen.add(n);
    out.push(loc);
    const ref = own(n, '$ref');
    if (typeof ref === 'string') this.expandInto(this.resolve(ref, loc.doc), depth + 1, out, seen);
    for (const kw of ['allOf', 'anyOf', 'oneOf']) {
      const branches = own(n, kw);
      if (Array.isArray(branches)) for (const b of branches) this.expandInto({ node: b, doc: loc.doc }, depth + 1, out, seen);
    }
    // Conditional subschemas say what a value may also be, as a branch does.
    for (const kw of ['then', 'else']) if (isObj(own(n, kw))) this.expandInto({ node: own(n, kw), doc: loc.doc }, depth + 1, out, seen);
    const dependent = own(n, 'dependentSchemas');
    if (isObj(dependent)) for (const d of Object.values(dependent)) this.expandInto({ node: d, doc: loc.doc }, depth + 1, out, seen);
  }

  /** A `$ref`: `#…` in the same document, `name` or `name#…` in the referenced schema of that name. */
  private resolve(ref: string, doc: unknown): Loc {
    const hash = ref.indexOf('#');
    const base = hash < 0 ? ref : ref.slice(0, hash);
    const pointer = hash < 0 ? '' : ref.slice(hash + 1);
    let target = doc;
    if (base !== '') {
      if (this.references.has(base)) target = this.references.get(base);
      else if (!(isObj(doc) && own(doc, '$id') === base))
        throw new WalkRefusal(
          `$ref ${JSON.stringify(ref.slice(0, 200))} names no schema of the backup (its references: ${[...this.references.keys()].slice(0, 10).join(', ') || 'none'})`,
        );
    }
    let node = target;
    if (pointer !== '') {
      if (!pointer.startsWith('/')) throw new WalkRefusal(`$ref ${JSON.stringify(ref.slice(0, 200))} is not a JSON pointer (anchors are not followed)`);
      let decoded: string;
      try {
        decoded = decodeURIComponent(pointer);
      } catch {
        throw new WalkRefusal(`$ref ${JSON.stringify(ref.slice(0, 200))} is not a valid URI fragment`);
      }
      for (const raw of decoded.slice(1).split('/')) {
        const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(token) && Number(token) < node.length) node = node[Number(token)];
        else if (isObj(node) && Object.hasOwn(node, token)) node = node[token];
        else throw new WalkRefusal(`$ref ${JSON.stringify(ref.slice(0, 200))} points at nothing`);
      }
    }
    return { node, doc: target };
  }

  private shape(parts: readonly Loc[]): Shape {
    const s: Shape = { container: false, types: new Set(), nullable: false, open: false, impossible: false, stringEnum: [], freeString: false, formats: [] };
    let falses = 0;
    for (const { node: n } of parts) {
      if (n === false) {
        falses++;
        continue;
      }
      if (!isObj(n)) {
        s.open = true; // true, or a malformed node: anything goes
        continue;
      }
      const type = own(n, 'type');
      const before = s.types.size;
      for (const t of typeof type === 'string' ? [type] : Array.isArray(type) ? type : []) {
        if (t === 'null') s.nullable = true;
        else if (typeof t === 'string') s.types.add(t);
      }
      if (own(n, 'nullable') === true) s.nullable = true;
      const values = Array.isArray(own(n, 'enum')) ? (own(n, 'enum') as unknown[]) : Object.hasOwn(n, 'const') ? [own(n, 'const')] : null;
      if (values) {
        for (const v of values) {
          if (v === null) s.nullable = true;
          else if (typeof v === 'string') {
            if (!s.stringEnum.includes(v)) s.stringEnum.push(v);
          } else s.types.add(typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v === 'boolean' ? 'boolean' : 'object');
        }
        if (s.stringEnum.length > 0) s.types.add('string');
      } else if (type === 'string' || (Array.isArray(type) && type.includes('string'))) s.freeString = true;
      if (type === undefined && ['properties', 'additionalProperties', 'patternProperties', 'required'].some((k) => Object.hasOwn(n, k))) s.types.add('object');
      if (type === undefined && ['items', 'prefixItems', 'additionalItems'].some((k) => Object.hasOwn(n, k))) s.types.add('array');
      if (typeof own(n, 'format') === 'string') s.formats.push(own(n, 'format') as string);
      // A node whose type is stated elsewhere (its branches, its $ref) adds nothing; a lone {} accepts anything.
      const said = s.types.size > before || type !== undefined || values !== null;
      if (!said && !PASS_THROUGH.some((k) => Object.hasOwn(n, k))) s.open = true;
    }
    s.container = s.types.has('object') || s.types.has('array');
    // `open` only counts when nothing states a type: {"allOf": [{}, {"type": "string"}]} is a string.
    s.open = s.open && s.types.size === 0;
    s.impossible = falses === parts.length;
    return s;
  }
}

/** The schemas a step leads to from one node; `named`: whether `{*}` includes the members `properties` names. */
function children(n: Json, step: PathStep, named = true): unknown[] {
  const out: unknown[] = [];
  if (step.kind === 'field') {
    const props = own(n, 'properties');
    if (isObj(props) && Object.hasOwn(props, step.name)) out.push(props[step.name]);
  } else if (step.kind === 'items') {
    const items = own(n, 'items');
    if (Array.isArray(items)) out.push(...(items as unknown[]));
    else if (items !== undefined) out.push(items);
    for (const k of ['prefixItems', 'additionalItems']) {
      const v = own(n, k);
      if (Array.isArray(v)) out.push(...(v as unknown[]));
      else if (isObj(v)) out.push(v);
    }
  } else {
    // Every member's value: the named ones too, as the masker covers every member at run time.
    const props = own(n, 'properties');
    if (named && isObj(props)) out.push(...Object.values(props));
    const ap = own(n, 'additionalProperties');
    if (ap !== undefined && ap !== false) out.push(ap);
    const pp = own(n, 'patternProperties');
    if (isObj(pp)) out.push(...Object.values(pp));
  }
  return out.filter((c) => c !== false);
}

function leafTypes(s: Shape): JsonLeafTypes {
  const nullable = s.nullable || s.open;
  if (s.open) return { untyped: true, nullable, label: 'any' };
  const format = s.types.has('string') ? (s.formats[0] ?? null) : null;
  const names = [...s.types].map((t) => (t === 'string' && format !== null ? `string(${format})` : t));
  const label = names.length === 1 && !nullable ? names[0]! : JSON.stringify(nullable ? [...names, 'null'] : names);
  const one = (t: Omit<LeafType, 'nullable' | 'label'>): LeafType => ({ ...t, nullable, label });
  const out: JsonLeafTypes = { untyped: false, nullable, label };
  if (s.types.has('string'))
    out.string = one(s.stringEnum.length > 0 && !s.freeString ? { kind: 'enum', symbols: s.stringEnum } : { kind: format === 'uuid' ? 'uuid' : 'string' });
  if (s.types.has('integer')) out.integer = one({ kind: 'safe-int' });
  if (s.types.has('number')) out.number = one({ kind: 'float' });
  if (s.types.has('boolean')) out.boolean = one({ kind: 'boolean' });
  return out;
}
