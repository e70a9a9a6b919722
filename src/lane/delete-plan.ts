/**
 * What `kbak lane delete` removes, decided from the ledger entry and what exists on the
 * target: exactly the lane's owned objects (see ownership.ts), nothing else. Pure.
 */
import type { LedgerEntry } from './ledger';
import { groupOwnership, subjectOwnership, topicOwnership, type ExistingSubject, type ExistingTopic, type LaneScope, type Ownership } from './ownership';
import { someOf } from '../output/words';

export interface DeleteObservation {
  /** Lane ledger topics that exist, with their ID and emptiness. */
  topics: ReadonlyMap<string, ExistingTopic>;
  /** Lane ledger subjects that exist, with what ownership needs of them (absent: gone). */
  subjects: ReadonlyMap<string, ExistingSubject>;
  /** Existing ledger groups → number of active members. */
  groups: ReadonlyMap<string, number>;
  /** Existing ledger groups → the topics outside the lane's owned topics where they hold committed offsets. */
  groupForeignTopics: ReadonlyMap<string, readonly string[]>;
}

export interface LaneDeletePlan {
  lane: string;
  topics: string[];
  subjects: string[];
  groups: string[];
  /** Groups that cannot be deleted now (active members): the delete is partial. */
  activeGroups: Array<{ name: string; members: number }>;
  /** Ledger objects that are already gone. */
  gone: string[];
  /** Ledger objects kbak will not touch, with the reason (not owned any more, outside the lane's names). */
  leftAlone: Array<{ name: string; reason: string }>;
}

export function planLaneDelete(entry: LedgerEntry, scope: LaneScope, seen: DeleteObservation): LaneDeletePlan {
  const plan: LaneDeletePlan = { lane: entry.lane, topics: [], subjects: [], groups: [], activeGroups: [], gone: [], leftAlone: [] };
  /** A topic or subject: gone, owned (deleted) or left alone with the reason. */
  const sortOut = <A>(kind: 'topic' | 'subject', name: string, actual: A | undefined, inLane: boolean, owned: (a: A) => Ownership, out: string[]): void => {
    if (actual === undefined) {
      if (inLane) plan.gone.push(name);
      else plan.leftAlone.push({ name, reason: `${kind} ${JSON.stringify(name)} is not a name of lane ${scope.lane}` });
      return;
    }
    const o = owned(actual);
    if (o.owned) out.push(name);
    else plan.leftAlone.push({ name, reason: o.reason });
  };
  for (const t of entry.topics) {
    sortOut('topic', t.name, seen.topics.get(t.name), scope.topicInLane(t.name), (a) => topicOwnership(entry, scope, t.name, a), plan.topics);
  }
  for (const s of entry.subjects) {
    sortOut('subject', s.name, seen.subjects.get(s.name), scope.subjectInLane(s.name), (a) => subjectOwnership(entry, scope, s.name, a), plan.subjects);
  }
  for (const g of entry.groups) {
    const members = seen.groups.get(g.name);
    const foreign = seen.groupForeignTopics.get(g.name) ?? [];
    const o = groupOwnership(entry, scope, g.name);
    if (!o.owned) plan.leftAlone.push({ name: g.name, reason: o.reason });
    else if (members === undefined) plan.gone.push(g.name);
    else if (foreign.length > 0) {
      // The group is shared with topics the lane does not own: it stays with those offsets; its
      // offsets on the lane topics go with the topics (Kafka drops a deleted topic's offsets).
      const shown = someOf(foreign, 5);
      plan.leftAlone.push({
        name: g.name,
        reason: `consumer group ${JSON.stringify(g.name)} also holds offsets on topics lane ${scope.lane} does not own (${shown}): kept`,
      });
    } else if (members > 0) plan.activeGroups.push({ name: g.name, members });
    else plan.groups.push(g.name);
  }
  return plan;
}

/** Pure: the lanes `kbak lane gc` deletes: expired ones (gc skips those a live restore holds). */
export function expiredLanes(entries: Iterable<LedgerEntry>, now: Date): LedgerEntry[] {
  return [...entries].filter((e) => e.expiresAt !== null && Date.parse(e.expiresAt) <= now.getTime()).sort((a, b) => (a.lane < b.lane ? -1 : 1));
}
