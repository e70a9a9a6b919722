/**
 * `kbak prune`: forget the backups a retention policy does not keep, then delete the
 * objects no kept backup needs. Under the cluster's exclusive lock, in this order:
 * manifests first (a half-deleted backup is invisible), then segments of the shared pool
 * that no kept manifest names (this includes the leftovers of failed dumps), then the
 * leftovers in removed (and manifest-less) v1 backup folders. Never touches a key a kept
 * manifest names, locks, or objects outside the cluster folder's backup layout.
 */
import { listBackups, loadBackup, type Backup } from './catalog';
import { isBackupId, manifestKey, MANIFEST_NAME, SEGMENTS_DIR } from './layout';
import { applyRetention, type RetentionPolicy } from './retention';
import { IntegrityError } from '../errors';
import type { Logger } from '../output/logger';
import { StoreLock } from '../store/lock';
import type { ObjectStore } from '../store/store';

export interface PruneResult {
  cluster: string;
  kept: Array<{ id: string; reasons: string[] }>;
  removed: string[];
  deletedObjects: number;
  deletedBytes: number;
  keptSegments: number;
  dryRun: boolean;
}

export interface PruneOptions {
  policy: RetentionPolicy;
  dryRun: boolean;
  lockWaitMs: number;
  logger: Logger;
}

async function clusters(store: ObjectStore, only?: string): Promise<string[]> {
  if (only) return [only];
  return [...new Set((await listBackups(store)).map((b) => b.cluster))].sort();
}

export async function prune(store: ObjectStore, cluster: string | undefined, opts: PruneOptions): Promise<PruneResult[]> {
  const results: PruneResult[] = [];
  for (const c of await clusters(store, cluster)) {
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
      throw new IntegrityError(`cannot prune ${cluster}: ${(err as Error).message}`, 'verify the store, and move the broken backup aside (or delete its manifest.json) before pruning', { cause: err });
    }
  }
  const keep = applyRetention(
    backups.map((b) => ({ id: b.ref.backupId, time: Date.parse(b.manifest.startedAt) })),
    opts.policy,
  );
  const kept = backups.filter((b) => keep.has(b.ref.backupId));
  const removed = backups.filter((b) => !keep.has(b.ref.backupId));
  const referenced = new Set<string>();
  for (const b of kept) for (const t of b.manifest.topics) for (const p of t.partitions) for (const s of p.segments) referenced.add(b.storeKey(s));

  // Everything under the cluster folder that belongs to the backup layout and no kept backup needs.
  const keptIds = new Set(kept.map((b) => b.ref.backupId));
  const candidates: string[] = [];
  for await (const key of store.list(cluster)) {
    const parts = key.split('/');
    if (parts.length < 3) continue;
    const second = parts[1]!;
    const inPool = second === SEGMENTS_DIR;
    const inOldBackup = isBackupId(second) && !keptIds.has(second) && !(parts.length === 3 && parts[2] === MANIFEST_NAME);
    if ((inPool || inOldBackup) && !referenced.has(key)) candidates.push(key);
  }
  const result: PruneResult = {
    cluster,
    kept: kept.map((b) => ({ id: b.ref.backupId, reasons: keep.get(b.ref.backupId)! })),
    removed: removed.map((b) => b.ref.backupId),
    deletedObjects: candidates.length + removed.length,
    deletedBytes: 0,
    keptSegments: referenced.size,
    dryRun: opts.dryRun,
  };
  for (const key of candidates) result.deletedBytes += (await store.size(key)) ?? 0;
  if (opts.dryRun) return result;

  await lock?.check();
  for (const b of removed) await store.delete(manifestKey(cluster, b.ref.backupId));
  await lock?.check();
  for (const key of candidates) await store.delete(key);
  return result;
}
