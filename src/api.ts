/**
 * kbak as a library: dump and restore with plain typed options (no CLI flags, no settings
 * files), the Kafka connection either described or given as a KafkaAdapter. The CLI builds
 * these options from flags and calls the same classes.
 */
import { openBackup, type Backup } from './backup/catalog';
import type { Manifest } from './backup/manifest';
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_DUMP_CONCURRENCY,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RESTORE_CONCURRENCY,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
} from './config/defaults';
import { DumpRun, type DumpSummary, type TopicProgress } from './dump/dump';
import { openKafka, type KafkaAdapter, type KafkaConnection } from './kafka';
import type { CodecName } from './kafka/codecs';
import type { TimeWindow } from './model/window';
import { silentLogger, type Logger } from './output/logger';
import type { LaneRetention } from './lane/topic-configs';
import { RestoreRun, type DryRunResult, type LaneTopicProgress, type RestoreSummary } from './restore/restore';
import type { RestoreMode } from './restore/plan';
import { RegistryClient, type RegistryConfig } from './schema/registry-client';
import type { ObjectStore } from './store/store';

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

interface Common {
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
  /** Label of the cluster in the backup path (default: its cluster id). */
  clusterName?: string;
  segmentBytes?: number;
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
  /** The lane expires this long after the restore (`kbak lane gc`). */
  ttlMs?: number | null;
  /** The lane ledger topic (default __kbak_lanes). */
  ledgerTopic?: string;
  compression?: CodecName | null;
  concurrency?: number;
  onProgress?: (topics: LaneTopicProgress[]) => void;
  progressIntervalMs?: number;
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

/** Runs `fn` with an adapter, closing it afterwards only if this call opened it. */
async function withKafka<T>(opts: Common, logger: Logger, fn: (kafka: KafkaAdapter) => Promise<T>): Promise<T> {
  if (isAdapter(opts.kafka)) return fn(opts.kafka);
  const kafka = openKafka(connection(opts.kafka), logger);
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

/** Backs up topics at a consistent cut into `store`; the backup appears only once complete. */
export function dump(opts: DumpOptions): Promise<DumpResult> {
  const logger = opts.logger ?? silentLogger();
  const window: TimeWindow = { since: opts.since ?? null, until: opts.until ?? null };
  return withKafka(opts, logger, (kafka) => {
    const run = new DumpRun(
      { kafka, store: opts.store, registry: opts.registry ? new RegistryClient(opts.registry) : null, logger },
      {
        selection: { topics: opts.topics ?? [], regex: opts.topicsRegex, partitions: opts.partitions },
        window,
        maxRecordsPerPartition: opts.maxRecordsPerPartition ?? null,
        clusterName: opts.clusterName,
        segmentBytes: opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
        concurrency: opts.concurrency ?? DEFAULT_DUMP_CONCURRENCY,
        stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      },
    );
    const poll = opts.onProgress ? () => opts.onProgress!(run.progress()) : null;
    return withPolling(poll, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => run.run());
  });
}

function restoreRun(opts: RestoreOptions, kafka: KafkaAdapter, logger: Logger): RestoreRun {
  return new RestoreRun(
    { kafka, backup: opts.backup, registry: opts.registry ? new RegistryClient(opts.registry) : null, logger },
    {
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
    },
  );
}

/** Seeds a lane from a backup: lane topics, subjects, schema IDs, group offsets. */
export function restore(opts: RestoreOptions): Promise<RestoreSummary> {
  const logger = opts.logger ?? silentLogger();
  return withKafka(opts, logger, (kafka) => {
    const run = restoreRun(opts, kafka, logger);
    const poll = opts.onProgress ? () => opts.onProgress!(run.progress()) : null;
    return withPolling(poll, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => run.run());
  });
}

/** What `restore` would do, with read-only calls only (the CLI's --dry-run). */
export function planRestore(opts: RestoreOptions): Promise<DryRunResult> {
  const logger = opts.logger ?? silentLogger();
  return withKafka(opts, logger, (kafka) => restoreRun(opts, kafka, logger).dryRun());
}

export { openBackup };
