/**
 * `kbak lane list|describe|delete|gc`: the lanes recorded in the ledger on the target
 * cluster, and their removal. Deletion touches exactly the objects a lane owns (ledger +
 * lane templates, see src/lane/ownership.ts); `gc` is meant for a CronJob.
 *
 * Exit codes (README "Exit codes"): a lane not in the ledger 3 (delete: 0 with
 * --ignore-not-found), a delete that left objects it does not own alone 6, a delete that
 * could not remove everything (active consumers) or a gc that skipped lanes 7.
 */
import { Command } from 'commander';
import { deleteLane, describeLane, gcLanes, laneNames, laneNotFound, listLanes, type LaneOptions, type LaneTemplateOptions } from '../api';
import { loadSettings, type ConnectionFlags } from '../config/settings';
import { PartialSuccessError, SafetyError, UsageError } from '../errors';
import type { LaneDeleteResult } from '../lane/lifecycle';
import { LaneScope, laneTemplates } from '../lane/ownership';
import type { CommandEnv } from './common';
import { addServiceOptions, kafkaOptions } from './connection-options';
import { addLedgerOption, addTemplateOptions, ledgerArgs, ledgerTopic, type LaneFlags } from './lane-options';
import { laneMigrateCommands } from './cmd-lane-migrate';
import { laneDeleteLines, laneDeletePlanLines, laneDescribeLines, laneGcPlanLines, laneListLines } from './lane-view';
import { kbakLine, nextSteps, sameCommandWith } from './next-step';
import { addOutputOptions, outputFormat, type OutputFlags, type OutputSpec } from './output-options';
import { printResult } from './print-result';
import { plural } from '../output/words';
import { addExamples } from './help';
import { logCompletion } from '../output/logger';

interface Flags extends ConnectionFlags, LaneFlags, OutputFlags {
  dryRun?: boolean;
  yes?: boolean;
  ignoreNotFound?: boolean;
}

/**
 * The lane commands talk to Kafka (the ledger, the lane's topics and groups), never to a
 * store; delete and gc also to the registry (the lane's subjects). list and describe read the
 * ledger and the topics only.
 */
const READ_SERVICES = { kafka: true };
const DELETE_SERVICES = { kafka: true, registry: true };

const notInLedger = (lane: string, ledgerTopic: string): string => `lane ${lane} is not in the ledger ${ledgerTopic}`;

const LIST: OutputSpec = { formats: ['table', 'json', 'wide', 'name'] };
const ONE: OutputSpec = { formats: ['table', 'json'] };
/** gc: -o name lists the lanes it deleted (or, with --dry-run, would delete). */
const GC: OutputSpec = { formats: ['table', 'json', 'name'] };

/** A lane the ledger lacks, with the close names it has (read again: this is the error path only). */
async function notFound(name: string, opts: LaneOptions & { ledgerTopic: string }, hint?: string): Promise<Error> {
  return laneNotFound(name, opts.ledgerTopic, await laneNames(opts), hint);
}

/** For a failed lane seeded from `seededFrom` ("cluster/backupId"): the two ways on, as commands. */
export function failedLaneSteps(lane: string, seededFrom: string, flags: LaneFlags): string[] {
  const slash = seededFrom.indexOf('/');
  return [
    `resume it: ${kbakLine('restore', '--lane', lane, '--resume', '--source', '<backups>', '--name', seededFrom.slice(0, slash), '--from', seededFrom.slice(slash + 1), ...ledgerArgs(flags))}`,
    `or delete it: ${kbakLine('lane', 'delete', lane, '--dry-run', ...ledgerArgs(flags))}`,
  ];
}

/** The library's lane options from the flags, KBAK_* variables and config file. */
function laneOptions(flags: Flags, env: CommandEnv): LaneOptions & { ledgerTopic: string } {
  const settings = loadSettings(flags, env.env);
  const logger = env.logger(flags.quiet);
  return {
    kafka: kafkaOptions(settings.kafka),
    registry: settings.registry ?? null,
    logger,
    ledgerTopic: ledgerTopic(flags, env.env),
    signal: env.signal,
  };
}

const templateOptions = (flags: LaneFlags): LaneTemplateOptions => ({
  topicTemplate: flags.topicTemplate,
  subjectTemplate: flags.subjectTemplate,
  groupTemplate: flags.groupTemplate,
});

/** What a delete left alone because the lane does not own it (a name someone else recreated, say). */
function refused(results: LaneDeleteResult[]): SafetyError | null {
  const alone = results.flatMap((r) => r.leftAlone);
  if (alone.length === 0) return null;
  return new SafetyError(
    `lane delete left ${alone.length === 1 ? 'an object' : plural(alone.length, 'object')} it does not own alone: ${alone.map((x) => x.reason).join('; ')}`,
    'kbak deletes only what the lane owns; remove the others by hand if they are not needed',
  );
}

function partial(results: LaneDeleteResult[]): PartialSuccessError | null {
  const failures = results.flatMap((r) => r.remaining.map((x) => ({ item: x.name, error: x.reason })));
  if (failures.length === 0) return null;
  return new PartialSuccessError(
    `lane delete is partial: ${failures.map((f) => f.error).join('; ')}`,
    failures,
    'stop the consumers of those groups and run the command again',
  );
}

export function laneCommand(env: CommandEnv): Command {
  const lane = new Command('lane').description('list, inspect, delete, snapshot, clone and reset the lanes recorded in the ledger on the target cluster');

  const list = new Command('list').description('the lanes in the ledger: seeded from, age, TTL left, topics, records, subjects, groups');
  addLedgerOption(list);
  addOutputOptions(list, LIST);
  addServiceOptions(list, READ_SERVICES);
  addExamples(list, [
    ['the lanes of the local stack', 'kbak lane list'],
    ['the same as one JSON object', 'kbak lane list --json'],
  ]);
  list.action(async (flags: Flags) => {
    const format = outputFormat(flags, LIST);
    const opts = laneOptions(flags, env);
    const { ledgerTopic: ledger, lanes, invalidRecords } = await listLanes(opts);
    printResult(env, format, {
      json: () => ({ ledgerTopic: ledger, lanes, invalidRecords }),
      table: () => laneListLines(ledger, lanes),
      wide: () => laneListLines(ledger, lanes, true),
      name: () => lanes.map((l) => l.lane),
    });
    if (format === 'json') return;
    for (const i of invalidRecords) opts.logger!.warn(`${i.reason} (ignored)`);
    const failed = lanes.find((l) => l.state === 'failed');
    nextSteps(
      env,
      format,
      opts.logger!,
      lanes.length === 0
        ? [`seed one: ${kbakLine('restore', '--lane', '<lane>', '--source', '<backups>', ...ledgerArgs(flags))}`]
        : failed
          ? failedLaneSteps(failed.lane, failed.seededFrom, flags)
          : [`see one: ${kbakLine('lane', 'describe', lanes[0]!.lane, ...ledgerArgs(flags))}`],
    );
  });

  const describe = new Command('describe').description('everything the ledger records for one lane').argument('<lane>');
  addLedgerOption(describe);
  addOutputOptions(describe, ONE);
  addServiceOptions(describe, READ_SERVICES);
  addExamples(describe, [
    ['what the ledger records for lane feature-x', 'kbak lane describe feature-x'],
    ['the same as one JSON object', 'kbak lane describe feature-x --json'],
  ]);
  describe.action(async (name: string, flags: Flags) => {
    const format = outputFormat(flags, ONE);
    new LaneScope(name, laneTemplates({}));
    const opts = laneOptions(flags, env);
    const found = await describeLane({ ...opts, lane: name });
    if (!found) throw await notFound(name, opts);
    const { entry, overview: o } = found;
    printResult(env, format, {
      json: () => ({ ...entry, records: o.records, ttlLeftMs: o.ttlLeftMs, effectiveState: o.state, next: o.next }),
      table: () => laneDescribeLines(entry, o),
    });
    nextSteps(
      env,
      format,
      opts.logger!,
      o.state === 'failed' ? failedLaneSteps(name, o.seededFrom, flags) : [`delete it: ${kbakLine('lane', 'delete', name, '--dry-run', ...ledgerArgs(flags))}`],
    );
  });

  const del = new Command('delete')
    .description("delete a lane: exactly its ledger's topics, subjects (soft, then hard) and groups, then its ledger entry")
    .argument('<lane>')
    .option('--dry-run', 'show what would be deleted and change nothing')
    .option('--yes', 'really delete (required unless --dry-run)')
    .option('--ignore-not-found', 'a lane not in the ledger is not an error (exit 0): for teardown scripts that may run twice');
  addTemplateOptions(del);
  addLedgerOption(del);
  addOutputOptions(del, ONE);
  addServiceOptions(del, DELETE_SERVICES);
  addExamples(del, [
    ['what deleting lane feature-x would remove', 'kbak lane delete feature-x --dry-run'],
    ['delete it', 'kbak lane delete feature-x --yes'],
    ['in a teardown script that may run twice', 'kbak lane delete feature-x --yes --ignore-not-found'],
  ]);
  del.action(async (name: string, flags: Flags, command: Command) => {
    const format = outputFormat(flags, ONE);
    new LaneScope(name, laneTemplates(flags));
    if (!flags.dryRun && !flags.yes)
      throw new UsageError(
        `kbak lane delete ${name} deletes the lane's topics, subjects and groups`,
        'pass --yes to delete, or --dry-run to see what would be deleted',
      );
    const opts = laneOptions(flags, env);
    const outcome = await deleteLane({ ...opts, ...templateOptions(flags), lane: name, dryRun: Boolean(flags.dryRun) });
    if (!outcome.found) {
      // A typo must not pass in a script; a teardown that may run twice says so.
      if (!flags.ignoreNotFound) throw await notFound(name, opts, 'kbak lane list shows the lanes; --ignore-not-found makes this exit 0');
      printResult(env, format, {
        json: () => ({ lane: name, found: false }),
        table: () => [`${notInLedger(name, opts.ledgerTopic)}: nothing to delete (--ignore-not-found)`],
      });
      return;
    }
    if (outcome.dryRun) {
      const plan = outcome.plan;
      printResult(env, format, { json: () => ({ dryRun: true, ...plan }), table: () => laneDeletePlanLines(plan) });
      nextSteps(env, format, opts.logger!, [`delete it: ${sameCommandWith(command, ['--yes'])}`]);
      return;
    }
    printResult(env, format, { json: () => outcome.result, table: () => laneDeleteLines(outcome.result) });
    // What is left to retry (7) before what needs a person's look (6).
    const p = partial([outcome.result]) ?? refused([outcome.result]);
    if (p) throw p;
    // Piped (a job's log), the run ends with one JSON summary line; a terminal has the table.
    logCompletion(opts.logger!, { result: outcome.result }, `lane ${name} deleted`);
  });

  const gc = new Command('gc')
    .description('delete every expired lane (restored with --ttl); meant for a CronJob')
    .option('--dry-run', 'list the expired lanes and change nothing');
  addTemplateOptions(gc);
  addLedgerOption(gc);
  addOutputOptions(gc, GC);
  addServiceOptions(gc, DELETE_SERVICES);
  addExamples(gc, [
    ['the expired lanes, deleting nothing', 'kbak lane gc --dry-run'],
    ['delete them (a CronJob runs this)', 'kbak lane gc'],
  ]);
  gc.action(async (flags: Flags, command: Command) => {
    const format = outputFormat(flags, GC);
    const opts = laneOptions(flags, env);
    const r = await gcLanes({ ...opts, ...templateOptions(flags), dryRun: Boolean(flags.dryRun) });
    if (flags.dryRun) {
      printResult(env, format, {
        json: () => ({ dryRun: true, expired: r.expired, failed: r.failed }),
        table: () => laneGcPlanLines(r.expired, r.failed),
        name: () => r.expired,
      });
      if (r.expired.length > 0) nextSteps(env, format, opts.logger!, [`delete them: ${sameCommandWith(command, [])}`]);
      return;
    }
    const deleted = r.results.filter((x) => x.complete).map((x) => x.lane);
    printResult(env, format, {
      json: () => ({ deleted, results: r.results, skipped: r.skipped, failed: r.failed }),
      table: () => [
        deleted.length === 0 ? 'no expired lane deleted' : `expired lanes deleted: ${deleted.join(', ')}`,
        ...r.results.filter((x) => !x.complete).flatMap(laneDeleteLines),
        ...r.skipped.map((s) => `  skipped ${s}`),
        ...r.failed.map((l) => `  lane ${l} failed: its restore is gone (kbak lane describe ${l} says what to do)`),
      ],
      name: () => deleted,
    });
    if (r.failed.length > 0) nextSteps(env, format, opts.logger!, [`see what to do: ${kbakLine('lane', 'describe', r.failed[0]!, ...ledgerArgs(flags))}`]);
    if (r.skipped.length > 0)
      throw new PartialSuccessError(
        `${plural(r.skipped.length, 'expired lane was', 'expired lanes were')} skipped: ${r.skipped.join('; ')}`,
        r.skipped.map((s) => ({ item: s.split(':')[0]!, error: s })),
      );
    const p = partial(r.results) ?? refused(r.results);
    if (p) throw p;
    logCompletion(opts.logger!, { deleted, failed: r.failed }, `lane gc complete: ${plural(deleted.length, 'expired lane')} deleted`);
  });

  lane.addCommand(list);
  lane.addCommand(describe);
  lane.addCommand(del);
  lane.addCommand(gc);
  // snapshot, clone, reset: src/cli/cmd-lane-migrate.ts.
  for (const c of laneMigrateCommands(env, laneOptions)) lane.addCommand(c);
  return addExamples(lane, [
    ['the lanes of the local stack', 'kbak lane list'],
    ['what deleting lane feature-x would remove', 'kbak lane delete feature-x --dry-run'],
  ]);
}
