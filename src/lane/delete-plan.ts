/**
 * What `kbak lane delete` removes, decided from the ledger entry and what exists on the
 * target: exactly the lane's owned objects (see ownership.ts), nothing else. Pure.
 */
import type { LedgerEntry } from './ledger';
import { groupOwnership, topicOwnership, type ExistingTopic, type LaneScope } from './ownership';

export interface DeleteObservation {
  /** Lane ledger topics that exist, with their ID and emptiness. */
  topics: ReadonlyMap<string, ExistingTopic>;
  /** Existing ledger groups → number of active members. */
  groups: ReadonlyMap<string, number>;
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
  for (const t of entry.topics) {
    const actual = seen.topics.get(t.name);
    if (!actual) {
      if (scope.topicInLane(t.name)) plan.gone.push(t.name);
      else plan.leftAlone.push({ name: t.name, reason: `topic ${JSON.stringify(t.name)} is not a name of lane ${scope.lane}` });
      continue;
    }
    const o = topicOwnership(entry, scope, t.name, actual);
    if (o.owned) plan.topics.push(t.name);
    else plan.leftAlone.push({ name: t.name, reason: o.reason });
  }
  // Subjects have no identity beyond their name: the ledger entry and the lane's names decide.
  for (const s of entry.subjects) {
    if (scope.subjectInLane(s.name)) plan.subjects.push(s.name);
    else plan.leftAlone.push({ name: s.name, reason: `subject ${JSON.stringify(s.name)} is not a name of lane ${scope.lane}` });
  }
  for (const g of entry.groups) {
    const members = seen.groups.get(g.name);
    const o = groupOwnership(entry, scope, g.name);
    if (!o.owned) plan.leftAlone.push({ name: g.name, reason: o.reason });
    else if (members === undefined) plan.gone.push(g.name);
    else if (members > 0) plan.activeGroups.push({ name: g.name, members });
    else plan.groups.push(g.name);
  }
  return plan;
}

/** Pure: the lanes `kbak lane gc` deletes: expired ones. */
export function expiredLanes(entries: Iterable<LedgerEntry>, now: Date): LedgerEntry[] {
  return [...entries].filter((e) => e.expiresAt !== null && Date.parse(e.expiresAt) <= now.getTime()).sort((a, b) => (a.lane < b.lane ? -1 : 1));
}
