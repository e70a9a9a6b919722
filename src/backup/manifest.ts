/**
 * The manifest is the backup: written last, it lists every segment with its checksum,
 * so a reader trusts nothing that the manifest does not name. Offsets and timestamps are
 * decimal strings because JSON numbers lose precision above 2^53. See FORMAT.md.
 */
import { z } from 'zod';
import { IntegrityError } from '../errors';

export const MANIFEST_FORMAT = 'kbak-backup';
/** What kbak writes. Version 1 manifests are still read (FORMAT.md, "Versioning"). */
export const MANIFEST_VERSION = 2;
export const MANIFEST_VERSION_V1 = 1;

const int64 = z.string().regex(/^(0|-?[1-9]\d*)$/, 'expected a canonical decimal integer string');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const segmentSchema = z.object({
  key: z.string().min(1),
  firstOffset: int64,
  lastOffset: int64,
  records: z.number().int().positive(),
  minTimestamp: int64,
  maxTimestamp: int64,
  rawBytes: z.number().int().nonnegative(),
  storedBytes: z.number().int().nonnegative(),
  sha256,
});

export const partitionV1Schema = z.object({
  partition: z.number().int().nonnegative(),
  /** The partition's log start offset when the cut was taken. */
  logStartOffset: int64,
  /** Where reading started (log start, or later when --since/--max-records cut it). */
  startOffset: int64,
  /** The cut: the last stable offset at start; records at or after it are not in the backup. */
  endOffset: int64,
  records: z.number().int().nonnegative(),
  segments: z.array(segmentSchema),
});

/** An offset range the backup should cover but the source had already deleted (v2). */
export const gapSchema = z.object({ startOffset: int64, endOffset: int64 });

export const partitionSchema = partitionV1Schema.extend({
  /** The backup whose end this partition continued from (incremental), or null. */
  basedOn: z.string().nullable(),
  gaps: z.array(gapSchema),
});

const topicFields = {
  name: z.string().min(1),
  partitionCount: z.number().int().positive(),
  replicationFactor: z.number().int().positive(),
  /** Only configs that are not broker/static defaults. */
  configs: z.record(z.string(), z.string()),
};
export const topicV1Schema = z.object({ ...topicFields, partitions: z.array(partitionV1Schema) });
export const topicSchema = z.object({ ...topicFields, partitions: z.array(partitionSchema) });

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
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new IntegrityError(`manifest ${where} is not valid JSON: ${(err as Error).message}`);
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
