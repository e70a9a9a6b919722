import { Command } from 'commander';
import { openBackup, planRestore, restore, type RestoreOptions } from '../api';
import { DEFAULT_DESTINATION, DEFAULT_RESTORE_CONCURRENCY } from '../config/defaults';
import { loadSettings, redact, type ConnectionFlags } from '../config/settings';
import { parseWindow } from '../model/window';
import { UsageError } from '../errors';
import { CODEC_NAMES, isCodecName, type CodecName } from '../kafka/protocol/codecs';
import { formatBytes } from '../output/human-size';
import { duration } from '../output/human-time';
import { plural } from '../output/words';
import type { LaneTopicProgress, RestoreSummary } from '../restore/restore';
import type { ShardOutcome } from '../restore/summary';
import { parseShardSpec } from '../model/shard';
import { parseDurationMs } from '../lane/topic-configs';
import { positiveInt, type CommandEnv } from './common';
import { addServiceOptions, kafkaOptions } from './connection-options';
import { addLedgerOption, addTemplateOptions, ledgerArgs, ledgerTopic, parseTtl } from './lane-options';
import { liveProgress, writtenTopicRow } from './live-progress';
import { logCompletion } from '../output/logger';
import { openSource } from './source';
import { LaneScope, laneTemplates } from '../lane/ownership';
import { parseLaneRetention } from '../lane/topic-configs';
import { validateBaggageKey } from '../lane/baggage';
import { withApplyCommand } from './apply-command';
import { kbakLine, nextSteps } from './next-step';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { addExamples, GROUP } from './help';

interface RestoreFlags extends ConnectionFlags, OutputFlags {
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
  policy?: string;
  unlisted?: 'copy' | 'refuse';
  onUndecodable?: 'stop' | 'drop';
  shard?: string;
  prepare?: boolean;
  prepareTimeout?: string;
}

function choice<T extends string>(flag: string, values: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(values as readonly string[]).includes(v)) throw new UsageError(`${flag} ${v} is not one of ${values.join(', ')}`, `use ${flag} ${values[0]}`);
    return v as T;
  };
}

const OUTPUT: OutputSpec = { formats: ['table', 'json'] };

function codecName(v: string): CodecName {
  if (!isCodecName(v)) throw new UsageError(`--compression ${v} is not a Kafka codec`, `use one of ${CODEC_NAMES.join(', ')}`);
  return v;
}

/** The first line of a shard's summary: what it did of its plan. */
function shardHeadline(s: RestoreSummary, shard: ShardOutcome): string {
  const which = `shard ${shard.index}/${shard.count} of plan ${shard.plan}`;
  const backup = `backup ${s.cluster}/${s.backupId}`;
  if (shard.outcome === 'prepared') return `lane ${s.lane} prepared for ${shard.count} shards (plan ${shard.plan}) from ${backup}`;
  if (shard.outcome === 'already-restored') return `lane ${s.lane}: ${which} has nothing to do: the lane is already restored from ${backup}`;
  return `lane ${s.lane}: ${which} restored its partitions from ${backup}${shard.finalised ? '; every shard is done: the lane is ready' : ''}`;
}

/** The summary of a finished restore for people (stdout, -o table). Pure. */
export function restoreSummaryLines(s: RestoreSummary): string[] {
  const ids = Object.entries(s.idMap);
  if (s.shard && s.shard.outcome !== 'written') return [shardHeadline(s, s.shard), `  took ${duration(s.durationMs)}`];
  const lines = [
    s.shard ? shardHeadline(s, s.shard) : `lane ${s.lane} restored from backup ${s.cluster}/${s.backupId}`,
    ...s.topics.map(
      (t) =>
        `  ${t.source} -> ${t.lane} (${t.action}): ${plural(t.records, 'record')} written${t.skippedExisting > 0 ? `, ${t.skippedExisting} already there` : ''}`,
    ),
    `  ${plural(s.topicsCreated, 'topic')} created, ${plural(s.partitions, 'partition')}, ${plural(s.records, 'record')}, ${formatBytes(s.bytes)}`,
    `  ${plural(s.subjectsRegistered, 'subject')} registered (${plural(s.schemaVersionsCreated, 'new version')}), schema IDs rewritten in ${plural(s.idsRewritten, 'record')}${
      ids.length > 0 ? ` (${ids.map(([a, b]) => `${a}->${b}`).join(', ')})` : ''
    }`,
    `  ${plural(s.groupsSeeded, 'consumer group')} seeded`,
    ...(s.masking
      ? [
          `  masked with policy ${s.masking.policy} (key fingerprint ${s.masking.keyFingerprint})${
            s.sampledOut > 0 ? `; ${plural(s.sampledOut, 'record')} left out by the sample` : ''
          }${s.undecodableDropped > 0 ? `; ${plural(s.undecodableDropped, 'record')} that could not be masked left out` : ''}`,
        ]
      : []),
    ...(s.baggageLeftAlone > 0 ? [`  baggage headers left alone (not valid W3C baggage or over its limits): ${s.baggageLeftAlone}`] : []),
    ...(s.expiresAt ? [`  lane expires at ${s.expiresAt} (kbak lane gc deletes it then)`] : []),
    `  took ${duration(s.durationMs)}, ${s.recordsPerSecond} records/s`,
  ];
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

export function restoreCommand(env: CommandEnv): Command {
  const cmd = new Command('restore')
    .description('seed an isolated lane from a backup: lane topics, subjects, schema IDs and group offsets')
    .optionsGroup(GROUP.lane)
    .requiredOption('--lane <name>', 'the lane, e.g. feature-x (lowercase letters, digits, "-")')
    .option('--lane-header <name>', 'add a header with this name carrying the lane name to every record')
    .option('--lane-baggage <key>', "set <key>=<lane> in each record's W3C baggage header (first one; created when absent)")
    .option('--lane-retention <d>', 'retention of lane topics: forever (default), source, or a duration such as 14d')
    .option('--ttl <duration>', 'the lane expires after this long (e.g. 72h); kbak lane gc deletes expired lanes')
    .option('--policy <file>', 'mask (and sample) records as this policy says: seeding from production (docs/masking-policy.md)')
    .option(
      '--unlisted <copy|refuse>',
      'with --policy: copy topics the policy does not list as they are, or refuse them (default)',
      choice('--unlisted', ['copy', 'refuse'] as const),
    )
    .option(
      '--on-undecodable <stop|drop>',
      'with --policy: a record that cannot be masked stops the restore (default) or is left out and counted',
      choice('--on-undecodable', ['stop', 'drop'] as const),
    )
    .optionsGroup(GROUP.selection)
    .option('--from <backup>', 'backup ID or latest', 'latest')
    .option('--topic <name>', 'restore only this backed-up topic (repeatable; default all)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--since <time>', 'only records at or after this ISO-8601 time or duration ago (6h, 2d)')
    .option('--until <time>', 'only records before this ISO-8601 time or duration ago')
    .option('--max-records-per-partition <n>', 'only the newest N records of each partition', positiveInt('--max-records-per-partition'))
    .optionsGroup(GROUP.store)
    .option('--source <dest>', `where the backups are: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--name <cluster>', 'the source cluster label in the backup path (needed when the store holds several)')
    .optionsGroup(GROUP.other)
    .option('--replication-factor <n>', 'replication factor of created lane topics (default min(source, brokers))', positiveInt('--replication-factor'))
    .option('--resume', 'continue an interrupted restore into existing lane topics')
    .option('--replace', 'delete and recreate the lane topics of this restore (only those)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--shard <I/N>', 'write shard I of N (0-based; N alone takes I from JOB_COMPLETION_INDEX): shard 0 prepares the lane, the others wait for it')
    .option('--prepare', 'with --shard 0/N: prepare the lane for the shards (ledger, subjects, topics) and exit')
    .option('--prepare-timeout <duration>', 'with --shard: how long shards 1..N-1 wait for the preparation (default 10m)')
    .option('--concurrency <n>', 'partitions written at once', positiveInt('--concurrency'), DEFAULT_RESTORE_CONCURRENCY)
    .option(
      '--compression <codec>',
      `codec of the lane's record batches: ${CODEC_NAMES.join('|')} (default: the source topic's compression.type when it names one, else lz4)`,
      codecName,
    );
  addTemplateOptions(cmd);
  addLedgerOption(cmd);
  addOutputOptions(cmd, OUTPUT);
  addServiceOptions(cmd, { kafka: true, registry: true, s3: true });
  addExamples(cmd, [
    ['what a restore of the newest backup into lane feature-x would do', 'kbak restore --lane feature-x --dry-run'],
    ['seed lane feature-x; it expires in 72 h, records carry lane=feature-x', 'kbak restore --lane feature-x --ttl 72h --lane-baggage lane'],
    ['start lane feature-x over: its topics deleted and restored again', 'kbak restore --lane feature-x --replace'],
  ]);
  cmd.action(async (flags: RestoreFlags, command: Command) => {
    const format = outputFormat(flags, OUTPUT);
    if (flags.resume && flags.replace)
      throw new UsageError('--resume and --replace cannot be used together', 'pick --resume to continue or --replace to start over');
    // Names and flags first: a typo must not wait for (or be hidden by) the store and the cluster.
    new LaneScope(flags.lane, laneTemplates(flags));
    const laneRetention = parseLaneRetention(flags.laneRetention);
    const ttlMs = parseTtl(flags.ttl);
    if (flags.laneBaggage !== undefined) validateBaggageKey(flags.laneBaggage);
    if (flags.policy === undefined && (flags.unlisted !== undefined || flags.onUndecodable !== undefined)) {
      throw new UsageError(
        `${flags.unlisted !== undefined ? '--unlisted' : '--on-undecodable'} applies to a masked restore only`,
        'give the masking policy with --policy FILE',
      );
    }
    const shard = flags.shard === undefined ? null : parseShardSpec(flags.shard, env.env);
    if (shard === null && (flags.prepare || flags.prepareTimeout !== undefined))
      throw new UsageError(`${flags.prepare ? '--prepare' : '--prepare-timeout'} applies to a sharded restore only`, 'give the shard with --shard I/N');
    const prepareTimeoutMs = flags.prepareTimeout === undefined ? undefined : parseDurationMs(flags.prepareTimeout);
    if (prepareTimeoutMs === null)
      throw new UsageError(`--prepare-timeout ${JSON.stringify(flags.prepareTimeout)} is not a duration`, 'use e.g. 90s, 10m or 1h');
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
      policy: flags.policy ?? null,
      unlistedCopy: flags.unlisted === 'copy',
      onUndecodable: flags.onUndecodable,
      env: env.env,
      signal: env.signal,
      shard,
      prepareOnly: Boolean(flags.prepare),
      prepareTimeoutMs,
    };
    if (flags.dryRun) {
      const plan = await planRestore(options);
      // The plan ends with the command that applies it: the same arguments without --dry-run, secrets masked.
      const shown = withApplyCommand(command, plan);
      printResult(env, format, { json: () => shown.json, table: () => shown.lines });
      return;
    }
    const progress = liveProgress<LaneTopicProgress>({
      quiet: flags.quiet,
      tty: env.isTTY,
      logger,
      row: writtenTopicRow,
    });
    const summary = await progress.run(() => restore({ ...options, ...progress.callbacks }));
    // The job's log gets one JSON summary line (stderr, JSON log format); a terminal reads the stdout summary.
    // The log line of a plain restore keeps its words (scripts read the job log); a shard's says what it did.
    logCompletion(logger, { summary }, summary.shard ? restoreSummaryLines(summary)[0]! : `lane ${summary.lane} restored from backup ${summary.backupId}`);
    printResult(env, format, { json: () => summary, table: () => restoreSummaryLines(summary) });
    nextSteps(env, format, logger, [`see the lane: ${kbakLine('lane', 'describe', summary.lane, ...ledgerArgs(flags))}`]);
  });
  return cmd;
}
