/**
 * kbak as a library: every command of the CLI as a function with plain typed options (no
 * flags, no environment variables, no settings files), the Kafka connection either described
 * or given as a KafkaAdapter. The CLI builds these options from flags and calls these
 * functions; defaults come from src/config/defaults.ts for both.
 *
 * Every call that reads or writes a store or a cluster takes an AbortSignal (`signal`): on
 * abort it releases the store locks it holds and ends with InterruptedError (exit code 130);
 * nothing incomplete becomes visible (see src/util/interrupt.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backup, listBackups, loadBackup, openBackup, resolveBackup, type BackupRef } from './backup/catalog';
import type { Manifest } from './backup/manifest';
import { clusterFolders, prune as pruneClusters, type PruneResult } from './backup/prune';
import type { RetentionPolicy } from './backup/retention';
import { backupRows, type BackupRow } from './backup/summary';
import { verifyBackup, type VerifyCache, type VerifyResult } from './backup/verify';
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_DUMP_CONCURRENCY,
  DEFAULT_DUMP_ZSTD_LEVEL,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RESTORE_CONCURRENCY,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
  INTERRUPT_CLEANUP_TIMEOUT_MS,
} from './config/defaults';
import type { DumpOptions as DumpRunOptions, DumpSummary, TopicProgress } from './dump/dump';
import type { ShardDumpResult } from './dump/sharded';
import { validateClusterName } from './backup/layout';
import { listPlans, type PlanStatus } from './backup/plans';
import { classifyError, ConflictError, NotFoundError, SafetyError, UsageError } from './errors';
import type { KafkaAdapter, KafkaConnection } from './kafka';
import type { CodecName } from './kafka/protocol/codecs';
import type { LaneDeletePlan } from './lane/delete-plan';
import { DEFAULT_LEDGER_TOPIC, type LedgerEntry } from './lane/ledger';
import type { LaneContext, LaneDeleteResult, LaneOverview } from './lane/lifecycle';
import { LaneScope, laneTemplates } from './lane/ownership';
import type { LaneRetention } from './lane/topic-configs';
import { silentLogger, type Logger } from './output/logger';
import { someOf } from './output/words';
import { validateTopicName } from './remap/topic-name';
import type { RestoreMode } from './restore/plan';
import type { DryRunResult, LaneTopicProgress, RestoreMask, RestoreOptions as RunOptions, RestoreRun, RestoreSummary } from './restore/restore';
import type { ShardSpec } from './model/shard';
import type { StarterPolicy } from './mask/review';
import { RegistryClient, type RegistryConfig } from './schema/registry-client';
import type { RecoverRun, RecoverSummary, RecoveryDryRun } from './recover/recover';
import { scanRecordAt, type RecordLayout } from './segment/format';
import type { RawBlock } from './segment/reader';
import { abortableStore } from './store/abortable';
import { StoreLock, type LockInfo } from './backup/lock';
import { DiskStore } from './store/disk';
import type { ObjectStore } from './store/store';
import { cancellable, cancellableItems } from './util/interrupt';
import { didYouMeanSuffix } from './util/near-names';

/**
 * The engines each call needs, loaded by the call (a CLI run is one call): a dump does not
 * compile restore's, the mask's (faker, avro, protobuf) or the lane tools' code, and a command
 * that reads only a store (list, verify, `--help`) not the Kafka client; start-up of the CLI
 * was 0.2 s of compiling modules the command never ran.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const kafkaClient = () => require('./kafka') as typeof import('./kafka');
const dumpEngine = () => require('./dump/dump') as typeof import('./dump/dump');
const restoreEngine = () => require('./restore/restore') as typeof import('./restore/restore');
const shardedRestoreEngine = () => require('./restore/sharded') as typeof import('./restore/sharded');
const shardedDumpEngine = () => require('./dump/sharded') as typeof import('./dump/sharded');
const recoverEngine = () => require('./recover/recover') as typeof import('./recover/recover');
const pointInTime = () => require('./recover/point-in-time-source') as typeof import('./recover/point-in-time-source');
const maskLoader = () => require('./mask/load') as typeof import('./mask/load');
const maskReview = () => require('./mask/review') as typeof import('./mask/review');
const laneLifecycle = () => require('./lane/lifecycle') as typeof import('./lane/lifecycle');
const laneDeletePlan = () => require('./lane/delete-plan') as typeof import('./lane/delete-plan');
const laneReset = () => require('./lane/reset') as typeof import('./lane/reset');
const laneSnapshot = () => require('./lane/snapshot') as typeof import('./lane/snapshot');
/* eslint-enable @typescript-eslint/no-require-imports */

/** How to reach Kafka. Only `brokers` is required. */
export interface KafkaOptions {
  brokers: string[];
  clientId?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean } | boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export type { RegistryConfig as RegistryOptions };

/** Stops the call: it releases its store locks and ends with InterruptedError. */
export interface Cancellable {
  signal?: AbortSignal;
}

interface Common extends Cancellable {
  /** A cluster to connect to, or an adapter (e.g. MemoryKafka, or one shared across calls; not closed). */
  kafka: KafkaOptions | KafkaAdapter;
  registry?: RegistryConfig | null;
  logger?: Logger;
}

export interface DumpOptions extends Common {
  store: ObjectStore;
  topics?: string[];
  /** Whole topic names matching this regular expression (internal topics excluded). */
  topicsRegex?: string;
  partitions?: number[];
  since?: Date | null;
  until?: Date | null;
  maxRecordsPerPartition?: number | null;
  /** Continue each partition where the newest earlier backup of its topic ended, sharing its segments (FORMAT.md v2). */
  incremental?: boolean;
  /** How long to wait for a running prune's exclusive lock before failing with ConflictError (0: at once). */
  lockWaitMs?: number;
  /** Label of the cluster in the backup path (default: its cluster id). */
  clusterName?: string;
  segmentBytes?: number;
  /** Target raw size of a compressed block (default: 1 MiB, less with many partitions open). */
  blockBytes?: number;
  /** zstd level of the segment blocks, 1..9 (default DEFAULT_DUMP_ZSTD_LEVEL, 1: the cheapest, measured). */
  compressionLevel?: number;
  concurrency?: number;
  stallTimeoutMs?: number;
  onProgress?: (topics: TopicProgress[]) => void;
  progressIntervalMs?: number;
}

export interface DumpResult {
  manifest: Manifest;
  summary: DumpSummary;
}

export interface RestoreOptions extends Common {
  /** The backup to restore (openBackup(store, 'latest')). */
  backup: Backup;
  lane: string;
  /** Backed-up topics to restore; default all. */
  topics?: string[];
  topicTemplate?: string;
  subjectTemplate?: string;
  groupTemplate?: string;
  replicationFactor?: number | null;
  since?: Date | null;
  until?: Date | null;
  maxRecordsPerPartition?: number | null;
  /** `new` refuses lane topics with data, `resume` continues an interrupted restore, `replace` starts over. */
  mode?: RestoreMode;
  laneHeader?: string | null;
  /** Set KEY=<lane> in each record's W3C baggage header. */
  laneBaggage?: string | null;
  /** Lane topic retention (default: forever). */
  laneRetention?: LaneRetention;
  /** The lane expires this long after the restore (`gcLanes`). */
  ttlMs?: number | null;
  /** The lane ledger topic (default __kbak_lanes). */
  ledgerTopic?: string;
  compression?: CodecName | null;
  concurrency?: number;
  onProgress?: (topics: LaneTopicProgress[]) => void;
  progressIntervalMs?: number;
  /**
   * A masking policy file (docs/masking-policy.md): the lane gets masked, optionally sampled
   * records, and records the policy's provenance. Relative paths in it are taken from its folder.
   */
  policy?: string | null;
  /** With a policy: copy the topics it does not list as they are (default: refuse them). */
  unlistedCopy?: boolean;
  /** With a policy: a record that cannot be masked stops the restore (default) or is left out and counted. */
  onUndecodable?: 'stop' | 'drop';
  /** Where the policy's `key: { env }` is looked up (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** A sharded restore (`--shard I/N`, LEDGER.md "Sharded restores"): this process writes shard `index` of `count`; shard 0 prepares the lane. */
  shard?: ShardSpec | null;
  /** With `shard` 0: prepare the lane for the shards (ledger entry, subjects, topics) and return. */
  prepareOnly?: boolean;
  /** With `shard` 1..N-1: how long to wait for shard 0's preparation (default 10 minutes). */
  prepareTimeoutMs?: number;
}

/** The masking a restore's options ask for, loaded (policy, key, keys-from files), or null. */
async function restoreMask(opts: Pick<RestoreOptions, 'policy' | 'unlistedCopy' | 'onUndecodable' | 'env'>): Promise<RestoreMask | null> {
  if (!opts.policy) {
    if (opts.unlistedCopy || opts.onUndecodable) throw new UsageError('unlistedCopy and onUndecodable apply to a masked restore only', 'give a policy');
    return null;
  }
  const loaded = await maskLoader().loadMask(opts.policy, opts.env ?? process.env);
  return { ...loaded, unlistedCopy: Boolean(opts.unlistedCopy), onUndecodable: opts.onUndecodable ?? 'stop' };
}

function isAdapter(k: KafkaOptions | KafkaAdapter): k is KafkaAdapter {
  return typeof (k as KafkaAdapter).readRanges === 'function';
}

function connection(k: KafkaOptions): KafkaConnection {
  const tls = typeof k.tls === 'object' ? k.tls : {};
  return {
    brokers: k.brokers,
    clientId: k.clientId ?? DEFAULT_CLIENT_ID,
    tls: { enabled: Boolean(k.tls), insecureSkipVerify: tls.insecureSkipVerify ?? false, caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile },
    sasl: k.sasl,
    connectionTimeoutMs: k.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: k.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

const registryClient = (r: RegistryConfig | null | undefined): RegistryClient | null => (r ? new RegistryClient(r) : null);

/** The store a call works on: with a signal, one that refuses new work once it aborts. */
const storeFor = (store: ObjectStore, signal: AbortSignal | undefined): ObjectStore => (signal ? abortableStore(store, signal) : store);

/** The same backup read through storeFor. */
const backupFor = (b: Backup, signal: AbortSignal | undefined): Backup => (signal ? new Backup(abortableStore(b.store, signal), b.ref, b.manifest) : b);

/** Runs `fn` as a cancellable call (see Cancellable). */
function stoppable<T>(opts: Cancellable, fn: () => Promise<T>): Promise<T> {
  return cancellable(opts.signal, INTERRUPT_CLEANUP_TIMEOUT_MS, fn);
}

/** Runs `fn` with an adapter, closing it afterwards only if this call opened it. */
async function withKafka<T>(opts: Common, logger: Logger, fn: (kafka: KafkaAdapter) => Promise<T>): Promise<T> {
  if (isAdapter(opts.kafka)) return fn(opts.kafka);
  const kafka = kafkaClient().openKafka(connection(opts.kafka), logger);
  try {
    return await fn(kafka);
  } finally {
    await kafka.close();
  }
}

async function withPolling<T>(poll: (() => void) | null, everyMs: number, fn: () => Promise<T>): Promise<T> {
  const timer = poll ? setInterval(poll, everyMs) : null;
  try {
    return await fn();
  } finally {
    if (timer) clearInterval(timer);
    poll?.();
  }
}

/** The dump's options from the library's (defaults filled in). */
function dumpRunOptions(opts: DumpOptions): DumpRunOptions {
  return {
    selection: { topics: opts.topics ?? [], regex: opts.topicsRegex, partitions: opts.partitions },
    window: { since: opts.since ?? null, until: opts.until ?? null },
    maxRecordsPerPartition: opts.maxRecordsPerPartition ?? null,
    clusterName: opts.clusterName,
    segmentBytes: opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    blockBytes: opts.blockBytes,
    compressionLevel: opts.compressionLevel ?? DEFAULT_DUMP_ZSTD_LEVEL,
    concurrency: opts.concurrency ?? DEFAULT_DUMP_CONCURRENCY,
    stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    incremental: Boolean(opts.incremental),
    lockWaitMs: opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
  };
}

/** Backs up topics at a consistent cut into `store`; the backup appears only once complete. */
export function dump(opts: DumpOptions): Promise<DumpResult> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () =>
    withKafka(opts, logger, (kafka) => {
      const run = new (dumpEngine().DumpRun)(
        { kafka, store: storeFor(opts.store, opts.signal), registry: registryClient(opts.registry), logger },
        dumpRunOptions(opts),
      );
      const poll = opts.onProgress ? () => opts.onProgress!(run.progress()) : null;
      return withPolling(poll, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => run.run());
    }),
  );
}

export interface ShardedDumpOptions extends DumpOptions {
  /** This process's shard (parseShardSpec reads `I/N`, or N with I from JOB_COMPLETION_INDEX). */
  shard: ShardSpec;
  /** The backup ID every shard agrees on (shardedBackupId: --backup-id, or a CronJob's Job name). */
  backupId: string;
  /** How long the shards may take before prune treats the plan as abandoned (default 24 h, at most 7 days). */
  planTtlMs?: number;
}

/**
 * One shard of a sharded dump (FORMAT.md "Sharded dumps"): the first shard writes the plan,
 * each writes its own partitions and a partial manifest, and the last one to finish writes the
 * manifest, so the backup appears only once every shard is done.
 */
export function dumpShard(opts: ShardedDumpOptions): Promise<ShardDumpResult> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () =>
    withKafka(opts, logger, (kafka) => {
      const run = new (shardedDumpEngine().ShardedDumpRun)(
        { kafka, store: storeFor(opts.store, opts.signal), registry: registryClient(opts.registry), logger },
        { ...dumpRunOptions(opts), shard: opts.shard, backupId: opts.backupId, planTtlMs: opts.planTtlMs },
      );
      const poll = opts.onProgress ? () => opts.onProgress!(run.progress()) : null;
      return withPolling(poll, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => run.run());
    }),
  );
}

export interface FinalizeDumpOptions extends Common {
  store: ObjectStore;
  backupId: string;
  /** Label of the cluster in the backup path (default: its cluster id), as the shards used. */
  clusterName?: string;
  lockWaitMs?: number;
}

export interface FinalizeDumpResult {
  manifest: Manifest;
  /** The backup's summary; null when it was already complete. */
  summary: DumpSummary | null;
  alreadyComplete: boolean;
}

/** `kbak dump --finalize`: writes the manifest of a sharded dump whose every shard has finished. */
export function finalizeDump(opts: FinalizeDumpOptions): Promise<FinalizeDumpResult> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () =>
    withKafka(opts, logger, async (kafka) => {
      const cluster = opts.clusterName ? validateClusterName(opts.clusterName) : dumpEngine().clusterNameFromId((await kafka.cluster()).clusterId);
      return shardedDumpEngine().finalizeShardedDump(
        { kafka, store: storeFor(opts.store, opts.signal), registry: registryClient(opts.registry), logger },
        cluster,
        opts.backupId,
        opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
      );
    }),
  );
}

async function restoreRun(opts: RestoreOptions, kafka: KafkaAdapter, logger: Logger): Promise<RestoreRun> {
  const mask = await restoreMask(opts);
  const ctx = { kafka, backup: backupFor(opts.backup, opts.signal), registry: registryClient(opts.registry), logger };
  const options: RunOptions = {
    lane: opts.lane,
    topics: opts.topics ?? [],
    topicTemplate: opts.topicTemplate,
    subjectTemplate: opts.subjectTemplate,
    groupTemplate: opts.groupTemplate,
    replicationFactor: opts.replicationFactor ?? null,
    window: { since: opts.since ?? null, until: opts.until ?? null },
    maxRecordsPerPartition: opts.maxRecordsPerPartition ?? null,
    mode: opts.mode ?? 'new',
    laneHeader: opts.laneHeader ?? null,
    laneBaggage: opts.laneBaggage ?? null,
    laneRetention: opts.laneRetention,
    ttlMs: opts.ttlMs ?? null,
    ledgerTopic: opts.ledgerTopic,
    compression: opts.compression ?? null,
    concurrency: opts.concurrency ?? DEFAULT_RESTORE_CONCURRENCY,
    mask,
  };
  if (!opts.shard) {
    if (opts.prepareOnly) throw new UsageError('prepareOnly applies to a sharded restore only', 'give the shard (--shard 0/N)');
    return new (restoreEngine().RestoreRun)(ctx, options);
  }
  return new (shardedRestoreEngine().ShardedRestoreRun)(ctx, options, {
    shard: opts.shard,
    prepareOnly: Boolean(opts.prepareOnly),
    prepareTimeoutMs: opts.prepareTimeoutMs ?? shardedRestoreEngine().DEFAULT_PREPARE_TIMEOUT_MS,
    signal: opts.signal,
  });
}

/** Seeds a lane from a backup: lane topics, subjects, schema IDs, group offsets. */
export function restore(opts: RestoreOptions): Promise<RestoreSummary> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () =>
    withKafka(opts, logger, async (kafka) => {
      const run = await restoreRun(opts, kafka, logger);
      const poll = opts.onProgress ? () => opts.onProgress!(run.progress()) : null;
      return withPolling(poll, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => run.run());
    }),
  );
}

/** What `restore` would do, with read-only calls only (the CLI's --dry-run). */
export function planRestore(opts: RestoreOptions): Promise<DryRunResult> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () => withKafka(opts, logger, async (kafka) => (await restoreRun(opts, kafka, logger)).dryRun()));
}

export interface InitPolicyOptions extends Cancellable {
  backup: Backup;
  /** Backed-up topics to cover (default all). */
  topics?: string[];
}

/**
 * A starting masking policy (YAML) for the backup's topics: every field of their schemas
 * listed, those whose names or first values look personal pre-filled with an action. For
 * review: a policy is never applied without a person reading it.
 */
export function initPolicy(opts: InitPolicyOptions): Promise<StarterPolicy> {
  return stoppable(opts, async () => {
    const backup = backupFor(opts.backup, opts.signal);
    const known = backup.manifest.topics.map((t) => t.name);
    const wanted = opts.topics && opts.topics.length > 0 ? opts.topics : known;
    const missing = wanted.filter((t) => !known.includes(t));
    if (missing.length > 0) throw new NotFoundError(`backup ${backup.ref.backupId} has no topic ${missing.join(', ')}`, `its topics: ${known.join(', ')}`);
    return maskReview().starterPolicy(backup, wanted);
  });
}

export interface RecoverOptions extends Common {
  /** The backup to recover (openBackup(store, 'latest')); with `at`, the chain is read from its store and cluster. */
  backup: Backup;
  /** Backed-up topics to recover (default all, or those `topicsRegex` matches). */
  topics?: string[];
  /** A regex over whole topic names. */
  topicsRegex?: string;
  /** source topic → target topic (`--rename`); subjects named by TopicNameStrategy follow. */
  renames?: ReadonlyMap<string, string>;
  replicationFactor?: number | null;
  /** Continue this recovery after an interruption (its ledger record names what it created). */
  resume?: boolean;
  /** Add the backup's schema as a new version of an existing target subject that lacks it. */
  newVersions?: boolean;
  /**
   * Recover as of this time (Kafka's ListOffsets by timestamp): `backup` names the cluster's
   * chain (its newest backup); each topic is read from the first backup cut at or after it.
   */
  at?: Date | null;
  /** Register schemas with their original IDs (the registry's IMPORT mode); refused before any write where the registry cannot. */
  keepSchemaIds?: boolean;
  /** Re-create the backup's ACL bindings: `literal` (of the recovered topics and groups) or `all` (prefixed and wildcard too). */
  withAcls?: 'literal' | 'all' | null;
  /** The recovery ledger topic (default __kbak_recoveries). */
  ledgerTopic?: string;
  compression?: CodecName | null;
  concurrency?: number;
  onProgress?: (topics: LaneTopicProgress[]) => void;
  progressIntervalMs?: number;
}

async function recoverRun(opts: RecoverOptions, kafka: KafkaAdapter, logger: Logger): Promise<RecoverRun> {
  // A point in time chooses the backup (and the groups' backup) from the cluster's chain.
  const pit = opts.at ? await pointInTime().pointInTimeSource(opts.backup, { topics: opts.topics ?? [], regex: opts.topicsRegex }, opts.at) : null;
  return new (recoverEngine().RecoverRun)(
    { kafka, backup: backupFor(pit?.backup ?? opts.backup, opts.signal), registry: registryClient(opts.registry), logger },
    {
      topics: pit?.topics ?? opts.topics ?? [],
      topicsRegex: pit ? undefined : opts.topicsRegex,
      renames: opts.renames ?? new Map(),
      replicationFactor: opts.replicationFactor ?? null,
      compression: opts.compression ?? null,
      resume: Boolean(opts.resume),
      newVersions: Boolean(opts.newVersions),
      keepSchemaIds: Boolean(opts.keepSchemaIds),
      withAcls: opts.withAcls ?? null,
      concurrency: opts.concurrency ?? DEFAULT_RESTORE_CONCURRENCY,
      ledgerTopic: opts.ledgerTopic,
      cut: pit?.cut ?? null,
      groups: pit ? pit.groups : undefined,
      warnings: pit?.warnings ?? [],
    },
  );
}

/** Recovers a backup under its original (or renamed) topic, subject and group names: the disaster-recovery path. */
export function recover(opts: RecoverOptions): Promise<RecoverSummary> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () =>
    withKafka(opts, logger, async (kafka) => {
      const run = await recoverRun(opts, kafka, logger);
      const poll = opts.onProgress ? () => opts.onProgress!(run.progress()) : null;
      return withPolling(poll, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => run.run());
    }),
  );
}

/** What `recover` would do, with read-only calls only (the CLI's --dry-run). */
export function planRecover(opts: RecoverOptions): Promise<RecoveryDryRun> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () => withKafka(opts, logger, async (kafka) => (await recoverRun(opts, kafka, logger)).dryRun()));
}

export interface StoreOptions extends Cancellable {
  store: ObjectStore;
  /** The cluster folder to use; needed for `latest` when the store holds backups of several clusters. */
  cluster?: string;
}

export interface BackupList {
  /** Complete backups, oldest first. */
  backups: BackupRow[];
  /** Backups whose manifest cannot be read, with the reason. */
  unreadable: Array<{ cluster: string; id: string; error: string }>;
}

/** The complete backups of a store with their sizes and kinds (`kbak list`); a manifest that cannot be read is reported, not thrown. */
export function describeBackups(opts: StoreOptions): Promise<BackupList> {
  return stoppable(opts, async () => {
    const store = storeFor(opts.store, opts.signal);
    const backups: Backup[] = [];
    const unreadable: BackupList['unreadable'] = [];
    for (const ref of await listBackups(store, opts.cluster)) {
      try {
        backups.push(await loadBackup(store, ref));
      } catch (err) {
        unreadable.push({ cluster: ref.cluster, id: ref.backupId, error: (err as Error).message });
      }
    }
    return { backups: backupRows(backups), unreadable };
  });
}

export interface VerifyOptions extends StoreOptions {
  /** A backup ID or `latest`; or `all`. */
  backup?: string;
  /** Every complete backup in the store (of `cluster`). */
  all?: boolean;
  /** Only check that every segment exists with the right size. */
  quick?: boolean;
  /** Each backup's result as soon as it is known. */
  onResult?: (result: VerifyResult) => void;
}

/**
 * Checks backups: every checksum, record and manifest rule (FORMAT.md "What a reader
 * verifies"). A damaged backup is a result with `ok: false` and its first bad object, not an
 * error; a segment several backups share is read once.
 */
export async function verify(opts: VerifyOptions): Promise<VerifyResult[]> {
  if ((opts.backup === undefined) === !opts.all) throw new UsageError('verify needs one backup (an ID or latest) or all', undefined, { options: ['backup'] });
  return stoppable(opts, async () => {
    const store = storeFor(opts.store, opts.signal);
    const refs: BackupRef[] = opts.all ? await listBackups(store, opts.cluster) : [await resolveBackup(store, opts.backup!, opts.cluster)];
    const cache: VerifyCache = new Map();
    const results: VerifyResult[] = [];
    for (const ref of refs) {
      const r = await verifyBackup(store, ref, { quick: Boolean(opts.quick), cache });
      // verifyBackup reports a refused read as a damaged segment: after an abort, nothing it says counts.
      if (opts.signal?.aborted) break;
      results.push(r);
      opts.onResult?.(r);
    }
    return results;
  });
}

/** The sharded dumps in progress in the store (of `cluster`, or all): shards finished and missing, problems. */
export function listShardedDumps(opts: StoreOptions): Promise<PlanStatus[]> {
  return stoppable(opts, () => listPlans(storeFor(opts.store, opts.signal), opts.cluster));
}

export interface PruneOptions extends StoreOptions {
  /** What to keep; backups it keeps for no reason are removed. */
  policy: RetentionPolicy;
  /** Report what would be deleted, delete nothing (takes no lock). */
  dryRun?: boolean;
  /** How long to wait for running dumps' locks before failing with ConflictError (0: at once). */
  lockWaitMs?: number;
  logger?: Logger;
  /** The clock retention compares backup IDs with (default Date.now). */
  now?: () => number;
}

/**
 * Deletes the backups `policy` does not keep, then the segments no kept backup names, each
 * cluster under its exclusive store lock (all clusters of the store unless `cluster`).
 */
export function prune(opts: PruneOptions): Promise<PruneResult[]> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, () =>
    pruneClusters(storeFor(opts.store, opts.signal), opts.cluster, {
      policy: opts.policy,
      dryRun: Boolean(opts.dryRun),
      lockWaitMs: opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
      logger,
      now: opts.now,
    }),
  );
}

/** Removes every store lock of the cluster (all clusters unless `cluster`): only when their holders are known to be dead. Returns what it removed. */
export function breakLocks(opts: StoreOptions & { logger?: Logger }): Promise<LockInfo[]> {
  const logger = opts.logger ?? silentLogger();
  return stoppable(opts, async () => {
    const store = storeFor(opts.store, opts.signal);
    const removed: LockInfo[] = [];
    for (const c of await clusterFolders(store, opts.cluster, logger)) removed.push(...(await StoreLock.breakAll(store, c)));
    return removed;
  });
}

export interface RawRecordsOptions extends Cancellable {
  topic: string;
  /** Only this partition (default: every partition of the topic, in order). */
  partition?: number;
  /** From this offset on, in each partition. */
  fromOffset?: bigint;
  /** At most this many records in all. */
  limit?: number;
  /** Check each segment's SHA-256 before handing out its first record (default true; false reads once instead of twice). */
  verifyFirst?: boolean;
}

/**
 * The records of one segment block where they lie: each RecordLayout gives the byte ranges
 * of a record's fields inside `block` (nothing copied). `records` is read as the block is
 * walked: take them before asking for the next block.
 */
export interface RecordsInBlock {
  partition: number;
  block: Buffer;
  records: Iterable<RecordLayout>;
}

/**
 * A topic's records as `kbak cat` prints them: in place in their blocks, a block at a time,
 * so memory stays bounded by one block whatever a record holds and the cost per record is a
 * plain loop step. Throws NotFoundError at once when the backup has no such topic. (For
 * record objects, use `backup.records(topic, partition)`.)
 */
export function readRawRecords(backup: Backup, opts: RawRecordsOptions): AsyncIterable<RecordsInBlock> {
  const topic = backup.manifest.topics.find((t) => t.name === opts.topic);
  if (!topic)
    throw new NotFoundError(
      `topic "${opts.topic}" is not in backup ${backup.ref.backupId}`,
      `it holds ${someOf(backup.manifest.topics.map((t) => t.name)) || 'no topics'}`,
    );
  const partitions = opts.partition === undefined ? topic.partitions.map((p) => p.partition).sort((a, b) => a - b) : [opts.partition];
  const source = backupFor(backup, opts.signal);
  const from = opts.fromOffset;
  const verifyFirst = opts.verifyFirst !== false;
  let left = opts.limit ?? Infinity;
  function* walk(b: RawBlock): Generator<RecordLayout> {
    let pos = 0;
    for (let i = 0; i < b.count && left > 0; i++) {
      const r = scanRecordAt(b.body, pos, b.body.length, b.firstIndex + i, b.ctx, b.basePos);
      pos = r.next;
      if (from !== undefined && r.offset < from) continue;
      left--;
      yield r;
    }
  }
  async function* blocks(): AsyncGenerator<RecordsInBlock> {
    for (const p of partitions) {
      if (left <= 0) break;
      for await (const b of cancellableItems(opts.signal, source.rawBlocks(opts.topic, p, from, { verifyFirst }))) {
        yield { partition: p, block: b.body, records: walk(b) };
        if (left <= 0) break;
      }
    }
  }
  return blocks();
}

export interface LaneOptions extends Common {
  /** The lane ledger topic on the target cluster (default __kbak_lanes). */
  ledgerTopic?: string;
}

/** The lane templates of `deleteLane` and `gcLanes`: those the lanes were restored with (default {lane}.{topic} and so on). */
export interface LaneTemplateOptions {
  topicTemplate?: string;
  subjectTemplate?: string;
  groupTemplate?: string;
}

/** Runs `fn` with the lane context of `opts`; failures become kbak errors. */
async function withLanes<T>(opts: LaneOptions, fn: (ctx: LaneContext) => Promise<T>): Promise<T> {
  const logger = opts.logger ?? silentLogger();
  const ledgerTopic = validateTopicName(opts.ledgerTopic ?? DEFAULT_LEDGER_TOPIC, 'ledgerTopic');
  return stoppable(opts, () =>
    withKafka(opts, logger, async (kafka) => {
      try {
        return await fn({ kafka, registry: registryClient(opts.registry), logger, ledgerTopic });
      } catch (err) {
        throw classifyError(err, 'managing lanes');
      }
    }),
  );
}

export interface LaneList {
  ledgerTopic: string;
  /** By lane name. */
  lanes: LaneOverview[];
  /** Ledger records kbak did not write or cannot read: never acted on. */
  invalidRecords: Array<{ key: string; reason: string }>;
}

/** The lanes recorded in the ledger on the target cluster: seeded from, age, TTL left, topics, records, subjects, groups. */
export function listLanes(opts: LaneOptions): Promise<LaneList> {
  return withLanes(opts, async (ctx) => {
    const read = await laneLifecycle().readLanes(ctx);
    const now = new Date();
    const lanes: LaneOverview[] = [];
    for (const e of [...read.entries.values()].sort((a, b) => (a.lane < b.lane ? -1 : 1))) lanes.push(await laneLifecycle().overview(ctx, e, now));
    return { ledgerTopic: ctx.ledgerTopic, lanes, invalidRecords: read.invalid };
  });
}

export interface LaneDescription {
  /** Everything the ledger records for the lane. */
  entry: LedgerEntry;
  overview: LaneOverview;
}

/** Refuses (SafetyError) a ledger record of `lane` kbak did not write: acting on it could touch what is not the lane's. */
function ledgerEntry(read: { entries: Map<string, LedgerEntry>; invalid: Array<{ key: string; reason: string }> }, lane: string): LedgerEntry | null {
  const bad = read.invalid.find((i) => i.key === lane);
  if (bad) throw new SafetyError(bad.reason, "the ledger record was not written by kbak; remove the lane's objects by hand");
  return read.entries.get(lane) ?? null;
}

/**
 * The error for a lane the ledger does not have, with the lanes whose names are close
 * ("did you mean feature-x?"): the names come from the ledger, compared at bounded cost.
 */
export function laneNotFound(lane: string, ledgerTopic: string, lanes: Iterable<string>, hint = 'kbak lane list shows the lanes'): NotFoundError {
  return new NotFoundError(`lane ${lane} is not in the ledger ${ledgerTopic}${didYouMeanSuffix(lane, lanes)}`, hint);
}

/** The names of the lanes in the ledger (no overview: for messages such as laneNotFound's). */
export async function laneNames(opts: LaneOptions): Promise<string[]> {
  return withLanes(opts, async (ctx) => [...(await laneLifecycle().readLanes(ctx)).entries.keys()]);
}

/** One lane as the ledger records it, or null when the ledger has no such lane. */
export async function describeLane(opts: LaneOptions & { lane: string }): Promise<LaneDescription | null> {
  new LaneScope(opts.lane, laneTemplates({}));
  return withLanes(opts, async (ctx) => {
    const entry = ledgerEntry(await laneLifecycle().readLanes(ctx), opts.lane);
    return entry ? { entry, overview: await laneLifecycle().overview(ctx, entry, new Date()) } : null;
  });
}

export interface DeleteLaneOptions extends LaneOptions, LaneTemplateOptions {
  lane: string;
  /** Only plan: change nothing. */
  dryRun?: boolean;
}

export type DeleteLaneOutcome =
  | { lane: string; found: false }
  | { lane: string; found: true; dryRun: true; plan: LaneDeletePlan }
  | { lane: string; found: true; dryRun: false; result: LaneDeleteResult };

/**
 * Deletes a lane: exactly the topics, subjects (soft, then hard) and consumer groups its
 * ledger entry names and its templates own, then the entry. A lane not in the ledger is not
 * an error (`found: false`); a group with active members stays (`result.complete` false).
 */
export async function deleteLane(opts: DeleteLaneOptions): Promise<DeleteLaneOutcome> {
  const scope = new LaneScope(opts.lane, laneTemplates(opts));
  return withLanes(opts, async (ctx): Promise<DeleteLaneOutcome> => {
    const entry = ledgerEntry(await laneLifecycle().readLanes(ctx), opts.lane);
    if (!entry) return { lane: opts.lane, found: false };
    if (opts.dryRun) return { lane: opts.lane, found: true, dryRun: true, plan: await laneLifecycle().planDelete(ctx, entry, scope) };
    const producer = await ctx.kafka.producer();
    try {
      return { lane: opts.lane, found: true, dryRun: false, result: await laneLifecycle().deleteLane(ctx, producer, entry, scope) };
    } finally {
      await producer.close();
    }
  });
}

export interface GcLanesOptions extends LaneOptions, LaneTemplateOptions {
  /** Only list the expired lanes. */
  dryRun?: boolean;
}

export interface GcLanesResult {
  /** Lanes whose TTL has passed, by name. */
  expired: string[];
  /** One per expired lane deleted (none on a dry run). */
  results: LaneDeleteResult[];
  /** Expired lanes not deleted, with the reason (restored with other templates, or a restore running, say). */
  skipped: string[];
  /** Lanes left `restoring` by a restore that is gone (heartbeat lapsed, process dead): failed, collected like any other once expired. */
  failed: string[];
}

/** Deletes every expired lane (restored with a TTL), one after the other; meant for a CronJob. */
export async function gcLanes(opts: GcLanesOptions): Promise<GcLanesResult> {
  const templates = laneTemplates(opts);
  return withLanes(opts, async (ctx) => {
    const now = new Date();
    const entries = [...(await laneLifecycle().readLanes(ctx)).entries.values()];
    const expired = laneDeletePlan().expiredLanes(entries, now);
    const abandoned = laneLifecycle().abandonedLanes(entries, now);
    const out: GcLanesResult = { expired: expired.map((e) => e.lane), results: [], skipped: [], failed: abandoned.map((e) => e.lane) };
    if (opts.dryRun) return out;
    const producer = await ctx.kafka.producer();
    try {
      for (const e of expired) {
        if (opts.signal?.aborted) break;
        try {
          out.results.push(await laneLifecycle().deleteLane(ctx, producer, e, new LaneScope(e.lane, templates)));
        } catch (err) {
          // One lane's problem (other templates, a restore running, say) must not stop the others from being collected.
          if (!(err instanceof UsageError || err instanceof ConflictError || err instanceof SafetyError)) throw err;
          out.skipped.push(`lane ${e.lane}: ${err.oneLine()}`);
        }
      }
    } finally {
      await producer.close();
    }
    return out;
  });
}

/** Options of the dump a lane snapshot runs (the rest are the dump's defaults). */
interface SnapshotDumpOptions {
  segmentBytes?: number;
  concurrency?: number;
  stallTimeoutMs?: number;
}

export interface SnapshotLaneOptions extends LaneOptions, LaneTemplateOptions, SnapshotDumpOptions {
  lane: string;
  /** Where the snapshot is written. */
  store: ObjectStore;
  /** Its cluster folder (default `lane-<lane>`; never the one the lane was seeded from). */
  clusterName?: string;
}

/** One object of a lane under its lane name and the base name a snapshot stores it under. */
export interface LaneObjectName {
  lane: string;
  base: string;
}

export interface LaneSnapshotResult {
  lane: string;
  /** The backup written: its cluster folder and ID, and where. */
  cluster: string;
  backupId: string;
  location: string;
  topics: Array<LaneObjectName & { records: number }>;
  /** The lane's subjects whose schemas the records use (stored under base names). */
  subjects: LaneObjectName[];
  /** The lane's groups with offsets on its topics. */
  groups: LaneObjectName[];
  summary: DumpSummary;
}

/** Reads lane `lane`'s ledger entry; NotFoundError when the ledger has none. */
async function laneEntry(ctx: LaneContext, lane: string): Promise<LedgerEntry> {
  const read = await laneLifecycle().readLanes(ctx);
  const entry = ledgerEntry(read, lane);
  if (!entry) throw laneNotFound(lane, ctx.ledgerTopic, read.entries.keys());
  return entry;
}

/** The snapshot itself, on a connected lane context. */
async function takeSnapshot(ctx: LaneContext, opts: SnapshotLaneOptions, store: ObjectStore): Promise<LaneSnapshotResult> {
  const scope = new LaneScope(opts.lane, laneTemplates(opts));
  const entry = await laneEntry(ctx, opts.lane);
  const cluster = laneSnapshot().snapshotCluster(entry, opts.clusterName);
  if (entry.subjects.length > 0 && !ctx.registry)
    throw new UsageError(`lane ${entry.lane} has ${entry.subjects.length} schema registry subjects but no schema registry is configured`, undefined, {
      options: ['registry.url'],
    });
  const names = laneSnapshot().planSnapshot(
    entry,
    scope,
    await laneLifecycle().existingLaneTopics(
      ctx.kafka,
      entry.topics.map((t) => t.name),
    ),
    ctx.registry ? await laneLifecycle().existingLaneSubjects(ctx.registry, entry) : new Map(),
  );
  const { manifest, summary } = await new (dumpEngine().DumpRun)(
    { kafka: ctx.kafka, store, registry: ctx.registry, logger: ctx.logger },
    {
      selection: { topics: [...names.topics.keys()] },
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      clusterName: cluster,
      segmentBytes: opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      concurrency: opts.concurrency ?? DEFAULT_DUMP_CONCURRENCY,
      stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      names: laneSnapshot().snapshotStoredNames(names),
    },
  ).run();
  // Base → lane name (the inverse is one to one: each base renders back to its lane name).
  const lanes = (map: Map<string, string>): Map<string, string> => new Map([...map].map(([lane, base]) => [base, lane]));
  const [topics, subjects, groups] = [lanes(names.topics), lanes(names.subjects), lanes(names.groups)];
  return {
    lane: entry.lane,
    cluster,
    backupId: manifest.backupId,
    location: store.location,
    topics: manifest.topics.map((t) => ({ lane: topics.get(t.name)!, base: t.name, records: t.partitions.reduce((n, p) => n + p.records, 0) })),
    subjects: manifest.subjects.map((x) => ({ lane: subjects.get(x.subject)!, base: x.subject })),
    groups: manifest.consumerGroups.map((g) => ({ lane: groups.get(g.groupId)!, base: g.groupId })),
    summary,
  };
}

/**
 * A backup of lane `lane`'s topics, subjects and groups under their base names (the lane
 * prefix removed by its templates), only what its ledger entry lists and it owns, with the
 * lane recorded in the manifest. Written under its own cluster folder (`lane-<lane>`), so
 * production backups' `latest` and incremental dumps never pick it.
 */
export async function snapshotLane(opts: SnapshotLaneOptions): Promise<LaneSnapshotResult> {
  new LaneScope(opts.lane, laneTemplates(opts));
  return withLanes(opts, (ctx) => takeSnapshot(ctx, opts, storeFor(opts.store, opts.signal)));
}

/** Options of the restore that clone and reset run (as restore's). */
type LaneRestoreOptions = Pick<
  RestoreOptions,
  'replicationFactor' | 'laneHeader' | 'laneBaggage' | 'laneRetention' | 'ttlMs' | 'compression' | 'concurrency' | 'onProgress' | 'progressIntervalMs'
>;

export interface CloneLaneOptions extends LaneOptions, LaneTemplateOptions, LaneRestoreOptions {
  /** The lane to copy. */
  lane: string;
  /** The new lane. */
  to: string;
  /** Keep the snapshot here (then `resetLane` of the new lane can use it); default: a temporary folder, removed afterwards. */
  store?: ObjectStore;
  /** The snapshot's cluster folder (default `lane-<lane>`). */
  clusterName?: string;
}

export interface LaneCloneResult {
  lane: string;
  to: string;
  /** The snapshot the new lane was seeded from; `kept` false: it was temporary and is gone. */
  snapshot: LaneSnapshotResult & { kept: boolean };
  restore: RestoreSummary;
}

/** Restores `backup` into a lane on a connected lane context. */
async function restoreInto(
  ctx: LaneContext,
  opts: LaneOptions & LaneTemplateOptions & LaneRestoreOptions,
  lane: string,
  backup: Backup,
  extra: Pick<RestoreOptions, 'topics' | 'mode'>,
): Promise<RestoreSummary> {
  const ropts: RestoreOptions = { ...opts, kafka: ctx.kafka, registry: opts.registry, backup, lane, ledgerTopic: ctx.ledgerTopic, ...extra };
  const run = await restoreRun(ropts, ctx.kafka, ctx.logger);
  const poll = opts.onProgress ? () => opts.onProgress!(run.progress()) : null;
  return withPolling(poll, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => run.run());
}

/**
 * Lane `lane` copied into a new lane `to`: a snapshot (base names) restored into `to`, so
 * `to` gets `to.orders`, never `to.lane.orders`. The snapshot streams through a store on
 * disk: a temporary folder under the OS temp folder unless `store` keeps it.
 */
export async function cloneLane(opts: CloneLaneOptions): Promise<LaneCloneResult> {
  new LaneScope(opts.lane, laneTemplates(opts));
  new LaneScope(opts.to, laneTemplates(opts));
  if (opts.to === opts.lane) throw new UsageError(`lane ${opts.lane} cannot be cloned into itself`, 'name another lane, or use kbak lane reset');
  return withLanes(opts, async (ctx) => {
    const temp = opts.store ? null : await mkdtemp(join(tmpdir(), 'kbak-clone-'));
    try {
      const store = storeFor(opts.store ?? new DiskStore(temp!), opts.signal);
      const snapshot = await takeSnapshot(ctx, { ...opts, store }, store);
      const backup = await openBackup(store, snapshot.backupId, snapshot.cluster);
      const restored = await restoreInto(ctx, opts, opts.to, backup, { mode: 'new' });
      return { lane: opts.lane, to: opts.to, snapshot: { ...snapshot, kept: temp === null }, restore: restored };
    } finally {
      if (temp) await rm(temp, { recursive: true, force: true });
    }
  });
}

export interface ResetLaneOptions
  extends LaneOptions, LaneTemplateOptions, Omit<LaneRestoreOptions, 'ttlMs'>, Pick<RestoreOptions, 'policy' | 'unlistedCopy' | 'onUndecodable' | 'env'> {
  lane: string;
  /** The store that holds the lane's seed backup (as for restore). */
  store: ObjectStore;
}

/**
 * A lane masked while seeded from a production backup is reset only through the same policy
 * and key (the seed holds the unmasked records); a lane seeded from a snapshot of a masked
 * lane was masked already, and an unmasked lane takes no policy it did not have.
 */
async function checkResetMasking(entry: LedgerEntry, opts: ResetLaneOptions): Promise<void> {
  const recorded = entry.origin.policy;
  const needsPolicy = recorded !== null && entry.origin.lane === null;
  if (!needsPolicy) {
    if (opts.policy) {
      const why = recorded !== null ? 'its seed is a snapshot of a masked lane, masked already' : 'it was not seeded with a masking policy';
      throw new UsageError(`lane ${entry.lane}: ${why}, so a reset applies no policy`, 'drop --policy, or delete the lane and restore it with the policy');
    }
    return;
  }
  if (!opts.policy) {
    throw new SafetyError(
      `lane ${entry.lane} was masked with policy ${recorded.policy} (key fingerprint ${recorded.keyFingerprint}); a reset without it would copy the seed unmasked`,
      `give the same policy and key: kbak lane reset ${entry.lane} --policy ${recorded.policy}`,
      { options: ['policy'] },
    );
  }
  const loaded = await maskLoader().loadMask(opts.policy, opts.env ?? process.env);
  const p = loaded.provenance;
  if (p.policySha256 !== recorded.policySha256 || p.keyFingerprint !== recorded.keyFingerprint) {
    throw new SafetyError(
      `lane ${entry.lane} was masked with policy sha256 ${recorded.policySha256.slice(0, 12)}… and key ${recorded.keyFingerprint}; ${opts.policy} is sha256 ${p.policySha256.slice(0, 12)}… with key ${p.keyFingerprint}`,
      'reset with the policy and key the lane was seeded with, or delete the lane and restore it with the new policy',
      { options: ['policy'] },
    );
  }
}

export interface LaneResetResult {
  lane: string;
  /** The backup the lane was reset to, from its ledger entry. */
  seed: { cluster: string; backupId: string };
  restore: RestoreSummary;
}

/**
 * Lane `lane`'s topics replaced by what they were seeded from, as its ledger entry records
 * it (restore's replace mode: only the lane's own topics are deleted and recreated; groups
 * seeded again). The lane keeps its expiry. A seed the store no longer has is NotFoundError.
 */
export async function resetLane(opts: ResetLaneOptions): Promise<LaneResetResult> {
  const scope = new LaneScope(opts.lane, laneTemplates(opts));
  return withLanes(opts, async (ctx) => {
    const entry = await laneEntry(ctx, opts.lane);
    await checkResetMasking(entry, opts);
    const seed = laneReset().laneSeed(entry);
    const store = storeFor(opts.store, opts.signal);
    let ref: BackupRef;
    try {
      ref = await resolveBackup(store, seed.backupId, seed.cluster);
    } catch (err) {
      if (err instanceof NotFoundError) throw laneReset().seedNotFound(entry.lane, seed, store.location);
      throw err;
    }
    const backup = await loadBackup(store, ref);
    const topics = laneReset().resetTopics(
      entry,
      scope,
      seed,
      backup.manifest.topics.map((t) => t.name),
    );
    // ttlMs null: the lane keeps the expiry its ledger entry has.
    const restored = await restoreInto(ctx, { ...opts, ttlMs: null }, opts.lane, backup, { topics, mode: 'replace' });
    return { lane: entry.lane, seed, restore: restored };
  });
}

export { openBackup, listBackups };
