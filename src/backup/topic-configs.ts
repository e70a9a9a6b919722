/**
 * Topic configs a restore may pass to CreateTopics. A manifest is untrusted input: only
 * known topic-level settings that describe the data (retention, compaction, sizes,
 * timestamps) are applied; anything else (broker-specific throttles, settings removed
 * from Kafka, unknown or vendor names) is dropped with a warning rather than sent.
 */

/** Kafka's topic-level configs (TopicConfig, Kafka 3.x and 4.x) that are safe to copy to a new topic. */
export const RESTORABLE_TOPIC_CONFIGS: ReadonlySet<string> = new Set([
  'cleanup.policy',
  'compression.type',
  'compression.gzip.level',
  'compression.lz4.level',
  'compression.zstd.level',
  'delete.retention.ms',
  'file.delete.delay.ms',
  'flush.messages',
  'flush.ms',
  'index.interval.bytes',
  'local.retention.bytes',
  'local.retention.ms',
  'max.compaction.lag.ms',
  'max.message.bytes',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.type',
  'min.cleanable.dirty.ratio',
  'min.compaction.lag.ms',
  'min.insync.replicas',
  'preallocate',
  'retention.bytes',
  'retention.ms',
  'segment.bytes',
  'segment.index.bytes',
  'segment.jitter.ms',
  'segment.ms',
  'unclean.leader.election.enable',
]);

/** At most this long, and printable ASCII only: a config value is never a blob. */
const VALUE = /^[\x20-\x7e]{0,1024}$/;

export interface FilteredConfigs {
  configs: Record<string, string>;
  /** Names dropped, for a warning. */
  dropped: string[];
}

export function restorableTopicConfigs(configs: Record<string, string>): FilteredConfigs {
  const out: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(configs)) {
    if (RESTORABLE_TOPIC_CONFIGS.has(name) && VALUE.test(value)) out[name] = value;
    else dropped.push(name);
  }
  return { configs: out, dropped: dropped.sort() };
}
