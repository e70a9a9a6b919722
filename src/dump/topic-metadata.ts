/**
 * What a lane or a disaster restore needs to recreate a topic: partition count,
 * replication factor and the configs set on the topic itself (not broker defaults); and
 * the topic's ID, which tells an incremental dump whether the topic is still the one the
 * previous backup read.
 */
import type { KafkaAdapter } from '../kafka/adapter';
import { KbakError } from '../errors';
import type { Logger } from '../output/logger';

export interface TopicShape {
  name: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  /** Kafka's topic ID (base64url UUID), null when the broker has none to give (before Kafka 2.8). */
  topicId: string | null;
}

export async function describeTopics(kafka: KafkaAdapter, topics: string[], logger?: Logger): Promise<TopicShape[]> {
  if (topics.length === 0) return [];
  const meta = await kafka.describeTopics(topics);
  const configs = await kafka.describeTopicConfigs(topics);
  const ids = await topicIdsIfAny(kafka, topics, logger);
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
      topicId: ids.get(t.name) ?? null,
    };
  });
}

/** Brokers before Kafka 2.8 have no topic IDs: a dump from them still works, without. */
async function topicIdsIfAny(kafka: KafkaAdapter, topics: string[], logger?: Logger): Promise<Map<string, string>> {
  try {
    return await kafka.topicIds(topics);
  } catch (err) {
    if (!(err instanceof KbakError) || !/speaks Metadata up to/.test(err.message)) throw err;
    logger?.warn({}, `${err.message}; backing up without topic IDs (an incremental dump then recognises a recreated topic by its offsets only)`);
    return new Map();
  }
}
