import { Command } from 'commander';
import { openBackup, planRestore, restore, type RestoreOptions } from '../api';
import { DEFAULT_DESTINATION, DEFAULT_RESTORE_CONCURRENCY } from '../config/defaults';
import { loadSettings, redact, type ConnectionFlags } from '../config/settings';
import { parseWindow } from '../model/window';
import { UsageError } from '../errors';
import { CODEC_NAMES, isCodecName, type CodecName } from '../kafka/protocol/codecs';
import { formatBytes } from '../output/progress';
import type { LaneTopicProgress, RestoreSummary } from '../restore/restore';
import { positiveInt, type CommandEnv } from './common';
import { addConnectionOptions, kafkaOptions } from './connection-options';
import { addLedgerOption, ledgerTopic, parseTtl } from './lane-options';
import { liveProgress } from './live-progress';
import { logCompletion } from '../output/logger';
import { openSource } from './source';
import { LaneScope, laneTemplates } from '../lane/ownership';
import { parseLaneRetention } from '../lane/topic-configs';
import { validateBaggageKey } from '../lane/baggage';
import { applyCommand, MASK, userArgs } from './apply-command';

interface RestoreFlags extends ConnectionFlags {
  lane: string;
  from: string;
  source?: string;
  name?: string;
  topic: string[];
  topicTemplate?: string;
  subjectTemplate?: string;
  groupTemplate?: string;
  replicationFactor?: number;
  resume?: boolean;
  replace?: boolean;
  dryRun?: boolean;
  laneHeader?: string;
  laneBaggage?: string;
  laneRetention?: string;
  ttl?: string;
  ledgerTopic?: string;
  since?: string;
  until?: string;
  maxRecordsPerPartition?: number;
  concurrency: number;
  compression?: CodecName;
  json?: boolean;
  quiet?: boolean;
}

function codecName(v: string): CodecName {
  if (!isCodecName(v)) throw new UsageError(`--compression ${v} is not a Kafka codec`, `use one of ${CODEC_NAMES.join(', ')}`);
  return v;
}

function humanSummary(s: RestoreSummary): string[] {
  const lines = [
    `lane ${s.lane} restored from backup ${s.cluster}/${s.backupId}`,
    ...s.topics.map(
      (t) => `  ${t.source} -> ${t.lane} (${t.action}): ${t.records} records written${t.skippedExisting > 0 ? `, ${t.skippedExisting} already there` : ''}`,
    ),
    `  topics created ${s.topicsCreated}, partitions ${s.partitions}, records ${s.records}, ${formatBytes(s.bytes)}`,
    `  subjects registered ${s.subjectsRegistered} (${s.schemaVersionsCreated} new versions), IDs rewritten ${s.idsRewritten}${
      Object.keys(s.idMap).length > 0
        ? ` (${Object.entries(s.idMap)
            .map(([a, b]) => `${a}->${b}`)
            .join(', ')})`
        : ''
    }`,
    `  consumer groups seeded ${s.groupsSeeded}`,
    ...(s.baggageLeftAlone > 0 ? [`  baggage headers left alone (not valid W3C baggage or over its limits): ${s.baggageLeftAlone}`] : []),
    ...(s.expiresAt ? [`  lane expires at ${s.expiresAt} (kbak lane gc deletes it then)`] : []),
    `  ${(s.durationMs / 1000).toFixed(1)}s, ${s.recordsPerSecond} records/s`,
  ];
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

export function restoreCommand(env: CommandEnv): Command {
  const cmd = new Command('restore')
    .description('seed an isolated lane from a backup: lane topics, subjects, schema IDs and group offsets')
    .requiredOption('--lane <name>', 'the lane, e.g. feature-x (lowercase letters, digits, "-")')
    .option('--from <backup>', 'backup ID or latest', 'latest')
    .option('--source <dest>', `where the backups are: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--name <cluster>', 'the source cluster label in the backup path (needed when the store holds several)')
    .option('--topic <name>', 'restore only this backed-up topic (repeatable; default all)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--topic-template <t>', 'lane topic names (default {lane}.{topic})')
    .option('--subject-template <t>', 'lane subjects not derived from a topic (default {lane}.{subject})')
    .option('--group-template <t>', 'lane consumer groups (default {lane}.{group})')
    .option('--replication-factor <n>', 'replication factor of created lane topics (default min(source, brokers))', positiveInt('--replication-factor'))
    .option('--resume', 'continue an interrupted restore into existing lane topics')
    .option('--replace', 'delete and recreate the lane topics of this restore (only those)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--lane-header <name>', 'add a header with this name carrying the lane name to every record')
    .option('--lane-baggage <key>', "set <key>=<lane> in each record's W3C baggage header (first one; created when absent)")
    .option('--lane-retention <d>', 'retention of lane topics: forever (default), source, or a duration such as 14d')
    .option('--ttl <duration>', 'the lane expires after this long (e.g. 72h); kbak lane gc deletes expired lanes')
    .option('--since <time>', 'only records at or after this ISO-8601 time or duration ago (6h, 2d)')
    .option('--until <time>', 'only records before this ISO-8601 time or duration ago')
    .option('--max-records-per-partition <n>', 'only the newest N records of each partition', positiveInt('--max-records-per-partition'))
    .option('--concurrency <n>', 'partitions written at once', positiveInt('--concurrency'), DEFAULT_RESTORE_CONCURRENCY)
    .option(
      '--compression <codec>',
      `codec of the lane's record batches: ${CODEC_NAMES.join('|')} (default: the source topic's compression.type when it names one, else lz4)`,
      codecName,
    );
  addLedgerOption(cmd);
  addConnectionOptions(cmd);
  cmd.action(async (flags: RestoreFlags, command: Command) => {
    if (flags.resume && flags.replace)
      throw new UsageError('--resume and --replace cannot be used together', 'pick --resume to continue or --replace to start over');
    // Names and flags first: a typo must not wait for (or be hidden by) the store and the cluster.
    new LaneScope(flags.lane, laneTemplates(flags));
    const laneRetention = parseLaneRetention(flags.laneRetention);
    const ttlMs = parseTtl(flags.ttl);
    if (flags.laneBaggage !== undefined) validateBaggageKey(flags.laneBaggage);
    const ledger = ledgerTopic(flags, env.env);
    const settings = loadSettings(flags, env.env);
    const logger = env.logger(flags.quiet);
    logger.debug({ settings: redact(settings) }, 'settings');
    const window = parseWindow(flags.since, flags.until, new Date());
    const store = openSource(flags, env, settings);
    await store.check();
    const backup = await openBackup(store, flags.from, flags.name);
    const options: RestoreOptions = {
      kafka: kafkaOptions(settings.kafka),
      registry: settings.registry ?? null,
      logger,
      backup,
      lane: flags.lane,
      topics: flags.topic,
      topicTemplate: flags.topicTemplate,
      subjectTemplate: flags.subjectTemplate,
      groupTemplate: flags.groupTemplate,
      replicationFactor: flags.replicationFactor ?? null,
      since: window.since,
      until: window.until,
      maxRecordsPerPartition: flags.maxRecordsPerPartition ?? null,
      mode: flags.resume ? 'resume' : flags.replace ? 'replace' : 'new',
      laneHeader: flags.laneHeader ?? null,
      concurrency: flags.concurrency,
      laneBaggage: flags.laneBaggage ?? null,
      laneRetention,
      ttlMs,
      ledgerTopic: ledger,
      compression: flags.compression ?? null,
      signal: env.signal,
    };
    if (flags.dryRun) {
      const plan = await planRestore(options);
      // The plan ends with the command that applies it: the same arguments without --dry-run, secrets masked.
      const apply = applyCommand(userArgs(command));
      const lines = [
        ...plan.lines,
        `to apply this plan, run: ${apply.line}`,
        ...(apply.masked ? [`  (secrets are shown as ${MASK}: give them again, or set KBAK_SASL_PASSWORD / KBAK_SCHEMA_REGISTRY_PASSWORD)`] : []),
      ];
      for (const l of flags.json ? [JSON.stringify({ ...plan.json, applyCommand: apply.line })] : lines) env.stdout(l);
      return;
    }
    const progress = liveProgress<LaneTopicProgress>({
      quiet: flags.quiet,
      tty: env.isTTY,
      logger,
      row: (p) => ({
        label: p.topic,
        records: p.records,
        bytes: p.bytes,
        done: BigInt(p.processed),
        total: BigInt(p.total),
        recordsTotal: p.total,
        recordsTotalIsBound: p.totalExact === false,
      }),
    });
    const summary = await progress.run(() => restore({ ...options, ...progress.callbacks }));
    // The job's log gets one JSON summary line (stderr, JSON log format); a terminal reads the stdout summary.
    logCompletion(logger, { summary }, `lane ${summary.lane} restored from backup ${summary.backupId}`);
    // One line per stdout call: stdout escapes each whole, so only kbak's own breaks start lines.
    for (const l of flags.json ? [JSON.stringify(summary)] : humanSummary(summary)) env.stdout(l);
  });
  return cmd;
}
