/**
 * `kbak lane snapshot|clone|reset`: a lane's data moved under base names (a snapshot), into
 * another lane (clone), or back to its seed (reset). A thin face on api.ts's snapshotLane,
 * cloneLane and resetLane; registered by cmd-lane.ts.
 */
import { Command } from 'commander';
import { logCompletion } from '../output/logger';
import { cloneLane, resetLane, snapshotLane, type LaneObjectName, type LaneOptions } from '../api';
import { loadSettings, type ConnectionFlags } from '../config/settings';
import { DEFAULT_DESTINATION } from '../config/defaults';
import { LaneScope, laneTemplates } from '../lane/ownership';
import { snapshotClusterName } from '../lane/snapshot';
import type { RestoreSummary } from '../restore/restore';
import { openStore } from '../store/open';
import { positiveInt, type CommandEnv } from './common';
import { addServiceOptions } from './connection-options';
import { addLedgerOption, addTemplateOptions, ledgerArgs, parseTtl, type LaneFlags } from './lane-options';
import { kbakLine, nextSteps } from './next-step';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { plural } from '../output/words';
import { openSource } from './source';
import { addExamples, GROUP } from './help';

interface Flags extends ConnectionFlags, LaneFlags, OutputFlags {
  to?: string;
  source?: string;
  clusterName?: string;
  ttl?: string;
  concurrency?: number;
  policy?: string;
}

/** snapshot: -o name prints the snapshot's backup ID. */
const SNAPSHOT: OutputSpec = { formats: ['table', 'json', 'name'] };
const MIGRATE: OutputSpec = { formats: ['table', 'json'] };

/** The library's lane options from flags, environment and config file (cmd-lane.ts's). */
export type LaneOptionsFrom = (flags: Flags, env: CommandEnv) => LaneOptions;

const templates = (flags: LaneFlags): { topicTemplate?: string; subjectTemplate?: string; groupTemplate?: string } => ({
  topicTemplate: flags.topicTemplate,
  subjectTemplate: flags.subjectTemplate,
  groupTemplate: flags.groupTemplate,
});

const pairs = (xs: LaneObjectName[]): string => xs.map((x) => `${x.lane} -> ${x.base}`).join(', ') || 'none';

/** What a restore into a lane created: its topics, subjects and groups (for --json). */
const created = (r: RestoreSummary): { topics: string[]; subjects: string[]; groups: string[] } => ({
  topics: r.laneTopics,
  subjects: r.laneSubjects,
  groups: r.laneGroups,
});

function restoredLines(r: RestoreSummary): string[] {
  return [
    ...r.topics.map((t) => `  ${t.lane} <- ${t.source} (${t.action}): ${plural(t.records, 'record')}`),
    `  subjects: ${r.laneSubjects.join(', ') || 'none'}`,
    `  consumer groups: ${r.laneGroups.join(', ') || 'none'}`,
    ...(r.expiresAt ? [`  lane expires at ${r.expiresAt}`] : []),
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
}

/** Snapshot, clone and reset talk to Kafka, the registry and a store (which may be S3). */
function withCommon(cmd: Command, output: OutputSpec): Command {
  addTemplateOptions(cmd);
  addLedgerOption(cmd);
  addOutputOptions(cmd, output);
  return addServiceOptions(cmd, { kafka: true, registry: true, s3: true });
}

export function laneMigrateCommands(env: CommandEnv, laneOptions: LaneOptionsFrom): Command[] {
  const snapshot = new Command('snapshot')
    .description("back up a lane's topics, subjects and groups under their base names (the lane recorded in the manifest)")
    .argument('<lane>')
    .optionsGroup(GROUP.store)
    .option('--to <dest>', `destination: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--cluster-name <name>', `the snapshot's cluster folder (default ${snapshotClusterName('<lane>')}; never the lane's seed's)`);
  addExamples(withCommon(snapshot, SNAPSHOT), [
    ["back up lane feature-x under its topics' base names into ./kbak-backups/lane-feature-x/", 'kbak lane snapshot feature-x'],
    ["into the local stack's S3 bucket, apart from the cluster's own backups", 'kbak lane snapshot feature-x --to s3://kbak/lanes'],
  ]).action(async (lane: string, flags: Flags) => {
    const format = outputFormat(flags, SNAPSHOT);
    new LaneScope(lane, laneTemplates(flags));
    const store = openStore(flags.to ?? env.env.KBAK_DEST ?? DEFAULT_DESTINATION, loadSettings(flags, env.env).s3);
    const opts = laneOptions(flags, env);
    const r = await snapshotLane({ ...opts, ...templates(flags), lane, store, clusterName: flags.clusterName });
    if (opts.logger) logCompletion(opts.logger, { summary: r }, `lane ${r.lane} snapshot ${r.cluster}/${r.backupId} complete`);
    printResult(env, format, {
      json: () => ({
        lane: r.lane,
        cluster: r.cluster,
        backupId: r.backupId,
        location: r.location,
        topics: r.topics,
        subjects: r.subjects,
        groups: r.groups,
      }),
      table: () => [
        `lane ${r.lane} snapshot: backup ${r.cluster}/${r.backupId} in ${r.location}`,
        `  topics: ${r.topics.map((t) => `${t.lane} -> ${t.base} (${plural(t.records, 'record')})`).join(', ')}`,
        `  subjects: ${pairs(r.subjects)}`,
        `  consumer groups: ${pairs(r.groups)}`,
      ],
      name: () => [r.backupId],
    });
    nextSteps(env, format, opts.logger!, [
      `restore it into a lane: ${kbakLine('restore', '--lane', '<lane>', '--source', r.location, '--name', r.cluster, '--from', r.backupId)}`,
    ]);
  });

  const clone = new Command('clone')
    .description('copy a lane into a new lane (a snapshot under base names, restored): <to>.orders, never nested')
    .argument('<lane>')
    .argument('<to>')
    .optionsGroup(GROUP.store)
    .option('--to-store <dest>', 'keep the snapshot in this store (then kbak lane reset <to> --source <dest> works); default: a temporary folder, removed')
    .option('--cluster-name <name>', `the snapshot's cluster folder (default ${snapshotClusterName('<lane>')})`)
    .optionsGroup(GROUP.lane)
    .option('--ttl <duration>', 'the new lane expires after this long (e.g. 72h)')
    .optionsGroup(GROUP.other)
    .option('--concurrency <n>', 'partitions written at once', positiveInt('--concurrency'));
  addExamples(withCommon(clone, MIGRATE), [
    ['copy lane feature-x into the new lane feature-y (feature-y.orders, …)', 'kbak lane clone feature-x feature-y'],
    ['keep the snapshot, so that feature-y can be reset later', 'kbak lane clone feature-x feature-y --to-store ./kbak-backups --ttl 72h'],
  ]).action(async (lane: string, to: string, flags: Flags & { toStore?: string }) => {
    const format = outputFormat(flags, MIGRATE);
    new LaneScope(lane, laneTemplates(flags));
    new LaneScope(to, laneTemplates(flags));
    const ttlMs = parseTtl(flags.ttl);
    const store = flags.toStore ? openStore(flags.toStore, loadSettings(flags, env.env).s3) : undefined;
    const opts = laneOptions(flags, env);
    const r = await cloneLane({
      ...opts,
      ...templates(flags),
      lane,
      to,
      store,
      clusterName: flags.clusterName,
      ttlMs,
      concurrency: flags.concurrency,
    });
    if (opts.logger) logCompletion(opts.logger, { summary: r }, `lane ${r.lane} cloned into lane ${r.to}`);
    const snap = r.snapshot;
    printResult(env, format, {
      json: () => ({
        lane: r.lane,
        to: r.to,
        snapshot: { cluster: snap.cluster, backupId: snap.backupId, location: snap.kept ? snap.location : null, kept: snap.kept },
        created: created(r.restore),
        restore: r.restore,
      }),
      table: () => [
        `lane ${r.lane} cloned into lane ${r.to} (snapshot ${snap.cluster}/${snap.backupId}${snap.kept ? ` kept in ${snap.location}` : ', temporary, removed'})`,
        ...restoredLines(r.restore),
      ],
    });
    nextSteps(env, format, opts.logger!, [`see the new lane: ${kbakLine('lane', 'describe', r.to, ...ledgerArgs(flags))}`]);
  });

  const reset = new Command('reset')
    .description("replace a lane's topics with what it was seeded from (the backup its ledger entry names); keeps its expiry")
    .argument('<lane>')
    .optionsGroup(GROUP.store)
    .option('--source <dest>', `the store that holds the seed: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .optionsGroup(GROUP.other)
    .option('--concurrency <n>', 'partitions written at once', positiveInt('--concurrency'))
    .option('--policy <file>', 'the masking policy the lane was seeded with (required for a masked lane: its seed is unmasked)');
  addExamples(withCommon(reset, MIGRATE), [
    ['put back what lane feature-x was seeded from (the seed is in ./kbak-backups)', 'kbak lane reset feature-x'],
    ['lane feature-y back to the snapshot that clone --to-store kept', 'kbak lane reset feature-y --source ./kbak-backups'],
  ]).action(async (lane: string, flags: Flags) => {
    const format = outputFormat(flags, MIGRATE);
    new LaneScope(lane, laneTemplates(flags));
    const store = openSource(flags, env);
    await store.check();
    const opts = laneOptions(flags, env);
    const r = await resetLane({ ...opts, ...templates(flags), lane, store, concurrency: flags.concurrency, policy: flags.policy ?? null, env: env.env });
    if (opts.logger) logCompletion(opts.logger, { summary: r }, `lane ${r.lane} reset to backup ${r.seed.cluster}/${r.seed.backupId}`);
    printResult(env, format, {
      json: () => ({ lane: r.lane, seed: r.seed, created: created(r.restore), restore: r.restore }),
      table: () => [`lane ${r.lane} reset to backup ${r.seed.cluster}/${r.seed.backupId}`, ...restoredLines(r.restore)],
    });
    nextSteps(env, format, opts.logger!, [`see the lane: ${kbakLine('lane', 'describe', r.lane, ...ledgerArgs(flags))}`]);
  });

  return [snapshot, clone, reset];
}
