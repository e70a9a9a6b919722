/**
 * `kbak lane list|describe|delete|gc`: the lanes recorded in the ledger on the target
 * cluster, and their removal. Deletion touches exactly the objects a lane owns (ledger +
 * lane templates, see src/lane/ownership.ts); `gc` is meant for a CronJob.
 */
import { Command } from 'commander';
import { loadSettings, type ConnectionFlags } from '../config/settings';
import { classifyError, PartialSuccessError, UsageError } from '../errors';
import { openKafka } from '../kafka';
import { expiredLanes } from '../lane/delete-plan';
import { deleteLane, overview, planDelete, readLanes, type LaneContext, type LaneDeleteResult } from '../lane/lifecycle';
import { LaneScope, laneTemplates } from '../lane/ownership';
import type { LedgerEntry } from '../lane/ledger';
import { RegistryClient } from '../schema/registry-client';
import type { CommandEnv } from './common';
import { addConnectionOptions } from './connection-options';
import { addLedgerOption, addTemplateOptions, ledgerTopic, type LaneFlags } from './lane-options';
import { table } from './source';

interface Flags extends ConnectionFlags, LaneFlags {
  json?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

function duration(ms: number): string {
  const abs = Math.abs(ms);
  const text = abs >= 86_400_000 ? `${(abs / 86_400_000).toFixed(1)}d` : abs >= 3_600_000 ? `${(abs / 3_600_000).toFixed(1)}h` : `${Math.round(abs / 60_000)}m`;
  return ms < 0 ? `expired ${text} ago` : text;
}

async function withLaneContext<T>(flags: Flags, env: CommandEnv, fn: (ctx: LaneContext) => Promise<T>): Promise<T> {
  const settings = loadSettings(flags, env.env);
  const logger = env.logger(flags.quiet);
  const kafka = openKafka(settings.kafka, logger);
  try {
    return await fn({ kafka, registry: settings.registry ? new RegistryClient(settings.registry) : null, logger, ledgerTopic: ledgerTopic(flags, env.env) });
  } catch (err) {
    throw classifyError(err, 'managing lanes');
  } finally {
    await kafka.close();
  }
}

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
  const lane = new Command('lane').description('list, inspect and delete the lanes recorded in the ledger on the target cluster');

  const list = new Command('list').description('the lanes in the ledger: seeded from, age, TTL left, topics, records, subjects, groups');
  addLedgerOption(list);
  addConnectionOptions(list);
  list.action(async (flags: Flags) => {
    await withLaneContext(flags, env, async (ctx) => {
      const read = await readLanes(ctx);
      const now = new Date();
      const lanes = [];
      for (const e of [...read.entries.values()].sort((a, b) => (a.lane < b.lane ? -1 : 1))) lanes.push(await overview(ctx, e, now));
      if (flags.json) {
        env.stdout(JSON.stringify({ ledgerTopic: ctx.ledgerTopic, lanes, invalidRecords: read.invalid }));
        return;
      }
      const rows = lanes.map((l) => [
        l.lane,
        l.state,
        l.seededFrom,
        duration(l.ageMs),
        l.ttlLeftMs === null ? '-' : duration(l.ttlLeftMs),
        String(l.topics),
        String(l.records),
        String(l.subjects),
        String(l.groups),
      ]);
      // Space-padded columns like kbak list (a tab inside a ledger name would be escaped, so no tab columns).
      print(env, table(['LANE', 'STATE', 'SEEDED FROM', 'AGE', 'TTL LEFT', 'TOPICS', 'RECORDS', 'SUBJECTS', 'GROUPS'], rows));
      for (const i of read.invalid) ctx.logger.warn(`${i.reason} (ignored)`);
    });
  });

  const describe = new Command('describe').description('everything the ledger records for one lane').argument('<lane>');
  addLedgerOption(describe);
  addConnectionOptions(describe);
  describe.action(async (name: string, flags: Flags) => {
    new LaneScope(name, laneTemplates({}));
    await withLaneContext(flags, env, async (ctx) => {
      const read = await readLanes(ctx);
      const bad = read.invalid.find((i) => i.key === name);
      if (bad) throw new UsageError(bad.reason, "the ledger record was not written by kbak; remove the lane's objects by hand");
      const entry = read.entries.get(name);
      if (!entry) throw new UsageError(`lane ${name} is not in the ledger ${ctx.ledgerTopic}`, 'kbak lane list shows the lanes');
      const o = await overview(ctx, entry, new Date());
      if (flags.json) {
        env.stdout(JSON.stringify({ ...entry, records: o.records, ttlLeftMs: o.ttlLeftMs }));
        return;
      }
      print(env, [
        `lane ${entry.lane} (${entry.state}), seeded from ${o.seededFrom} at ${entry.createdAt} by kbak ${entry.kbakVersion}`,
        `  TTL: ${o.ttlLeftMs === null ? 'none' : `${duration(o.ttlLeftMs)} (expires ${entry.expiresAt})`}, records: ${o.records}`,
        `  templates: topic ${entry.templates.topic}, subject ${entry.templates.subject}, group ${entry.templates.group}`,
        'topics:',
        ...entry.topics.map((t) => `  ${t.name} <- ${t.source} (topic ID ${t.id ?? 'not yet recorded'}${t.pending ? ', creation in progress' : ''})`),
        'subjects:',
        ...entry.subjects.map((s) => `  ${s.name} <- ${s.source} (versions ${s.versions.join(', ') || '-'})`),
        'consumer groups:',
        ...entry.groups.map((g) => `  ${g.name} <- ${g.source}`),
      ]);
    });
  });

  const del = new Command('delete')
    .description("delete a lane: exactly its ledger's topics, subjects (soft, then hard) and groups, then its ledger entry")
    .argument('<lane>')
    .option('--dry-run', 'show what would be deleted and change nothing')
    .option('--yes', 'really delete (required unless --dry-run)');
  addTemplateOptions(del);
  addLedgerOption(del);
  addConnectionOptions(del);
  del.action(async (name: string, flags: Flags) => {
    const scope = new LaneScope(name, laneTemplates(flags));
    if (!flags.dryRun && !flags.yes)
      throw new UsageError(
        `kbak lane delete ${name} deletes the lane's topics, subjects and groups`,
        'pass --yes to delete, or --dry-run to see what would be deleted',
      );
    const outcome = await withLaneContext(flags, env, async (ctx) => {
      const read = await readLanes(ctx);
      const bad = read.invalid.find((i) => i.key === name);
      if (bad) throw new UsageError(bad.reason, "the ledger record was not written by kbak; remove the lane's objects by hand");
      const entry = read.entries.get(name);
      if (!entry) {
        // Idempotent: a second delete finds nothing to do.
        env.stdout(flags.json ? JSON.stringify({ lane: name, found: false }) : `lane ${name} is not in the ledger ${ctx.ledgerTopic}: nothing to delete`);
        return null;
      }
      if (flags.dryRun) {
        const plan = await planDelete(ctx, entry, scope);
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
        return null;
      }
      const producer = await ctx.kafka.producer();
      try {
        const r = await deleteLane(ctx, producer, entry, scope);
        print(env, flags.json ? [JSON.stringify(r)] : deleteLines(r));
        return r;
      } finally {
        await producer.close();
      }
    });
    const p = outcome ? partial([outcome]) : null;
    if (p) throw p;
  });

  const gc = new Command('gc')
    .description('delete every expired lane (restored with --ttl); meant for a CronJob')
    .option('--dry-run', 'list the expired lanes and change nothing');
  addTemplateOptions(gc);
  addLedgerOption(gc);
  addConnectionOptions(gc);
  gc.action(async (flags: Flags) => {
    const templates = laneTemplates(flags);
    const results = await withLaneContext(flags, env, async (ctx) => {
      const read = await readLanes(ctx);
      const expired: LedgerEntry[] = expiredLanes(read.entries.values(), new Date());
      const out: LaneDeleteResult[] = [];
      const skipped: string[] = [];
      if (flags.dryRun) {
        env.stdout(
          flags.json
            ? JSON.stringify({ dryRun: true, expired: expired.map((e) => e.lane) })
            : `expired lanes: ${expired.map((e) => e.lane).join(', ') || 'none'}`,
        );
        return out;
      }
      const producer = await ctx.kafka.producer();
      try {
        for (const e of expired) {
          let scope: LaneScope;
          try {
            scope = new LaneScope(e.lane, templates);
            out.push(await deleteLane(ctx, producer, e, scope));
          } catch (err) {
            // One lane's problem (other templates, say) must not stop the others from being collected.
            if (!(err instanceof UsageError)) throw err;
            skipped.push(`lane ${e.lane}: ${err.oneLine()}`);
          }
        }
      } finally {
        await producer.close();
      }
      print(
        env,
        flags.json
          ? [JSON.stringify({ deleted: out.filter((r) => r.complete).map((r) => r.lane), results: out, skipped })]
          : [
              `expired lanes deleted: ${
                out
                  .filter((r) => r.complete)
                  .map((r) => r.lane)
                  .join(', ') || 'none'
              }`,
              ...out.filter((r) => !r.complete).flatMap(deleteLines),
              ...skipped.map((s) => `  skipped ${s}`),
            ],
      );
      if (skipped.length > 0)
        throw new PartialSuccessError(
          `${skipped.length} expired lanes were skipped: ${skipped.join('; ')}`,
          skipped.map((s) => ({ item: s.split(':')[0]!, error: s })),
        );
      return out;
    });
    const p = partial(results);
    if (p) throw p;
  });

  lane.addCommand(list);
  lane.addCommand(describe);
  lane.addCommand(del);
  lane.addCommand(gc);
  return lane;
}
