/**
 * The manifest is the backup: written last, it lists every segment with its checksum,
 * so a reader trusts nothing that the manifest does not name. Offsets and timestamps are
 * decimal strings because JSON numbers lose precision above 2^53. See FORMAT.md.
 */
import { z } from 'zod';
import { IntegrityError } from '../errors';

export const MANIFEST_FORMAT = 'kbak-backup';
export const MANIFEST_VERSION = 1;

const int64 = z.string().regex(/^-?\d+$/, 'expected a decimal integer string');
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

export const partitionSchema = z.object({
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

export const topicSchema = z.object({
  name: z.string().min(1),
  partitionCount: z.number().int().positive(),
  replicationFactor: z.number().int().positive(),
  /** Only configs that are not broker/static defaults. */
  configs: z.record(z.string(), z.string()),
  partitions: z.array(partitionSchema),
});

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

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.literal(MANIFEST_VERSION),
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
  topics: z.array(topicSchema),
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
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TopicEntry = z.infer<typeof topicSchema>;
export type PartitionEntry = z.infer<typeof partitionSchema>;
export type SegmentEntry = z.infer<typeof segmentSchema>;
export type SchemaEntry = z.infer<typeof schemaEntrySchema>;
export type SubjectEntry = z.infer<typeof subjectSchema>;
export type GroupEntry = z.infer<typeof groupSchema>;
export type SchemaType = z.infer<typeof schemaTypeSchema>;

export function encodeManifest(m: Manifest): Buffer {
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
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new IntegrityError(`manifest ${where} is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return parsed.data;
}
