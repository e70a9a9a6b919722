/**
 * The sharded dumps in progress in a store (FORMAT.md "Sharded dumps"), for `kbak verify`: per
 * plan folder, whether its plan reads, which shards have written a partial manifest that checks
 * against the plan, which have not, and when the plan expires. Reads plans and partials only
 * (each bounded), never a segment; a problem is reported, never thrown: an unfinished dump is
 * not a damaged backup.
 */
import { byteOrder } from '../model/byte-order';
import type { ObjectStore } from '../store/store';
import { isBackupId, manifestKey, partialIndex, partialKey, planKey, PLANS_DIR } from './layout';
import { checkPartial, decodePartial, decodePlan, MAX_PLAN_BYTES, partitionOwners, planSha256 } from './shard-plan';

export interface PlanStatus {
  cluster: string;
  backupId: string;
  /** The shard count, null when the plan does not read. */
  shards: number | null;
  /** Shards whose partial manifest is there and checks against the plan. */
  finished: number[];
  /** Shards without a partial manifest. */
  missing: number[];
  expiresAt: string | null;
  /** True when the backup's manifest exists (the plan folder is a leftover prune removes). */
  complete: boolean;
  /** What is wrong (an unreadable plan, a partial that does not check), or null. */
  problem: string | null;
}

/** Every plan folder of `cluster` (or of every cluster), sorted by cluster and backup ID. */
export async function listPlans(store: ObjectStore, cluster?: string): Promise<PlanStatus[]> {
  const folders = new Map<string, { cluster: string; backupId: string }>();
  for await (const key of store.list(cluster ?? '')) {
    const parts = key.split('/');
    if (parts.length !== 4 || parts[1] !== PLANS_DIR || !isBackupId(parts[2]!)) continue;
    if (cluster !== undefined && parts[0] !== cluster) continue;
    folders.set(`${parts[0]}/${parts[2]}`, { cluster: parts[0]!, backupId: parts[2]! });
  }
  const out: PlanStatus[] = [];
  for (const { cluster: c, backupId } of [...folders.values()].sort((a, b) => byteOrder(a.cluster, b.cluster) || byteOrder(a.backupId, b.backupId)))
    out.push(await planStatus(store, c, backupId));
  return out;
}

async function planStatus(store: ObjectStore, cluster: string, backupId: string): Promise<PlanStatus> {
  const status: PlanStatus = { cluster, backupId, shards: null, finished: [], missing: [], expiresAt: null, complete: false, problem: null };
  status.complete = (await store.size(manifestKey(cluster, backupId))) !== null;
  const key = planKey(cluster, backupId);
  try {
    if ((await store.size(key)) === null) {
      status.problem = 'it has no plan.json';
      return status;
    }
    const bytes = await store.get(key, MAX_PLAN_BYTES);
    const plan = decodePlan(bytes, key);
    if (plan.backupId !== backupId) throw new Error(`plan ${key} names backup ${plan.backupId}`);
    Object.assign(status, { shards: plan.shards, expiresAt: plan.expiresAt });
    const hash = planSha256(bytes);
    const owners = partitionOwners(plan);
    for (let i = 0; i < plan.shards; i++) {
      const pk = partialKey(cluster, backupId, i);
      if ((await store.size(pk)) === null) {
        status.missing.push(i);
        continue;
      }
      checkPartial(plan, hash, i, decodePartial(await store.get(pk, MAX_PLAN_BYTES), pk), owners);
      status.finished.push(i);
    }
    // A partial of a shard the plan does not have (a plan rewritten by hand, or junk).
    for await (const k of store.list(`${cluster}/${PLANS_DIR}/${backupId}`)) {
      const i = partialIndex(k.slice(k.lastIndexOf('/') + 1));
      if (i !== null && i >= plan.shards) throw new Error(`${k} is of shard ${i}, the plan has ${plan.shards}`);
    }
  } catch (err) {
    status.problem = (err as Error).message;
  }
  return status;
}
