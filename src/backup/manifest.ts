/**
 * The manifest is the backup: written last, it lists every segment with its checksum,
 * so a reader trusts nothing that the manifest does not name. Offsets and timestamps are
 * decimal strings because JSON numbers lose precision above 2^53. See FORMAT.md.
 */
import { z } from 'zod';
import { IntegrityError } from '../errors';
import { isKafkaTopicName } from './keys';

export const MANIFEST_FORMAT = 'kbak-backup';
/** What kbak writes. Version 1 manifests are still read (FORMAT.md, "Versioning"). */
export const MANIFEST_VERSION = 2;
export const MANIFEST_VERSION_V1 = 1;

/** Refuse a manifest larger than this before reading it whole (FORMAT.md, "Limits"). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** Kafka itself allows far fewer partitions per topic; this only refuses absurd plans. */
export const MAX_PARTITIONS_PER_TOPIC = 100_000;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const int64 = z
  .string()
  .regex(/^(0|-?[1-9]\d{0,18})$/, 'expected a canonical decimal integer string (no leading zeros, no -0)')
  .refine((v) => BigInt(v) >= I64_MIN && BigInt(v) <= I64_MAX, 'outside the signed 64-bit range');
/** Kafka offsets: 0 … 2^63−1. */
const offset64 = int64.refine((v) => !v.startsWith('-'), 'an offset must not be negative');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const segmentSchema = z.object({
  key: z.string().min(1),
  firstOffset: offset64,
  lastOffset: offset64,
  records: z.number().int().positive(),
  minTimestamp: int64,
  maxTimestamp: int64,
  rawBytes: z.number().int().nonnegative(),
  storedBytes: z.number().int().nonnegative(),
  sha256,
}).refine((s) => BigInt(s.firstOffset) <= BigInt(s.lastOffset), { message: 'firstOffset is greater than lastOffset', path: ['lastOffset'] });

const partitionFields = {
  partition: z.number().int().nonnegative(),
  /** The partition's log start offset when the cut was taken. */
  logStartOffset: offset64,
  /** Where reading started (log start, or later when --since/--max-records cut it). */
  startOffset: offset64,
  /** The cut: the last stable offset at start; records at or after it are not in the backup. */
  endOffset: offset64,
  records: z.number().int().nonnegative(),
  segments: z.array(segmentSchema),
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
    if (prev !== null && first <= prev) ctx.addIssue({ code: 'custom', message: `segment ${i} overlaps or precedes the previous segment`, path: ['segments', i] });
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
  basedOn: z.string().nullable(),
  gaps: z.array(gapSchema),
});

const topicFields = {
  name: z.string().refine(isKafkaTopicName, 'not a legal Kafka topic name ([A-Za-z0-9._-], 1 to 249 characters, not "." or "..")'),
  partitionCount: z.number().int().positive().max(MAX_PARTITIONS_PER_TOPIC),
  replicationFactor: z.number().int().positive().max(32767),
  /** Only configs that are not broker/static defaults. */
  configs: z.record(z.string(), z.string()),
  /** Kafka's topic ID (22 base64url characters); added within v2, absent in older manifests. */
  topicId: z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a Kafka topic ID (22 base64url characters)').optional(),
};
function uniquePartitions(t: { partitionCount: number; partitions: Array<{ partition: number }> }, ctx: z.RefinementCtx): void {
  const seen = new Set<number>();
  for (const [i, p] of t.partitions.entries()) {
    if (p.partition >= t.partitionCount) ctx.addIssue({ code: 'custom', message: `partition ${p.partition} is not below partitionCount ${t.partitionCount}`, path: ['partitions', i, 'partition'] });
    if (seen.has(p.partition)) ctx.addIssue({ code: 'custom', message: `partition ${p.partition} is listed twice`, path: ['partitions', i, 'partition'] });
    seen.add(p.partition);
  }
}
export const topicV1Schema = z.object({ ...topicFields, partitions: z.array(partitionV1Schema) }).superRefine(uniquePartitions);
export const topicSchema = z.object({ ...topicFields, partitions: z.array(partitionSchema) }).superRefine(uniquePartitions);

export const schemaTypeSchema = z.enum(['AVRO', 'PROTOBUF', 'JSON']);

export const referenceSchema = z.object({ name: z.string(), subject: z.string(), version: z.number().int() });

export const schemaEntrySchema = z.object({
  id: z.number().int().nonnegative(),
  schemaType: schemaTypeSchema,
  schema: z.string(),
  references: z.array(referenceSchema),
  /** Every subject/version this ID is registered under in the source registry. */
  registrations: z.array(z.object({ subject: z.string(), version: z.number().int() })),
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
  offsets: z.array(z.object({ topic: z.string(), partition: z.number().int().nonnegative(), offset: int64, metadata: z.string().nullable() })),
});

const headFields = {
  tool: z.object({ name: z.string(), version: z.string() }),
  backupId: z.string(),
  cluster: z.object({ id: z.string(), name: z.string() }),
  startedAt: z.string(),
  completedAt: z.string(),
  cut: z.object({
    isolationLevel: z.literal('read_committed'),
    since: z.string().nullable(),
    until: z.string().nullable(),
    maxRecordsPerPartition: z.number().int().positive().nullable(),
  }),
  schemaRegistry: z.object({ url: z.string() }).nullable(),
};
const tailFields = {
  schemas: z.array(schemaEntrySchema),
  subjects: z.array(subjectSchema),
  consumerGroups: z.array(groupSchema),
  stats: z.object({
    records: z.number().int().nonnegative(),
    rawBytes: z.number().int().nonnegative(),
    storedBytes: z.number().int().nonnegative(),
    segments: z.number().int().nonnegative(),
    unknownSchemaIds: z.array(z.number().int()),
    framedPayloadsWithUnknownId: z.number().int().nonnegative(),
  }),
};

/** Version 1: segment keys relative to the backup prefix, no incremental fields. */
export const manifestV1Schema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.literal(MANIFEST_VERSION_V1),
  ...headFields,
  topics: z.array(topicV1Schema),
  ...tailFields,
});

/** Version 2: segment keys relative to the cluster folder, shared between backups. */
export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.literal(MANIFEST_VERSION),
  /** True when some partition continued from an earlier backup (basedOn not null). */
  incremental: z.boolean(),
  ...headFields,
  topics: z.array(topicSchema),
  ...tailFields,
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
export type SchemaType = z.infer<typeof schemaTypeSchema>;

export function encodeManifest(m: Manifest | ManifestV1): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8');
}

export function decodeManifest(bytes: Buffer, where: string): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new IntegrityError(`manifest ${where} is ${bytes.length} bytes, more than the limit of ${MAX_MANIFEST_BYTES}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
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
    throw new IntegrityError(`manifest ${where} is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return parsed.data.formatVersion === MANIFEST_VERSION_V1 ? fromV1(parsed.data as ManifestV1) : (parsed.data as Manifest);
}

function fromV1(m: ManifestV1): Manifest {
  return {
    ...m,
    incremental: false,
    topics: m.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, basedOn: null, gaps: [] })) })),
  };
}
