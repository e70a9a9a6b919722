/**
 * What a lane or a disaster restore needs to recreate a topic: partition count,
 * replication factor and the configs set on the topic itself (not broker defaults).
 */
import { ConfigResourceTypes, type Admin } from '../kafka/kafkajs';

/** kafkajs ConfigSource value for a config set on the topic (DYNAMIC_TOPIC_CONFIG). */
const TOPIC_CONFIG_SOURCE = 1;

export interface TopicShape {
  name: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export async function describeTopics(admin: Admin, topics: string[]): Promise<TopicShape[]> {
  if (topics.length === 0) return [];
  const meta = await admin.fetchTopicMetadata({ topics });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  const byName = new Map<string, Record<string, string>>();
  for (const r of configs.resources) {
    const set: Record<string, string> = {};
    for (const e of r.configEntries) {
      const source = (e as unknown as { configSource?: number }).configSource;
      const isTopicLevel = source === undefined ? !e.isDefault : source === TOPIC_CONFIG_SOURCE;
      // Sensitive values come back null; there is nothing to restore from them.
      if (isTopicLevel && !e.isSensitive && e.configValue !== null) set[e.configName] = e.configValue;
    }
    byName.set(r.resourceName, set);
  }
  return meta.topics.map((t) => ({
    name: t.name,
    partitionCount: t.partitions.length,
    replicationFactor: Math.max(1, ...t.partitions.map((p) => p.replicas.length)),
    configs: byName.get(t.name) ?? {},
  }));
}
