/**
 * `kbak dump`: source → segments → store, in phases: plan (the cut of every selected
 * partition, the backup's name), prepare (the store lock, what an incremental dump
 * continues, a sink per partition), write (every partition read into segments, with the
 * schema IDs and the group offsets), commit (the manifest, written last so the backup
 * appears only once complete) and summarise. On failure everything it wrote is removed.
 */
import { classifyError, InvalidOptionError, UsageError } from '../errors';
import type { KafkaAdapter } from '../kafka/adapter';
import type { TimeWindow } from '../model/window';
import type { Logger } from '../output/logger';
import type { Manifest } from '../backup/manifest';
import type { RegistryClient } from '../schema/registry-client';
import { StoreLock } from '../backup/lock';
import { dumpLockHolder } from '../backup/leftovers';
import { DEFAULT_LOCK_WAIT_MS } from '../config/defaults';
import type { ObjectStore } from '../store/store';
import { MAX_LEVEL, MIN_LEVEL } from '../segment/zstd';
import { captureAcls } from './acls';
import { commitBackup } from './commit';
import { continueTopics, NOTHING_CONTINUED } from './incremental';
import { DumpPartitions, type TopicProgress } from './partitions';
import type { StoredNames } from './naming';
import { nameBackup, planDump } from './plan';
import type { Selection } from './select';
import { summariseDump, type DumpSummary } from './summary';
import { writeSegments } from './write-segments';

export { clusterNameFromId } from './plan';
export type { TopicProgress } from './partitions';
export type { DumpSummary } from './summary';

export interface DumpOptions {
  selection: Selection;
  window: TimeWindow;
  maxRecordsPerPartition: number | null;
  clusterName?: string;
  segmentBytes: number;
  blockBytes?: number;
  compressionLevel?: number;
  concurrency: number;
  stallTimeoutMs: number;
  /** Continue each partition from the newest earlier backup of the topic (FORMAT.md v2). */
  incremental?: boolean;
  /** How long to wait for a prune's exclusive lock to go away (default DEFAULT_LOCK_WAIT_MS). */
  lockWaitMs?: number;
  /** Store topics, groups and subjects under other names (`kbak lane snapshot`: base names); never with incremental. */
  names?: StoredNames;
}

export interface DumpContext {
  kafka: KafkaAdapter;
  store: ObjectStore;
  registry: RegistryClient | null;
  logger: Logger;
  now?: () => Date;
}

/** The sizes every dump (sharded too) checks before it reads anything. */
export function checkWriteOptions(opts: Pick<DumpOptions, 'segmentBytes' | 'concurrency' | 'compressionLevel'>): void {
  if (!Number.isInteger(opts.segmentBytes) || opts.segmentBytes < 64 * 1024) {
    throw new InvalidOptionError('segmentBytes', String(opts.segmentBytes), 'is too small', 'use at least 65536 (64 KiB); the default is 64 MiB');
  }
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
    throw new InvalidOptionError('concurrency', String(opts.concurrency), 'must be a positive integer');
  const level = opts.compressionLevel;
  if (level !== undefined && (!Number.isInteger(level) || level < MIN_LEVEL || level > MAX_LEVEL))
    throw new InvalidOptionError('compressionLevel', String(level), `must be an integer from ${MIN_LEVEL} to ${MAX_LEVEL}`);
}

export class DumpRun {
  private readonly progressByTopic = new Map<string, TopicProgress>();

  constructor(
    private readonly ctx: DumpContext,
    private readonly opts: DumpOptions,
  ) {
    if (opts.incremental && (opts.window.since || opts.window.until || opts.maxRecordsPerPartition !== null)) {
      throw new UsageError(
        'incremental cannot be combined with since, until or maxRecordsPerPartition',
        'an incremental backup always continues up to the current end of each partition',
        { options: ['incremental'] },
      );
    }
    if (opts.incremental && opts.names) {
      // An incremental dump continues backups by topic name: stored names would not find them.
      throw new UsageError('incremental cannot be combined with stored names (a lane snapshot)', 'a lane snapshot is always a full backup');
    }
    checkWriteOptions(opts);
  }

  /** A snapshot for progress displays; cheap, safe to poll. */
  progress(): TopicProgress[] {
    return [...this.progressByTopic.values()].map((p) => ({ ...p }));
  }

  async run(): Promise<{ manifest: Manifest; summary: DumpSummary }> {
    const { kafka, store, logger } = this.ctx;
    const now = this.ctx.now ?? (() => new Date());
    const started = now();
    const t0 = Date.now();

    await store.check();
    if (this.ctx.registry) await this.ctx.registry.check();

    let parts: DumpPartitions | null = null;
    let lock: StoreLock | null = null;
    try {
      // Plan: the cut, the backup's name.
      const plan = await planDump(kafka, logger, this.opts, now);
      const name = nameBackup(plan.clusterId, this.opts.clusterName, started);
      // Prepare. The lock is shared: dumps run side by side, but never while prune deletes unnamed segments.
      lock = await StoreLock.acquire(store, name.cluster, 'shared', {
        holder: dumpLockHolder(name.backupId),
        waitMs: this.opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
        logger,
      });
      logger.info(
        {
          backupId: name.backupId,
          cluster: name.cluster,
          location: store.location,
          topics: plan.topics.map((t) => t.name),
          incremental: Boolean(this.opts.incremental),
        },
        'dump started',
      );
      const continued = this.opts.incremental ? await continueTopics(store, name.cluster, plan, logger) : NOTHING_CONTINUED;
      parts = new DumpPartitions(store, name.cluster, name.writerTag, plan, continued, this.opts, this.progressByTopic);
      // Write.
      const { groups, schemas } = await writeSegments(kafka, parts, this.opts);
      // A lane snapshot stores base names, which the lane's ACLs (if any) do not name: none captured.
      const acls = this.opts.names
        ? null
        : await captureAcls(
            kafka,
            plan.topics.map((t) => t.name),
            groups.map((g) => g.groupId),
            logger,
          );
      // Commit.
      const manifest = (await commitBackup(
        { store, registry: this.ctx.registry, logger, now },
        {
          plan,
          name,
          started,
          window: this.opts.window,
          maxRecordsPerPartition: this.opts.maxRecordsPerPartition,
          topics: parts.dumped(),
          continued,
          schemas,
          groups,
          lock,
          names: this.opts.names ?? null,
          acls,
        },
      ))!;
      // Summarise.
      const done = parts;
      const summary = summariseDump({
        manifest,
        location: `${store.location.replace(/\/$/, '')}/${name.prefix}`,
        partitions: done.targets.length,
        written: done.written(),
        writtenByTopic: (topic) => done.written(topic),
        continued,
        durationMs: Date.now() - t0,
      });
      return { manifest, summary };
    } catch (err) {
      await parts?.abort();
      throw classifyError(err, 'dumping');
    } finally {
      await lock?.release();
    }
  }
}
