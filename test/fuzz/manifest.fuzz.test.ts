/**
 * Fuzzing the manifest decoder (src/backup/manifest.ts) and its JSON pre-scan
 * (src/util/json-shape.ts): a manifest comes from a shared bucket. Properties:
 *
 * - round trip: a manifest kbak could write (v2 and v1, every field varied: int64 strings at
 *   the edges, calendar-valid times of any year, strings of any code points, lone surrogates
 *   included) decodes to itself from encodeManifest's text and from compact JSON;
 * - anything (random bytes, random JSON, honest text with bytes changed, honest objects with
 *   one value replaced, removed or given a twin key) is refused with IntegrityError and
 *   nothing else; what is accepted is a fixed point (decode ∘ encode = id on it), has no
 *   duplicate key (a strict RFC 8259 parser written apart, test/support/format-decoder.ts,
 *   accepts the same text), and the manifest rules (src/backup/rules.ts) judge it without
 *   throwing;
 * - the pre-scan counts what JSON.parse would build: on valid JSON it finds a problem exactly
 *   when a recursive-descent reference (below) finds the text nested too deep, with too many
 *   containers, items or distinct keys, or a key twice in one object; on any text it returns
 *   without throwing.
 */
import fc from 'fast-check';
import { IntegrityError } from '../../src/errors';
import { decodeManifest, encodeManifest, MANIFEST_VERSION, MANIFEST_VERSION_V1, type Manifest } from '../../src/backup/manifest';
import { manifestRuleViolation } from '../../src/backup/rules';
import { jsonShapeProblem, type JsonShapeLimits } from '../../src/util/json-shape';
import { parseStrictJson } from '../support/format-decoder';
import { type Forged, vectorManifest } from '../support/hostile-manifests';
import { attempt, buffer, mutate, mutations, runs } from './support';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

// ---------------------------------------------------------------- valid manifests

const int64 = fc.oneof(fc.bigInt(I64_MIN, I64_MAX), fc.constantFrom(I64_MIN, -1n, 0n, I64_MAX)).map(String);
/** Any text: code points of every plane, lone surrogates (JSON escapes them) and controls. */
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ maxLength: 12 }), fc.constantFrom('', '\u2028', '"\\', '\uD800', '\u0000'));
const time = fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
const iso = time.map((d) => d.toISOString());
const backupId = time.map((d) => d.toISOString().replace(/[-:.]/g, ''));
const sha256 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const topicName = fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/).filter((n) => n !== '.' && n !== '..');
const count = fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER));
// Kafka refuses config names it does not know; `__proto__` would not survive any JSON reader.
const configName = fc
  .oneof(fc.constantFrom('retention.ms', 'cleanup.policy', 'min.insync.replicas', 'constructor', 'toString'), text)
  .filter((k) => k !== '__proto__');

/** Segments in offset order inside [start, end), each with 1+ records. */
const segments = (start: bigint, keyPrefix: string) =>
  fc
    .array(
      fc.record({
        gap: fc.bigInt(0n, 50n),
        span: fc.bigInt(0n, 50n),
        records: fc.integer({ min: 1, max: 1000 }),
        ts: fc.tuple(int64, int64),
        raw: count,
        stored: count,
        sha256,
      }),
      {
        maxLength: 4,
      },
    )
    .map((ss) => {
      let at = start;
      return ss.map((s, i) => {
        const first = at + s.gap;
        const last = first + s.span;
        at = last + 1n;
        return {
          key: `${keyPrefix}/${String(first).padStart(20, '0')}-${i}.kseg`,
          firstOffset: String(first),
          lastOffset: String(last),
          records: s.records,
          minTimestamp: s.ts[0],
          maxTimestamp: s.ts[1],
          rawBytes: s.raw,
          storedBytes: s.stored,
          sha256: s.sha256,
        };
      });
    });

const partition = (topic: string, p: number, v1: boolean) =>
  fc.bigInt(0n, I64_MAX - 1_000n).chain((logStart) =>
    segments(logStart, v1 ? `topics/${topic}/${p}` : `segments/${topic}/${p}`).chain((segs) => {
      const end = segs.length > 0 ? BigInt(segs[segs.length - 1]!.lastOffset) + 1n : logStart;
      const base = {
        partition: p,
        logStartOffset: String(logStart),
        startOffset: String(logStart),
        endOffset: String(end),
        records: segs.reduce((n, s) => n + s.records, 0),
        segments: segs,
      };
      if (v1) return fc.constant(base);
      return fc
        .record({ basedOn: fc.option(backupId), gaps: fc.array(fc.tuple(fc.bigInt(0n, I64_MAX), fc.bigInt(0n, I64_MAX)), { maxLength: 2 }) })
        .map(({ basedOn, gaps }) => ({ ...base, basedOn, gaps: gaps.map(([a, b]) => ({ startOffset: String(a), endOffset: String(b) })) }));
    }),
  );

const topic = (v1: boolean) =>
  fc
    .record({
      name: topicName,
      partitionCount: fc.integer({ min: 1, max: 4 }),
      replicationFactor: fc.integer({ min: 1, max: 32767 }),
      configs: fc.dictionary(configName, text, { maxKeys: 4 }),
      topicId: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), { nil: undefined }),
    })
    .chain((t) =>
      fc
        .subarray(
          Array.from({ length: t.partitionCount }, (_, i) => i),
          { minLength: 0 },
        )
        .chain((ps) => fc.tuple(...ps.map((p) => partition(t.name, p, v1))))
        .map((partitions) => {
          const { topicId, ...rest } = t;
          return v1 || topicId === undefined ? { ...rest, partitions } : { ...rest, topicId, partitions };
        }),
    );

const registration = fc.record({ subject: text, version: fc.integer() });
const schemaEntry = fc.record({
  id: fc.nat(),
  schemaType: fc.constantFrom('AVRO' as const, 'PROTOBUF' as const, 'JSON' as const),
  schema: text,
  references: fc.array(fc.record({ name: text, subject: text, version: fc.integer() }), { maxLength: 2 }),
  registrations: fc.array(registration, { maxLength: 2 }),
  usedInRecords: fc.boolean(),
});

const manifestOf = (v1: boolean) =>
  fc.record({
    format: fc.constant('kbak-backup'),
    formatVersion: fc.constant(v1 ? MANIFEST_VERSION_V1 : MANIFEST_VERSION),
    incremental: fc.boolean(),
    tool: fc.record({ name: text, version: text }),
    backupId,
    cluster: fc.record({ id: text, name: text }),
    startedAt: iso,
    completedAt: iso,
    cut: fc.record({
      isolationLevel: fc.constant('read_committed'),
      since: fc.option(iso),
      until: fc.option(iso),
      maxRecordsPerPartition: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    }),
    schemaRegistry: fc.option(fc.record({ url: text })),
    topics: fc.array(topic(v1), { maxLength: 3 }),
    schemas: fc.array(schemaEntry, { maxLength: 3 }),
    subjects: fc.array(fc.record({ subject: text, compatibility: fc.option(text) }), { maxLength: 2 }),
    consumerGroups: fc.array(
      fc.record({
        groupId: text,
        offsets: fc.array(fc.record({ topic: topicName, partition: fc.nat(), offset: int64, metadata: fc.option(text) }), { maxLength: 3 }),
      }),
      { maxLength: 2 },
    ),
    stats: fc.record({
      records: count,
      rawBytes: count,
      storedBytes: count,
      segments: count,
      unknownSchemaIds: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 3 }),
      framedPayloadsWithUnknownId: count,
    }),
  });

/** A manifest kbak could write, v2 or v1 (v1 has no `incremental`). */
const manifest = fc.oneof(
  { weight: 3, arbitrary: manifestOf(false) },
  {
    weight: 1,
    arbitrary: manifestOf(true).map(({ incremental: _, ...m }) => m),
  },
);

/** What decodeManifest returns for a valid manifest: a v1 one reads as v2 without incremental fields. */
function expected(m: Record<string, unknown>): unknown {
  if (m.formatVersion !== MANIFEST_VERSION_V1) return m;
  const topics = m.topics as Array<{ partitions: object[] }>;
  return { ...m, incremental: false, topics: topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, basedOn: null, gaps: [] })) })) };
}

// ---------------------------------------------------------------- hostile variations

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value in `v` (object keys and array indexes). */
function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

type Edit = { kind: 'replace'; value: Json } | { kind: 'remove' } | { kind: 'twin'; value: Json };

/**
 * The manifest's JSON text with the value at path number `which` replaced, removed, or given
 * a twin key (the same key written again with another value: JSON.parse keeps the last).
 */
function edited(m: object, which: number, edit: Edit): string {
  const doc = JSON.parse(JSON.stringify(m)) as Json;
  const all = paths(doc).slice(1);
  if (all.length === 0) return JSON.stringify(doc);
  const path = all[which % all.length]!;
  const parent = path.slice(0, -1).reduce<Json>((v, k) => (v as Record<string, Json>)[k as string]!, doc) as Record<string, Json> | Json[];
  const last = path[path.length - 1]!;
  if (edit.kind === 'replace') (parent as Record<string | number, Json>)[last] = edit.value;
  else if (edit.kind === 'remove') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last as string];
  } else if (!Array.isArray(parent)) {
    // A twin key: written by hand, since no object can hold it.
    const marker = '\u0000twin\u0000';
    parent[marker] = edit.value;
    return JSON.stringify(doc).replace(JSON.stringify(marker), JSON.stringify(last));
  }
  return JSON.stringify(doc);
}

const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), value: json }),
  fc.record({ kind: fc.constant('remove' as const) }),
  fc.record({ kind: fc.constant('twin' as const), value: json }),
);

const hostileText: fc.Arbitrary<Buffer> = fc.oneof(
  buffer({ maxLength: 256 }),
  fc.json({ maxDepth: 4 }).map((t) => Buffer.from(t)),
  fc.tuple(manifest, mutations).map(([m, ms]) => mutate(encodeManifest(m as Manifest), ms)),
  fc.tuple(manifest, fc.nat(), edit).map(([m, which, e]) => Buffer.from(edited(m, which, e))),
);

// ---------------------------------------------------------------- the pre-scan's reference

interface Shape {
  depth: number;
  containers: number;
  items: number;
  keys: Set<string>;
  duplicate: boolean;
}

/** What JSON.parse builds from valid JSON text, counted by recursive descent. */
function shapeOf(text: string): Shape {
  const s: Shape = { depth: 0, containers: 0, items: 0, keys: new Set(), duplicate: false };
  let i = 0;
  const ws = (): void => {
    while (/[ \t\n\r]/.test(text[i] ?? '')) i++;
  };
  const str = (): string => {
    const m = /"(?:[^"\\]|\\.)*"/y;
    m.lastIndex = i;
    const token = m.exec(text)![0];
    i += token.length;
    return JSON.parse(token) as string;
  };
  const value = (depth: number): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      s.containers++;
      s.items++;
      s.depth = Math.max(s.depth, depth + 1);
      const seen = new Set<string>();
      i++;
      ws();
      if (text[i] === (c === '{' ? '}' : ']')) {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (c === '{') {
          const k = str();
          if (seen.has(k)) s.duplicate = true;
          seen.add(k);
          s.keys.add(k);
          s.items++;
          ws();
          i++; // :
        }
        value(depth + 1);
        ws();
        if (text[i++] !== ',') return;
      }
    }
    if (c === '"') return void str();
    const m = /-?[0-9.eE+-]+|true|false|null/y;
    m.lastIndex = i;
    i += m.exec(text)![0].length;
  };
  value(0);
  return s;
}

const within = (s: Shape, l: JsonShapeLimits): boolean =>
  s.depth <= l.maxDepth && s.containers <= l.maxContainers && s.items <= l.maxItems && s.keys.size <= l.maxKeys && !s.duplicate;

/** JSON text with twin keys and escaped keys now and then. */
const shapeText: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 5 }),
  fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.nat(), edit).map(([v, which, e]) => edited({ v }, which, e)),
  fc.json({ maxDepth: 4 }).map((t) => t.replace(/"([a-z])/g, (_, c: string) => `"\\u00${c.charCodeAt(0).toString(16)}`)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', 'a', '1'), maxLength: 40 }),
);

const limits: fc.Arbitrary<JsonShapeLimits> = fc.record({
  maxDepth: fc.integer({ min: 1, max: 6 }),
  maxContainers: fc.integer({ min: 1, max: 30 }),
  maxItems: fc.integer({ min: 1, max: 60 }),
  maxKeys: fc.integer({ min: 1, max: 12 }),
});

// ---------------------------------------------------------------- properties

describe('manifest decoder fuzzing', () => {
  it('decodes every manifest kbak could write to itself, from its own text and from compact JSON', () => {
    fc.assert(
      fc.property(manifest, (m) => {
        expect(decodeManifest(encodeManifest(m as Manifest), 'fuzz')).toEqual(expected(m));
        expect(decodeManifest(Buffer.from(JSON.stringify(m)), 'fuzz')).toEqual(expected(m));
      }),
      runs(0x3a01),
    );
  });

  it('refuses anything else with IntegrityError only; what it accepts is a fixed point without twin keys', () => {
    fc.assert(
      fc.property(hostileText, (bytes) => {
        const r = attempt(() => decodeManifest(bytes, 'fuzz'), [IntegrityError]);
        if (!r.ok) return;
        const m = r.value;
        expect(decodeManifest(encodeManifest(m), 'fuzz')).toEqual(m);
        // The pre-scan let no twin key or malformed text through to JSON.parse.
        expect(() => parseStrictJson(bytes.toString('utf8'))).not.toThrow();
        // The rules judge any decoded manifest in words, never by throwing.
        const verdict = manifestRuleViolation(m, { cluster: m.cluster.name, backupId: m.backupId });
        expect(verdict === null || typeof verdict === 'string').toBe(true);
      }),
      runs(0x3a02, 4),
    );
  });

  it('pre-scans JSON text exactly as a recursive-descent count of it, and any text without throwing', () => {
    fc.assert(
      fc.property(shapeText, limits, (t, l) => {
        const problem = jsonShapeProblem(t, l);
        let valid = true;
        try {
          JSON.parse(t);
        } catch {
          valid = false;
        }
        if (valid) expect(problem === null).toBe(within(shapeOf(t), l));
        if (problem !== null) expect(problem).not.toMatch(/[\r\n]/);
      }),
      runs(0x3a03, 8),
    );
  });
});

describe('regressions found by fuzzing', () => {
  // Long run, seed 0x3a02 + 20261206: duplicated bytes made a twin key holding a newline
  // (",\n        "), and the pre-scan's message put the raw key into its path: a refusal
  // of two lines. A key that is not a plain name is now quoted in paths, here and in zod's.
  it('names a path through keys with newlines on one line (pre-scan and schema)', () => {
    const twin = Buffer.from('{"cut":{",\n  ":{"k":1,"k":2}}}');
    const bad = vectorManifest();
    bad.topics[0].configs = { 'a\nb': 5 };
    for (const [text, want] of [
      [twin, 'manifest fuzz has the key "k" twice in one object at cut.",\\n  "'],
      [Buffer.from(JSON.stringify(bad)), 'manifest fuzz is invalid at topics.0.configs."a\\nb": Invalid input: expected string, received number'],
    ] as const) {
      const r = attempt(() => decodeManifest(text, 'fuzz'), [IntegrityError]);
      expect(r.ok ? 'accepted' : r.error.message).toBe(want);
    }
  });

  // Seed 0x3a02: a bit flip turned a segment's firstOffset "2746449439736364411" into
  // ":746449439736364411". zod ran the 64-bit range check after the failed pattern check,
  // and BigInt(":746…") threw a SyntaxError: `kbak inspect` exited 70.
  const fields: Array<[string, (m: Forged, v: string) => void]> = [
    ['topics.0.partitions.0.segments.0.firstOffset', (m, v) => (m.topics[0].partitions[0].segments[0].firstOffset = v)],
    ['topics.0.partitions.0.segments.0.minTimestamp', (m, v) => (m.topics[0].partitions[0].segments[0].minTimestamp = v)],
    ['topics.0.partitions.0.logStartOffset', (m, v) => (m.topics[0].partitions[0].logStartOffset = v)],
    ['consumerGroups.0.offsets.0.offset', (m, v) => (m.consumerGroups[0].offsets[0].offset = v)],
  ];
  it.each([':746449439736364411', '1x', '-', '0x10', '1e3'])('refuses the int64 string %j with IntegrityError, not a SyntaxError', (bad) => {
    for (const [path, set] of fields) {
      const m = vectorManifest();
      set(m, bad);
      const r = attempt(() => decodeManifest(Buffer.from(JSON.stringify(m)), 'fuzz'), [IntegrityError]);
      expect(r.ok ? 'accepted' : r.error.message).toBe(
        `manifest fuzz is invalid at ${path}: expected a canonical decimal integer string (no leading zeros, no -0)`,
      );
    }
  });
});
