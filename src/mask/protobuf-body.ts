/**
 * The Protobuf body walker of issue 19 (body.ts): Confluent message indexes, then a message's
 * wire bytes. The indexes are copied and pick the message type; the message is walked field by
 * field at the wire level, and only the fields a rule covers are decoded, masked (leaf.ts)
 * and re-encoded. Everything else (other fields, unknown fields, their order) is copied byte
 * for byte, so a body no rule touches comes out equal to what went in.
 *
 * Paths: a field step is a field's name as written in the .proto (a oneof's fields are fields
 * of the message), `[*]` goes into a repeated field, `{*}` into a map field's values (the key
 * is kept); message-typed fields are walked into. Absence is Protobuf's null: the `null`
 * action removes the field, and is allowed only where presence is tracked (proto3 `optional`,
 * proto2 `optional`, oneof members); plain proto3 scalars, repeated items and map values
 * refuse it. Well-known wrappers (google.protobuf.StringValue…) are messages here: their leaf
 * is `value` (`note.value`). Groups (proto2, deprecated) are copied where no rule reaches and
 * refused (UndecodablePayload) where a rule walks into one.
 *
 * A rule applies to every message type a record may have: it must reach a leaf in at least
 * one top-level message of the file, and every leaf it reaches in any of them must accept the
 * action. A nested type named by message indexes is compiled when a record first uses it.
 * The dry-run rows of the first top-level message carry bare paths, those of the others
 * `Message:path` (`Customer:email`): the rule text is the same, the prefix says where.
 *
 * Bounded on hostile input: one pass over the body, a growable output buffer, nesting of the
 * walked messages and skipped groups ≤ DECODE_LIMITS.maxDepth, a compiled plan per (message
 * type used, rule suffix) whose size is bounded by the rules' path steps (recursive types too).
 */
import protobuf from 'protobufjs';
import { DECODE_LIMITS, protoMessages } from '../backup/decode';
import { UndecodablePayload, type BodyCompile, type BodyMasker, type BodyRefusal, type FieldPlanRow } from './body';
import { leafMasker, LeafRefusal, type LeafKind, type LeafMask, type LeafType, type LeafValue } from './leaf';
import { formatFieldPath, type FieldPath, type PathStep } from './path';
import type { FieldRule } from './policy';
import { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, WireReader, WireWriter } from './protobuf-wire';

/** The dry-run plan lists at most this many fields per schema: a schema of nested types can name exponentially many paths. */
export const MAX_PLAN_ROWS = 10_000;

/** How a scalar Protobuf type sits on the wire and becomes a leaf.ts value. */
interface Codec {
  kind: LeafKind;
  wire: number;
  /** Repeated fields of this type may be packed (one length-delimited run). */
  packable: boolean;
  read(r: WireReader): LeafValue;
  write(w: WireWriter, v: LeafValue): void;
}

const wrongType = (v: LeafValue, expected: string): UndecodablePayload => new UndecodablePayload(`the mask gave ${typeof v} where ${expected} was expected`);

function expectBigint(v: LeafValue): bigint {
  if (typeof v === 'bigint') return v;
  throw wrongType(v, 'an integer');
}

function expectNumber(v: LeafValue): number {
  if (typeof v === 'number') return v;
  throw wrongType(v, 'a number');
}

/** A length-delimited leaf (string, bytes): never packed. */
const lenCodec = (kind: LeafKind, read: (b: Buffer, at: number, end: number) => LeafValue, toBytes: (v: LeafValue) => Buffer): Codec => ({
  kind,
  wire: WIRE_LEN,
  packable: false,
  read: (r) => {
    const at = r.delimited();
    return read(r.buf, at, r.pos);
  },
  write: (w, v) => w.bytes(toBytes(v)),
});

const varintCodec = (kind: LeafKind, decode: (u: bigint) => bigint, encode: (v: bigint) => bigint): Codec => ({
  kind,
  wire: WIRE_VARINT,
  packable: true,
  read: (r) => decode(r.uint64()),
  write: (w, v) => w.uint64(encode(expectBigint(v))),
});

const zigzagDecode = (bits: number) => (u: bigint) => BigInt.asIntN(bits, (u >> 1n) ^ -(u & 1n));
/** Zigzag of a value within the 32- or 64-bit range: the 64-bit formula gives the 32-bit one's result for int32 values. */
const zigzagEncode = (v: bigint): bigint => BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
const asUint64 = (v: bigint): bigint => BigInt.asUintN(64, v);

const fixedCodec = (kind: LeafKind, size: 4 | 8, read: (b: Buffer, at: number) => LeafValue, write: (b: Buffer, at: number, v: LeafValue) => void): Codec => ({
  kind,
  wire: size === 4 ? WIRE_I32 : WIRE_I64,
  packable: true,
  read: (r) => read(r.buf, r.take(size)),
  write: (w, v) => w.fixed(size, (b, at) => write(b, at, v)),
});

const CODECS: Record<string, Codec> = {
  int32: varintCodec('int32', (u) => BigInt.asIntN(32, u), asUint64),
  sint32: varintCodec('int32', zigzagDecode(32), zigzagEncode),
  sfixed32: fixedCodec(
    'int32',
    4,
    (b, at) => BigInt(b.readInt32LE(at)),
    (b, at, v) => b.writeInt32LE(Number(expectBigint(v)), at),
  ),
  int64: varintCodec('int64', (u) => BigInt.asIntN(64, u), asUint64),
  sint64: varintCodec('int64', zigzagDecode(64), zigzagEncode),
  sfixed64: fixedCodec(
    'int64',
    8,
    (b, at) => b.readBigInt64LE(at),
    (b, at, v) => b.writeBigInt64LE(expectBigint(v), at),
  ),
  uint32: varintCodec('uint32', (u) => BigInt.asUintN(32, u), asUint64),
  fixed32: fixedCodec(
    'uint32',
    4,
    (b, at) => BigInt(b.readUInt32LE(at)),
    (b, at, v) => b.writeUInt32LE(Number(expectBigint(v)), at),
  ),
  uint64: varintCodec('uint64', (u) => u, asUint64),
  fixed64: fixedCodec(
    'uint64',
    8,
    (b, at) => b.readBigUInt64LE(at),
    (b, at, v) => b.writeBigUInt64LE(expectBigint(v), at),
  ),
  float: fixedCodec(
    'float',
    4,
    (b, at) => b.readFloatLE(at),
    (b, at, v) => b.writeFloatLE(expectNumber(v), at),
  ),
  double: fixedCodec(
    'float',
    8,
    (b, at) => b.readDoubleLE(at),
    (b, at, v) => b.writeDoubleLE(expectNumber(v), at),
  ),
  bool: {
    kind: 'boolean',
    wire: WIRE_VARINT,
    packable: true,
    read: (r) => r.uint64() !== 0n,
    write: (w, v) => {
      if (typeof v !== 'boolean') throw wrongType(v, 'a boolean');
      w.uint32(v ? 1 : 0);
    },
  },
  string: lenCodec(
    'string',
    (b, at, end) => b.toString('utf8', at, end),
    (v) => {
      if (typeof v !== 'string') throw wrongType(v, 'a string');
      return Buffer.from(v, 'utf8');
    },
  ),
  bytes: lenCodec(
    'bytes',
    (b, at, end) => b.subarray(at, end),
    (v) => {
      if (!Buffer.isBuffer(v)) throw wrongType(v, 'bytes');
      return v;
    },
  ),
};

/** An enum as a codec: its number on the wire, its symbol (or the number's text when the enum does not name it) as the value. */
function enumCodec(e: protobuf.Enum): Codec {
  return {
    kind: 'enum',
    wire: WIRE_VARINT,
    packable: true,
    read: (r) => {
      const n = Number(BigInt.asIntN(32, r.uint64()));
      return e.valuesById[n] ?? String(n);
    },
    write: (w, v) => {
      const n = typeof v === 'string' ? e.values[v] : undefined;
      if (n === undefined) throw new UndecodablePayload(`the mask gave ${String(v)}, not a symbol of enum ${e.name}`);
      w.uint64(BigInt.asUintN(64, BigInt(n)));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The plan: per message type, the field numbers a rule covers and what to do with each.

/** What the walker does with one covered field number of a message. */
interface FieldOp {
  /** The rule's path, for errors. */
  pathText: string;
  name: string;
  repeated: boolean;
  /** A leaf: decode with codec, mask (null removes the field). */
  leaf?: { codec: Codec; mask: LeafMask };
  /** A message (or a map's entry message): walk into it with this plan. */
  child?: Plan;
}

type Plan = Map<number, FieldOp>;

/** One rule, `at` steps into its path. */
interface Pending {
  rule: FieldRule;
  at: number;
}

/** What compiling saw of each rule: whether it reached a field, and why it was refused. */
type Outcomes = Map<FieldRule, { matched: boolean; problems: string[] }>;

type Bind = (rule: FieldRule, type: LeafType) => LeafMask | null | LeafRefusal;

const typeLabel = (f: protobuf.Field): string => (f.resolvedType ? f.resolvedType.name : f.type);

/** A leaf field's codec and type, or null when it is a message. `element`: an item of a repeated field or a map value (never nullable). */
function leafOf(f: protobuf.Field, element: boolean): { codec: Codec; type: LeafType } | null {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Type) return null;
  const codec = rt instanceof protobuf.Enum ? enumCodec(rt) : CODECS[f.type];
  if (!codec) throw new UndecodablePayload(`field ${f.name} has the unknown type ${f.type}`);
  const nullable = !element && !f.repeated && !f.map && !f.required && Boolean(f.hasPresence);
  const type: LeafType = { kind: codec.kind, nullable, label: (f.options?.proto3_optional ? 'optional ' : '') + typeLabel(f) };
  if (rt instanceof protobuf.Enum) type.symbols = Object.keys(rt.values);
  return { codec, type };
}

class PlanCompiler {
  constructor(
    private readonly bind: Bind,
    private readonly outcomes: Outcomes,
  ) {}

  private outcome(rule: FieldRule) {
    let o = this.outcomes.get(rule);
    if (!o) this.outcomes.set(rule, (o = { matched: false, problems: [] }));
    return o;
  }

  private refuse(rule: FieldRule, problem: string): void {
    const o = this.outcome(rule);
    o.matched = true;
    if (!o.problems.includes(problem)) o.problems.push(problem);
  }

  /** The plan of `type` for the rules pending at it (each at a field step). Each recursion consumes a path step: bounded by the rules' lengths. */
  message(type: protobuf.Type, pending: readonly Pending[]): Plan {
    const byField = new Map<protobuf.Field, Pending[]>();
    for (const p of pending) {
      this.outcome(p.rule);
      const step = p.rule.path[p.at];
      const f = step?.kind === 'field' ? type.fields[step.name] : undefined;
      if (!f) continue; // matches no field here
      const list = byField.get(f) ?? [];
      list.push(p);
      byField.set(f, list);
    }
    const plan: Plan = new Map();
    for (const [f, list] of byField) {
      const op = this.field(f, list);
      if (op) plan.set(f.id, op);
    }
    return plan;
  }

  /** The op of field `f` for the rules whose path names it (each at that field step). */
  private field(f: protobuf.Field, list: readonly Pending[]): FieldOp | null {
    f.resolve();
    const element = f.repeated || f.map;
    const next: Pending[] = [];
    let leaf: FieldOp['leaf'];
    const leafInfo = leafOf(f, element);
    for (const p of list) {
      const path = p.rule.path;
      let at = p.at + 1;
      if (f.map || f.repeated) {
        const want = f.map ? 'values' : 'items';
        if (path[at]?.kind !== want) {
          if (at === path.length)
            this.refuse(
              p.rule,
              `${f.name} is ${f.map ? 'a map' : 'repeated'}: name its ${f.map ? 'values' : 'items'} (${p.rule.pathText}${f.map ? '{*}' : '[*]'})`,
            );
          continue;
        }
        at++;
      }
      if (leafInfo) {
        if (at !== path.length) continue; // a path going on past a scalar matches nothing
        this.outcome(p.rule).matched = true;
        const bound = this.bind(p.rule, leafInfo.type);
        if (bound instanceof LeafRefusal) this.refuse(p.rule, bound.reason);
        else if (bound) leaf = { codec: leafInfo.codec, mask: bound };
      } else if (at === path.length) {
        this.refuse(p.rule, `${p.rule.pathText} is a message (${typeLabel(f)}), not a field: name a field inside it`);
      } else if (path[at]!.kind === 'field') {
        next.push({ rule: p.rule, at });
      }
    }
    const pathText = list[0]!.rule.pathText;
    if (leaf) {
      if (!f.map) return { pathText, name: f.name, repeated: f.repeated, leaf };
      return { pathText, name: f.name, repeated: true, child: new Map([[2, { pathText, name: `${f.name}{*}`, repeated: false, leaf }]]) };
    }
    if (next.length === 0 || !(f.resolvedType instanceof protobuf.Type)) return null;
    const child = this.message(f.resolvedType, next);
    if (child.size === 0) return null;
    if (!f.map) return { pathText, name: f.name, repeated: f.repeated, child };
    return { pathText, name: f.name, repeated: true, child: new Map([[2, { pathText, name: `${f.name}{*}`, repeated: false, child }]]) };
  }
}

// ---------------------------------------------------------------------------------------------
// The walk.

const MAX_DEPTH = DECODE_LIMITS.maxDepth;

function leafError(op: FieldOp, err: unknown): UndecodablePayload {
  if (err instanceof UndecodablePayload) return err;
  return new UndecodablePayload(`${op.pathText}: ${err instanceof Error ? err.message : String(err)}`);
}

function maskValue(op: FieldOp, mask: LeafMask, v: LeafValue): LeafValue {
  try {
    return mask(v);
  } catch (err) {
    throw leafError(op, err);
  }
}

function wireMismatch(op: FieldOp, wire: number, want: number): UndecodablePayload {
  return new UndecodablePayload(`field ${op.name} has wire type ${wire}, its schema type needs ${want}`);
}

/**
 * Calls `visit` for each field of the message in [start, end) of `buf` that `plan` covers,
 * with the reader after the field's tag (visit reads the value); skips the others.
 */
function eachCovered(
  buf: Buffer,
  start: number,
  end: number,
  plan: Plan,
  depth: number,
  visit: (op: FieldOp, wire: number, fieldStart: number, r: WireReader) => void,
): void {
  if (depth > MAX_DEPTH) throw new UndecodablePayload(`nested deeper than ${MAX_DEPTH} levels`);
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    const op = plan.get(tag >>> 3);
    if (op === undefined) r.skip(tag & 7, tag >>> 3, MAX_DEPTH - depth);
    else visit(op, tag & 7, fieldStart, r);
  }
}

/** Writes the message in [start, end) of `buf` to `w`, the fields of `plan` masked, every other byte copied. */
function maskMessage(buf: Buffer, start: number, end: number, plan: Plan, w: WireWriter, depth: number): void {
  let copied = start;
  eachCovered(buf, start, end, plan, depth, (op, wire, fieldStart, r) => {
    const tagEnd = r.pos;
    w.copy(buf, copied, fieldStart);
    if (op.leaf) {
      const { codec, mask } = op.leaf;
      if (wire === codec.wire) {
        const v = maskValue(op, mask, codec.read(r));
        if (v !== null) {
          w.copy(buf, fieldStart, tagEnd);
          codec.write(w, v);
        }
      } else if (op.repeated && codec.packable && wire === WIRE_LEN) {
        const runStart = r.delimited();
        const run = new WireReader(buf, runStart, r.pos);
        w.copy(buf, fieldStart, tagEnd);
        const content = w.beginLength();
        while (run.pos < run.end) {
          const v = maskValue(op, mask, codec.read(run));
          if (v === null) throw new UndecodablePayload(`${op.pathText}: an item of a repeated field cannot be null`);
          codec.write(w, v);
        }
        w.endLength(content);
      } else {
        throw wireMismatch(op, wire, codec.wire);
      }
    } else {
      if (wire !== WIRE_LEN) throw wireMismatch(op, wire, WIRE_LEN);
      const at = r.delimited();
      w.copy(buf, fieldStart, tagEnd);
      const content = w.beginLength();
      maskMessage(buf, at, r.pos, op.child!, w, depth + 1);
      w.endLength(content);
    }
    copied = r.pos;
  });
  w.copy(buf, copied, end);
}

/** Pushes the values of the leaves of `plan` in [start, end) of `buf` onto `out`; a non-repeated field seen twice gives its last value, as a decoder keeps. */
function collectMessage(buf: Buffer, start: number, end: number, plan: Plan, out: LeafValue[], depth: number): void {
  let last: Map<FieldOp, LeafValue> | undefined;
  eachCovered(buf, start, end, plan, depth, (op, wire, _fieldStart, r) => {
    if (op.leaf) {
      const { codec } = op.leaf;
      if (wire === codec.wire) {
        const v = codec.read(r);
        if (op.repeated) out.push(v);
        else (last ??= new Map()).set(op, v);
      } else if (op.repeated && codec.packable && wire === WIRE_LEN) {
        const at = r.delimited();
        const run = new WireReader(buf, at, r.pos);
        while (run.pos < run.end) out.push(codec.read(run));
      } else {
        throw wireMismatch(op, wire, codec.wire);
      }
    } else {
      if (wire !== WIRE_LEN) throw wireMismatch(op, wire, WIRE_LEN);
      const at = r.delimited();
      collectMessage(buf, at, r.pos, op.child!, out, depth + 1);
    }
  });
  if (last) out.push(...last.values());
}

// ---------------------------------------------------------------------------------------------
// Message indexes and the masker.

/** The message type a body's indexes name, and where its message bytes start. */
function readIndexes(body: Buffer, messages: readonly protobuf.Type[], nested: (t: protobuf.Type) => protobuf.Type[]): { type: protobuf.Type; at: number } {
  const r = new WireReader(body, 0, body.length);
  const zigzag = (u: number): number => (u >>> 1) ^ -(u & 1);
  const count = zigzag(r.uint32());
  if (count < 0 || count > MAX_DEPTH) throw new UndecodablePayload(`message index count ${count} is outside 0..${MAX_DEPTH}`);
  const path: number[] = count === 0 ? [0] : [];
  for (let i = 0; i < count; i++) path.push(zigzag(r.uint32()));
  let type: protobuf.Type | undefined = messages[path[0]!];
  for (let i = 1; i < path.length && type; i++) type = nested(type)[path[i]!];
  if (!type) throw new UndecodablePayload(`no message at index path ${path.join('.')}`);
  return { type, at: r.pos };
}

function resolves(f: protobuf.Field): boolean {
  try {
    f.resolve();
    return true;
  } catch {
    return false;
  }
}

/** The leaf rows of `type` (dry-run plan), schema order; a type already being listed on the way down is not listed again. */
function planRows(type: protobuf.Type, prefix: string, rules: readonly FieldRule[], rows: FieldPlanRow[]): void {
  const open = new Set<protobuf.Type>();
  let visits = 0;
  const walk = (t: protobuf.Type, steps: PathStep[]): void => {
    open.add(t);
    for (const f of t.fieldsArray) {
      // Types shared along many paths (a DAG) multiply: the listing is bounded, not the schema.
      if (rows.length >= MAX_PLAN_ROWS || ++visits > 10 * MAX_PLAN_ROWS) break;
      if (!resolves(f)) continue; // a schema that does not resolve has no rules (compile refused them): list what resolves

      const here: PathStep[] = [...steps, { kind: 'field', name: f.name }];
      if (f.map) here.push({ kind: 'values' });
      else if (f.repeated) here.push({ kind: 'items' });
      const leaf = leafOf(f, f.map || f.repeated);
      if (leaf) {
        const text = formatFieldPath(here);
        rows.push({ path: prefix + text, type: leaf.type, rule: rules.find((x) => x.pathText === text) ?? null });
      } else if (f.resolvedType instanceof protobuf.Type && !open.has(f.resolvedType)) {
        walk(f.resolvedType, here);
      }
    }
    open.delete(t);
  };
  walk(type, []);
}

class ProtobufBodyMasker implements BodyMasker {
  private readonly plans = new Map<protobuf.Type, Plan | UndecodablePayload>();
  private readonly valuePlans = new Map<protobuf.Type, Map<string, Plan>>();
  private readonly nestedCache = new Map<protobuf.Type, protobuf.Type[]>();
  private fieldRows: FieldPlanRow[] | undefined;
  private readonly nested = (t: protobuf.Type): protobuf.Type[] => {
    let n = this.nestedCache.get(t);
    if (!n) this.nestedCache.set(t, (n = protoMessages(t)));
    return n;
  };

  constructor(
    private readonly messages: readonly protobuf.Type[],
    private readonly rules: readonly FieldRule[],
    private readonly key: Buffer,
    topLevel: ReadonlyMap<protobuf.Type, Plan>,
  ) {
    for (const [t, p] of topLevel) this.plans.set(t, p);
  }

  get fields(): readonly FieldPlanRow[] {
    if (!this.fieldRows) {
      const rows: FieldPlanRow[] = [];
      this.messages.forEach((m, i) => planRows(m, i === 0 ? '' : `${m.name}:`, this.rules, rows));
      this.fieldRows = rows;
    }
    return this.fieldRows;
  }

  /** The plan of a message type records use, compiled when first met (a nested type named by message indexes); a refused rule fails every record of it. */
  private planFor(type: protobuf.Type): Plan {
    let plan = this.plans.get(type);
    if (plan === undefined) {
      const outcomes: Outcomes = new Map();
      const compiled = new PlanCompiler(bindRule(this.key), outcomes).message(
        type,
        this.rules.map((rule) => ({ rule, at: 0 })),
      );
      const refused = [...outcomes].find(([, o]) => o.problems.length > 0);
      plan = refused ? new UndecodablePayload(`message ${type.fullName.replace(/^\./, '')}: rule ${refused[0].pathText}: ${refused[1].problems[0]}`) : compiled;
      this.plans.set(type, plan);
    }
    if (plan instanceof UndecodablePayload) throw plan;
    return plan;
  }

  mask(body: Buffer): Buffer {
    const { type, at } = readIndexes(body, this.messages, this.nested);
    const plan = this.planFor(type);
    const w = new WireWriter(body.length + 16);
    w.copy(body, 0, at);
    maskMessage(body, at, body.length, plan, w, 1);
    return w.buf.subarray(0, w.len);
  }

  values(body: Buffer, path: FieldPath): LeafValue[] {
    const { type, at } = readIndexes(body, this.messages, this.nested);
    let byPath = this.valuePlans.get(type);
    if (!byPath) this.valuePlans.set(type, (byPath = new Map<string, Plan>()));
    const text = formatFieldPath(path);
    let plan = byPath.get(text);
    if (!plan) {
      const rule: FieldRule = { path, pathText: text, action: { kind: 'keep' }, optional: true, at: '' };
      plan = new PlanCompiler(() => (v) => v, new Map()).message(type, [{ rule, at: 0 }]);
      byPath.set(text, plan);
    }
    const out: LeafValue[] = [];
    collectMessage(body, at, body.length, plan, out, 1);
    return out;
  }
}

const bindRule =
  (key: Buffer): Bind =>
  (rule, type) =>
    leafMasker(rule.action, type, key);

/**
 * Compiles `rules` against a Protobuf schema file's top-level `messages` (file order, as
 * SchemaDecoder.protobufMessages gives them). Each rule must reach a leaf field in at least
 * one top-level message (unless optional) and be accepted by every leaf it reaches.
 */
export function compileProtobufBody(messages: readonly protobuf.Type[], rules: readonly FieldRule[], key: Buffer): BodyCompile {
  const root = messages[0]?.root;
  try {
    root?.resolveAll();
  } catch (err) {
    const problem = `the schema does not resolve: ${(err as Error).message}`;
    if (rules.length > 0) return { ok: false, errors: rules.map((rule) => ({ rule, problem })) };
  }
  const outcomes: Outcomes = new Map();
  const compiler = new PlanCompiler(bindRule(key), outcomes);
  const topLevel = new Map<protobuf.Type, Plan>();
  const prefix = messages.length > 1;
  for (const m of messages) {
    const before = new Map([...outcomes].map(([r, o]) => [r, o.problems.length]));
    topLevel.set(
      m,
      compiler.message(
        m,
        rules.map((rule) => ({ rule, at: 0 })),
      ),
    );
    // Name the message a refusal came from when the file has several.
    if (prefix) {
      for (const [r, o] of outcomes) {
        for (let i = before.get(r) ?? 0; i < o.problems.length; i++) o.problems[i] = `in message ${m.name}: ${o.problems[i]}`;
      }
    }
  }
  const errors: BodyRefusal[] = [];
  for (const rule of rules) {
    const o = outcomes.get(rule);
    if (o && o.problems.length > 0) errors.push(...o.problems.map((problem) => ({ rule, problem })));
    else if (!o?.matched && !rule.optional) errors.push({ rule, problem: 'matches no field' });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, masker: new ProtobufBodyMasker(messages, rules, key, topLevel) };
}
