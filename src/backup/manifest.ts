/**
 * The manifest is the backup: written last, it lists every segment with its checksum,
 * so a reader trusts nothing that the manifest does not name. Offsets and timestamps are
 * decimal strings because JSON numbers lose precision above 2^53. See FORMAT.md.
 */
import { z } from 'zod';
import { IntegrityError } from '../errors';
import { isoTimeMillis } from '../model/utc-time';
import { validateLaneName } from '../remap/lane';
import { aclBindingSchema, firstDuplicateAcl, MAX_ACL_BINDINGS } from './acls';
import { jsonShapeProblem, pathText, type JsonShapeLimits } from '../util/json-shape';
import { isKafkaTopicName } from './keys';
import { backupIdTime } from './layout';

export const MANIFEST_FORMAT = 'kbak-backup';
/** What kbak writes. Version 1 manifests are still read (FORMAT.md, "Versioning"). */
export const MANIFEST_VERSION = 2;
export const MANIFEST_VERSION_V1 = 1;

/**
 * Distinct keys in one manifest (FORMAT.md, "Manifest limits"): the format's field names (about
 * 60) and topic config names (Kafka knows a few dozen; it refuses others), with room to spare.
 */
export const MAX_MANIFEST_KEYS = 1_000;
/** Refuse a manifest larger than this before reading it whole (FORMAT.md, "Limits"). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** Kafka itself allows far fewer partitions per topic; this only refuses absurd plans. */
export const MAX_PARTITIONS_PER_TOPIC = 100_000;

/**
 * What the pre-scan of the manifest text allows (src/util/json-shape.ts, FORMAT.md "Manifest
 * limits"): the format nests 7 containers deep (root, topics, topic, partitions, partition,
 * segments, segment), so 16 leaves room for fields added later. Even written compactly, every
 * object of the format spends 25 bytes or more (`{"subject":"s","version":1}`) and a member 9
 * or more, so one object or array per 16 bytes and one item per 8 refuse only padding meant
 * to cost memory (RELIABILITY.md P10 states what the rest costs).
 */
export const MANIFEST_JSON_LIMITS = (bytes: number): JsonShapeLimits => ({
  maxDepth: 16,
  maxContainers: Math.max(1024, Math.floor(bytes / 16)),
  maxItems: Math.max(2048, Math.floor(bytes / 8)),
  maxKeys: MAX_MANIFEST_KEYS,
});

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
// abort: zod runs a schema's later checks after a failed one; BigInt("1x") would throw (exit 70).
const int64 = z
  .string()
  .regex(/^(0|-?[1-9]\d{0,18})$/, { message: 'expected a canonical decimal integer string (no leading zeros, no -0)', abort: true })
  .refine((v) => BigInt(v) >= I64_MIN && BigInt(v) <= I64_MAX, 'outside the signed 64-bit range');
/** Kafka offsets: 0 … 2^63−1. */
const offset64 = int64.refine((v) => !v.startsWith('-'), 'an offset must not be negative');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
/** FORMAT.md *time*: `YYYY-MM-DDTHH:MM:SS.mmmZ`, a real calendar instant (settled question 15). */
const time = z.string().refine((v) => isoTimeMillis(v) !== null, 'expected a calendar-valid UTC time YYYY-MM-DDTHH:MM:SS.mmmZ');
const backupId = z.string().refine((v) => backupIdTime(v) !== null, 'expected a calendar-valid backup ID YYYYMMDDTHHMMSSmmmZ');
/** Schema IDs in payloads are a big-endian u32 (FORMAT.md "Confluent framing"). */
const u32 = z.number().int().nonnegative().max(0xffff_ffff);

/**
 * An array whose elements are checked one by one, stopping at the first bad one. zod's
 * own array reports every bad element, so `[{}, {}, …]` in 64 MiB built tens of millions
 * of issue objects (gigabytes) before kbak could print one line.
 */
function list<T extends z.ZodType>(element: T) {
  return z.array(z.unknown()).transform((items, ctx): Array<z.output<T>> => {
    const out = new Array<z.output<T>>(items.length);
    for (let i = 0; i < items.length; i++) {
      const r = element.safeParse(items[i]);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        ctx.addIssue({ code: 'custom', message: issue.message, path: [i, ...issue.path] });
        return z.NEVER;
      }
      out[i] = r.data;
    }
    return out;
  });
}

export const segmentSchema = z
  .object({
    key: z.string().min(1),
    firstOffset: offset64,
    lastOffset: offset64,
    records: z.number().int().positive(),
    minTimestamp: int64,
    maxTimestamp: int64,
    rawBytes: z.number().int().nonnegative(),
    storedBytes: z.number().int().nonnegative(),
    sha256,
  })
  .refine((s) => BigInt(s.firstOffset) <= BigInt(s.lastOffset), { message: 'firstOffset is greater than lastOffset', path: ['lastOffset'] });

const partitionFields = {
  partition: z.number().int().nonnegative(),
  /** The partition's log start offset when the cut was taken. */
  logStartOffset: offset64,
  /** Where reading started (log start, or later when --since/--max-records cut it). */
  startOffset: offset64,
  /** The cut: the last stable offset at start; records at or after it are not in the backup. */
  endOffset: offset64,
  records: z.number().int().nonnegative(),
  segments: list(segmentSchema),
};

/** v1 partitions: the reader rules are checked while parsing. v2's are in rules.ts (gaps, log start). */
export const partitionV1Schema = z.object(partitionFields).superRefine((p, ctx) => {
  // FORMAT.md "What a reader verifies": ordered, non-overlapping segments inside the range.
  const start = BigInt(p.startOffset);
  const end = BigInt(p.endOffset);
  if (BigInt(p.logStartOffset) > start || start > end) {
    ctx.addIssue({ code: 'custom', message: 'expected logStartOffset <= startOffset <= endOffset', path: ['endOffset'] });
    return;
  }
  let prev: bigint | null = null;
  let total = 0;
  for (const [i, s] of p.segments.entries()) {
    const first = BigInt(s.firstOffset);
    const last = BigInt(s.lastOffset);
    if (first < start || last >= end) ctx.addIssue({ code: 'custom', message: `segment ${i} lies outside [startOffset, endOffset)`, path: ['segments', i] });
    if (prev !== null && first <= prev)
      ctx.addIssue({ code: 'custom', message: `segment ${i} overlaps or precedes the previous segment`, path: ['segments', i] });
    prev = last;
    total += s.records;
  }
  if (total !== p.records) ctx.addIssue({ code: 'custom', message: `segments hold ${total} records, the partition says ${p.records}`, path: ['records'] });
});

/** An offset range the backup should cover but the source had already deleted (v2). */
export const gapSchema = z.object({ startOffset: offset64, endOffset: offset64 });

export const partitionSchema = z.object({
  ...partitionFields,
  /** The backup whose end this partition continued from (incremental), or null. */
  basedOn: backupId.nullable(),
  gaps: list(gapSchema),
});

const topicFields = {
  name: z.string().refine(isKafkaTopicName, 'not a legal Kafka topic name ([A-Za-z0-9._-], 1 to 249 characters, not "." or "..")'),
  partitionCount: z.number().int().positive().max(MAX_PARTITIONS_PER_TOPIC),
  replicationFactor: z.number().int().positive().max(32767),
  /** Only configs that are not broker/static defaults. */
  configs: z.record(z.string(), z.string()),
};
/** Kafka's topic ID (22 base64url characters); added within v2, absent in older manifests. In v1 it is an unknown field (stripped). */
const topicId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/, 'not a Kafka topic ID (22 base64url characters)')
  .optional();
function uniquePartitions(t: { partitionCount: number; partitions: Array<{ partition: number }> }, ctx: z.RefinementCtx): void {
  const seen = new Set<number>();
  for (const [i, p] of t.partitions.entries()) {
    if (p.partition >= t.partitionCount)
      ctx.addIssue({
        code: 'custom',
        message: `partition ${p.partition} is not below partitionCount ${t.partitionCount}`,
        path: ['partitions', i, 'partition'],
      });
    if (seen.has(p.partition)) ctx.addIssue({ code: 'custom', message: `partition ${p.partition} is listed twice`, path: ['partitions', i, 'partition'] });
    seen.add(p.partition);
  }
}
export const topicV1Schema = z.object({ ...topicFields, partitions: list(partitionV1Schema) }).superRefine(uniquePartitions);
export const topicSchema = z.object({ ...topicFields, topicId, partitions: list(partitionSchema) }).superRefine(uniquePartitions);

export const schemaTypeSchema = z.enum(['AVRO', 'PROTOBUF', 'JSON']);

export const referenceSchema = z.object({ name: z.string(), subject: z.string(), version: z.number().int() });

export const schemaEntrySchema = z.object({
  id: z.number().int().nonnegative(),
  schemaType: schemaTypeSchema,
  schema: z.string(),
  references: list(referenceSchema),
  /** Every subject/version this ID is registered under in the source registry. */
  registrations: list(z.object({ subject: z.string(), version: z.number().int() })),
  /** True when the ID was found in record payloads, false when only reached as a reference. */
  usedInRecords: z.boolean(),
});

export const subjectSchema = z.object({
  subject: z.string(),
  /** The subject's own compatibility level, or null when it inherits the global one. */
  compatibility: z.string().nullable(),
});

export const groupSchema = z.object({
  groupId: z.string(),
  // Committed offsets are int64, not offsets: a restorer handles any value (settled question 4).
  offsets: list(
    z.object({
      topic: z.string().refine(isKafkaTopicName, 'not a legal Kafka topic name'),
      partition: z.number().int().nonnegative(),
      offset: int64,
      metadata: z.string().nullable(),
    }),
  ),
});

/** A lane name as `kbak restore --lane` accepts it. */
const laneName = z.string().refine((v) => {
  try {
    validateLaneName(v);
    return true;
  } catch {
    return false;
  }
}, 'not a lane name (lowercase letters, digits and -, at most 40 characters)');
const template = z.string().min(1).max(255);

/**
 * Optional, within version 2 (FORMAT.md "Top level"): the lane a `kbak lane snapshot` was
 * taken from, with the templates that named its objects. The backup holds base names.
 */
export const manifestLaneSchema = z.object({
  name: laneName,
  templates: z.object({ topic: template, subject: template, group: template }),
  /** Settled question 25: how a snapshot's lane was masked; absent or null when it was not. */
  masking: z
    .object({
      policy: z.string().min(1).max(255),
      policySha256: sha256,
      keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 lowercase hex digits'),
      faker: z.string().min(1).max(100),
    })
    .nullable()
    .optional(),
});

/**
 * Settled question 23: at most 10 000 bindings (counted before any is parsed), each of the
 * format's shape, none twice (a set of keys: linear). Their order is the writer's promise only.
 */
const aclsSchema = z
  .array(z.unknown())
  .max(MAX_ACL_BINDINGS, `more than ${MAX_ACL_BINDINGS} ACL bindings`)
  .pipe(list(aclBindingSchema))
  .superRefine((acls, ctx) => {
    const i = firstDuplicateAcl(acls);
    if (i >= 0) ctx.addIssue({ code: 'custom', message: 'the same ACL binding is listed twice', path: [i] });
  });

const cutFields = {
  isolationLevel: z.literal('read_committed'),
  since: time.nullable(),
  until: time.nullable(),
  maxRecordsPerPartition: z.number().int().positive().nullable(),
};
const headFields = {
  tool: z.object({ name: z.string(), version: z.string() }),
  backupId,
  cluster: z.object({ id: z.string(), name: z.string() }),
  startedAt: time,
  completedAt: time,
  cut: z.object(cutFields),
  schemaRegistry: z.object({ url: z.string() }).nullable(),
};
const tailFields = {
  schemas: list(schemaEntrySchema),
  subjects: list(subjectSchema),
  consumerGroups: list(groupSchema),
  stats: z.object({
    records: z.number().int().nonnegative(),
    rawBytes: z.number().int().nonnegative(),
    storedBytes: z.number().int().nonnegative(),
    segments: z.number().int().nonnegative(),
    unknownSchemaIds: list(u32),
    framedPayloadsWithUnknownId: z.number().int().nonnegative(),
  }),
};

/** Version 1: segment keys relative to the backup prefix, no incremental fields. */
export const manifestV1Schema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.literal(MANIFEST_VERSION_V1),
  ...headFields,
  topics: list(topicV1Schema),
  ...tailFields,
});

/** Version 2: segment keys relative to the cluster folder, shared between backups. */
export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.literal(MANIFEST_VERSION),
  /** True when some partition continued from an earlier backup (basedOn not null). */
  incremental: z.boolean(),
  ...headFields,
  /** Only in manifests of lane snapshots; in a v1 manifest an unknown field (ignored). */
  lane: manifestLaneSchema.optional(),
  /** Settled question 24: when the cut's offsets were fixed; absent in older v2 manifests (read: startedAt). */
  cut: z.object({ ...cutFields, time: time.optional() }),
  topics: list(topicSchema),
  ...tailFields,
  /** Settled question 23: the ACL bindings of the backup's topics and groups; absent when not captured. */
  acls: aclsSchema.optional(),
});

export type ManifestV1 = z.infer<typeof manifestV1Schema>;
export type PartitionEntryV1 = z.infer<typeof partitionV1Schema>;
/**
 * The in-memory form of every version: a v1 manifest is read as a v2 one with
 * `incremental` false, `basedOn` null and no gaps; `formatVersion` says how its segment
 * keys resolve (see keys.ts).
 */
export type Manifest = Omit<z.infer<typeof manifestSchema>, 'formatVersion'> & { formatVersion: 1 | 2 };
export type GapEntry = z.infer<typeof gapSchema>;
export type TopicEntry = z.infer<typeof topicSchema>;
export type PartitionEntry = z.infer<typeof partitionSchema>;
export type SegmentEntry = z.infer<typeof segmentSchema>;
export type SchemaEntry = z.infer<typeof schemaEntrySchema>;
export type SubjectEntry = z.infer<typeof subjectSchema>;
export type GroupEntry = z.infer<typeof groupSchema>;
export type ManifestLane = z.infer<typeof manifestLaneSchema>;
export type LaneMasking = NonNullable<ManifestLane['masking']>;
export type SchemaType = z.infer<typeof schemaTypeSchema>;

export function encodeManifest(m: Manifest | ManifestV1): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8');
}

export function decodeManifest(bytes: Buffer, where: string): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new IntegrityError(`manifest ${where} is ${bytes.length} bytes, more than the limit of ${MAX_MANIFEST_BYTES}`);
  }
  let text: string;
  try {
    // Fatal: invalid UTF-8 is refused, not replaced; ignoreBOM keeps a BOM for JSON.parse to refuse.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new IntegrityError(`manifest ${where} is not valid UTF-8`);
  }
  // Before JSON.parse builds anything: nesting, container count, duplicate keys (json-shape.ts).
  const shape = jsonShapeProblem(text, MANIFEST_JSON_LIMITS(bytes.length));
  if (shape !== null) throw new IntegrityError(`manifest ${where} ${shape}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // The parser's message can quote the input; name only where it failed.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new IntegrityError(`manifest ${where} is not valid JSON${at !== undefined ? ` (at byte ${at})` : ''}`);
  }
  const version = (json as { formatVersion?: unknown })?.formatVersion;
  if (typeof version === 'number' && version > MANIFEST_VERSION) {
    throw new IntegrityError(`manifest ${where} has format version ${version}, this kbak reads up to ${MANIFEST_VERSION}`, 'upgrade kbak');
  }
  const parsed = version === MANIFEST_VERSION_V1 ? manifestV1Schema.safeParse(json) : manifestSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new IntegrityError(`manifest ${where} is invalid at ${pathText(i.path)}: ${i.message}`);
  }
  return parsed.data.formatVersion === MANIFEST_VERSION_V1 ? fromV1(parsed.data) : parsed.data;
}

function fromV1(m: ManifestV1): Manifest {
  return {
    ...m,
    incremental: false,
    topics: m.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, basedOn: null, gaps: [] })) })),
  };
}

/** When the cut's offsets were fixed (settled question 24): a manifest without `cut.time` was cut at its start. */
export function cutTime(m: Manifest): string {
  return m.cut.time ?? m.startedAt;
}

/** The format's field types, for the documents that sit beside manifests (a sharded dump's plan and partials). */
export const formatFields = { int64, offset64, sha256, time, backupId, u32, list, topicFields } as const;
