/**
 * Committing a consumer group's offsets without joining the group.
 *
 * kafkajs's admin.setOffsets joins the group with a short-lived consumer, waits for a
 * fetch and leaves: ~0.8 s per group. Kafka also accepts the "simple consumer" form of
 * OffsetCommit — generation -1 and an empty member id — from any client, as long as the
 * group has no members (an Empty or unknown group); a group with live members answers
 * UNKNOWN_MEMBER_ID or REBALANCE_IN_PROGRESS, so a running lane consumer is never
 * overruled. That is one request to the group's coordinator: a few milliseconds.
 *
 * kafkajs keeps its cluster (brokers, coordinators, metadata) inside the admin closure;
 * kbak's private copy hands it out on the admin object under a symbol
 * (transport/patches.ts, adminClusterPatch).
 */
import { InternalError } from '../../errors';
import { ADMIN_CLUSTER } from '../transport/patches';

/** The slice of kafkajs's Cluster and Broker that a direct commit uses. */
interface CoordinatorBroker {
  offsetCommit(req: { groupId: string; groupGenerationId: number; memberId: string; topics: unknown[] }): Promise<unknown>;
}
interface GroupCluster {
  findGroupCoordinator(req: { groupId: string }): Promise<CoordinatorBroker>;
}

/** Errors after which the coordinator may have moved or will be ready shortly. */
const RETRIABLE = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT']);
const ATTEMPTS = 6;

export function adminCluster(admin: unknown): GroupCluster {
  const cluster = (admin as Record<symbol, unknown>)[ADMIN_CLUSTER] as GroupCluster | undefined;
  if (!cluster) throw new InternalError("the kafkajs admin carries no cluster: it was not created by kbak's private kafkajs copy");
  return cluster;
}

/**
 * One OffsetCommit (generation -1, no member) to the group's coordinator. Throws kafkajs's
 * protocol error as is (UNKNOWN_MEMBER_ID when the group has members); the adapter maps it.
 */
export async function commitOffsetsDirect(
  cluster: GroupCluster,
  groupId: string,
  topic: string,
  offsets: ReadonlyArray<{ partition: number; offset: bigint }>,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const topics = [{ topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset.toString(), metadata: null })) }];
  for (let attempt = 1; ; attempt++) {
    try {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics });
      return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (attempt >= ATTEMPTS || !type || !RETRIABLE.has(type)) throw err;
      await sleep(Math.min(100 * 2 ** attempt, 2000));
    }
  }
}
