import { Command, InvalidArgumentError, Option } from 'commander';
import { dump, dumpShard, finalizeDump, type DumpOptions } from '../api';
import {
  DEFAULT_DESTINATION,
  DEFAULT_DUMP_CONCURRENCY,
  DEFAULT_DUMP_ZSTD_LEVEL,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
} from '../config/defaults';
import { loadSettings, redact, type ConnectionFlags } from '../config/settings';
import type { DumpSummary, TopicProgress } from '../dump/dump';
import { parsePartitions } from '../dump/select';
import { parseWindow } from '../model/window';
import { JOB_INDEX_ENV, parseShardSpec, shardText } from '../model/shard';
import { JOB_NAME_ENV, shardedBackupId } from '../dump/shard-id';
import { MAX_PLAN_TTL_MS, type ShardDumpResult } from '../dump/sharded';
import { UsageError } from '../errors';
import { parseDurationMs } from '../lane/topic-configs';
import { formatBytes } from '../output/human-size';
import { duration } from '../output/human-time';
import { plural } from '../output/words';
import { openStore, parseFileMode, parseS3Sse } from '../store/open';
import { addServiceOptions, kafkaOptions } from './connection-options';
import { liveProgress } from './live-progress';
import { logCompletion } from '../output/logger';
import { addMetricsOption, withMetrics } from './metrics-flag';
import { pushMetrics, runMetrics, type Metric } from '../output/metrics';
import type { Logger } from '../output/logger';
import { addExamples, GROUP } from './help';
import { positiveInt, type CommandEnv } from './common';
import { kbakLine, nextSteps } from './next-step';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { MAX_LEVEL, MIN_LEVEL } from '../segment/zstd';

/** -o name: the new backup's ID, for a script's next command. */
const OUTPUT: OutputSpec = { formats: ['table', 'json', 'name'] };

interface DumpFlags extends ConnectionFlags, OutputFlags {
  topic: string[];
  topicsRegex?: string;
  partitions?: string;
  to?: string;
  since?: string;
  until?: string;
  maxRecordsPerPartition?: number;
  name?: string;
  segmentBytes: number;
  concurrency: number;
  stallTimeout: number;
  fileMode?: string;
  s3Sse?: string;
  s3SseKmsKeyId?: string;
  incremental?: boolean;
  blockBytes?: number;
  lockWait: number;
  metricsPush?: string;
  shard?: string;
  backupId?: string;
  finalize?: boolean;
  planTtl?: string;
  zstdLevel: number;
}

/** The summary of a finished dump for people (stdout, -o table). Pure. */
export function dumpSummaryLines(s: DumpSummary): string[] {
  const lines = [
    `backup ${s.backupId} complete: ${s.location}`,
    `  ${plural(s.topics, 'topic')}, ${plural(s.partitions, 'partition')}, ${plural(s.records, 'record')}, ${plural(s.segments, 'segment')}`,
    `  raw ${formatBytes(s.rawBytes)}, stored ${formatBytes(s.storedBytes)} (ratio ${s.compressionRatio.toFixed(2)})`,
    `  ${plural(s.schemas, 'schema')}, ${plural(s.consumerGroups, 'consumer group')}, ${s.acls === null ? 'ACLs not captured' : plural(s.acls, 'ACL binding')}`,
    ...(s.incremental
      ? [
          `  incremental: the backup covers ${plural(s.backupRecords, 'record')}, ${formatBytes(s.backupStoredBytes)} (shared with earlier backups: ${formatBytes(s.backupStoredBytes - s.storedBytes)})`,
        ]
      : []),
    ...s.gaps.map(
      (g) =>
        `  warning: gap in ${g.topic}/${g.partition}: offsets ${g.startOffset}..${BigInt(g.endOffset) - 1n} were deleted by the source's retention before this backup`,
    ),
    ...s.recreatedTopics.map((t) => `  warning: topic ${t} was deleted and recreated since its previous backup; backed up in full`),
    `  took ${duration(s.durationMs)}, ${s.recordsPerSecond} records/s`,
  ];
  if (s.framedPayloadsWithUnknownId > 0)
    lines.push(
      `  warning: ${plural(s.framedPayloadsWithUnknownId, 'payload')} with unknown schema ${s.unknownSchemaIds.length === 1 ? 'ID' : 'IDs'} ${s.unknownSchemaIds.join(',')}`,
    );
  return lines;
}

/** What one shard of a sharded dump did, for people. Pure. */
export function shardLines(r: ShardDumpResult): string[] {
  const who = `shard ${shardText(r.shard)} of backup ${r.backupId}`;
  if (r.outcome === 'backup-complete') return [`${who}: the backup is already complete; nothing to do`];
  const head =
    r.outcome === 'already-written'
      ? `${who}: its ${plural(r.partitions, 'partition')} were already written`
      : `${who}: ${plural(r.partitions, 'partition')}, ${plural(r.records, 'record')}, ${plural(r.segments, 'segment')}, stored ${formatBytes(r.storedBytes)}${r.planCreated ? ' (made the plan)' : ''}`;
  const tail = r.finalized
    ? '  every shard has finished: this shard wrote the manifest'
    : r.waitingFor.length === 0
      ? '  every shard has finished: another shard wrote the manifest'
      : `  waiting for ${plural(r.waitingFor.length, 'shard')} (${r.waitingFor.join(', ')}); the last to finish writes the manifest`;
  return [head, tail, `  took ${duration(r.durationMs)}`];
}

/** -o json of a shard: the result, with the backup's summary when this shard finalised it. */
export function shardResultJSON(r: ShardDumpResult): Record<string, unknown> {
  const { finalized, shard, ...rest } = r;
  return { ...rest, shard: shardText(shard), summary: finalized?.summary ?? null };
}

/** A backup's metrics besides success and duration: per topic, and what the backup covers. Pure. */
function dumpReport(s: DumpSummary): { perTopic: DumpSummary['perTopic']; extra: Metric[] } {
  return {
    perTopic: s.perTopic,
    extra: [
      {
        name: 'kbak_dump_backup_records',
        help: 'records the new backup covers (shared segments included)',
        type: 'gauge',
        samples: [{ value: s.backupRecords }],
      },
      { name: 'kbak_dump_gaps', help: 'offset ranges the source deleted before this run could read them', type: 'gauge', samples: [{ value: s.gaps.length }] },
    ],
  };
}

/** The metrics of a complete backup, as a plain dump pushes them (grouping `command=dump, cluster`). */
async function pushBackupMetrics(url: string, s: DumpSummary, logger: Logger): Promise<void> {
  await pushMetrics(url, { command: 'dump', cluster: s.cluster }, runMetrics('dump', { ok: true, durationMs: s.durationMs, ...dumpReport(s) })).catch(
    (e: unknown) => logger.warn({ err: (e as Error).message }, `metrics push failed: ${(e as Error).message}`),
  );
}

/** --plan-ttl: a duration, 1m to 7d. */
function parsePlanTtl(value: string): number {
  const ms = parseDurationMs(value);
  if (ms === null) throw new UsageError(`--plan-ttl ${JSON.stringify(value)} is not a duration`, 'use e.g. 12h or 2d', { options: ['planTtl'] });
  if (ms < 60_000 || ms > MAX_PLAN_TTL_MS)
    throw new UsageError(`--plan-ttl ${value} is out of range`, 'use 1m to 7d (the default is 24h)', { options: ['planTtl'] });
  return ms;
}

/** After a dump: the command that restores this very backup into a lane. */
export function dumpNextSteps(s: DumpSummary, source: string): string[] {
  return [`restore it into a lane: ${kbakLine('restore', '--lane', '<lane>', '--source', source, '--name', s.cluster, '--from', s.backupId)}`];
}

export function dumpCommand(env: CommandEnv): Command {
  const cmd = new Command('dump')
    .description('back up topics (records, schemas, configs, group offsets) at a consistent cut')
    .optionsGroup(GROUP.selection)
    .option('--topic <name>', 'topic to back up (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--topics-regex <re>', 'back up every topic whose whole name matches')
    .option('--partitions <list>', 'only these partitions, e.g. 0,2')
    .option('--since <time>', 'only records at or after this ISO-8601 time or duration ago (6h, 2d)')
    .option('--until <time>', 'only records before this ISO-8601 time or duration ago')
    .option('--max-records-per-partition <n>', 'only the newest N offsets of each partition', positiveInt('--max-records-per-partition'))
    .option('--incremental', 'continue each partition where the newest earlier backup of the topic ended; shares its segments')
    .optionsGroup(GROUP.store)
    .option('--to <dest>', `destination: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--name <cluster>', 'label for the source cluster in the backup path (default: its cluster id)')
    .option('--file-mode <octal>', 'disk: mode of backup files (env KBAK_FILE_MODE, default 600: owner only; folders get the matching search bits)')
    .option('--s3-sse <mode>', 'S3: server-side encryption, AES256 or aws:kms (env KBAK_S3_SSE)')
    .option('--s3-sse-kms-key-id <id>', 'S3: KMS key for --s3-sse aws:kms (env KBAK_S3_SSE_KMS_KEY_ID; default: the bucket key)')
    .optionsGroup(GROUP.other)
    .addOption(
      new Option('--segment-bytes <n>', 'roll over to a new segment file after this many bytes')
        .argParser(positiveInt('--segment-bytes'))
        .default(DEFAULT_SEGMENT_BYTES, formatBytes(DEFAULT_SEGMENT_BYTES)),
    )
    .option('--concurrency <n>', 'partitions read and written at once', positiveInt('--concurrency'), DEFAULT_DUMP_CONCURRENCY)
    .option(
      '--zstd-level <n>',
      `zstd level of the segment blocks, ${MIN_LEVEL} (fastest) to ${MAX_LEVEL} (smallest)`,
      (v: string) => {
        if (!/^\d+$/.test(v) || Number(v) < MIN_LEVEL || Number(v) > MAX_LEVEL)
          throw new InvalidArgumentError(`--zstd-level must be an integer from ${MIN_LEVEL} to ${MAX_LEVEL}, got "${v}"`);
        return Number(v);
      },
      DEFAULT_DUMP_ZSTD_LEVEL,
    )
    .option(
      '--lock-wait <seconds>',
      'wait this long for a running prune to finish (0: refuse at once)',
      (v: string) => (v === '0' ? 0 : positiveInt('--lock-wait')(v)),
      DEFAULT_LOCK_WAIT_MS / 1000,
    )
    .option('--stall-timeout <seconds>', 'fail when no partition progresses for this long', positiveInt('--stall-timeout'), DEFAULT_STALL_TIMEOUT_MS / 1000)
    .option('--shard <I/N>', `be shard I (0-based) of N processes making one backup; N alone takes I from ${JOB_INDEX_ENV} (a Kubernetes Indexed Job)`)
    .option('--backup-id <id>', `the backup ID every shard uses, e.g. 20261206T020000000Z (default with --shard: from a CronJob's Job name in ${JOB_NAME_ENV})`)
    .option('--finalize', 'with --backup-id: write the manifest of a sharded dump whose shards have all finished (the last shard does this itself)')
    .option('--plan-ttl <duration>', 'with --shard: how long the shards may take before prune removes their plan as abandoned (default 24h, at most 7d)');
  // For tests and tuning: small blocks make small segments roll over.
  cmd.addOption(new Option('--block-bytes <n>', 'target raw size of a compressed block (default 1 MiB)').argParser(positiveInt('--block-bytes')).hideHelp());
  addMetricsOption(cmd);
  addOutputOptions(cmd, OUTPUT);
  addServiceOptions(cmd, { kafka: true, registry: true, s3: true });
  addExamples(cmd, [
    ['back up the topic orders into ./kbak-backups/<cluster>/<backup-id>/', 'kbak dump --topic orders'],
    ["the last 6 hours of two topics, into the local stack's S3 bucket", "kbak dump --topics-regex 'orders|payments' --since 6h --to s3://kbak/backups"],
    ['only what is new since the previous backup of orders', 'kbak dump --topic orders --incremental'],
  ]);
  cmd.action(async (flags: DumpFlags) => {
    const format = outputFormat(flags, OUTPUT);
    const settings = loadSettings(flags, env.env);
    const logger = env.logger(flags.quiet);
    logger.debug({ settings: redact(settings) }, 'settings');
    const window = parseWindow(flags.since, flags.until, new Date());
    const fileMode = flags.fileMode ?? env.env.KBAK_FILE_MODE;
    const store = openStore(flags.to ?? env.env.KBAK_DEST ?? DEFAULT_DESTINATION, settings.s3, {
      fileMode: fileMode ? parseFileMode(fileMode) : undefined,
      sse: parseS3Sse(flags.s3Sse ?? (env.env.KBAK_S3_SSE || undefined), flags.s3SseKmsKeyId ?? (env.env.KBAK_S3_SSE_KMS_KEY_ID || undefined)),
    });
    const partitions = flags.partitions ? parsePartitions(flags.partitions) : undefined;
    if (flags.finalize) {
      if (flags.shard !== undefined)
        throw new UsageError('--finalize cannot be combined with --shard', 'run kbak dump --finalize --backup-id ID on its own', { options: ['finalize'] });
      if (flags.backupId === undefined)
        throw new UsageError('--finalize needs --backup-id', 'name the sharded dump to finalise, e.g. --backup-id 20261206T020000000Z');
      const f = await finalizeDump({
        kafka: kafkaOptions(settings.kafka),
        registry: settings.registry ?? null,
        logger,
        store,
        backupId: shardedBackupId(flags.backupId, env.env),
        clusterName: flags.name,
        lockWaitMs: flags.lockWait * 1000,
        signal: env.signal,
      });
      if (f.summary === null) {
        printResult(env, format, {
          json: () => ({ backupId: f.manifest.backupId, alreadyComplete: true }),
          table: () => [`backup ${f.manifest.backupId} is already complete`],
          name: () => [f.manifest.backupId],
        });
        return;
      }
      logCompletion(logger, { summary: f.summary }, `backup ${f.summary.backupId} complete`);
      printResult(env, format, { json: () => f.summary, table: () => dumpSummaryLines(f.summary!), name: () => [f.summary!.backupId] });
      nextSteps(env, format, logger, dumpNextSteps(f.summary, store.location));
      return;
    }
    if (flags.shard === undefined && (flags.backupId !== undefined || flags.planTtl !== undefined))
      throw new UsageError(
        `${flags.backupId !== undefined ? '--backup-id' : '--plan-ttl'} needs --shard (or --finalize)`,
        'a plain dump names its backup by the time it starts',
        {
          options: [flags.backupId !== undefined ? 'backupId' : 'planTtl'],
        },
      );
    const progress = liveProgress<TopicProgress>({
      quiet: flags.quiet,
      tty: env.isTTY,
      logger,
      row: (p) => ({
        label: p.topic,
        records: p.records,
        bytes: p.rawBytes,
        done: p.offsetsDone,
        total: p.offsetsTotal,
        recordsTotal: Number(p.offsetsTotal),
        recordsTotalIsBound: true,
      }),
    });
    // What a plain dump and a shard are both asked.
    const options: DumpOptions = {
      kafka: kafkaOptions(settings.kafka),
      registry: settings.registry ?? null,
      logger,
      store,
      topics: flags.topic,
      topicsRegex: flags.topicsRegex,
      partitions,
      since: window.since,
      until: window.until,
      maxRecordsPerPartition: flags.maxRecordsPerPartition ?? null,
      clusterName: flags.name,
      segmentBytes: flags.segmentBytes,
      blockBytes: flags.blockBytes,
      compressionLevel: flags.zstdLevel,
      concurrency: flags.concurrency,
      stallTimeoutMs: flags.stallTimeout * 1000,
      incremental: Boolean(flags.incremental),
      lockWaitMs: flags.lockWait * 1000,
    };
    if (flags.shard !== undefined) {
      const shard = parseShardSpec(flags.shard, env.env);
      const planTtlMs = flags.planTtl === undefined ? undefined : parsePlanTtl(flags.planTtl);
      const metricsUrl = flags.metricsPush ?? env.env.KBAK_METRICS_PUSH;
      // Each shard pushes kbak_dump_shard_* under its own `shard` label; the one that finalises also
      // pushes the backup's kbak_dump_* (so kbak_dump_last_success_timestamp_seconds still means a backup).
      const r = await withMetrics(
        'dump_shard',
        metricsUrl,
        flags.name ?? 'unknown',
        logger,
        async () => {
          const res = await progress.run(() =>
            dumpShard({
              ...options,
              shard,
              backupId: shardedBackupId(flags.backupId, env.env),
              planTtlMs,
              signal: env.signal,
              ...progress.callbacks,
            }),
          );
          const done = res.finalized?.summary;
          if (done && metricsUrl) await pushBackupMetrics(metricsUrl, done, logger);
          return { result: res, report: { cluster: res.cluster, perTopic: [], extra: [] } };
        },
        { shard: String(shard.index) },
      );
      const done = r.finalized?.summary ?? null;
      logCompletion(logger, { shard: shardResultJSON(r) }, `shard ${shardText(r.shard)} of backup ${r.backupId}: ${r.outcome}`);
      printResult(env, format, {
        json: () => shardResultJSON(r),
        table: () => [...shardLines(r), ...(done ? dumpSummaryLines(done) : [])],
        name: () => (done || r.outcome === 'backup-complete' ? [r.backupId] : []),
      });
      if (done) nextSteps(env, format, logger, dumpNextSteps(done, store.location));
      return;
    }
    const metricsUrl = flags.metricsPush ?? env.env.KBAK_METRICS_PUSH;
    const summary = await withMetrics('dump', metricsUrl, flags.name ?? 'unknown', logger, async () => {
      const { summary: s } = await progress.run(() =>
        dump({
          ...options,
          signal: env.signal,
          ...progress.callbacks,
        }),
      );
      return { result: s, report: { cluster: s.cluster, ...dumpReport(s) } };
    });
    // The job's log gets one JSON summary line (stderr, JSON log format); stdout stays what was asked for.
    // A terminal reads the stdout summary alone: the completion is shown once.
    logCompletion(logger, { summary }, `backup ${summary.backupId} complete`);
    printResult(env, format, { json: () => summary, table: () => dumpSummaryLines(summary), name: () => [summary.backupId] });
    nextSteps(env, format, logger, dumpNextSteps(summary, store.location));
  });
  return cmd;
}
