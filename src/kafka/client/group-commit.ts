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
import { realClock, retry, type RetryClock, type RetryPolicy } from '../../util/retry';
import { retriableRequest } from '../transport/kafkajs-errors';
import { ADMIN_CLUSTER } from '../transport/patches';

/** The slice of kafkajs's Cluster and Broker that a direct commit uses. */
interface CoordinatorBroker {
  offsetCommit(req: { groupId: string; groupGenerationId: number; memberId: string; topics: unknown[] }): Promise<unknown>;
}
interface GroupCluster {
  findGroupCoordinator(req: { groupId: string }): Promise<CoordinatorBroker>;
}

/**
 * 6 attempts, 200 ms doubling to 2 s between them: the coordinator moving or loading, a
 * connection dropping. A group with members is refused at once (not retriable).
 */
export const GROUP_COMMIT_RETRY: RetryPolicy = { initialMs: 200, maxMs: 2000, attempts: 6 };

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
  clock: RetryClock = realClock,
): Promise<void> {
  const topics = [{ topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset.toString(), metadata: null })) }];
  await retry(
    async () => {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics });
    },
    GROUP_COMMIT_RETRY,
    { retriable: retriableRequest, clock },
  );
}
