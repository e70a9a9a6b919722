/**
 * Committed offsets of every consumer group on the dumped partitions, so a lane's groups
 * can start where the source's stood at the cut.
 */
import type { Admin } from '../kafka/kafkajs';
import type { GroupEntry } from '../backup/manifest';
import { byteOrder } from '../model/byte-order';

export async function collectGroupOffsets(
  admin: Admin,
  dumped: ReadonlyMap<string, ReadonlySet<number>>,
  ignoreGroup: (groupId: string) => boolean,
): Promise<GroupEntry[]> {
  const topics = [...dumped.keys()];
  if (topics.length === 0) return [];
  const { groups } = await admin.listGroups();
  const out: GroupEntry[] = [];
  for (const g of groups.sort((a, b) => byteOrder(a.groupId, b.groupId))) {
    if (ignoreGroup(g.groupId)) continue;
    // Only groups that commit offsets matter; connect-style groups have their own protocol.
    if (g.protocolType !== 'consumer' && g.protocolType !== '') continue;
    const fetched = await admin.fetchOffsets({ groupId: g.groupId, topics });
    const offsets: GroupEntry['offsets'] = [];
    for (const t of fetched) {
      const wanted = dumped.get(t.topic);
      for (const p of t.partitions) {
        if (!wanted?.has(p.partition) || BigInt(p.offset) < 0n) continue;
        offsets.push({ topic: t.topic, partition: p.partition, offset: p.offset, metadata: p.metadata ?? null });
      }
    }
    if (offsets.length > 0) out.push({ groupId: g.groupId, offsets: offsets.sort((a, b) => byteOrder(a.topic, b.topic) || a.partition - b.partition) });
  }
  return out;
}
