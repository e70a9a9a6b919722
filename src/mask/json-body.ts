/**
 * The body masker of JSON payloads (issue 19): JSON Schema values (the schema from the
 * backup, SchemaDecoder.jsonSchema) and plain JSON values without a schema. The text is
 * edited in place: json-scan.ts finds the tokens of the values the rules cover, only those
 * are replaced, every other byte (key order, whitespace, number text such as `1.0`, escapes,
 * duplicate keys) is copied as it was.
 *
 * JSON does not have to follow its schema, so the value's own type decides how it is read
 * and rendered; a value whose type the rule's binding does not cover (a number where the
 * schema says string, an object where a value was expected) fails closed (UndecodablePayload),
 * never copied through. A null hides nothing and stays null.
 */
import { KbakError } from '../errors';
import { leafMasker, LeafRefusal, LEAF_INT_RANGES, type LeafMask, type LeafType, type LeafValue } from './leaf';
import { formatFieldPath, type FieldPath } from './path';
import type { FieldRule } from './policy';
import { UndecodablePayload, type BodyCompile, type BodyMasker, type BodyRefusal, type FieldPlanRow } from './body';
import { scanChild, scanJson, scanNode, type ScanNode, type TokenKind } from './json-scan';
import { JsonSchemaWalk, type JsonLeafTypes } from './json-schema-walk';

/** How a JSON value is, whatever its schema says. */
type RuntimeKind = 'string' | 'int' | 'float' | 'boolean';

/** A rule bound for one runtime kind: its mask (null: keep), and how integers reach it. */
interface KindBinding {
  mask: LeafMask | null;
  /** Integer text given as a bigint (an integer leaf: exact, and within ±(2^53 − 1)) or as a number (a `number` leaf). */
  intAs: 'bigint' | 'number';
}

interface JsonLeaf {
  rule: FieldRule;
  /** `keep`: nothing to do, nothing to check (it is in the tree so it wins over a `{*}` rule on the same value). */
  keep: boolean;
  /** What the schema says the value is (for messages). */
  label: string;
  kinds: Partial<Record<RuntimeKind, KindBinding | LeafRefusal>>;
  /** No schema type (plain JSON, or a schema that leaves the type open): bind each runtime kind on first use. */
  lazy: boolean;
  key: Buffer;
}

const SAFE = LEAF_INT_RANGES['safe-int'];

/** The leaf type a runtime kind gets where no schema says more: JSON values may be null. */
const RUNTIME_TYPES: Record<RuntimeKind, LeafType> = {
  string: { kind: 'string', nullable: true, label: 'string' },
  int: { kind: 'safe-int', nullable: true, label: 'integer' },
  float: { kind: 'float', nullable: true, label: 'number' },
  boolean: { kind: 'boolean', nullable: true, label: 'boolean' },
};

function bind(rule: FieldRule, type: LeafType, key: Buffer, intAs: KindBinding['intAs']): KindBinding | LeafRefusal {
  const m = leafMasker(rule.action, type, key);
  return m instanceof LeafRefusal ? m : { mask: m, intAs };
}

function runtimeKind(kind: Exclude<TokenKind, 'null' | 'container'>): RuntimeKind {
  return kind === 'true' || kind === 'false' ? 'boolean' : kind;
}

/** The token's value as leaf.ts represents it: strings unescaped, integers as bigint (or number for a `number` leaf). */
function tokenValue(body: Buffer, kind: TokenKind, start: number, end: number, escaped: boolean, intAs: KindBinding['intAs']): LeafValue {
  switch (kind) {
    case 'string':
      return escaped ? (JSON.parse(body.toString('utf8', start, end)) as string) : body.toString('utf8', start + 1, end - 1);
    case 'int':
      return intAs === 'bigint' ? BigInt(body.toString('latin1', start, end)) : Number(body.toString('latin1', start, end));
    case 'float':
      return Number(body.toString('latin1', start, end));
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      return null;
  }
}

/** A masked value as JSON text. */
function render(v: LeafValue, path: string): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return JSON.stringify(v);
  throw new UndecodablePayload(`${path}: the masked value has no JSON form`);
}

/** A byte range of the body and the text that replaces it. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(body: Buffer, edits: readonly Edit[]): Buffer {
  if (edits.length === 0) return body;
  let size = body.length;
  for (const e of edits) size += Buffer.byteLength(e.text) - (e.end - e.start);
  const out = Buffer.allocUnsafe(size);
  let from = 0;
  let at = 0;
  for (const e of edits) {
    at += body.copy(out, at, from, e.start);
    at += out.write(e.text, at, 'utf8');
    from = e.end;
  }
  body.copy(out, at, from);
  return out;
}

class JsonMasker implements BodyMasker {
  constructor(
    private readonly root: ScanNode<JsonLeaf>,
    readonly fields: readonly FieldPlanRow[],
  ) {}

  mask(body: Buffer): Buffer {
    const edits: Edit[] = [];
    scanJson(body, this.root, (leaf, kind, start, end, escaped) => {
      if (leaf.keep || kind === 'null') return;
      const path = leaf.rule.pathText;
      if (kind === 'container') throw new UndecodablePayload(`${path}: an object or array where the rule expects a value`);
      const rk = runtimeKind(kind);
      let b = leaf.kinds[rk];
      if (b === undefined && leaf.lazy) b = leaf.kinds[rk] = bind(leaf.rule, RUNTIME_TYPES[rk], leaf.key, 'bigint');
      if (b === undefined) throw new UndecodablePayload(`${path}: a JSON ${RUNTIME_TYPES[rk].label} where the schema says ${leaf.label}`);
      if (b instanceof LeafRefusal) throw new UndecodablePayload(`${path}: a JSON ${RUNTIME_TYPES[rk].label}: ${b.reason}`);
      if (b.mask === null) return;
      // JSON has no leading zeros: more than 17 characters (sign and 16 digits) is beyond the range, and is not read whole.
      const tooLong = kind === 'int' && b.intAs === 'bigint' && end - start > 17;
      const v = tooLong ? null : tokenValue(body, kind, start, end, escaped, b.intAs);
      if (tooLong || (typeof v === 'bigint' && (v < SAFE.min || v > SAFE.max))) {
        const text = body.toString('latin1', start, Math.min(end, start + 40));
        throw new UndecodablePayload(`${path}: integer ${text}${end - start > 40 ? '…' : ''} is beyond ±(2^53 − 1), what JSON readers keep exactly`);
      }
      let out: LeafValue;
      try {
        out = b.mask(v);
      } catch (e) {
        // A value the action cannot take (fpe of a string without letters or digits, a malformed UUID): this record fails closed.
        if (e instanceof KbakError) throw new UndecodablePayload(`${path}: ${e.message}`);
        throw e;
      }
      edits.push({ start, end, text: render(out, path) });
    });
    return applyEdits(body, edits);
  }

  values(body: Buffer, path: FieldPath): LeafValue[] {
    const root = scanNode<true>();
    let n = root;
    for (const step of path) n = scanChild(n, step);
    n.leaf = true;
    const out: LeafValue[] = [];
    scanJson(body, root, (_leaf, kind, start, end, escaped) => {
      if (kind !== 'container') out.push(tokenValue(body, kind, start, end, escaped, 'bigint'));
    });
    return out;
  }
}

function leafNode(root: ScanNode<JsonLeaf>, path: FieldPath): ScanNode<JsonLeaf> {
  let n = root;
  for (const step of path) n = scanChild(n, step);
  return n;
}

/** Plain JSON values without a schema (unframed payloads of a topic the policy masks): every leaf is bound by its runtime type. */
export function compilePlainJsonBody(rules: readonly FieldRule[], key: Buffer): BodyMasker {
  const root = scanNode<JsonLeaf>();
  for (const rule of rules) {
    leafNode(root, rule.path).leaf = { rule, keep: rule.action.kind === 'keep', label: 'any JSON value', kinds: {}, lazy: true, key };
  }
  return new JsonMasker(root, []);
}

/** The binding of a rule to the leaf types its path reaches in the schema, or why it cannot be. */
function bindSchemaLeaf(rule: FieldRule, t: JsonLeafTypes, key: Buffer): JsonLeaf | LeafRefusal {
  const leaf: JsonLeaf = { rule, keep: rule.action.kind === 'keep', label: t.label, kinds: {}, lazy: t.untyped, key };
  if (t.untyped) return leaf;
  const kinds = leaf.kinds;
  const add = (k: RuntimeKind, type: LeafType, intAs: KindBinding['intAs']): LeafRefusal | null => {
    const b = bind(rule, type, key, intAs);
    if (b instanceof LeafRefusal) return b;
    kinds[k] = b;
    return null;
  };
  const refusal =
    (t.string && add('string', t.string, 'bigint')) ||
    (t.integer && add('int', t.integer, 'bigint')) ||
    (t.number && (add('float', t.number, 'number') ?? (t.integer ? null : add('int', t.number, 'number')))) ||
    (t.boolean && add('boolean', t.boolean, 'bigint')) ||
    null;
  return refusal ?? leaf;
}

/**
 * The rule the masker applies to a leaf at `path`: a rule whose steps equal the path's, where
 * a rule's `{*}` also covers a named member; where several do, the one with a named step at
 * the first place they differ (the masker's own precedence, json-scan.ts).
 */
function coveringRule(rules: readonly FieldRule[], path: FieldPath): FieldRule | null {
  let best: FieldRule | null = null;
  for (const r of rules) {
    if (r.path.length !== path.length) continue;
    const covers = r.path.every((s, i) =>
      s.kind === path[i]!.kind ? s.kind !== 'field' || s.name === (path[i] as { name: string }).name : s.kind === 'values' && path[i]!.kind === 'field',
    );
    if (covers && (best === null || moreSpecific(r.path, best.path))) best = r;
  }
  return best;
}

function moreSpecific(a: FieldPath, b: FieldPath): boolean {
  const i = a.findIndex((s, k) => s.kind !== b[k]!.kind);
  return i >= 0 && a[i]!.kind === 'field';
}

/** JSON Schema payloads: the schema from the backup and its references by name (SchemaDecoder.jsonSchema). */
export function compileJsonSchemaBody(schema: unknown, references: ReadonlyMap<string, unknown>, rules: readonly FieldRule[], key: Buffer): BodyCompile {
  const walk = new JsonSchemaWalk(schema, references);
  const errors: BodyRefusal[] = [];
  const root = scanNode<JsonLeaf>();
  for (const rule of rules) {
    const found = walk.leafTypes(rule.path);
    if (typeof found === 'string') {
      if (found !== 'matches no field' || !rule.optional) errors.push({ rule, problem: found });
      continue;
    }
    const leaf = bindSchemaLeaf(rule, found, key);
    if (leaf instanceof LeafRefusal) errors.push({ rule, problem: leaf.reason });
    else leafNode(root, rule.path).leaf = leaf;
  }
  if (errors.length > 0) return { ok: false, errors };
  const fields = walk.leaves().map(({ path, type }) => ({ path: formatFieldPath(path), type, rule: coveringRule(rules, path) }));
  return { ok: true, masker: new JsonMasker(root, fields) };
}
