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
import { deleteLane, describeLane, gcLanes, listLanes, type LaneOptions, type LaneTemplateOptions } from '../api';
import { loadSettings, type ConnectionFlags } from '../config/settings';
import { NotFoundError, PartialSuccessError, SafetyError, UsageError } from '../errors';
import type { LaneDeleteResult } from '../lane/lifecycle';
import { LaneScope, laneTemplates } from '../lane/ownership';
import type { CommandEnv } from './common';
import { addConnectionOptions, kafkaOptions } from './connection-options';
import { addLedgerOption, addTemplateOptions, ledgerTopic, type LaneFlags } from './lane-options';
import { laneMigrateCommands } from './cmd-lane-migrate';
import { laneDescribeLines, laneListLines } from './lane-view';
import { addExamples } from './help';

interface Flags extends ConnectionFlags, LaneFlags {
  json?: boolean;
  quiet?: boolean;
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

function deleteLines(r: LaneDeleteResult): string[] {
  const lines = [`lane ${r.lane}: ${r.complete ? 'deleted' : 'partially deleted'}`];
  lines.push(`  topics deleted: ${r.deleted.topics.join(', ') || 'none'}`);
  lines.push(`  subjects deleted: ${r.deleted.subjects.join(', ') || 'none'}`);
  lines.push(`  groups deleted: ${r.deleted.groups.join(', ') || 'none'}`);
  if (r.gone.length > 0) lines.push(`  already gone: ${r.gone.join(', ')}`);
  for (const x of r.leftAlone) lines.push(`  left alone: ${x.reason}`);
  for (const x of r.remaining) lines.push(`  remaining: ${x.reason}`);
  return lines;
}

/** One stdout call per line: stdout escapes each whole, so names from the ledger cannot start a line. */
function print(env: CommandEnv, lines: string[]): void {
  for (const l of lines) env.stdout(l);
}

/** What a delete left alone because the lane does not own it (a name someone else recreated, say). */
function refused(results: LaneDeleteResult[]): SafetyError | null {
  const alone = results.flatMap((r) => r.leftAlone);
  if (alone.length === 0) return null;
  return new SafetyError(
    `lane delete left ${alone.length === 1 ? 'an object' : `${alone.length} objects`} it does not own alone: ${alone.map((x) => x.reason).join('; ')}`,
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
  addConnectionOptions(list, READ_SERVICES);
  addExamples(list, [
    ['the lanes of the local stack', 'kbak lane list'],
    ['the same as one JSON object', 'kbak lane list --json'],
  ]);
  list.action(async (flags: Flags) => {
    const opts = laneOptions(flags, env);
    const { ledgerTopic: ledger, lanes, invalidRecords } = await listLanes(opts);
    if (flags.json) {
      env.stdout(JSON.stringify({ ledgerTopic: ledger, lanes, invalidRecords }));
      return;
    }
    print(env, laneListLines(ledger, lanes));
    for (const i of invalidRecords) opts.logger!.warn(`${i.reason} (ignored)`);
  });

  const describe = new Command('describe').description('everything the ledger records for one lane').argument('<lane>');
  addLedgerOption(describe);
  addConnectionOptions(describe, READ_SERVICES);
  addExamples(describe, [
    ['what the ledger records for lane feature-x', 'kbak lane describe feature-x'],
    ['the same as one JSON object', 'kbak lane describe feature-x --json'],
  ]);
  describe.action(async (name: string, flags: Flags) => {
    new LaneScope(name, laneTemplates({}));
    const opts = laneOptions(flags, env);
    const found = await describeLane({ ...opts, lane: name });
    if (!found) throw new NotFoundError(notInLedger(name, opts.ledgerTopic), 'kbak lane list shows the lanes');
    const { entry, overview: o } = found;
    if (flags.json) {
      env.stdout(JSON.stringify({ ...entry, records: o.records, ttlLeftMs: o.ttlLeftMs, effectiveState: o.state, next: o.next }));
      return;
    }
    print(env, laneDescribeLines(entry, o));
  });

  const del = new Command('delete')
    .description("delete a lane: exactly its ledger's topics, subjects (soft, then hard) and groups, then its ledger entry")
    .argument('<lane>')
    .option('--dry-run', 'show what would be deleted and change nothing')
    .option('--yes', 'really delete (required unless --dry-run)')
    .option('--ignore-not-found', 'a lane not in the ledger is not an error (exit 0): for teardown scripts that may run twice');
  addTemplateOptions(del);
  addLedgerOption(del);
  addConnectionOptions(del, DELETE_SERVICES);
  addExamples(del, [
    ['what deleting lane feature-x would remove', 'kbak lane delete feature-x --dry-run'],
    ['delete it', 'kbak lane delete feature-x --yes'],
    ['in a teardown script that may run twice', 'kbak lane delete feature-x --yes --ignore-not-found'],
  ]);
  del.action(async (name: string, flags: Flags) => {
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
      if (!flags.ignoreNotFound)
        throw new NotFoundError(notInLedger(name, opts.ledgerTopic), 'kbak lane list shows the lanes; --ignore-not-found makes this exit 0');
      env.stdout(flags.json ? JSON.stringify({ lane: name, found: false }) : `${notInLedger(name, opts.ledgerTopic)}: nothing to delete (--ignore-not-found)`);
      return;
    }
    if (outcome.dryRun) {
      const plan = outcome.plan;
      print(
        env,
        flags.json
          ? [JSON.stringify({ dryRun: true, ...plan })]
          : [
              `lane ${name}: would delete (dry run: nothing is changed)`,
              `  topics: ${plan.topics.join(', ') || 'none'}`,
              `  subjects: ${plan.subjects.join(', ') || 'none'}`,
              `  groups: ${plan.groups.join(', ') || 'none'}`,
              ...plan.activeGroups.map((g) => `  cannot delete now: consumer group ${g.name} has ${g.members} active members`),
              ...plan.gone.map((g) => `  already gone: ${g}`),
              ...plan.leftAlone.map((x) => `  left alone: ${x.reason}`),
            ],
      );
      return;
    }
    print(env, flags.json ? [JSON.stringify(outcome.result)] : deleteLines(outcome.result));
    // What is left to retry (7) before what needs a person's look (6).
    const p = partial([outcome.result]) ?? refused([outcome.result]);
    if (p) throw p;
  });

  const gc = new Command('gc')
    .description('delete every expired lane (restored with --ttl); meant for a CronJob')
    .option('--dry-run', 'list the expired lanes and change nothing');
  addTemplateOptions(gc);
  addLedgerOption(gc);
  addConnectionOptions(gc, DELETE_SERVICES);
  addExamples(gc, [
    ['the expired lanes, deleting nothing', 'kbak lane gc --dry-run'],
    ['delete them (a CronJob runs this)', 'kbak lane gc'],
  ]);
  gc.action(async (flags: Flags) => {
    const r = await gcLanes({ ...laneOptions(flags, env), ...templateOptions(flags), dryRun: Boolean(flags.dryRun) });
    if (flags.dryRun) {
      env.stdout(
        flags.json
          ? JSON.stringify({ dryRun: true, expired: r.expired, failed: r.failed })
          : `expired lanes: ${r.expired.join(', ') || 'none'}; lanes whose restore is gone: ${r.failed.join(', ') || 'none'}`,
      );
      return;
    }
    const deleted = r.results.filter((x) => x.complete).map((x) => x.lane);
    print(
      env,
      flags.json
        ? [JSON.stringify({ deleted, results: r.results, skipped: r.skipped, failed: r.failed })]
        : [
            `expired lanes deleted: ${deleted.join(', ') || 'none'}`,
            ...r.results.filter((x) => !x.complete).flatMap(deleteLines),
            ...r.skipped.map((s) => `  skipped ${s}`),
            ...r.failed.map((l) => `  lane ${l} failed: its restore is gone (kbak lane describe ${l} says what to do)`),
          ],
    );
    if (r.skipped.length > 0)
      throw new PartialSuccessError(
        `${r.skipped.length} expired lanes were skipped: ${r.skipped.join('; ')}`,
        r.skipped.map((s) => ({ item: s.split(':')[0]!, error: s })),
      );
    const p = partial(r.results) ?? refused(r.results);
    if (p) throw p;
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
