/**
 * A sharded dump's shared documents (FORMAT.md, "Sharded dumps"): the plan every shard
 * follows and the partial manifest each shard writes when its partitions are in the pool.
 * Both live in `<cluster>/plans/<backupId>/`, outside every backup folder, and never make a
 * backup visible: only the manifest the finaliser writes does. Pure: codecs, the agreement
 * of a shard's request with the plan, and the checks that merge the partials.
 *
 * They come from a shared store, so they are untrusted input like a manifest: size-bounded,
 * shape-checked before JSON.parse, and every key a partial names is rebuilt from its parts
 * and compared, so a crafted partial can name only this dump's own pool segments.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { IntegrityError } from '../errors';
import { MAX_SHARDS } from '../model/shard';
import { jsonShapeProblem, pathText } from '../util/json-shape';
import { backupIdTime, segmentKey } from './layout';
import { formatFields, groupSchema, MANIFEST_JSON_LIMITS, MAX_MANIFEST_BYTES, segmentSchema, type SegmentEntry } from './manifest';

const { offset64, sha256, time, backupId, u32, list, topicFields } = formatFields;

export const PLAN_FORMAT = 'kbak-dump-plan';
export const PARTIAL_FORMAT = 'kbak-dump-partial';
/** Plans and partials are bounded like manifests (they hold at most what the manifest will). */
export const MAX_PLAN_BYTES = MAX_MANIFEST_BYTES;

const shardIndex = z
  .number()
  .int()
  .nonnegative()
  .max(MAX_SHARDS - 1);

/** What a shard was asked to back up: every shard of one backup must ask the same. */
export const planRequestSchema = z.object({
  topics: z.array(z.string()).max(100_000),
  regex: z.string().nullable(),
  partitions: z.array(z.number().int().nonnegative()).nullable(),
  since: time.nullable(),
  until: time.nullable(),
  maxRecordsPerPartition: z.number().int().positive().nullable(),
  incremental: z.boolean(),
});
export type PlanRequest = z.infer<typeof planRequestSchema>;

const planPartitionSchema = z.object({
  partition: z.number().int().nonnegative(),
  logStartOffset: offset64,
  /** The range the dump covers: [startOffset, endOffset); endOffset is the cut. */
  startOffset: offset64,
  endOffset: offset64,
  /** What the assignment weighed it by: bytes from the broker's log dirs, or offsets × a sampled record size. */
  estimatedBytes: z.number().int().nonnegative(),
  /** The shard that writes it. */
  shard: shardIndex,
});

const planTopicSchema = z.object({
  ...topicFields,
  topicId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{22}$/)
    .nullable(),
  /** Incremental: the backup this topic continues (the same for every shard), or null for a full read. */
  basedOn: backupId.nullable(),
  partitions: list(planPartitionSchema),
});

export const planSchema = z.object({
  format: z.literal(PLAN_FORMAT),
  formatVersion: z.literal(1),
  tool: z.object({ name: z.string(), version: z.string() }),
  backupId,
  cluster: z.object({ id: z.string().min(1).max(255), name: z.string().min(1).max(100) }),
  createdAt: time,
  /** When the cut's offsets were fixed (the manifest's cut.time). */
  cutTime: time,
  /** After this the plan is abandoned: shards refuse it and prune removes it with its partials. */
  expiresAt: time,
  shards: z.number().int().positive().max(MAX_SHARDS),
  request: planRequestSchema,
  topics: list(planTopicSchema),
  /** The committed offsets read right after the cut (FORMAT.md, "The cut"). */
  consumerGroups: list(groupSchema),
});
export type ShardPlan = z.infer<typeof planSchema>;
export type PlanTopic = ShardPlan['topics'][number];
export type PlanPartition = PlanTopic['partitions'][number];

const partialPartitionSchema = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  segments: list(segmentSchema),
});

export const partialSchema = z.object({
  format: z.literal(PARTIAL_FORMAT),
  formatVersion: z.literal(1),
  backupId,
  /** SHA-256 of the plan's bytes: a partial belongs to exactly one plan. */
  planSha256: sha256,
  shard: shardIndex,
  shards: z.number().int().positive().max(MAX_SHARDS),
  /** The tag in the names of the segments this shard wrote (`<backupId>-<8 hex>`). */
  writerTag: z.string().regex(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/),
  completedAt: time,
  partitions: list(partialPartitionSchema),
  /** Schema IDs the shard saw in framed keys and values, with how many payloads carried each. */
  schemaIds: list(z.object({ id: u32, payloads: z.number().int().positive() })),
});
export type ShardPartial = z.infer<typeof partialSchema>;

export function encodeDocument(doc: ShardPlan | ShardPartial): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
}

export function planSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function decodeDocument<T extends z.ZodType>(schema: T, bytes: Buffer, what: string): z.output<T> {
  if (bytes.length > MAX_PLAN_BYTES) throw new IntegrityError(`${what} is ${bytes.length} bytes, more than the limit of ${MAX_PLAN_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new IntegrityError(`${what} is not valid UTF-8`);
  }
  const shape = jsonShapeProblem(text, MANIFEST_JSON_LIMITS(bytes.length));
  if (shape !== null) throw new IntegrityError(`${what} ${shape}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new IntegrityError(`${what} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new IntegrityError(`${what} is invalid at ${pathText(i.path)}: ${i.message}`);
  }
  return parsed.data;
}

/** A plan read from the store, checked: shape, and every partition's range and shard. */
export function decodePlan(bytes: Buffer, where: string): ShardPlan {
  const plan = decodeDocument(planSchema, bytes, `plan ${where}`);
  const problem = planProblem(plan);
  if (problem !== null) throw new IntegrityError(`plan ${where} ${problem}`);
  return plan;
}

export function decodePartial(bytes: Buffer, where: string): ShardPartial {
  return decodeDocument(partialSchema, bytes, `partial manifest ${where}`);
}

/** What is wrong in a plan beyond its shape, or null. Linear. */
export function planProblem(plan: ShardPlan): string | null {
  const names = new Set<string>();
  for (const t of plan.topics) {
    if (names.has(t.name)) return `lists topic ${t.name} twice`;
    names.add(t.name);
    const seen = new Set<number>();
    for (const p of t.partitions) {
      if (p.partition >= t.partitionCount) return `lists partition ${t.name}/${p.partition}, not below partitionCount ${t.partitionCount}`;
      if (seen.has(p.partition)) return `lists partition ${t.name}/${p.partition} twice`;
      seen.add(p.partition);
      if (p.shard >= plan.shards) return `assigns ${t.name}/${p.partition} to shard ${p.shard} of ${plan.shards}`;
      const log = BigInt(p.logStartOffset);
      const start = BigInt(p.startOffset);
      const end = BigInt(p.endOffset);
      if (start < log || start > end) return `gives ${t.name}/${p.partition} the range ${start}..${end} (log start ${log})`;
    }
  }
  if (Date.parse(plan.expiresAt) <= Date.parse(plan.createdAt)) return 'expires before it was created';
  return null;
}

/** The partitions shard `index` writes, in plan order. */
export function shardPartitions(plan: ShardPlan, index: number): Array<{ topic: PlanTopic; partition: PlanPartition }> {
  return plan.topics.flatMap((topic) => topic.partitions.filter((p) => p.shard === index).map((partition) => ({ topic, partition })));
}

/**
 * Why this shard cannot follow `plan`, or null: another shard count, another cluster, or
 * another request (each named, with both sides), so two shards started with different
 * options never make one backup.
 */
export function planMismatch(plan: ShardPlan, mine: { shards: number; clusterId: string; clusterName: string; request: PlanRequest }): string | null {
  const show = (v: PlanRequest[keyof PlanRequest]): string => (v === null ? 'none' : Array.isArray(v) ? (v.length === 0 ? 'none' : v.join(', ')) : String(v));
  if (plan.shards !== mine.shards) return `the plan has ${plan.shards} shards, this shard was started with ${mine.shards}`;
  if (plan.cluster.id !== mine.clusterId) return `the plan is of cluster ${plan.cluster.id}, this shard reads cluster ${mine.clusterId}`;
  if (plan.cluster.name !== mine.clusterName) return `the plan is stored under cluster name ${plan.cluster.name}, this shard uses ${mine.clusterName}`;
  const flags: Record<keyof PlanRequest, string> = {
    topics: '--topic',
    regex: '--topics-regex',
    partitions: '--partitions',
    since: '--since',
    until: '--until',
    maxRecordsPerPartition: '--max-records-per-partition',
    incremental: '--incremental',
  };
  for (const k of Object.keys(flags) as Array<keyof PlanRequest>) {
    const a = plan.request[k];
    const b = mine.request[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) return `${flags[k]} differs: the plan has ${show(a)}, this shard has ${show(b)}`;
  }
  return null;
}

/** A request in the form plans store and compare: topics sorted and unique, partitions sorted. */
export function canonicalRequest(r: {
  topics: readonly string[];
  regex?: string | null;
  partitions?: readonly number[] | null;
  since: Date | null;
  until: Date | null;
  maxRecordsPerPartition: number | null;
  incremental: boolean;
}): PlanRequest {
  return {
    topics: [...new Set(r.topics)].sort(),
    regex: r.regex ?? null,
    partitions: r.partitions ? [...new Set(r.partitions)].sort((a, b) => a - b) : null,
    since: r.since ? r.since.toISOString() : null,
    until: r.until ? r.until.toISOString() : null,
    maxRecordsPerPartition: r.maxRecordsPerPartition,
    incremental: r.incremental,
  };
}

/** One partition as the shards wrote it. */
export interface MergedPartition {
  segments: SegmentEntry[];
  records: number;
}

/** The merge of the partials: per `topic/partition`, what its shard wrote, and the schema IDs seen. */
export interface MergedShards {
  partitions: Map<string, MergedPartition>;
  schemaIds: Map<number, number>;
}

/**
 * Checks every partial against the plan and merges them. A partial must be of this plan
 * (its SHA-256), of its own shard, list exactly the partitions the plan gives that shard,
 * and name only segments in the pool under its own topic, partition and writer tag, in
 * offset order inside the range, adding up to its records. Throws IntegrityError naming
 * the shard and what is wrong. Linear in the partials' size.
 */
export function mergePartials(plan: ShardPlan, planHash: string, partials: ReadonlyMap<number, ShardPartial>): MergedShards {
  const partitions = new Map<string, MergedPartition>();
  const schemaIds = new Map<number, number>();
  const owners = partitionOwners(plan);
  // The manifest's stats are sums over every shard: each must stay an exact JSON number.
  const totals = { records: 0, rawBytes: 0, storedBytes: 0, payloads: 0 };
  const add = (i: number, what: keyof typeof totals, n: number): void => {
    totals[what] += n;
    if (totals[what] > Number.MAX_SAFE_INTEGER)
      throw new IntegrityError(`the partial manifests of backup ${plan.backupId} add up to more ${what} than a manifest can count (at shard ${i})`);
  };
  for (let i = 0; i < plan.shards; i++) {
    const partial = partials.get(i);
    if (!partial) throw new IntegrityError(`shard ${i} of backup ${plan.backupId} has no partial manifest`);
    for (const [key, m] of checkPartial(plan, planHash, i, partial, owners)) {
      partitions.set(key, m);
      for (const s of m.segments) {
        add(i, 'records', s.records);
        add(i, 'rawBytes', s.rawBytes);
        add(i, 'storedBytes', s.storedBytes);
      }
    }
    // A record has a key and a value: no schema ID is carried by more payloads than twice the shard's records.
    const records = partial.partitions.reduce((n, p) => n + p.records, 0);
    for (const { id, payloads } of partial.schemaIds) {
      if (payloads > 2 * records)
        throw new IntegrityError(
          `the partial manifest of shard ${i} of backup ${plan.backupId} counts ${payloads} payloads of schema ID ${id}, more than its ${records} records carry`,
          'run that shard again after deleting its partial manifest',
        );
      add(i, 'payloads', payloads);
      schemaIds.set(id, (schemaIds.get(id) ?? 0) + payloads);
    }
  }
  for (const [key, o] of owners)
    if (!partitions.has(key)) throw new IntegrityError(`the partial manifest of shard ${o.shard} of backup ${plan.backupId} leaves out ${key}`);
  return { partitions, schemaIds };
}

type Owners = Map<string, { shard: number; start: bigint; end: bigint }>;

/** Each planned partition (`topic/partition`): its shard and range. */
export function partitionOwners(plan: ShardPlan): Owners {
  const owner: Owners = new Map();
  for (const t of plan.topics)
    for (const p of t.partitions) owner.set(`${t.name}/${p.partition}`, { shard: p.shard, start: BigInt(p.startOffset), end: BigInt(p.endOffset) });
  return owner;
}

/**
 * Checks shard `i`'s partial against the plan (see mergePartials) and returns its partitions
 * by `topic/partition`. Throws IntegrityError naming the shard and what is wrong.
 */
export function checkPartial(
  plan: ShardPlan,
  planHash: string,
  i: number,
  partial: ShardPartial,
  owners: Owners = partitionOwners(plan),
): Map<string, MergedPartition> {
  const out = new Map<string, MergedPartition>();
  const bad = (why: string): never => {
    throw new IntegrityError(
      `the partial manifest of shard ${i} of backup ${plan.backupId} ${why}`,
      'run that shard again after deleting its partial manifest',
    );
  };
  if (partial.backupId !== plan.backupId) bad(`is of backup ${partial.backupId}`);
  if (partial.planSha256 !== planHash) bad('was written for another plan');
  if (partial.shard !== i || partial.shards !== plan.shards) bad(`says it is shard ${partial.shard}/${partial.shards}`);
  if (!partial.writerTag.startsWith(`${plan.backupId}-`)) bad(`has the writer tag ${partial.writerTag} of another dump`);
  for (const p of partial.partitions) {
    const key = `${p.topic}/${p.partition}`;
    const o = owners.get(key);
    if (!o || o.shard !== i) bad(`lists ${key}, which the plan does not give it`);
    if (out.has(key)) bad(`lists ${key} twice`);
    let prev: bigint | null = null;
    let total = 0;
    for (const s of p.segments) {
      const first = BigInt(s.firstOffset);
      if (s.key !== segmentKey(p.topic, p.partition, first, partial.writerTag)) bad(`names segment ${JSON.stringify(s.key)}, not one of its own`);
      if (first < o!.start || BigInt(s.lastOffset) >= o!.end) bad(`lists a segment of ${key} outside ${o!.start}..${o!.end}`);
      if (prev !== null && first <= prev) bad(`lists segments of ${key} out of order`);
      prev = BigInt(s.lastOffset);
      total += s.records;
    }
    if (total !== p.records) bad(`says ${key} holds ${p.records} records, its segments ${total}`);
    out.set(key, { segments: p.segments, records: p.records });
  }
  return out;
}

/** A plan's expiry counts at most this long after its backup ID's time (a crafted plan cannot keep objects for ever). */
export const PLAN_LIFE_BOUND_MS = 8 * 24 * 3_600_000;

/**
 * Until when prune treats the plan of backup `id` as live (ms since the epoch): its expiresAt,
 * but never later than PLAN_LIFE_BOUND_MS after the backup ID's time; a plan that is missing or
 * cannot be read (a shard may be writing it, or it is junk) counts as live until that bound.
 */
export function livePlanUntil(id: string, bytes: Buffer | null, where: string): number {
  const bound = backupIdTime(id)! + PLAN_LIFE_BOUND_MS;
  if (bytes === null) return bound;
  try {
    const plan = decodePlan(bytes, where);
    if (plan.backupId !== id) return bound;
    return Math.min(Date.parse(plan.expiresAt), bound);
  } catch {
    return bound;
  }
}
