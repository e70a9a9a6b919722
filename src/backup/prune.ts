/**
 * `kbak prune`: forget the backups a retention policy does not keep, then delete the
 * objects no kept backup needs. Under the cluster's exclusive lock, in this order:
 * manifests first (a half-deleted backup is invisible), then segments of the shared pool
 * that no kept manifest names, then the objects in removed (and manifest-less) v1 backup
 * folders. Never touches a key a kept manifest names, locks, or objects outside the cluster
 * folder's backup layout. Objects no manifest names at all are leftovers of interrupted
 * dumps: they go only when their dump is over (leftovers.ts says when), and a cluster that
 * holds nothing but leftovers is found and pruned too.
 *
 * Listed names are untrusted (a shared store holds whatever anyone put there): each is
 * compared as the exact string it was listed as, and one that is not a valid key (FORMAT.md,
 * "Key safety": a `\`, a control character, an empty component) is skipped with a warning:
 * never deleted, never a reason for the whole prune to fail. Retention decides from backup
 * IDs, never from manifest content (see retention.ts).
 */
import { listBackups, loadBackup, type Backup } from './catalog';
import { keySyntaxProblem } from './keys';
import { backupIdTime, isBackupId, LOCKS_DIR, manifestKey, MANIFEST_NAME, PLANS_DIR, planKey, SEGMENTS_DIR } from './layout';
import { livePlanUntil, MAX_PLAN_BYTES } from './shard-plan';
import { dumpOfHolder, leftoverVerdict, leftoverWriter, type LeftoverGroup, type LiveLocks } from './leftovers';
import { applyRetention, KEPT_FUTURE, KEPT_UNDATED, MAX_CLOCK_SKEW_MS, type RetentionPolicy } from './retention';
import { IntegrityError, UsageError } from '../errors';
import type { Logger } from '../output/logger';
import { escapeControl } from '../output/safe-text';
import { isStale, listLocks, StoreLock } from './lock';
import { byteOrder } from '../model/byte-order';
import type { ObjectStore } from '../store/store';

export interface PruneResult {
  cluster: string;
  kept: Array<{ id: string; reasons: string[] }>;
  removed: string[];
  deletedObjects: number;
  deletedBytes: number;
  keptSegments: number;
  /** Per removed backup (as `removed`): its manifest and the objects deleted with it. */
  removedBackups: Array<{ id: string; objects: number; bytes: number }>;
  /** Objects no manifest names, per dump that wrote them (the leftovers of interrupted dumps), and whether they go. */
  leftovers: LeftoverGroup[];
  /** Listed names in the backup layout that are not valid keys: skipped, never deleted. */
  skippedNames: number;
  dryRun: boolean;
}

export interface PruneOptions {
  policy: RetentionPolicy;
  dryRun: boolean;
  lockWaitMs: number;
  logger: Logger;
  /** The clock retention compares backup IDs with (default Date.now). */
  now?: () => number;
}

/** How much of a lock's holder a leftover's reason quotes. */
const MAX_HOLDER_CHARS = 80;

/** Warnings about skipped names: the first few one by one, then one count, so a store full of junk cannot flood the log. */
const NAMED_WARNINGS = 10;

class SkippedNames {
  count = 0;
  constructor(private readonly logger: Logger) {}

  skip(name: string, why: string): void {
    this.count++;
    if (this.count <= NAMED_WARNINGS)
      this.logger.warn(`skipping ${escapeControl(JSON.stringify(name))}: ${why}; prune never deletes or opens it (remove it by hand if it is not yours)`);
  }

  /** Once, at the end. */
  report(where: string): void {
    if (this.count > NAMED_WARNINGS) this.logger.warn(`skipped ${this.count} names in ${where} that are not valid keys (${NAMED_WARNINGS} named above)`);
  }
}

/** A cluster named on the command line, checked before it becomes part of a store key. */
export function checkClusterFolder(name: string): string {
  const why = name.includes('/') ? 'it holds a "/"' : keySyntaxProblem(name);
  if (why !== null)
    throw new UsageError(`cluster ${escapeControl(JSON.stringify(name))} is not a cluster folder name: ${why}`, 'pass the cluster name that kbak list shows', {
      options: ['cluster'],
    });
  return name;
}

/**
 * The clusters to prune: `only` (checked), or every cluster folder that holds something of
 * the backup layout: a backup folder, the segment pool or locks, so that a cluster whose
 * only dump was interrupted (segments, no manifest) is found too. A folder whose name is not
 * a valid key component is skipped with a warning: its keys could not be used as listed
 * (`a\\b` is refused on disk, not read as `a/b`).
 */
export async function clusterFolders(store: ObjectStore, only: string | undefined, logger: Logger): Promise<string[]> {
  if (only !== undefined) return [checkClusterFolder(only)];
  const skipped = new SkippedNames(logger);
  const found = new Set<string>();
  for await (const key of store.list('')) {
    const parts = key.split('/');
    if (parts.length < 3) continue;
    const second = parts[1]!;
    if (second === SEGMENTS_DIR || second === LOCKS_DIR || second === PLANS_DIR || isBackupId(second)) found.add(parts[0]!);
  }
  const names = [...found].sort(byteOrder);
  for (const c of names) {
    const why = keySyntaxProblem(c);
    if (why !== null) skipped.skip(`${c}/`, `a cluster folder name must be a valid key component (${why})`);
  }
  skipped.report(store.location);
  return names.filter((c) => keySyntaxProblem(c) === null);
}

export async function prune(store: ObjectStore, cluster: string | undefined, opts: PruneOptions): Promise<PruneResult[]> {
  const results: PruneResult[] = [];
  for (const c of await clusterFolders(store, cluster, opts.logger)) {
    const lock = opts.dryRun ? null : await StoreLock.acquire(store, c, 'exclusive', { holder: 'kbak prune', waitMs: opts.lockWaitMs, logger: opts.logger });
    try {
      results.push(await pruneCluster(store, c, opts, lock));
    } finally {
      await lock?.release();
    }
  }
  return results;
}

async function pruneCluster(store: ObjectStore, cluster: string, opts: PruneOptions, lock: StoreLock | null): Promise<PruneResult> {
  const refs = await listBackups(store, cluster);
  const backups: Backup[] = [];
  for (const ref of refs) {
    try {
      backups.push(await loadBackup(store, ref));
    } catch (err) {
      // Without its manifest we cannot know which segments it needs: deleting anything could break it.
      throw new IntegrityError(
        `cannot prune ${cluster}: ${(err as Error).message}`,
        'verify the store, and move the broken backup aside (or delete its manifest.json) before pruning',
        { cause: err },
      );
    }
  }
  const keep = applyRetention(
    backups.map((b) => ({ id: b.ref.backupId, time: backupIdTime(b.ref.backupId) })),
    opts.policy,
    (opts.now ?? Date.now)(),
  );
  for (const [id, reasons] of keep) {
    if (reasons.includes(KEPT_FUTURE))
      opts.logger.warn(
        `keeping backup ${cluster}/${id} without applying the policy: its ID lies more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes in the future (a clock ahead, or a backup kbak did not write)`,
      );
    if (reasons.includes(KEPT_UNDATED)) opts.logger.warn(`keeping backup ${cluster}/${id} without applying the policy: its ID is no calendar time`);
  }
  const kept = backups.filter((b) => keep.has(b.ref.backupId));
  const removed = backups.filter((b) => !keep.has(b.ref.backupId));
  const referenced = new Set<string>();
  for (const b of kept) for (const key of namedKeys(b)) referenced.add(key);
  // Who is deleted with a removed backup: the newest removed manifest naming a key (a chain shares segments).
  const namedByRemoved = new Map<string, string>();
  for (const b of removed) for (const key of namedKeys(b)) if (!referenced.has(key)) namedByRemoved.set(key, b.ref.backupId);

  // Everything under the cluster folder that belongs to the backup layout and no kept backup needs.
  const keptIds = new Set(kept.map((b) => b.ref.backupId));
  const candidates: string[] = [];
  const skipped = new SkippedNames(opts.logger);
  const planIds = new Set<string>();
  for await (const key of store.list(cluster)) {
    const parts = key.split('/');
    if (parts.length < 3) continue;
    const second = parts[1]!;
    const inPool = second === SEGMENTS_DIR;
    const inOldBackup = isBackupId(second) && !keptIds.has(second) && !(parts.length === 3 && parts[2] === MANIFEST_NAME);
    // A sharded dump's plan and partials: they go with that dump's leftovers (leftovers.ts).
    const inPlan = second === PLANS_DIR && parts.length === 4 && isBackupId(parts[2]!);
    if (inPlan) planIds.add(parts[2]!);
    if (!(inPool || inOldBackup || inPlan) || referenced.has(key)) continue;
    // A name is a name: one that is not a valid key could stand for another object in some
    // store (`a\b` read as `a/b`), so it is never passed on, only reported.
    const why = keySyntaxProblem(key);
    if (why !== null) skipped.skip(key, `it is not a valid key (${why})`);
    else candidates.push(key);
  }
  skipped.report(`${cluster}/`);

  // Sort the candidates: objects of removed backups, and leftovers (named by no manifest) per dump.
  const now = (opts.now ?? Date.now)();
  const live = { ...(await liveLocks(store, cluster, lock, now)), plans: await livePlans(store, cluster, planIds, new Set(refs.map((r) => r.backupId)), now) };
  const removedIds = new Set(removed.map((b) => b.ref.backupId));
  const perBackup = new Map<string, { objects: number; bytes: number }>(removed.map((b) => [b.ref.backupId, { objects: 1, bytes: 0 }]));
  let deletedBytes = 0;
  for (const b of removed) {
    const size = (await store.size(manifestKey(cluster, b.ref.backupId))) ?? 0;
    perBackup.get(b.ref.backupId)!.bytes = size;
    deletedBytes += size;
  }
  const groups = new Map<string | null, LeftoverGroup>();
  const deletions: string[] = [];
  for (const key of candidates) {
    const size = (await store.size(key)) ?? 0;
    const writer = leftoverWriter(key);
    const owner = namedByRemoved.get(key);
    if (owner !== undefined) {
      const row = perBackup.get(writer !== null && removedIds.has(writer) ? writer : owner)!;
      row.objects++;
      row.bytes += size;
    } else {
      let g = groups.get(writer);
      if (!g) groups.set(writer, (g = { dump: writer, objects: 0, bytes: 0, ...leftoverVerdict(writer, live, now) }));
      g.objects++;
      g.bytes += size;
      if (g.action === 'keep') continue;
    }
    deletions.push(key);
    deletedBytes += size;
  }
  const result: PruneResult = {
    cluster,
    kept: kept.map((b) => ({ id: b.ref.backupId, reasons: keep.get(b.ref.backupId)! })),
    removed: removed.map((b) => b.ref.backupId),
    removedBackups: removed.map((b) => ({ id: b.ref.backupId, ...perBackup.get(b.ref.backupId)! })),
    leftovers: [...groups.values()].sort((a, b) => byteOrder(a.dump ?? '', b.dump ?? '')),
    deletedObjects: deletions.length + removed.length,
    deletedBytes,
    keptSegments: referenced.size,
    skippedNames: skipped.count,
    dryRun: opts.dryRun,
  };
  if (opts.dryRun) return result;

  await lock?.check();
  for (const b of removed) await store.delete(manifestKey(cluster, b.ref.backupId));
  await lock?.check();
  for (const key of deletions) await store.delete(key);
  return result;
}

/**
 * The sharded dumps whose plan is live (FORMAT.md "Sharded dumps"): no manifest, and not
 * expired. The plan is untrusted: its expiry counts only up to a bound from its own backup ID,
 * and a plan that cannot be read keeps its dump's objects up to that bound too (shard-plan.ts).
 */
async function livePlans(store: ObjectStore, cluster: string, ids: ReadonlySet<string>, complete: ReadonlySet<string>, now: number): Promise<Set<string>> {
  const live = new Set<string>();
  for (const id of ids) {
    if (complete.has(id)) continue;
    let plan: Buffer | null = null;
    try {
      const key = planKey(cluster, id);
      if ((await store.size(key)) !== null) plan = await store.get(key, MAX_PLAN_BYTES);
    } catch {
      plan = null;
    }
    if (now < livePlanUntil(id, plan, planKey(cluster, id))) live.add(id);
  }
  return live;
}

/** The store keys a backup's manifest names. */
function namedKeys(b: Backup): string[] {
  return b.manifest.topics.flatMap((t) => t.partitions.flatMap((p) => p.segments.map((s) => b.storeKey(s))));
}

/**
 * The live locks of the cluster other than this prune's own: the dumps they name, and one
 * whose dump cannot be told. A dry run holds no lock, so a running dump shows up here.
 */
async function liveLocks(store: ObjectStore, cluster: string, own: StoreLock | null, now: number): Promise<LiveLocks> {
  const dumps = new Set<string>();
  let unknown: string | null = null;
  for (const l of await listLocks(store, cluster)) {
    if (l.key === own?.key || isStale(l, now)) continue;
    const dump = l.kind === 'shared' ? dumpOfHolder(l.holder) : null;
    if (dump !== null) dumps.add(dump);
    // The holder is the lock object's text (up to 64 KiB from anyone): cut, as it is repeated on every group's row.
    else unknown ??= `${l.kind} lock of ${escapeControl(l.holder.length > MAX_HOLDER_CHARS ? `${l.holder.slice(0, MAX_HOLDER_CHARS)}…` : l.holder)}`;
  }
  return { dumps, unknown };
}
