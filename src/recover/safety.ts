/**
 * What a recovery may do to each object on the target, decided from the target's state before
 * anything is written. Recovery writes under production names, so its rules are stricter
 * than a lane's: it never writes into a topic that holds records, never moves a group's
 * committed offset, and in the backup's own cluster only recreates topics that are gone.
 *
 *   target topic                       | other cluster      | the backup's own cluster
 *   absent                             | create             | create
 *   exists, empty                      | reuse (configs     | refuse: it was not deleted
 *                                      | left as they are)  |
 *   exists with records                | refuse             | refuse
 *   recorded by this recovery (--resume, same topic ID): resume, wherever it is
 *
 * Pure; every refusal is one line naming the object and what to do (exit 6).
 */
import { SafetyError } from '../errors';
import type { GroupOffset } from '../kafka/adapter';
import { recordsIn, type LaneTopicState } from '../restore/safety';
import type { RecoveryEntry } from './ledger';
import type { RecoveryGroup, RecoveryTopic } from './plan';

export type RecoveryAction = 'create' | 'reuse' | 'resume';

export interface TopicFacts {
  state: LaneTopicState;
  /** The topic's Kafka ID when it exists. */
  id: string | null;
  /** Its message.timestamp.type is LogAppendTime: the broker would replace every recovered timestamp. */
  logAppendTime: boolean;
}

export interface SafetyContext {
  /** The target is the cluster the backup was taken from (same cluster ID). */
  inPlace: boolean;
  resume: boolean;
  /** This recovery's ledger record, when an earlier run of it left one. */
  entry: RecoveryEntry | null;
}

const RENAME_HINT = 'recover it next to the original with --rename <topic>=<new name>, or delete the topic yourself first';

export function decideTopicAction(t: RecoveryTopic, facts: TopicFacts, ctx: SafetyContext): RecoveryAction {
  const { state } = facts;
  if (!state.exists) return 'create';
  const recorded = ctx.entry?.topics.find((x) => x.name === t.target);
  if (recorded && ctx.entry!.state !== 'done') {
    // Ours only by topic ID; a recorded name alone may be someone else's topic by now.
    const ours = recorded.id !== null ? recorded.id === facts.id : recordsIn(state) === 0n;
    if (ours) {
      if (!ctx.resume) {
        throw new SafetyError(
          `topic "${t.target}" was created by an interrupted recovery (${ctx.entry!.id}, ${ctx.entry!.state} since ${ctx.entry!.updatedAt})`,
          'continue it with --resume (same backup and --at), or delete the topic and recover again',
        );
      }
      if (state.partitionCount !== t.partitionCount) {
        throw new SafetyError(`topic "${t.target}" has ${state.partitionCount} partitions but "${t.source}" has ${t.partitionCount}`, RENAME_HINT);
      }
      return 'resume';
    }
  }
  if (ctx.inPlace) {
    throw new SafetyError(
      `topic "${t.target}" still exists in ${recordsIn(state) > 0n ? `the backup's own cluster (${recordsIn(state)} records)` : "the backup's own cluster"}: kbak recover recreates only topics deleted there`,
      RENAME_HINT,
    );
  }
  if (recordsIn(state) > 0n) {
    throw new SafetyError(
      `topic "${t.target}" exists on the target with ${recordsIn(state)} records: kbak recover never writes into a topic that holds records`,
      RENAME_HINT,
    );
  }
  if (state.partitionCount < t.partitionCount) {
    throw new SafetyError(`topic "${t.target}" exists (empty) with ${state.partitionCount} partitions but "${t.source}" has ${t.partitionCount}`, RENAME_HINT);
  }
  if (facts.logAppendTime) {
    throw new SafetyError(
      `topic "${t.target}" exists (empty) with message.timestamp.type=LogAppendTime: the broker would replace every recovered timestamp`,
      'set it to CreateTime, delete it, or recover under another name with --rename',
    );
  }
  return 'reuse';
}

/**
 * Refuses a group that already has a committed offset on a partition the recovery would
 * commit (unless this recovery committed it: --resume). A group's offsets on other partitions
 * are left alone and do not stop it.
 */
export function checkGroup(group: RecoveryGroup, committed: readonly GroupOffset[], ctx: SafetyContext): void {
  if (ctx.resume && ctx.entry?.groups.includes(group.group)) return;
  for (const o of group.offsets) {
    const c = committed.find((x) => x.topic === o.target && x.partition === o.partition && x.offset >= 0n);
    if (c) {
      throw new SafetyError(
        `consumer group "${group.group}" already has a committed offset on ${o.target}/${o.partition} (${c.offset}): kbak recover never moves an existing group's offset`,
        'delete the group (kafka-consumer-groups --delete) or its offsets on that topic, then recover again',
      );
    }
  }
}

/** Refuses a different schema under an existing subject unless --new-versions. */
export function checkSubject(subject: string, existingVersions: readonly number[], backupSchemaThere: boolean, newVersions: boolean, ctx: SafetyContext): void {
  if (existingVersions.length === 0 || backupSchemaThere || newVersions) return;
  if (ctx.resume && ctx.entry?.subjects.some((s) => s.name === subject)) return;
  throw new SafetyError(
    `subject "${subject}" exists in the target registry (versions ${existingVersions.slice(0, 5).join(', ')}${existingVersions.length > 5 ? ', …' : ''}) without the backup's schema`,
    'add the backup schema as a new version with --new-versions, or recover under another name with --rename',
  );
}
