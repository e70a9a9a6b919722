/**
 * What a lane or a disaster restore needs to recreate a topic: partition count,
 * replication factor and the configs set on the topic itself (not broker defaults).
 */
import type { KafkaAdapter } from '../kafka/adapter';

export interface TopicShape {
  name: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export async function describeTopics(kafka: KafkaAdapter, topics: string[]): Promise<TopicShape[]> {
  if (topics.length === 0) return [];
  const meta = await kafka.describeTopics(topics);
  const configs = await kafka.describeTopicConfigs(topics);
  return meta.map((t) => {
    const set: Record<string, string> = {};
    for (const e of configs.get(t.name) ?? []) {
      // Sensitive values come back null; there is nothing to restore from them.
      if (e.source === 'topic' && !e.sensitive && e.value !== null) set[e.name] = e.value;
    }
    return {
      name: t.name,
      partitionCount: t.partitions.length,
      replicationFactor: Math.max(1, ...t.partitions.map((p) => p.replicas.length)),
      configs: set,
    };
  });
}
