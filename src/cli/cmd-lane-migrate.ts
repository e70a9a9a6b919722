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
import { addConnectionOptions } from './connection-options';
import { addLedgerOption, addTemplateOptions, parseTtl, type LaneFlags } from './lane-options';
import { openSource } from './source';

interface Flags extends ConnectionFlags, LaneFlags {
  json?: boolean;
  quiet?: boolean;
  to?: string;
  source?: string;
  clusterName?: string;
  ttl?: string;
  concurrency?: number;
}

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
    ...r.topics.map((t) => `  ${t.lane} <- ${t.source} (${t.action}): ${t.records} records`),
    `  subjects: ${r.laneSubjects.join(', ') || 'none'}`,
    `  consumer groups: ${r.laneGroups.join(', ') || 'none'}`,
    ...(r.expiresAt ? [`  lane expires at ${r.expiresAt}`] : []),
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
}

function print(env: CommandEnv, lines: string[]): void {
  for (const l of lines) env.stdout(l);
}

function withCommon(cmd: Command): Command {
  addTemplateOptions(cmd);
  addLedgerOption(cmd);
  return addConnectionOptions(cmd);
}

export function laneMigrateCommands(env: CommandEnv, laneOptions: LaneOptionsFrom): Command[] {
  const snapshot = new Command('snapshot')
    .description("back up a lane's topics, subjects and groups under their base names (the lane recorded in the manifest)")
    .argument('<lane>')
    .option('--to <dest>', `destination: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--cluster-name <name>', `the snapshot's cluster folder (default ${snapshotClusterName('<lane>')}; never the lane's seed's)`);
  withCommon(snapshot).action(async (lane: string, flags: Flags) => {
    new LaneScope(lane, laneTemplates(flags));
    const store = openStore(flags.to ?? env.env.KBAK_DEST ?? DEFAULT_DESTINATION, loadSettings(flags, env.env).s3);
    const o = laneOptions(flags, env);
    const r = await snapshotLane({ ...o, ...templates(flags), lane, store, clusterName: flags.clusterName });
    if (o.logger) logCompletion(o.logger, { summary: r }, `lane ${r.lane} snapshot ${r.cluster}/${r.backupId} complete`);
    if (flags.json) {
      env.stdout(
        JSON.stringify({
          lane: r.lane,
          cluster: r.cluster,
          backupId: r.backupId,
          location: r.location,
          topics: r.topics,
          subjects: r.subjects,
          groups: r.groups,
        }),
      );
      return;
    }
    print(env, [
      `lane ${r.lane} snapshot: backup ${r.cluster}/${r.backupId} in ${r.location}`,
      `  topics: ${r.topics.map((t) => `${t.lane} -> ${t.base} (${t.records} records)`).join(', ')}`,
      `  subjects: ${pairs(r.subjects)}`,
      `  consumer groups: ${pairs(r.groups)}`,
      `  restore it into lane Y: kbak restore --lane Y --source ${r.location} --name ${r.cluster} --from ${r.backupId}`,
    ]);
  });

  const clone = new Command('clone')
    .description('copy a lane into a new lane (a snapshot under base names, restored): <to>.orders, never nested')
    .argument('<lane>')
    .argument('<to>')
    .option('--to-store <dest>', 'keep the snapshot in this store (then kbak lane reset <to> --source <dest> works); default: a temporary folder, removed')
    .option('--cluster-name <name>', `the snapshot's cluster folder (default ${snapshotClusterName('<lane>')})`)
    .option('--ttl <duration>', 'the new lane expires after this long (e.g. 72h)')
    .option('--concurrency <n>', 'partitions written at once', positiveInt('--concurrency'));
  withCommon(clone).action(async (lane: string, to: string, flags: Flags & { toStore?: string }) => {
    new LaneScope(lane, laneTemplates(flags));
    new LaneScope(to, laneTemplates(flags));
    const ttlMs = parseTtl(flags.ttl);
    const store = flags.toStore ? openStore(flags.toStore, loadSettings(flags, env.env).s3) : undefined;
    const o = laneOptions(flags, env);
    const r = await cloneLane({
      ...o,
      ...templates(flags),
      lane,
      to,
      store,
      clusterName: flags.clusterName,
      ttlMs,
      concurrency: flags.concurrency,
    });
    if (o.logger) logCompletion(o.logger, { summary: r }, `lane ${r.lane} cloned into lane ${r.to}`);
    const snap = r.snapshot;
    if (flags.json) {
      env.stdout(
        JSON.stringify({
          lane: r.lane,
          to: r.to,
          snapshot: { cluster: snap.cluster, backupId: snap.backupId, location: snap.kept ? snap.location : null, kept: snap.kept },
          created: created(r.restore),
          restore: r.restore,
        }),
      );
      return;
    }
    print(env, [
      `lane ${r.lane} cloned into lane ${r.to} (snapshot ${snap.cluster}/${snap.backupId}${snap.kept ? ` kept in ${snap.location}` : ', temporary, removed'})`,
      ...restoredLines(r.restore),
    ]);
  });

  const reset = new Command('reset')
    .description("replace a lane's topics with what it was seeded from (the backup its ledger entry names); keeps its expiry")
    .argument('<lane>')
    .option('--source <dest>', `the store that holds the seed: a folder, file:///path or s3://bucket/prefix (env KBAK_DEST, default ${DEFAULT_DESTINATION})`)
    .option('--concurrency <n>', 'partitions written at once', positiveInt('--concurrency'));
  withCommon(reset).action(async (lane: string, flags: Flags) => {
    new LaneScope(lane, laneTemplates(flags));
    const store = openSource(flags, env);
    await store.check();
    const o = laneOptions(flags, env);
    const r = await resetLane({ ...o, ...templates(flags), lane, store, concurrency: flags.concurrency });
    if (o.logger) logCompletion(o.logger, { summary: r }, `lane ${r.lane} reset to backup ${r.seed.cluster}/${r.seed.backupId}`);
    if (flags.json) {
      env.stdout(JSON.stringify({ lane: r.lane, seed: r.seed, created: created(r.restore), restore: r.restore }));
      return;
    }
    print(env, [`lane ${r.lane} reset to backup ${r.seed.cluster}/${r.seed.backupId}`, ...restoredLines(r.restore)]);
  });

  return [snapshot, clone, reset];
}
