import { Command, Option } from 'commander';
import { openBackup, planRecover, recover, type RecoverOptions } from '../api';
import { DEFAULT_DESTINATION, DEFAULT_RESTORE_CONCURRENCY } from '../config/defaults';
import { loadSettings, redact, type ConnectionFlags } from '../config/settings';
import { UsageError } from '../errors';
import { CODEC_NAMES, isCodecName, type CodecName } from '../kafka/protocol/codecs';
import { formatBytes } from '../output/human-size';
import { duration } from '../output/human-time';
import { plural } from '../output/words';
import type { LaneTopicProgress } from '../restore/restore';
import type { RecoverSummary } from '../recover/recover';
import { DEFAULT_RECOVERY_LEDGER_TOPIC } from '../recover/ledger';
import { parseRenames } from '../recover/naming';
import { parseAt } from '../recover/at-time';
import { validateTopicName } from '../remap/topic-name';
import { positiveInt, type CommandEnv } from './common';
import { addServiceOptions, kafkaOptions } from './connection-options';
import { liveProgress, writtenTopicRow } from './live-progress';
import { logCompletion } from '../output/logger';
import { openSource } from './source';
import { withApplyCommand } from './apply-command';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { addExamples, GROUP } from './help';

interface RecoverFlags extends ConnectionFlags, OutputFlags {
  from: string;
  source?: string;
  name?: string;
  topic: string[];
  topicsRegex?: string;
  rename: string[];
  at?: string;
  replicationFactor?: number;
  resume?: boolean;
  newVersions?: boolean;
  keepSchemaIds?: boolean;
  withAcls?: boolean | string;
  dryRun?: boolean;
  concurrency: number;
  compression?: CodecName;
  recoveryLedger?: string;
}

const OUTPUT: OutputSpec = { formats: ['table', 'json'] };

/** Lane restore's flags: `kbak recover` refuses them by name rather than as unknown options, and says where they belong. */
const LANE_FLAGS: ReadonlyArray<[flag: string, key: string]> = [
  ['--lane <name>', 'lane'],
  ['--policy <file>', 'policy'],
  ['--lane-header <name>', 'laneHeader'],
  ['--lane-baggage <key>', 'laneBaggage'],
  ['--lane-retention <d>', 'laneRetention'],
  ['--ttl <duration>', 'ttl'],
  ['--topic-template <t>', 'topicTemplate'],
  ['--subject-template <t>', 'subjectTemplate'],
  ['--group-template <t>', 'groupTemplate'],
  ['--ledger-topic <topic>', 'ledgerTopic'],
  ['--replace', 'replace'],
];

function codecName(v: string): CodecName {
  if (!isCodecName(v)) throw new UsageError(`--compression ${v} is not a Kafka codec`, `use one of ${CODEC_NAMES.join(', ')}`);
  return v;
}

/** The summary of a finished recovery for people (stdout, -o table). Pure. */
export function recoverSummaryLines(s: RecoverSummary): string[] {
  const ids = Object.entries(s.idMap).filter(([a, b]) => a !== String(b));
  const lines = [
    `recovered backup ${s.cluster}/${s.backupId}${s.at ? ` to ${s.at}` : ''} into cluster ${s.targetClusterId}${s.inPlace ? " (the backup's own)" : ''}`,
    ...s.topics.map(
      (t) =>
        `  ${t.source}${t.target !== t.source ? ` -> ${t.target}` : ''} (${t.action}): ${plural(t.records, 'record')} written${t.skippedExisting > 0 ? `, ${t.skippedExisting} already there` : ''}`,
    ),
    `  ${plural(s.topicsCreated, 'topic')} created, ${plural(s.partitions, 'partition')}, ${plural(s.records, 'record')}, ${formatBytes(s.bytes)}`,
    `  ${plural(s.subjects.length, 'subject')} (${plural(s.schemaVersionsCreated, 'new version')}), schema IDs rewritten in ${plural(s.idsRewritten, 'record')}${
      ids.length > 0 ? ` (${ids.map(([a, b]) => `${a}->${b}`).join(', ')})` : ''
    }`,
    `  ${plural(s.groups.filter((g) => g.skipped === null && g.offsets.length > 0).length, 'consumer group')} at translated offsets${s.groupsFrom && s.groupsFrom !== s.backupId ? ` (from backup ${s.groupsFrom})` : ''}`,
    ...(s.acls ? [`  ACLs: ${plural(s.acls.created, 'binding')} created, ${s.acls.present} already there, ${s.acls.skipped.length} not re-created`] : []),
    `  took ${duration(s.durationMs)}, ${s.recordsPerSecond} records/s; recorded in ${s.ledgerTopic} as recovery ${s.recoveryId}`,
  ];
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

export function recoverCommand(env: CommandEnv): Command {
  const cmd = new Command('recover')
    .description('disaster recovery: bring backed-up topics, subjects and consumer groups back under their own names')
    .optionsGroup(GROUP.selection)
    .option('--from <backup>', 'backup ID or latest', 'latest')
    .option('--topic <name>', 'recover only this backed-up topic (repeatable; default all)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--topics-regex <re>', 'recover every backed-up topic whose whole name matches')
    .option('--at <time>', "recover as of this ISO-8601 time (with its zone) or duration ago (2h, 3d), from the cluster's backups")
    .option(
      '--rename <source=target>',
      'recover a topic under another name (repeatable), e.g. orders=orders-recovered',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .optionsGroup(GROUP.store)
    .option('--source <dest>', `where the backups are: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--name <cluster>', 'the source cluster label in the backup path (needed when the store holds several)')
    .optionsGroup(GROUP.other)
    .option('--replication-factor <n>', 'replication factor of created topics (default min(source, brokers))', positiveInt('--replication-factor'))
    .option('--resume', 'continue an interrupted recovery of the same topics (same backup)')
    .option('--new-versions', "add the backup's schema as a new version of an existing subject that lacks it")
    .option('--keep-schema-ids', "register schemas with their original IDs (the registry's IMPORT mode), so payloads keep their bytes")
    .option('--with-acls [all]', "re-create the backup's ACLs of the recovered topics and groups; 'all': prefixed and wildcard ones too")
    .option('--dry-run', 'print the plan and change nothing')
    .option('--concurrency <n>', 'partitions written at once', positiveInt('--concurrency'), DEFAULT_RESTORE_CONCURRENCY)
    .option(
      '--compression <codec>',
      `codec of the record batches: ${CODEC_NAMES.join('|')} (default: the source topic's compression.type when it names one, else lz4)`,
      codecName,
    )
    .option('--recovery-ledger <topic>', `the recovery ledger topic on the target cluster (default ${DEFAULT_RECOVERY_LEDGER_TOPIC})`);
  for (const [flag] of LANE_FLAGS) cmd.addOption(new Option(flag).hideHelp());
  addOutputOptions(cmd, OUTPUT);
  addServiceOptions(cmd, { kafka: true, registry: true, s3: true });
  addExamples(cmd, [
    ['what recovering topic orders next to the original would do', 'kbak recover --topic orders --rename orders=orders-copy --dry-run'],
    ['bring back topic orders, deleted by accident, from the newest backup', 'kbak recover --topic orders'],
    ['orders as it was 30 minutes ago, next to the original', 'kbak recover --topic orders --rename orders=orders-30m --at 30m'],
  ]);
  cmd.action(async (flags: RecoverFlags, command: Command) => {
    const format = outputFormat(flags, OUTPUT);
    const given = LANE_FLAGS.filter(([, key]) => (flags as unknown as Record<string, unknown>)[key] !== undefined).map(([flag]) => flag.split(' ')[0]!);
    if (flags.keepSchemaIds && flags.newVersions) {
      throw new UsageError('--keep-schema-ids and --new-versions cannot be used together', 'IMPORT mode registers only into subjects that hold nothing else');
    }
    if (given.length > 0) {
      throw new UsageError(
        `kbak recover does not take ${given.join(', ')}: it recovers under the original names, not into a lane`,
        'seed a lane with kbak restore --lane; rename topics here with --rename source=target',
      );
    }
    const renames = parseRenames(flags.rename);
    if (flags.withAcls !== undefined && flags.withAcls !== true && flags.withAcls !== 'all') {
      throw new UsageError(
        `--with-acls ${JSON.stringify(flags.withAcls)} is not a choice`,
        'give --with-acls alone (literal bindings) or --with-acls all (prefixed and wildcard too)',
      );
    }
    const withAcls = flags.withAcls === undefined ? null : flags.withAcls === 'all' ? 'all' : 'literal';
    const at = flags.at === undefined ? null : parseAt(flags.at, new Date());
    if (at && flags.from !== 'latest') {
      throw new UsageError('--at and --from cannot be used together', '--at chooses the backups itself from every backup of the cluster');
    }
    const ledger = validateTopicName(flags.recoveryLedger ?? DEFAULT_RECOVERY_LEDGER_TOPIC, '--recovery-ledger');
    const settings = loadSettings(flags, env.env);
    const logger = env.logger(flags.quiet);
    logger.debug({ settings: redact(settings) }, 'settings');
    const store = openSource(flags, env, settings);
    await store.check();
    const backup = await openBackup(store, flags.from, flags.name);
    const options: RecoverOptions = {
      kafka: kafkaOptions(settings.kafka),
      registry: settings.registry ?? null,
      logger,
      backup,
      topics: flags.topic,
      topicsRegex: flags.topicsRegex,
      renames,
      at,
      replicationFactor: flags.replicationFactor ?? null,
      resume: Boolean(flags.resume),
      newVersions: Boolean(flags.newVersions),
      keepSchemaIds: Boolean(flags.keepSchemaIds),
      withAcls,
      concurrency: flags.concurrency,
      compression: flags.compression ?? null,
      ledgerTopic: ledger,
      signal: env.signal,
    };
    if (flags.dryRun) {
      const plan = await planRecover(options);
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
    const summary = await progress.run(() => recover({ ...options, ...progress.callbacks }));
    logCompletion(logger, { summary }, `backup ${summary.backupId} recovered (${summary.records} records)`);
    printResult(env, format, { json: () => summary, table: () => recoverSummaryLines(summary) });
  });
  return cmd;
}
