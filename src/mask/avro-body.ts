/**
 * The Avro body masker (issue 19): a policy's field rules compiled against an Avro schema
 * into a plan, and a walk over a body's binary encoding (Avro 1.11 spec, "Binary encoding")
 * driven by that plan. Only the leaves a rule covers are decoded, masked (leaf.ts) and
 * re-encoded; every other byte is copied as it was, without building a value: untouched
 * fields stay byte-equal (map order too: a map is walked in its bytes, never made an object)
 * and a record costs one pass over its bytes.
 *
 * The walk follows avro-precheck.ts's grammar and limits (a value budget of 2 per byte plus
 * 65 536, depth ≤ 100, lengths within the body, no trailing bytes), and reads the whole body
 * even where no rule applies: a body that does not decode is refused (UndecodablePayload),
 * never copied through.
 *
 * Types are read once through avsc's public accessors into a small graph of their own (Wire
 * nodes); the per-record path allocates nothing but the masked values and the output.
 */
import type avro from 'avsc';
import { DECODE_LIMITS } from '../backup/decode';
import { UnsupportedDataError } from '../errors';
import { ByteSink } from './avro-wire';
import { UndecodablePayload, type BodyCompile, type BodyMasker, type BodyRefusal, type FieldPlanRow } from './body';
import { leafMasker, LeafRefusal, type LeafMask, type LeafType, type LeafValue } from './leaf';
import { formatFieldPath, type FieldPath, type PathStep } from './path';
import type { FieldRule } from './policy';

// ---------------------------------------------------------------------------------------------
// The schema, as the walk needs it

const enum K {
  Null,
  Boolean,
  Int,
  Long,
  Float,
  Double,
  Bytes,
  String,
  Fixed,
  Enum,
  Array,
  Map,
  Record,
  Union,
}

/** One Avro type: avsc's, read once into plain fields (one shape for all kinds: the walk's switch stays monomorphic). */
class Wire {
  /** Items (array) or values (map). */
  inner: Wire | null = null;
  fields: Wire[] = [];
  fieldNames: string[] = [];
  /** Union branches. */
  branches: Wire[] = [];
  symbols: readonly string[] = [];
  size = 0;
  constructor(
    readonly id: number,
    readonly k: K,
    /** Records, enums, fixed: the full name. */
    readonly name: string | undefined,
    /** A logical type over this type (`uuid`, `timestamp-millis`, `decimal`), as the schema names it. */
    readonly logical: string | undefined,
  ) {}
}

/** avsc's accessors the conversion reads; its Type classes have the ones their typeName implies. */
interface AnyType {
  typeName: string;
  name?: string;
  getItemsType(): AnyType;
  getValuesType(): AnyType;
  getFields(): Array<{ getName(): string; getType(): AnyType }>;
  getTypes(): AnyType[];
  getSize(): number;
  getSymbols(): string[];
  getUnderlyingType(): AnyType;
}

const PRIMITIVES: Record<string, K> = {
  null: K.Null,
  boolean: K.Boolean,
  int: K.Int,
  long: K.Long,
  'abstract:long': K.Long, // decode.ts's EXACT_AVRO_LONG: still a long on the wire
  float: K.Float,
  double: K.Double,
  bytes: K.Bytes,
  string: K.String,
};

/** avsc's type graph → Wire graph, each avsc type once (recursive types become cycles, not copies). */
function toWire(root: avro.Type): Wire {
  const seen = new Map<AnyType, Wire>();
  let ids = 0;
  const conv = (t: AnyType, logical: string | undefined): Wire => {
    if (logical === undefined) {
      const hit = seen.get(t);
      if (hit) return hit;
    }
    const tn = t.typeName;
    if (tn.startsWith('logical:')) {
      // A logical type over a primitive or fixed keeps its name for the plan; over anything else it is its underlying type.
      return conv(t.getUnderlyingType(), tn.slice('logical:'.length));
    }
    const prim = PRIMITIVES[tn];
    let w: Wire;
    if (prim !== undefined) w = new Wire(ids++, prim, undefined, logical);
    else if (tn === 'fixed') {
      w = new Wire(ids++, K.Fixed, t.name, logical);
      w.size = t.getSize();
    } else if (tn === 'enum') {
      w = new Wire(ids++, K.Enum, t.name, logical);
      w.symbols = t.getSymbols();
    } else if (tn === 'array' || tn === 'map') {
      w = new Wire(ids++, tn === 'array' ? K.Array : K.Map, undefined, undefined);
      if (logical === undefined) seen.set(t, w);
      w.inner = conv(tn === 'array' ? t.getItemsType() : t.getValuesType(), undefined);
      return w;
    } else if (tn === 'record' || tn === 'error') {
      w = new Wire(ids++, K.Record, t.name, undefined);
      if (logical === undefined) seen.set(t, w); // before the fields: a field may refer back
      for (const f of t.getFields()) {
        w.fieldNames.push(f.getName());
        w.fields.push(conv(f.getType(), undefined));
      }
      return w;
    } else if (tn === 'union:unwrapped' || tn === 'union:wrapped') {
      w = new Wire(ids++, K.Union, undefined, undefined);
      if (logical === undefined) seen.set(t, w);
      w.branches = t.getTypes().map((b) => conv(b, undefined));
      return w;
    } else {
      throw new UnsupportedDataError(`Avro type ${tn} is not supported by masking`);
    }
    if (logical === undefined) seen.set(t, w);
    return w;
  };
  return conv(root as unknown as AnyType, undefined);
}

const WORDS: Record<K, string> = {
  [K.Null]: 'null',
  [K.Boolean]: 'boolean',
  [K.Int]: 'int',
  [K.Long]: 'long',
  [K.Float]: 'float',
  [K.Double]: 'double',
  [K.Bytes]: 'bytes',
  [K.String]: 'string',
  [K.Fixed]: 'fixed',
  [K.Enum]: 'enum',
  [K.Array]: 'array',
  [K.Map]: 'map',
  [K.Record]: 'record',
  [K.Union]: 'union',
};

/** How a schema writes the type: its logical type, its name, or its primitive. */
function word(w: Wire): string {
  return w.logical ?? shortName(w) ?? WORDS[w.k];
}

const shortName = (w: Wire): string | undefined => w.name?.slice(w.name.lastIndexOf('.') + 1);

const isLeaf = (w: Wire): boolean => w.k <= K.Enum;

/** A union of null and one leaf, or of one leaf alone: masked as that leaf. */
function unionLeaf(u: Wire): { leaf: Wire; index: number; nullIndex: number } | null {
  let leaf = -1;
  let nullIndex = -1;
  for (let i = 0; i < u.branches.length; i++) {
    const b = u.branches[i]!;
    if (b.k === K.Null) nullIndex = i;
    else if (leaf >= 0 || !isLeaf(b)) return null;
    else leaf = i;
  }
  return leaf < 0 ? null : { leaf: u.branches[leaf]!, index: leaf, nullIndex };
}

function leafType(w: Wire, union: Wire | null): LeafType {
  const nullable = union !== null && union.branches.some((b) => b.k === K.Null);
  const label = union === null ? word(w) : JSON.stringify(union.branches.map(word));
  switch (w.k) {
    case K.String:
      return { kind: w.logical === 'uuid' ? 'uuid' : 'string', nullable, label };
    case K.Bytes:
      return { kind: 'bytes', nullable, label };
    case K.Fixed:
      return { kind: 'fixed', size: w.size, nullable, label };
    case K.Int:
      return { kind: 'int32', nullable, label };
    case K.Long:
      return { kind: 'int64', nullable, label };
    case K.Float:
    case K.Double:
      return { kind: 'float', nullable, label };
    case K.Boolean:
      return { kind: 'boolean', nullable, label };
    default:
      return { kind: 'enum', symbols: w.symbols, nullable, label };
  }
}

/** What a path that ends on `w` ends on, for a refusal. */
function describe(w: Wire): string {
  if (w.k === K.Union) return `a union of ${w.branches.map(word).join(', ')}`;
  if (w.k === K.Record) return `record ${shortName(w) ?? ''}`;
  return WORDS[w.k];
}

// ---------------------------------------------------------------------------------------------
// The plan: the parts of the schema a rule reaches; everything else is skipped and copied

const enum P {
  Record,
  Array,
  Map,
  Union,
  Leaf,
}

/** One node per (schema position kind); `null` children are untouched: walked over and copied. */
class Plan {
  /** Record: one per field. Union: one per branch. */
  children: Array<Plan | null> = [];
  /** Array items, map values. */
  inner: Plan | null = null;
  /** Leaf: the leaf's type (not the union). */
  leaf: Wire | null = null;
  /** Leaf in a union: its branch and null's (-1: none). */
  leafIndex = -1;
  nullIndex = -1;
  mask: LeafMask | null = null;
  constructor(
    readonly p: P,
    /** The type at this position (a union for a nullable leaf). */
    readonly w: Wire,
  ) {}
}

interface Target {
  steps: FieldPath;
  /** What the rule does at a leaf: a mask, null (nothing: keep), or why not. */
  bind: (type: LeafType) => LeafMask | null | LeafRefusal;
  matched: boolean;
  problems: Set<string>;
}

/**
 * The plan for `targets` from `root`. Memoised per (type, steps taken, targets still going):
 * those targets all took the same steps, so there are at most (types × total path length)
 * positions, however the unions of a recursive schema branch.
 */
function buildPlan(root: Wire, targets: readonly Target[]): Plan | null {
  const memo = new Map<string, Plan | null>();
  const visit = (w: Wire, active: readonly number[], i: number): Plan | null => {
    const key = `${w.id}:${i}:${active.join(',')}`;
    if (memo.has(key)) return memo.get(key)!;
    memo.set(key, null); // a position reached again while building itself: nothing new there
    const plan = place(w, active, i);
    memo.set(key, plan);
    return plan;
  };
  const place = (w: Wire, active: readonly number[], i: number): Plan | null => {
    const going: number[] = [];
    let plan: Plan | null = null;
    for (const t of active) {
      const target = targets[t]!;
      if (target.steps.length > i) going.push(t);
      else {
        const bound = end(w, target);
        plan ??= bound;
      }
    }
    if (plan !== null || going.length === 0) return plan;
    switch (w.k) {
      case K.Union: {
        const u = new Plan(P.Union, w);
        for (const b of w.branches) u.children.push(b.k === K.Null ? null : visit(b, going, i));
        return u.children.some((c) => c !== null) ? u : null;
      }
      case K.Record: {
        const r = new Plan(P.Record, w);
        let any = false;
        for (let f = 0; f < w.fields.length; f++) {
          const name = w.fieldNames[f]!;
          const here = going.filter((t) => stepIs(targets[t]!.steps[i]!, 'field', name));
          const c = here.length === 0 ? null : visit(w.fields[f]!, here, i + 1);
          r.children.push(c);
          any ||= c !== null;
        }
        return any ? r : null;
      }
      case K.Array:
      case K.Map: {
        const here = going.filter((t) => stepIs(targets[t]!.steps[i]!, w.k === K.Array ? 'items' : 'values', ''));
        const inner = here.length === 0 ? null : visit(w.inner!, here, i + 1);
        if (inner === null) return null;
        const a = new Plan(w.k === K.Array ? P.Array : P.Map, w);
        a.inner = inner;
        return a;
      }
      default:
        return null; // a leaf: a path going further matches nothing here
    }
  };
  /** A target whose path ends on `w`: a leaf node, or a problem. */
  const end = (w: Wire, target: Target): Plan | null => {
    let leaf = w;
    let u: ReturnType<typeof unionLeaf> = null;
    if (w.k === K.Union) {
      u = unionLeaf(w);
      if (u === null) {
        const nonNull = w.branches.filter((b) => b.k !== K.Null);
        if (nonNull.length === 1) target.problems.add(`ends on ${describe(nonNull[0]!)}: name a field inside it`);
        else if (nonNull.length === 0)
          target.matched = true; // always null: nothing to mask
        else target.problems.add(`ends on ${describe(w)}: name one field, or give each type its own rule`);
        return null;
      }
      leaf = u.leaf;
    }
    if (leaf.k === K.Null) {
      target.matched = true; // a field that is always null holds nothing to mask
      return null;
    }
    if (!isLeaf(leaf)) {
      target.problems.add(`ends on ${describe(leaf)}: name a field inside it`);
      return null;
    }
    target.matched = true;
    const bound = target.bind(leafType(leaf, u === null ? null : w));
    if (bound instanceof LeafRefusal) {
      target.problems.add(bound.reason);
      return null;
    }
    if (bound === null) return null;
    const plan = new Plan(P.Leaf, w);
    plan.leaf = leaf;
    plan.mask = bound;
    if (u !== null) {
      plan.leafIndex = u.index;
      plan.nullIndex = u.nullIndex;
    }
    return plan;
  };
  return visit(
    root,
    targets.map((_, i) => i),
    0,
  );
}

function stepIs(s: PathStep, kind: PathStep['kind'], name: string): boolean {
  return s.kind === kind && (kind !== 'field' || (s as { name: string }).name === name);
}

// ---------------------------------------------------------------------------------------------
// The plan's rows: every leaf in schema order, for the dry run and the PII detector

/** A schema with more leaf positions than this is refused rather than listed (shared named types can multiply them). */
const MAX_PLAN_ROWS = 100_000;

function planRows(root: Wire, rules: readonly FieldRule[]): FieldPlanRow[] {
  const byPath = new Map(rules.map((r) => [r.pathText, r]));
  const rows: FieldPlanRow[] = [];
  const steps: PathStep[] = [];
  const onPath = new Set<Wire>();
  const row = (leaf: Wire, union: Wire | null): void => {
    if (rows.length >= MAX_PLAN_ROWS) {
      throw new UnsupportedDataError(`the schema has more than ${MAX_PLAN_ROWS} leaf fields: too many to list`);
    }
    const path = formatFieldPath(steps);
    rows.push({ path, type: leafType(leaf, union), rule: byPath.get(path) ?? null });
  };
  const walk = (w: Wire, depth: number): void => {
    if (depth > DECODE_LIMITS.maxDepth) return;
    if (w.k === K.Union) {
      const u = unionLeaf(w);
      if (u !== null) return row(u.leaf, w);
      for (const b of w.branches) {
        if (isLeaf(b) && b.k !== K.Null) row(b, w);
        else walk(b, depth + 1);
      }
      return;
    }
    if (w.k === K.Null) return;
    if (isLeaf(w)) return row(w, null);
    if (onPath.has(w)) return; // a recursive type: listed once, where it first appears
    onPath.add(w);
    if (w.k === K.Record) {
      for (let i = 0; i < w.fields.length; i++) {
        steps.push({ kind: 'field', name: w.fieldNames[i]! });
        walk(w.fields[i]!, depth + 1);
        steps.pop();
      }
    } else {
      steps.push({ kind: w.k === K.Array ? 'items' : 'values' });
      walk(w.inner!, depth + 1);
      steps.pop();
    }
    onPath.delete(w);
  };
  walk(root, 0);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// The walk over a body

const MAX_DEPTH = DECODE_LIMITS.maxDepth;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Thrown inside the walk; mask/values turn it into UndecodablePayload with the position. */
class WalkError extends Error {}

const EMPTY = Buffer.alloc(0);

/**
 * One body at a time (mask and values are synchronous). Output is lazy: `copied` is how far
 * the input has been copied to the sink; a masked leaf copies up to its start, writes its new
 * encoding and moves `copied` past its old one, so untouched runs are copied in one piece.
 */
class Walker {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private budget = 0;
  private copied = 0;
  private readonly sink = new ByteSink();
  /** values(): where the leaves' values go (no output then). */
  private collect: LeafValue[] | null = null;

  constructor(private readonly root: Wire) {}

  mask(body: Buffer, plan: Plan | null): Buffer {
    this.start(body, null);
    this.sink.reset();
    this.run(plan);
    if (this.copied === 0 && this.sink.len === 0) return body; // nothing rewritten: the body as it is
    this.sink.copy(body, this.copied, body.length);
    return this.sink.take();
  }

  values(body: Buffer, plan: Plan | null): LeafValue[] {
    const out: LeafValue[] = [];
    this.start(body, out);
    try {
      this.run(plan);
    } finally {
      this.collect = null;
    }
    return out;
  }

  private start(body: Buffer, collect: LeafValue[] | null): void {
    this.buf = body;
    this.pos = 0;
    this.copied = 0;
    this.collect = collect;
    this.budget = DECODE_LIMITS.avroValuesPerByte * body.length + DECODE_LIMITS.avroFreeValues;
  }

  private run(plan: Plan | null): void {
    try {
      if (plan === null) this.skip(this.root, 0);
      else this.walk(plan, 0);
      if (this.pos !== this.buf.length) throw new WalkError(`${this.buf.length - this.pos} bytes after the value`);
    } catch (err) {
      if (err instanceof WalkError) throw new UndecodablePayload(`Avro body does not decode: ${err.message} (at byte ${this.pos})`);
      if (err instanceof UndecodablePayload) throw err;
      throw new UndecodablePayload(`Avro body cannot be masked: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.buf = EMPTY; // no reference to the caller's buffer kept
    }
  }

  // -- reading

  private spend(n: number): void {
    this.budget -= n;
    if (this.budget < 0) this.overBudget();
  }

  private overBudget(): never {
    throw new WalkError(`more values than a body of ${this.buf.length} bytes can hold`);
  }

  private tooDeep(): never {
    throw new WalkError(`nested deeper than ${MAX_DEPTH} levels`);
  }

  /** A zigzag varint as a number: exact for every length, count and index a body can hold. */
  private long(): number {
    const pos = this.pos;
    if (pos < this.buf.length) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        // One byte: most lengths, counts and indexes.
        this.pos = pos + 1;
        return (b >>> 1) ^ -(b & 1);
      }
    }
    return this.longSlow();
  }

  private longSlow(): number {
    const buf = this.buf;
    let raw = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw new WalkError('the body ends inside a number');
      const b = buf[this.pos++]!;
      raw += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      mul *= 128;
    }
    throw new WalkError('a number longer than 10 bytes');
  }

  /** Over an int or long without reading it. */
  private skipNumber(): void {
    const buf = this.buf;
    let pos = this.pos;
    const end = Math.min(buf.length, pos + 10);
    while (pos < end) {
      if (buf[pos++]! < 0x80) {
        this.pos = pos;
        return;
      }
    }
    this.pos = pos;
    throw new WalkError(pos >= buf.length ? 'the body ends inside a number' : 'a number longer than 10 bytes');
  }

  /** A zigzag varint long, exact (64-bit two's complement range). */
  private bigLong(): bigint {
    const buf = this.buf;
    const start = this.pos;
    let raw = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw new WalkError('the body ends inside a number');
      const b = buf[this.pos++]!;
      raw |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (raw >= 2n ** 64n) break;
        return raw & 1n ? -(raw >> 1n) - 1n : raw >> 1n;
      }
      shift += 7n;
    }
    this.pos = start;
    throw new WalkError('a long of more than 64 bits');
  }

  private advance(n: number, what: string): void {
    if (!(n >= 0 && n <= this.buf.length - this.pos)) throw new WalkError(`${what} of ${n} bytes runs past the body`);
    this.pos += n;
  }

  /** Walks over one value of `w`, checking it, decoding nothing. */
  private skip(w: Wire, depth: number): void {
    if (--this.budget < 0) this.overBudget();
    switch (w.k) {
      case K.Null:
        return;
      case K.Boolean:
        return this.advance(1, 'a boolean');
      case K.Int:
      case K.Long:
        return this.skipNumber();
      case K.Float:
        return this.advance(4, 'a float');
      case K.Double:
        return this.advance(8, 'a double');
      case K.Bytes:
        return this.advance(this.long(), 'bytes');
      case K.String:
        return this.advance(this.long(), 'a string');
      case K.Fixed:
        return this.advance(w.size, 'a fixed');
      case K.Enum: {
        const i = this.long();
        if (!(i >= 0 && i < w.symbols.length)) throw new WalkError(`enum index ${i} out of range`);
        return;
      }
      case K.Array:
      case K.Map:
        if (depth > MAX_DEPTH) this.tooDeep();
        return this.blocks(w, null, depth);
      case K.Record: {
        if (depth > MAX_DEPTH) this.tooDeep();
        const fields = w.fields;
        for (let i = 0; i < fields.length; i++) this.skip(fields[i]!, depth + 1);
        return;
      }
      case K.Union: {
        if (depth > MAX_DEPTH) this.tooDeep();
        const i = this.long();
        const b = w.branches[i];
        if (b === undefined) throw new WalkError(`union index ${i} out of range`);
        return this.skip(b, depth + 1);
      }
    }
  }

  /**
   * An array's or map's blocks. With `plan` (something inside is masked) a block written
   * with a byte size (negative count) gets a plain count instead, as masking may change its
   * size; without, the blocks are only walked (and copied as they are).
   */
  private blocks(w: Wire, plan: Plan | null, depth: number): void {
    const isMap = w.k === K.Map;
    const inner = w.inner!;
    for (;;) {
      const header = this.pos;
      let n = this.long();
      if (n === 0) return;
      let blockEnd = -1;
      if (n < 0) {
        n = -n;
        const size = this.long();
        if (!(size >= 0 && size <= this.buf.length - this.pos)) throw new WalkError(`a block of ${size} bytes runs past the body`);
        blockEnd = this.pos + size;
        if (plan !== null && this.collect === null) {
          this.sink.copy(this.buf, this.copied, header);
          this.sink.long(n);
          this.copied = this.pos;
        }
      }
      // The whole block against the budget first: a count of 2^50 fails here, not after a long loop.
      if ((isMap ? 2 : 1) * n > this.budget) throw new WalkError(`a block of ${n} items is more than the body can hold`);
      for (let i = 0; i < n; i++) {
        if (isMap) {
          this.spend(1);
          this.advance(this.long(), 'a map key');
        }
        if (plan === null) this.skip(inner, depth + 1);
        else this.walk(plan, depth + 1);
      }
      if (blockEnd >= 0 && this.pos !== blockEnd) throw new WalkError(`a block's items do not fill the byte size it gives`);
    }
  }

  /** Walks one value of the plan's position: masked leaves rewritten, the rest walked over. */
  private walk(plan: Plan, depth: number): void {
    if (depth > MAX_DEPTH) throw new WalkError(`nested deeper than ${MAX_DEPTH} levels`);
    const w = plan.w;
    switch (plan.p) {
      case P.Record: {
        this.spend(1);
        const fields = w.fields;
        const children = plan.children;
        for (let i = 0; i < fields.length; i++) {
          const c = children[i]!;
          if (c === null) this.skip(fields[i]!, depth + 1);
          else this.walk(c, depth + 1);
        }
        return;
      }
      case P.Union: {
        this.spend(1);
        const i = this.long();
        const b = w.branches[i];
        if (b === undefined) throw new WalkError(`union index ${i} out of range`);
        const c = plan.children[i]!;
        if (c === null) this.skip(b, depth + 1);
        else this.walk(c, depth + 1);
        return;
      }
      case P.Array:
      case P.Map:
        this.spend(1);
        return this.blocks(w, plan.inner, depth);
      case P.Leaf:
        return this.leaf(plan, depth);
    }
  }

  private leaf(plan: Plan, depth: number): void {
    const start = this.pos;
    const leaf = plan.leaf!;
    let value: LeafValue = null;
    if (plan.w.k === K.Union) {
      this.spend(1);
      const i = this.long();
      if (i === plan.leafIndex) value = this.read(leaf, depth + 1);
      else if (i !== plan.nullIndex || i < 0) throw new WalkError(`union index ${i} out of range`);
      else this.spend(1);
    } else value = this.read(leaf, depth);
    if (this.collect !== null) {
      this.collect.push(value);
      return;
    }
    const masked = plan.mask!(value);
    if (value === null && masked === null) return; // null stays null: its bytes are copied
    const end = this.pos;
    this.sink.copy(this.buf, this.copied, start);
    if (plan.w.k === K.Union) {
      if (masked === null) {
        if (plan.nullIndex < 0) throw new WalkError('the mask gave null where the schema has none');
        this.sink.long(plan.nullIndex);
        this.copied = end;
        return;
      }
      this.sink.long(plan.leafIndex);
    }
    this.write(leaf, masked);
    this.copied = end;
  }

  /** One leaf value, decoded as leaf.ts represents it. */
  private read(w: Wire, depth: number): LeafValue {
    if (depth > MAX_DEPTH) throw new WalkError(`nested deeper than ${MAX_DEPTH} levels`);
    this.spend(1);
    const buf = this.buf;
    const at = this.pos;
    switch (w.k) {
      case K.Boolean:
        this.advance(1, 'a boolean');
        return buf[at] !== 0;
      case K.Int: {
        const n = this.long();
        if (!(n >= INT32_MIN && n <= INT32_MAX)) throw new WalkError('an int out of the 32-bit range');
        return BigInt(n);
      }
      case K.Long:
        return this.bigLong();
      case K.Float:
        this.advance(4, 'a float');
        return buf.readFloatLE(at);
      case K.Double:
        this.advance(8, 'a double');
        return buf.readDoubleLE(at);
      case K.String: {
        const n = this.long();
        this.advance(n, 'a string');
        return buf.toString('utf8', this.pos - n, this.pos);
      }
      case K.Bytes: {
        const n = this.long();
        this.advance(n, 'bytes');
        return Buffer.from(buf.subarray(this.pos - n, this.pos));
      }
      case K.Fixed:
        this.advance(w.size, 'a fixed');
        return Buffer.from(buf.subarray(at, this.pos));
      case K.Enum: {
        const i = this.long();
        const s = w.symbols[i];
        if (s === undefined) throw new WalkError(`enum index ${i} out of range`);
        return s;
      }
      default:
        return null;
    }
  }

  /** A masked value written as `w`; a value of another type (a mask's bug) fails closed. */
  private write(w: Wire, v: LeafValue): void {
    const sink = this.sink;
    switch (w.k) {
      case K.Boolean:
        if (typeof v !== 'boolean') return wrongValue(w, v);
        return sink.byte(v ? 1 : 0);
      case K.Int:
        if (typeof v !== 'bigint' || v < INT32_MIN || v > INT32_MAX) return wrongValue(w, v);
        return sink.long(Number(v));
      case K.Long:
        if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) return wrongValue(w, v);
        return sink.bigLong(v);
      case K.Float:
        if (typeof v !== 'number') return wrongValue(w, v);
        return sink.float(v);
      case K.Double:
        if (typeof v !== 'number') return wrongValue(w, v);
        return sink.double(v);
      case K.String:
        if (typeof v !== 'string') return wrongValue(w, v);
        return sink.string(v);
      case K.Bytes:
        if (!Buffer.isBuffer(v)) return wrongValue(w, v);
        sink.long(v.length);
        return sink.raw(v);
      case K.Fixed:
        if (!Buffer.isBuffer(v) || v.length !== w.size) return wrongValue(w, v);
        return sink.raw(v);
      case K.Enum: {
        const i = typeof v === 'string' ? w.symbols.indexOf(v) : -1;
        if (i < 0) return wrongValue(w, v);
        return sink.long(i);
      }
      default:
        return wrongValue(w, v);
    }
  }
}

function wrongValue(w: Wire, v: LeafValue): never {
  throw new WalkError(`the mask gave ${v === null ? 'null' : Buffer.isBuffer(v) ? `${v.length} bytes` : typeof v} for ${word(w)}`);
}

// ---------------------------------------------------------------------------------------------

/** Compiled `values()` paths kept per masker: a policy has few (sample.by). */
const MAX_CACHED_PATHS = 64;

/**
 * Compiles `rules` against an Avro schema (an avsc type built by SchemaDecoder.avroType):
 * a masker, or every rule's refusal (a path matching nothing unless optional, a path ending
 * on a record, array, map or union of several types, an action the leaf's type refuses).
 */
export function compileAvroBody(type: avro.Type, rules: readonly FieldRule[], key: Buffer): BodyCompile {
  const root = toWire(type);
  const targets: Target[] = rules.map((rule) => ({
    steps: rule.path,
    bind: (t) => leafMasker(rule.action, t, key),
    matched: false,
    problems: new Set<string>(),
  }));
  const plan = buildPlan(root, targets);
  const errors: BodyRefusal[] = [];
  targets.forEach((t, i) => {
    const rule = rules[i]!;
    for (const problem of t.problems) errors.push({ rule, problem });
    if (!t.matched && t.problems.size === 0 && !rule.optional) errors.push({ rule, problem: 'matches no field' });
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, masker: new AvroBodyMasker(root, plan, rules) };
}

const collectAll = (): null => null;

class AvroBodyMasker implements BodyMasker {
  private readonly walker: Walker;
  private rows: FieldPlanRow[] | null = null;
  private readonly paths = new Map<string, Plan | null>();

  constructor(
    private readonly root: Wire,
    private readonly plan: Plan | null,
    private readonly rules: readonly FieldRule[],
  ) {
    this.walker = new Walker(root);
  }

  /** Listed when first asked for (a restore never asks). */
  get fields(): readonly FieldPlanRow[] {
    this.rows ??= planRows(this.root, this.rules);
    return this.rows;
  }

  mask(body: Buffer): Buffer {
    return this.walker.mask(body, this.plan);
  }

  values(body: Buffer, path: FieldPath): LeafValue[] {
    const text = formatFieldPath(path);
    let plan = this.paths.get(text);
    if (plan === undefined) {
      // A collecting plan: a leaf node with a mask that is never called (values() only reads).
      plan = buildPlan(this.root, [{ steps: path, bind: () => collectAll, matched: false, problems: new Set() }]);
      if (this.paths.size >= MAX_CACHED_PATHS) this.paths.clear();
      this.paths.set(text, plan);
    }
    return this.walker.values(body, plan);
  }
}
