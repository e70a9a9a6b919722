/**
 * The configs a lane topic is created with. The backup holds only the configs that were
 * set on the source topic; copied as they are, several of them do not hold on a lane:
 * retention deletes the seed data (it is usually older than the source's retention),
 * timestamp bounds and LogAppendTime reject or rewrite the original timestamps, a
 * min.insync.replicas above the lane's replication factor makes every acks=all write
 * fail, and a few configs do not exist (any more) on the target. Pure: the caller
 * supplies the target's effective defaults.
 */
import { UsageError } from '../errors';

/** Kafka's Long.MAX_VALUE: the "no bound" value of the timestamp bounds. */
export const NO_BOUND = '9223372036854775807';

export type LaneRetention = { kind: 'forever' } | { kind: 'source' } | { kind: 'duration'; ms: number };

export interface LaneConfigInput {
  /** Topic-level configs from the backup's manifest. */
  source: Readonly<Record<string, string>>;
  retention: LaneRetention;
  replicationFactor: number;
  /** The target broker's effective min.insync.replicas (used when the topic does not set it); null if unknown. */
  targetMinInsyncReplicas: number | null;
}

export interface LaneConfigResult {
  configs: Record<string, string>;
  /** One line per config changed because it could not hold on the lane, for the summary and --dry-run. */
  adjustments: string[];
}

/**
 * Configs dropped because Kafka 4 removed them (message.format.version,
 * message.downconversion.enable, message.timestamp.difference.max.ms: creating a topic
 * with them fails there) or because lanes do not use tiered storage (the target may not
 * have it enabled, and local retention only means something with it).
 */
export const DROPPED_CONFIGS: Readonly<Record<string, string>> = {
  'message.format.version': 'removed in Kafka 4',
  'message.downconversion.enable': 'removed in Kafka 4',
  'message.timestamp.difference.max.ms': 'removed in Kafka 4; replaced by the relaxed timestamp bounds',
  'remote.storage.enable': 'lane topics do not use tiered storage',
  'local.retention.ms': 'lane topics do not use tiered storage',
  'local.retention.bytes': 'lane topics do not use tiered storage',
};

/** Parses --lane-retention: "source", "forever", or a duration such as 90m, 72h, 14d. */
export function parseLaneRetention(value: string | undefined): LaneRetention {
  if (value === undefined || value === 'forever') return { kind: 'forever' };
  if (value === 'source') return { kind: 'source' };
  const ms = parseDurationMs(value);
  if (ms === null) throw new UsageError(`--lane-retention ${JSON.stringify(value)} is not valid`, 'use "source", "forever" or a duration such as 72h or 14d');
  return { kind: 'duration', ms };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The inverse of parseDurationMs: the largest unit that divides the duration ("72h", "3d", "90s"); under a second, "<n>ms". */
export function formatDurationMs(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** "90s", "30m", "72h", "14d", "2w" → milliseconds; null when not of that form or not positive. */
export function parseDurationMs(value: string): number | null {
  const m = /^(\d{1,9})(s|m|h|d|w)$/.exec(value.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}

export function laneTopicConfigs(input: LaneConfigInput): LaneConfigResult {
  const configs: Record<string, string> = {};
  const adjustments: string[] = [];
  for (const [name, value] of Object.entries(input.source)) {
    const why = DROPPED_CONFIGS[name];
    if (why !== undefined) {
      adjustments.push(`${name}=${value} dropped (${why})`);
      continue;
    }
    configs[name] = value;
  }

  if (input.retention.kind !== 'source') {
    configs['retention.ms'] = input.retention.kind === 'forever' ? '-1' : String(input.retention.ms);
    configs['retention.bytes'] = '-1';
  }

  if (input.source['message.timestamp.type'] !== undefined && input.source['message.timestamp.type'] !== 'CreateTime') {
    adjustments.push(`message.timestamp.type=${input.source['message.timestamp.type']} changed to CreateTime (records keep their original timestamps)`);
  }
  configs['message.timestamp.type'] = 'CreateTime';
  // Seed records are usually older than the default before-bound allows once it is set,
  // and Kafka 4 rejects records more than one hour in the future (after.max.ms).
  configs['message.timestamp.before.max.ms'] = NO_BOUND;
  configs['message.timestamp.after.max.ms'] = NO_BOUND;

  const own = input.source['min.insync.replicas'];
  const effective = own !== undefined ? Number(own) : input.targetMinInsyncReplicas;
  if (effective !== null && Number.isFinite(effective) && effective > input.replicationFactor) {
    configs['min.insync.replicas'] = String(input.replicationFactor);
    adjustments.push(
      `min.insync.replicas=${effective}${own === undefined ? ' (target default)' : ''} lowered to ${input.replicationFactor}, the lane's replication factor (acks=all writes would fail)`,
    );
  }
  return { configs, adjustments };
}
