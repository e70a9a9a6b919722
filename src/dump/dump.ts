/**
 * `kbak dump`: source → segments → store. Takes the cut, reads every selected partition
 * up to it, writes segments, collects schemas, topic shapes and group offsets, and writes
 * the manifest last so the backup appears only once complete. On failure everything it
 * wrote is removed.
 */
import { budgetedBlockBytes } from './block-budget';
import type { KafkaAdapter } from '../kafka/adapter';
import { partitionKey } from '../model/partition-key';
import { classifyError, InternalError, InvalidOptionError, ServiceError } from '../errors';
import type { Logger } from '../output/logger';
import type { ObjectStore } from '../store/store';
import { redactUrl } from '../config/settings';
import { checkBrokerTopicName } from '../backup/keys';
import { backupPrefix, manifestKey, newBackupId, validateClusterName } from '../backup/layout';
import { encodeManifest, manifestSchema, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type TopicEntry } from '../backup/manifest';
import { SchemaCollector } from '../schema/collect';
import type { RegistryClient } from '../schema/registry-client';
import { planRange, type PartitionRange } from './cut';
import { collectGroupOffsets } from './group-offsets';
import { PartitionSink } from './partition-sink';
import { selectPartitions, selectTopics, type Selection } from './select';
import { describeTopics, type TopicShape } from './topic-metadata';
import { inWindow, type TimeWindow } from '../model/window';
import { TOOL_VERSION } from '../version';

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
}

export class DumpRun {
  private readonly progressByTopic = new Map<string, TopicProgress>();

  constructor(
    private readonly ctx: DumpContext,
    private readonly opts: DumpOptions,
  ) {
    if (!Number.isInteger(opts.segmentBytes) || opts.segmentBytes < 64 * 1024) {
      throw new InvalidOptionError('segmentBytes', String(opts.segmentBytes), 'is too small', 'use at least 65536 (64 KiB); the default is 64 MiB');
    }
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new InvalidOptionError('concurrency', String(opts.concurrency), 'must be a positive integer');
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
    try {
      const plan = await this.plan();
      const cluster = this.opts.clusterName ? validateClusterName(this.opts.clusterName) : clusterNameFromId(plan.clusterId);
      const backupId = newBackupId(started);
      const prefix = backupPrefix(cluster, backupId);
      logger.info({ backupId, cluster, location: store.location, topics: plan.topics.map((t) => t.name) }, 'dump started');

      const sinkByKey = new Map<string, PartitionSink>();
      const sinksByTopic = new Map<string, PartitionSink[]>();
      const targets: Array<{ topic: string; partition: number; start: bigint; end: bigint }> = [];
      // An explicit block size wins; otherwise blocks shrink with many partitions (block-budget.ts).
      const blockBytes = this.opts.blockBytes ?? budgetedBlockBytes([...plan.ranges.values()].reduce((n, rs) => n + rs.length, 0));
      for (const t of plan.topics) {
        const prog: TopicProgress = { topic: t.name, records: 0, rawBytes: 0, offsetsDone: 0n, offsetsTotal: 0n };
        this.progressByTopic.set(t.name, prog);
        for (const r of plan.ranges.get(t.name)!) {
          const sink = new PartitionSink(store, prefix, t.name, r.partition, { segmentBytes: this.opts.segmentBytes, blockBytes, level: this.opts.compressionLevel });
          sinks.push(sink);
          sinkByKey.set(partitionKey(t.name, r.partition), sink);
          sinksByTopic.set(t.name, [...(sinksByTopic.get(t.name) ?? []), sink]);
          targets.push({ topic: t.name, partition: r.partition, start: r.start, end: r.end });
          prog.offsetsTotal += r.end - r.start;
        }
      }

      // Group offsets are read at the cut, before any record, so they describe the same moment.
      const dumpedPartitions = new Map<string, Set<number>>();
      for (const t of targets) {
        if (!dumpedPartitions.has(t.topic)) dumpedPartitions.set(t.topic, new Set());
        dumpedPartitions.get(t.topic)!.add(t.partition);
      }
      const groups = await collectGroupOffsets(kafka, dumpedPartitions, (g) => kafka.isInternalGroup(g));

      const schemas = new SchemaCollector();
      const positions = new Map<string, bigint>();
      await kafka.readRanges(
        targets,
        { concurrency: this.opts.concurrency, stallTimeoutMs: this.opts.stallTimeoutMs, purpose: 'dump' },
        {
          onRecord: async (target, record) => {
            if (!inWindow(record.timestamp, this.opts.window)) return;
            schemas.observe(record.key);
            schemas.observe(record.value);
            const sink = sinkByKey.get(partitionKey(target.topic, target.partition))!;
            await sink.append(record);
            const prog = this.progressByTopic.get(target.topic)!;
            prog.records++;
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

      const collected = await schemas.resolve(this.ctx.registry);
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
        partitions: plan.ranges.get(t.name)!.map((r) => {
          const sink = sinkByKey.get(partitionKey(t.name, r.partition))!;
          return {
            partition: r.partition,
            logStartOffset: r.logStartOffset.toString(),
            startOffset: r.start.toString(),
            endOffset: r.end.toString(),
            records: sink.records,
            segments: sink.segments,
          };
        }),
      }));
      const totals = sinks.reduce((a, s) => ({ records: a.records + s.records, raw: a.raw + s.rawBytes, stored: a.stored + s.storedBytes, segments: a.segments + s.segments.length }), { records: 0, raw: 0, stored: 0, segments: 0 });
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        formatVersion: MANIFEST_VERSION,
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
      await store.put(manifestKey(cluster, backupId), encodeManifest(manifest));

      const durationMs = Date.now() - t0;
      const summary: DumpSummary = {
        backupId,
        cluster,
        location: `${store.location.replace(/\/$/, '')}/${prefix}`,
        topics: topics.length,
        partitions: targets.length,
        records: totals.records,
        rawBytes: totals.raw,
        storedBytes: totals.stored,
        compressionRatio: totals.stored > 0 ? totals.raw / totals.stored : 0,
        segments: totals.segments,
        schemas: collected.schemas.length,
        consumerGroups: groups.length,
        unknownSchemaIds: collected.unknownIds,
        framedPayloadsWithUnknownId: collected.framedPayloadsWithUnknownId,
        durationMs,
        recordsPerSecond: durationMs > 0 ? Math.round((totals.records * 1000) / durationMs) : totals.records,
      };
      return { manifest, summary };
    } catch (err) {
      await Promise.all(sinks.map((s) => s.abort()));
      throw classifyError(err, 'dumping');
    }
  }

  private async plan(): Promise<{ clusterId: string; topics: TopicShape[]; ranges: Map<string, PartitionRange[]> }> {
    const { kafka } = this.ctx;
    const clusterId = (await kafka.cluster()).clusterId;
    // Topic names become folder names: a broker's answer is checked before it names a path.
    const names = selectTopics(this.opts.selection, await kafka.listTopics()).map(checkBrokerTopicName);
    const shapes = await describeTopics(kafka, names);
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
