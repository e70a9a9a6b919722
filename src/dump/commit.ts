/**
 * The commit phase of a dump: the schemas the records need (with those of the backups an
 * incremental dump continues), the manifest (manifest-build.ts), checked as a reader will
 * check it, and written last: the PUT of the manifest is the moment the backup exists.
 */
import type { AclBinding } from '../backup/acls';
import { buildManifest, type DumpedTopic } from '../backup/manifest-build';
import { manifestKey } from '../backup/layout';
import { encodeManifest, manifestSchema, type GroupEntry, type Manifest } from '../backup/manifest';
import { redactUrl } from '../config/settings';
import { IntegrityError, InternalError } from '../errors';
import { manifestRuleViolation } from '../backup/rules';
import type { TimeWindow } from '../model/window';
import type { Logger } from '../output/logger';
import type { SchemaCollector } from '../schema/collect';
import type { RegistryClient } from '../schema/registry-client';
import type { StoreLock } from '../backup/lock';
import type { ObjectStore } from '../store/store';
import { TOOL_VERSION } from '../version';
import { mergeSchemas, type Continued } from './incremental';
import { storedGroups, storedSchemas, type StoredNames } from './naming';
import type { BackupName, DumpPlan } from './plan';
import { plural } from '../output/words';

export interface CommitContext {
  store: ObjectStore;
  registry: RegistryClient | null;
  logger: Logger;
  now: () => Date;
}

export interface CommitInput {
  plan: DumpPlan;
  name: BackupName;
  started: Date;
  window: TimeWindow;
  maxRecordsPerPartition: number | null;
  /** Every dumped topic with what its partitions' sinks wrote (DumpPartitions.dumped, or a sharded dump's merge). */
  topics: DumpedTopic[];
  continued: Continued;
  schemas: SchemaCollector;
  groups: GroupEntry[];
  /** The lock the dump holds: checked just before the manifest is written. */
  lock: StoreLock;
  /** The names to store under (a lane snapshot's base names), or null for the source's own. */
  names: StoredNames | null;
  /** The ACL bindings captured (acls.ts), or null when they were not. */
  acls: AclBinding[] | null;
  /** Write the manifest only if none is there (a sharded dump's finalisers may race); false when another was first. */
  ifAbsent?: boolean;
}

export async function commitBackup(ctx: CommitContext, input: CommitInput): Promise<Manifest | null> {
  const { logger, registry } = ctx;
  const names = input.names;
  const resolved = await input.schemas.resolve(registry, new Set(input.plan.topics.map((t) => t.name)), names ? (s) => names.subject(s) !== null : undefined);
  const collected = mergeSchemas(input.continued.bases, names ? storedSchemas(resolved, names) : resolved);
  if (collected.framedPayloadsWithUnknownId > 0) {
    logger.warn(
      { ids: collected.unknownIds, payloads: collected.framedPayloadsWithUnknownId },
      registry
        ? `${plural(collected.framedPayloadsWithUnknownId, 'payload starts', 'payloads start')} with a Confluent header whose schema ID the registry does not know; kept as raw bytes`
        : `${plural(collected.framedPayloadsWithUnknownId, 'payload looks', 'payloads look')} Confluent-framed but no schema registry is configured; schemas not backed up (configure a schema registry)`,
    );
  }
  const { name } = input;
  const manifest = buildManifest({
    backupId: name.backupId,
    cluster: { id: input.plan.clusterId, name: name.cluster },
    startedAt: input.started,
    cutTime: input.plan.cutTime,
    completedAt: ctx.now(),
    window: input.window,
    maxRecordsPerPartition: input.maxRecordsPerPartition,
    registryUrl: registry ? redactUrl(registry.url) : null,
    topics: input.topics,
    schemas: collected,
    consumerGroups: names ? storedGroups(input.groups, names) : input.groups,
    toolVersion: TOOL_VERSION,
    lane: names?.lane ?? null,
    acls: input.acls,
  });
  // A backup kbak could not read back must never become visible.
  const valid = manifestSchema.safeParse(manifest);
  if (!valid.success) throw new InternalError(`the manifest is invalid at ${valid.error.issues[0]?.path.join('.')}: ${valid.error.issues[0]?.message}`);
  // And by the rules a reader applies: a sharded dump's manifest is merged from partials others wrote.
  const broken = manifestRuleViolation(manifest, { cluster: name.cluster, backupId: name.backupId });
  if (broken !== null) throw new IntegrityError(`the manifest of backup ${name.backupId} would be refused by readers: ${broken}`);
  // The commit point: until this PUT succeeds the backup does not exist for readers.
  await input.lock.check();
  const key = manifestKey(name.cluster, name.backupId);
  if (input.ifAbsent) return (await ctx.store.putIfAbsent(key, encodeManifest(manifest))) ? manifest : null;
  await ctx.store.put(key, encodeManifest(manifest));
  return manifest;
}
