import { Command } from 'commander';
import { loadSettings, redact, type ConnectionFlags } from '../config/settings';
import { openKafka } from '../kafka';
import { openStore, parseFileMode, parseS3Sse, DEFAULT_DESTINATION } from '../store/open';
import { RegistryClient } from '../schema/registry-client';
import { DumpRun, type DumpSummary } from '../dump/dump';
import { parsePartitions } from '../dump/select';
import { parseWindow } from '../model/window';
import { withProgress, startProgress, formatBytes } from '../output/progress';
import { addConnectionOptions } from './connection-options';
import { positiveInt, type CommandEnv } from './common';

interface DumpFlags extends ConnectionFlags {
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
  json?: boolean;
  quiet?: boolean;
}

function humanSummary(s: DumpSummary): string {
  const secs = (s.durationMs / 1000).toFixed(1);
  const lines = [
    `backup ${s.backupId} complete: ${s.location}`,
    `  topics ${s.topics}, partitions ${s.partitions}, records ${s.records}, segments ${s.segments}`,
    `  raw ${formatBytes(s.rawBytes)}, stored ${formatBytes(s.storedBytes)} (ratio ${s.compressionRatio.toFixed(2)})`,
    `  schemas ${s.schemas}, consumer groups ${s.consumerGroups}`,
    `  ${secs}s, ${s.recordsPerSecond} records/s`,
  ];
  if (s.framedPayloadsWithUnknownId > 0) lines.push(`  warning: ${s.framedPayloadsWithUnknownId} payloads with unknown schema IDs ${s.unknownSchemaIds.join(',')}`);
  return lines.join('\n');
}

export function dumpCommand(env: CommandEnv): Command {
  const cmd = new Command('dump')
    .description('back up topics (records, schemas, configs, group offsets) at a consistent cut')
    .option('--topic <name>', 'topic to back up (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--topics-regex <re>', 'back up every topic whose whole name matches')
    .option('--partitions <list>', 'only these partitions, e.g. 0,2')
    .option('--to <dest>', `destination: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--since <time>', 'only records at or after this ISO-8601 time or duration ago (6h, 2d)')
    .option('--until <time>', 'only records before this ISO-8601 time or duration ago')
    .option('--max-records-per-partition <n>', 'only the newest N offsets of each partition', positiveInt('--max-records-per-partition'))
    .option('--name <cluster>', 'label for the source cluster in the backup path (default: its cluster id)')
    .option('--segment-bytes <n>', 'roll over to a new segment file after this many bytes', positiveInt('--segment-bytes'), 64 * 1024 * 1024)
    .option('--concurrency <n>', 'partitions read and written at once', positiveInt('--concurrency'), 4)
    .option('--stall-timeout <seconds>', 'fail when no partition progresses for this long', positiveInt('--stall-timeout'), 120)
    .option('--file-mode <octal>', 'disk: mode of backup files (env KBAK_FILE_MODE, default 600: owner only; folders get the matching search bits)')
    .option('--s3-sse <mode>', 'S3: server-side encryption, AES256 or aws:kms (env KBAK_S3_SSE)')
    .option('--s3-sse-kms-key-id <id>', 'S3: KMS key for --s3-sse aws:kms (env KBAK_S3_SSE_KMS_KEY_ID; default: the bucket key)');
  addConnectionOptions(cmd);
  cmd.action(async (flags: DumpFlags) => {
    const settings = loadSettings(flags, env.env);
    const logger = env.logger(flags.quiet);
    logger.debug({ settings: redact(settings) }, 'settings');
    const window = parseWindow(flags.since, flags.until, new Date());
    const fileMode = flags.fileMode ?? env.env.KBAK_FILE_MODE;
    const store = openStore(flags.to ?? env.env.KBAK_DEST ?? DEFAULT_DESTINATION, settings.s3, {
      fileMode: fileMode ? parseFileMode(fileMode) : undefined,
      sse: parseS3Sse(flags.s3Sse ?? (env.env.KBAK_S3_SSE || undefined), flags.s3SseKmsKeyId ?? (env.env.KBAK_S3_SSE_KMS_KEY_ID || undefined)),
    });
    const kafka = openKafka(settings.kafka, logger);
    const run = new DumpRun(
      {
        kafka,
        store,
        registry: settings.registry ? new RegistryClient(settings.registry) : null,
        logger,
      },
      {
        selection: { topics: flags.topic, regex: flags.topicsRegex, partitions: flags.partitions ? parsePartitions(flags.partitions) : undefined },
        window,
        maxRecordsPerPartition: flags.maxRecordsPerPartition ?? null,
        clusterName: flags.name,
        segmentBytes: flags.segmentBytes,
        concurrency: flags.concurrency,
        stallTimeoutMs: flags.stallTimeout * 1000,
      },
    );
    const display = flags.quiet
      ? null
      : startProgress(() => run.progress().map((p) => ({ label: p.topic, records: p.records, bytes: p.rawBytes, done: p.offsetsDone, total: p.offsetsTotal })), {
          logger,
          tty: env.isTTY,
          what: 'topic',
        });
    const { summary } = await withProgress(display, () => run.run()).finally(() => kafka.close());
    env.stdout(flags.json ? JSON.stringify(summary) : humanSummary(summary));
  });
  return cmd;
}
