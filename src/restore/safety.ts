/**
 * What a restore may do to each lane topic, decided from the target cluster's state
 * before anything is written. A restore only ever writes, deletes or creates the lane
 * topics of its plan (names produced by the lane template and already checked against
 * every source topic of the backup in buildPlan).
 *
 *   lane topic           | default     | --resume     | --replace
 *   absent               | create      | create       | create
 *   empty, same shape    | reuse       | reuse        | replace
 *   has data             | refuse      | resume       | replace
 *   other partition count| refuse      | refuse       | replace
 */
import type { KafkaAdapter } from '../kafka/adapter';
import { SafetyError } from '../errors';
import { withRetry } from '../lane/kafka-ops';
import { offsetSpan, type PartitionOffsets } from '../model/offsets';
import type { RestoreMode, RestorePlan, TopicPlan } from './plan';

// Lanes are written without transactions, so their last stable offset is their end offset.
export type { PartitionOffsets };

export type LaneTopicState = { exists: false } | { exists: true; partitionCount: number; offsets: PartitionOffsets[] };

export type LaneAction = 'create' | 'reuse' | 'resume' | 'replace';

export function recordsIn(state: LaneTopicState): bigint {
  return state.exists ? offsetSpan(state.offsets) : 0n;
}

/** Pure: throws a one-line SafetyError when the restore must not touch a lane topic. */
export function decideAction(topic: TopicPlan, state: LaneTopicState, mode: RestoreMode): LaneAction {
  if (!state.exists) return 'create';
  if (mode === 'replace') return 'replace';
  if (state.partitionCount !== topic.partitionCount) {
    throw new SafetyError(
      `lane topic "${topic.lane}" exists with ${state.partitionCount} partitions but "${topic.source}" has ${topic.partitionCount}`,
      'delete and recreate the lane topics, or use another lane',
      { options: ['mode=replace'] },
    );
  }
  const hasData = state.offsets.some((o) => o.high > o.low);
  if (!hasData) return 'reuse';
  if (mode === 'resume') return 'resume';
  throw new SafetyError(
    `lane topic "${topic.lane}" already exists with data (${recordsIn(state)} records)`,
    'resume an interrupted restore, or delete and recreate the lane topics',
    { options: ['mode=resume', 'mode=replace'] },
  );
}

export function decideActions(plan: RestorePlan, states: ReadonlyMap<string, LaneTopicState>, mode: RestoreMode): Map<string, LaneAction> {
  const out = new Map<string, LaneAction>();
  for (const t of plan.topics) out.set(t.lane, decideAction(t, states.get(t.lane) ?? { exists: false }, mode));
  return out;
}

export async function inspectLaneTopics(kafka: KafkaAdapter, laneTopics: string[]): Promise<Map<string, LaneTopicState>> {
  const existing = new Set(await withRetry(() => kafka.listTopics()));
  const out = new Map<string, LaneTopicState>();
  const present = laneTopics.filter((t) => existing.has(t));
  for (const t of laneTopics) if (!existing.has(t)) out.set(t, { exists: false });
  for (const t of await withRetry(() => kafka.describeTopics(present))) {
    out.set(t.name, { exists: true, partitionCount: t.partitions.length, offsets: await withRetry(() => kafka.listOffsets(t.name)) });
  }
  return out;
}
