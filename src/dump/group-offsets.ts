/**
 * Committed offsets of every consumer group on the dumped partitions, so a lane's groups
 * can start where the source's stood at the cut.
 */
import type { KafkaAdapter } from '../kafka/adapter';
import type { GroupEntry } from '../backup/manifest';
import { byteOrder } from '../model/byte-order';

export async function collectGroupOffsets(
  kafka: KafkaAdapter,
  dumped: ReadonlyMap<string, ReadonlySet<number>>,
  ignoreGroup: (groupId: string) => boolean,
): Promise<GroupEntry[]> {
  const topics = [...dumped.keys()];
  if (topics.length === 0) return [];
  const groups = await kafka.listGroups();
  const out: GroupEntry[] = [];
  for (const g of groups.sort((a, b) => byteOrder(a.groupId, b.groupId))) {
    if (ignoreGroup(g.groupId)) continue;
    // Only groups that commit offsets matter; connect-style groups have their own protocol.
    if (g.protocolType !== 'consumer' && g.protocolType !== '') continue;
    const offsets: GroupEntry['offsets'] = [];
    for (const o of await kafka.fetchGroupOffsets(g.groupId, topics)) {
      if (!dumped.get(o.topic)?.has(o.partition) || o.offset < 0n) continue;
      offsets.push({ topic: o.topic, partition: o.partition, offset: o.offset.toString(), metadata: o.metadata });
    }
    if (offsets.length > 0) out.push({ groupId: g.groupId, offsets: offsets.sort((a, b) => byteOrder(a.topic, b.topic) || a.partition - b.partition) });
  }
  return out;
}
