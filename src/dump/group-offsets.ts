/**
 * Committed offsets of every consumer group on the dumped partitions, so a lane's groups
 * can start where the source's stood at the cut.
 */
import type { KafkaAdapter } from '../kafka/adapter';
import type { GroupEntry } from '../backup/manifest';
import { byteOrder } from '../model/byte-order';
import { runWorkers } from '../util/run-workers';

const GROUP_FETCH_CONCURRENCY = 8;

export async function collectGroupOffsets(
  kafka: KafkaAdapter,
  dumped: ReadonlyMap<string, ReadonlySet<number>>,
  ignoreGroup: (groupId: string) => boolean,
): Promise<GroupEntry[]> {
  const topics = [...dumped.keys()];
  if (topics.length === 0) return [];
  // Only groups that commit offsets matter; connect-style groups have their own protocol.
  const groups = (await kafka.listGroups())
    .filter((g) => !ignoreGroup(g.groupId) && (g.protocolType === 'consumer' || g.protocolType === ''))
    .sort((a, b) => byteOrder(a.groupId, b.groupId));
  const found = new Array<GroupEntry | null>(groups.length).fill(null);
  // One OffsetFetch round trip per group (kafkajs has no batched form): several in flight,
  // as a cluster with hundreds of groups made this a second of a dump's set-up one by one.
  await runWorkers([...groups.keys()], GROUP_FETCH_CONCURRENCY, async (i) => {
    const g = groups[i]!;
    const offsets: GroupEntry['offsets'] = [];
    for (const o of await kafka.fetchGroupOffsets(g.groupId, topics)) {
      if (!dumped.get(o.topic)?.has(o.partition) || o.offset < 0n) continue;
      offsets.push({ topic: o.topic, partition: o.partition, offset: o.offset.toString(), metadata: o.metadata });
    }
    if (offsets.length > 0) found[i] = { groupId: g.groupId, offsets: offsets.sort((a, b) => byteOrder(a.topic, b.topic) || a.partition - b.partition) };
  });
  return found.filter((g): g is GroupEntry => g !== null);
}
