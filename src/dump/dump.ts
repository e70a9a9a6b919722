/**
 * `kbak dump`: source → segments → store. Takes the cut, reads every selected partition
 * up to it, writes segments, collects schemas, topic shapes and group offsets, and writes
 * the manifest last so the backup appears only once complete. On failure everything it
 * wrote is removed.
 */
import { budgetedBlockBytes } from './block-budget';
import type { KafkaAdapter } from '../kafka/adapter';
import { partitionKey } from '../model/partition-key';
import { randomBytes } from 'node:crypto';
import { classifyError, InternalError, InvalidOptionError, ServiceError, UsageError } from '../errors';
import type { Logger } from '../output/logger';
import type { ObjectStore } from '../store/store';
import type { Backup } from '../backup/catalog';
import { redactUrl } from '../config/settings';
import { checkBrokerTopicName } from '../backup/keys';
import { backupPrefix, manifestKey, newBackupId, validateClusterName } from '../backup/layout';
import { encodeManifest, manifestSchema, MANIFEST_FORMAT, MANIFEST_VERSION, type GapEntry, type Manifest, type TopicEntry } from '../backup/manifest';
import { SchemaCollector } from '../schema/collect';
import type { RegistryClient } from '../schema/registry-client';
import { planRange, type PartitionRange } from './cut';
import { collectGroupOffsets } from './group-offsets';
import { continuePartition, recreatedTopicReason, findBases, mergeSchemas, type Continuation } from './incremental';
import { PartitionSink } from './partition-sink';
import { BatchTranscoder } from './transcode';
import { selectPartitions, selectTopics, type Selection } from './select';
import { describeTopics, type TopicShape } from './topic-metadata';
import { inWindow, type TimeWindow } from '../model/window';
import { TOOL_VERSION } from '../version';
import { StoreLock } from '../store/lock';
import { DEFAULT_LOCK_WAIT_MS } from '../config/defaults';

/** KRaft cluster IDs are base64url and may start with '-' or '_', which the path rule forbids. */
export function clusterNameFromId(id: string): string {
  return validateClusterName(/^[A-Za-z0-9]/.test(id) ? id : `cluster${id}`);
}

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
}

export interface DumpContext {
  kafka: KafkaAdapter;
  store: ObjectStore;
  registry: RegistryClient | null;
  logger: Logger;
  now?: () => Date;
}

export interface TopicProgress {
  topic: string;
  records: number;
  rawBytes: number;
  offsetsDone: bigint;
  offsetsTotal: bigint;
}

export interface DumpSummary {
  backupId: string;
  cluster: string;
  location: string;
  topics: number;
  partitions: number;
  records: number;
  rawBytes: number;
  storedBytes: number;
  compressionRatio: number;
  segments: number;
  schemas: number;
  consumerGroups: number;
  unknownSchemaIds: number[];
  framedPayloadsWithUnknownId: number;
  durationMs: number;
  recordsPerSecond: number;
  /** True when some partition continued from an earlier backup. */
  incremental: boolean;
  /** Records and stored bytes the backup covers, shared segments included (records/storedBytes count this run's). */
  backupRecords: number;
  backupStoredBytes: number;
  /** Per topic, what this run read and wrote (for metrics). */
  perTopic: Array<{ topic: string; records: number; rawBytes: number; storedBytes: number; basedOn: string | null }>;
  /** Offset ranges the source had deleted since the previous backup ended. */
  gaps: Array<{ topic: string; partition: number; startOffset: string; endOffset: string }>;
  /** Topics that were deleted and recreated since their previous backup (backed up in full). */
  recreatedTopics: string[];
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
    if (!Number.isInteger(opts.segmentBytes) || opts.segmentBytes < 64 * 1024) {
      throw new InvalidOptionError('segmentBytes', String(opts.segmentBytes), 'is too small', 'use at least 65536 (64 KiB); the default is 64 MiB');
    }
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new InvalidOptionError('concurrency', String(opts.concurrency), 'must be a positive integer');
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

    const sinks: PartitionSink[] = [];
    let lock: StoreLock | null = null;
    try {
      const plan = await this.plan();
      const cluster = this.opts.clusterName ? validateClusterName(this.opts.clusterName) : clusterNameFromId(plan.clusterId);
      const backupId = newBackupId(started);
      const prefix = backupPrefix(cluster, backupId);
      const writerTag = `${backupId}-${randomBytes(4).toString('hex')}`;
      // Shared: dumps run side by side, but never while prune deletes unnamed segments.
      lock = await StoreLock.acquire(store, cluster, 'shared', {
        holder: `kbak dump ${backupId}`,
        waitMs: this.opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
        logger,
      });
      logger.info(
        { backupId, cluster, location: store.location, topics: plan.topics.map((t) => t.name), incremental: Boolean(this.opts.incremental) },
        'dump started',
      );

      const continuations = new Map<string, Continuation>();
      const basesUsed = new Map<string, Backup>();
      const recreatedTopics: string[] = [];
      const newGaps: DumpSummary['gaps'] = [];
      if (this.opts.incremental) {
        const bases = await findBases(
          store,
          cluster,
          plan.topics.map((t) => t.name),
        );
        for (const t of plan.topics) {
          const base = bases.get(t.name);
          if (!base) continue;
          const prevTopic = base.manifest.topics.find((x) => x.name === t.name)!;
          const found = new Map<number, Continuation>();
          let recreated = recreatedTopicReason(base.ref.backupId, prevTopic, t);
          for (const r of plan.ranges.get(t.name)!) {
            if (recreated) break;
            const prev = prevTopic.partitions.find((x) => x.partition === r.partition);
            if (!prev) continue; // a partition added since: backed up in full
            const c = continuePartition(base, prev, { low: r.logStartOffset, lastStable: r.end });
            if ('recreated' in c) recreated = c.recreated;
            else found.set(r.partition, c);
          }
          if (recreated) {
            recreatedTopics.push(t.name);
            logger.warn(
              { topic: t.name, previousBackup: base.ref.backupId },
              `topic ${t.name} was deleted and recreated since backup ${base.ref.backupId} (${recreated}); backing it up in full`,
            );
            continue;
          }
          basesUsed.set(base.ref.backupId, base);
          for (const [p, c] of found) {
            continuations.set(partitionKey(t.name, p), c);
            if (c.newGap) {
              newGaps.push({ topic: t.name, partition: p, ...c.newGap });
              logger.warn(
                { topic: t.name, partition: p, ...c.newGap },
                `offsets ${c.newGap.startOffset}..${BigInt(c.newGap.endOffset) - 1n} of ${t.name}/${p} were deleted by the source's retention before this backup; recorded as a gap`,
              );
            }
          }
        }
      }

      const sinkByKey = new Map<string, PartitionSink>();
      const sinksByTopic = new Map<string, PartitionSink[]>();
      const targets: Array<{ topic: string; partition: number; start: bigint; end: bigint }> = [];
      // An explicit block size wins; otherwise blocks shrink with many partitions open at once
      // (block-budget.ts); the read keeps at most `concurrency` partitions open.
      const openPartitions = Math.min(
        this.opts.concurrency,
        [...plan.ranges.values()].reduce((n, rs) => n + rs.length, 0),
      );
      const blockBytes = this.opts.blockBytes ?? budgetedBlockBytes(openPartitions);
      for (const t of plan.topics) {
        const prog: TopicProgress = { topic: t.name, records: 0, rawBytes: 0, offsetsDone: 0n, offsetsTotal: 0n };
        this.progressByTopic.set(t.name, prog);
        for (const r of plan.ranges.get(t.name)!) {
          const cont = continuations.get(partitionKey(t.name, r.partition));
          const start = cont ? cont.readStart : r.start;
          const sink = new PartitionSink(store, cluster, t.name, r.partition, writerTag, {
            segmentBytes: this.opts.segmentBytes,
            blockBytes,
            level: this.opts.compressionLevel,
          });
          sinks.push(sink);
          sinkByKey.set(partitionKey(t.name, r.partition), sink);
          sinksByTopic.set(t.name, [...(sinksByTopic.get(t.name) ?? []), sink]);
          targets.push({ topic: t.name, partition: r.partition, start, end: r.end });
          prog.offsetsTotal += r.end - start;
        }
      }

      // Group offsets are read at the cut, as the read starts, so they describe the same moment.
      // They are read alongside the records (one round trip per group: a cluster with hundreds
      // of groups spent a tenth of a second or more on them before the first fetch); should
      // that fail, the read stops at its next batch, so a failure still ends the dump early.
      const dumpedPartitions = new Map<string, Set<number>>();
      for (const t of targets) {
        if (!dumpedPartitions.has(t.topic)) dumpedPartitions.set(t.topic, new Set());
        dumpedPartitions.get(t.topic)!.add(t.partition);
      }
      let groupsFailure: { error: unknown } | null = null;
      const groupsRead = collectGroupOffsets(kafka, dumpedPartitions, (g) => kafka.isInternalGroup(g));
      groupsRead.catch((error: unknown) => {
        groupsFailure = { error };
      });
      const stopIfGroupsFailed = (): void => {
        if (groupsFailure) throw groupsFailure.error;
      };

      const schemas = new SchemaCollector();
      const positions = new Map<string, bigint>();
      await kafka.readRanges(
        targets,
        { concurrency: this.opts.concurrency, stallTimeoutMs: this.opts.stallTimeoutMs },
        {
          onRecord: async (target, record) => {
            stopIfGroupsFailed();
            if (!inWindow(record.timestamp, this.opts.window)) return;
            schemas.observe(record.key);
            schemas.observe(record.value);
            const sink = sinkByKey.get(partitionKey(target.topic, target.partition))!;
            await sink.append(record);
            const prog = this.progressByTopic.get(target.topic)!;
            prog.records++;
          },
          // The same, a batch at a time without record objects (src/dump/transcode.ts).
          onBatch: async (target, batch, from) => {
            stopIfGroupsFailed();
            const sink = sinkByKey.get(partitionKey(target.topic, target.partition))!;
            const records = new BatchTranscoder(batch.header, batch.records, from, target.end, this.opts.window, schemas);
            this.progressByTopic.get(target.topic)!.records += await sink.appendFrom(records);
            return records.nextOffset;
          },
          onPosition: (target, next) => {
            const k = partitionKey(target.topic, target.partition);
            const prev = positions.get(k) ?? target.start;
            const prog = this.progressByTopic.get(target.topic)!;
            prog.offsetsDone += next - prev;
            prog.rawBytes = sinksByTopic.get(target.topic)!.reduce((n, s) => n + s.progressBytes, 0);
            positions.set(k, next);
          },
          onPartitionDone: async (target) => {
            await sinkByKey.get(partitionKey(target.topic, target.partition))!.finish();
          },
        },
      );
      const groups = await groupsRead;

      const collected = mergeSchemas([...basesUsed.values()], await schemas.resolve(this.ctx.registry, new Set(plan.topics.map((t) => t.name))));
      if (collected.framedPayloadsWithUnknownId > 0) {
        logger.warn(
          { ids: collected.unknownIds, payloads: collected.framedPayloadsWithUnknownId },
          this.ctx.registry
            ? `${collected.framedPayloadsWithUnknownId} payloads start with a Confluent header whose schema ID the registry does not know; kept as raw bytes`
            : `${collected.framedPayloadsWithUnknownId} payloads look Confluent-framed but no schema registry is configured; schemas not backed up (configure a schema registry)`,
        );
      }

      const topics: TopicEntry[] = plan.topics.map((t) => ({
        name: t.name,
        partitionCount: t.partitionCount,
        replicationFactor: t.replicationFactor,
        configs: t.configs,
        ...(t.topicId ? { topicId: t.topicId } : {}),
        partitions: plan.ranges.get(t.name)!.map((r) => {
          const sink = sinkByKey.get(partitionKey(t.name, r.partition))!;
          const cont = continuations.get(partitionKey(t.name, r.partition));
          const gaps: GapEntry[] = cont?.gaps ?? [];
          return {
            partition: r.partition,
            logStartOffset: r.logStartOffset.toString(),
            startOffset: (cont?.startOffset ?? r.start).toString(),
            endOffset: r.end.toString(),
            records: (cont?.records ?? 0) + sink.records,
            segments: [...(cont?.segments ?? []), ...sink.segments],
            basedOn: cont?.basedOn ?? null,
            gaps,
          };
        }),
      }));
      const totals = { records: 0, raw: 0, stored: 0, segments: 0 };
      for (const t of topics) {
        for (const p of t.partitions) {
          totals.records += p.records;
          totals.segments += p.segments.length;
          for (const s of p.segments) {
            totals.raw += s.rawBytes;
            totals.stored += s.storedBytes;
          }
        }
      }
      const written = sinks.reduce(
        (a, s) => ({ records: a.records + s.records, raw: a.raw + s.rawBytes, stored: a.stored + s.storedBytes, segments: a.segments + s.segments.length }),
        { records: 0, raw: 0, stored: 0, segments: 0 },
      );
      const perTopic = plan.topics.map((t) => {
        const own = sinksByTopic.get(t.name) ?? [];
        const basedOn = [...continuations.entries()].find(([k]) => own.some((s) => partitionKey(s.topic, s.partition) === k))?.[1].basedOn ?? null;
        return {
          topic: t.name,
          records: own.reduce((n, s) => n + s.records, 0),
          rawBytes: own.reduce((n, s) => n + s.rawBytes, 0),
          storedBytes: own.reduce((n, s) => n + s.storedBytes, 0),
          basedOn,
        };
      });
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        formatVersion: MANIFEST_VERSION,
        incremental: continuations.size > 0,
        tool: { name: 'kbak', version: TOOL_VERSION },
        backupId,
        cluster: { id: plan.clusterId, name: cluster },
        startedAt: started.toISOString(),
        completedAt: now().toISOString(),
        cut: {
          isolationLevel: 'read_committed',
          since: this.opts.window.since?.toISOString() ?? null,
          until: this.opts.window.until?.toISOString() ?? null,
          maxRecordsPerPartition: this.opts.maxRecordsPerPartition,
        },
        schemaRegistry: this.ctx.registry ? { url: redactUrl(this.ctx.registry.url) } : null,
        topics,
        schemas: collected.schemas,
        subjects: collected.subjects,
        consumerGroups: groups,
        stats: {
          records: totals.records,
          rawBytes: totals.raw,
          storedBytes: totals.stored,
          segments: totals.segments,
          unknownSchemaIds: collected.unknownIds,
          framedPayloadsWithUnknownId: collected.framedPayloadsWithUnknownId,
        },
      };
      // A backup kbak could not read back must never become visible.
      const valid = manifestSchema.safeParse(manifest);
      if (!valid.success) throw new InternalError(`the manifest is invalid at ${valid.error.issues[0]?.path.join('.')}: ${valid.error.issues[0]?.message}`);
      // The commit point: until this PUT succeeds the backup does not exist for readers.
      await lock.check();
      await store.put(manifestKey(cluster, backupId), encodeManifest(manifest));

      const durationMs = Date.now() - t0;
      const summary: DumpSummary = {
        backupId,
        cluster,
        location: `${store.location.replace(/\/$/, '')}/${prefix}`,
        topics: topics.length,
        partitions: targets.length,
        records: written.records,
        rawBytes: written.raw,
        storedBytes: written.stored,
        compressionRatio: written.stored > 0 ? written.raw / written.stored : 0,
        segments: written.segments,
        schemas: collected.schemas.length,
        consumerGroups: groups.length,
        unknownSchemaIds: collected.unknownIds,
        framedPayloadsWithUnknownId: collected.framedPayloadsWithUnknownId,
        durationMs,
        recordsPerSecond: durationMs > 0 ? Math.round((written.records * 1000) / durationMs) : written.records,
        incremental: continuations.size > 0,
        backupRecords: totals.records,
        backupStoredBytes: totals.stored,
        perTopic,
        gaps: newGaps,
        recreatedTopics,
      };
      return { manifest, summary };
    } catch (err) {
      await Promise.all(sinks.map((s) => s.abort()));
      throw classifyError(err, 'dumping');
    } finally {
      await lock?.release();
    }
  }

  private async plan(): Promise<{ clusterId: string; topics: TopicShape[]; ranges: Map<string, PartitionRange[]> }> {
    const { kafka } = this.ctx;
    const clusterId = (await kafka.cluster()).clusterId;
    // Topic names become folder names: a broker's answer is checked before it names a path.
    const names = selectTopics(this.opts.selection, await kafka.listTopics()).map(checkBrokerTopicName);
    const shapes = await describeTopics(kafka, names, this.ctx.logger);
    for (const shape of shapes) checkBrokerTopicName(shape.name);
    const ranges = new Map<string, PartitionRange[]>();
    const { since, until } = this.opts.window;
    for (const shape of shapes) {
      const partitions = selectPartitions(shape.name, shape.partitionCount, this.opts.selection.partitions);
      const offsets = await kafka.listOffsets(shape.name);
      const sinceOffsets = since ? await kafka.offsetsForTimestamp(shape.name, since.getTime()) : null;
      const untilOffsets = until ? await kafka.offsetsForTimestamp(shape.name, until.getTime()) : null;
      const list: PartitionRange[] = [];
      for (const p of partitions) {
        const o = offsets.find((x) => x.partition === p);
        if (!o) throw new ServiceError('kafka', `no offsets returned for ${shape.name}/${p}`);
        const cut = {
          ...o,
          sinceOffset: sinceOffsets?.find((x) => x.partition === p)?.offset ?? null,
          untilOffset: untilOffsets?.find((x) => x.partition === p)?.offset ?? null,
        };
        list.push(planRange(cut, this.opts.maxRecordsPerPartition));
      }
      ranges.set(shape.name, list);
    }
    return { clusterId, topics: shapes, ranges };
  }
}
