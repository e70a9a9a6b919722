/**
 * `kbak lane snapshot`: which of the lane's objects a snapshot takes and the base names it
 * stores them under. Only what the lane's ledger entry lists AND what its templates (from
 * the command line, never from the ledger) own; a topic also by its Kafka topic ID, as for
 * every other lane command (ownership.ts). Each base name is the inverse of the lane's
 * templates (src/remap/base-names.ts): a listed name they cannot have produced is refused.
 * Pure: the caller reads the ledger and the topics.
 */
import { ConflictError, InternalError, NotFoundError, SafetyError, UsageError } from '../errors';
import type { ManifestLane } from '../backup/manifest';
import { validateClusterName } from '../backup/layout';
import { LaneBaseNames } from '../remap/base-names';
import type { LedgerEntry } from './ledger';
import {
  assertSameTemplates,
  groupOwnership,
  subjectOwnership,
  topicOwnership,
  type ExistingSubject,
  type ExistingTopic,
  type LaneScope,
  type Ownership,
} from './ownership';

/** The cluster folder of a lane's snapshots unless `--cluster-name` says otherwise. */
export const snapshotClusterName = (lane: string): string => `lane-${lane}`;

/** What a snapshot stores: lane name → base name, for each kind of object. */
export interface SnapshotNames {
  lane: ManifestLane;
  topics: Map<string, string>;
  subjects: Map<string, string>;
  groups: Map<string, string>;
}

const refuse = (o: Ownership): void => {
  if (!o.owned) throw new SafetyError(o.reason, 'a snapshot takes only what the lane owns: check the lane with kbak lane describe');
};

/**
 * The snapshot of `entry`'s lane: `existing` holds the lane's listed topics as they are now
 * (absent: gone). Refuses a lane that is not ready, other templates, objects it does not own
 * and names its templates cannot have produced.
 */
export function planSnapshot(
  entry: LedgerEntry,
  scope: LaneScope,
  existing: ReadonlyMap<string, ExistingTopic>,
  subjectsNow: ReadonlyMap<string, ExistingSubject>,
): SnapshotNames {
  assertSameTemplates(entry, scope);
  if (entry.state !== 'ready')
    throw new ConflictError(
      `lane ${entry.lane} is ${entry.state}, not ready`,
      'snapshot it once its restore has finished (kbak lane describe shows its state)',
    );
  const base = new LaneBaseNames(entry.lane, scope.templates);
  const unproduced = (kind: string, name: string): SafetyError =>
    new SafetyError(
      `the ledger of lane ${entry.lane} lists ${kind} ${JSON.stringify(name)}, which its templates cannot have produced`,
      'the ledger record may have been tampered with; inspect it with kbak lane describe',
    );
  const topics = new Map<string, string>();
  for (const t of entry.topics) {
    const now = existing.get(t.name);
    if (!now) throw new NotFoundError(`topic ${t.name} of lane ${entry.lane} no longer exists`, `restore the lane again (kbak lane reset ${entry.lane})`);
    refuse(topicOwnership(entry, scope, t.name, now));
    const b = base.topic(t.name);
    if (b === null) throw unproduced('topic', t.name);
    topics.set(t.name, b);
  }
  if (topics.size === 0) throw new UsageError(`lane ${entry.lane} has no topics to snapshot`);
  const subjects = new Map<string, string>();
  for (const s of entry.subjects) {
    const now = subjectsNow.get(s.name);
    if (!now) throw new NotFoundError(`subject ${s.name} of lane ${entry.lane} no longer exists`, `restore the lane again (kbak lane reset ${entry.lane})`);
    refuse(subjectOwnership(entry, scope, s.name, now));
    const b = base.subject(s.name, topics);
    if (b === null) throw unproduced('subject', s.name);
    subjects.set(s.name, b);
  }
  const groups = new Map<string, string>();
  for (const g of entry.groups) {
    refuse(groupOwnership(entry, scope, g.name));
    const b = base.group(g.name);
    if (b === null) throw unproduced('consumer group', g.name);
    groups.set(g.name, b);
  }
  // A snapshot of a masked lane carries the lane's masking provenance (FORMAT.md settled point 25).
  return {
    lane: { name: entry.lane, templates: { ...scope.templates }, ...(entry.origin.policy ? { masking: entry.origin.policy } : {}) },
    topics,
    subjects,
    groups,
  };
}

/**
 * The cluster folder a snapshot is written under: `lane-<X>` or `--cluster-name`, never the
 * folder the lane was seeded from (its production backups' `latest` and incremental dumps
 * would pick the snapshot up).
 */
export function snapshotCluster(entry: LedgerEntry, clusterName: string | undefined): string {
  const cluster = validateClusterName(clusterName ?? snapshotClusterName(entry.lane));
  if (cluster === entry.origin.cluster)
    throw new UsageError(
      `cluster name ${cluster} is the one lane ${entry.lane} was seeded from: a snapshot must not mix with those backups`,
      `leave --cluster-name out (default ${snapshotClusterName(entry.lane)}) or choose another`,
      { options: ['clusterName'] },
    );
  return cluster;
}

/** The names the dump stores under (src/dump/naming.ts): base names, only the lane's own groups and subjects. */
export function snapshotStoredNames(names: SnapshotNames): {
  topic(source: string): string;
  group(groupId: string): string | null;
  subject(subject: string): string | null;
  lane: ManifestLane;
} {
  return {
    topic: (source) => {
      const b = names.topics.get(source);
      if (b === undefined) throw new InternalError(`lane snapshot read topic ${source}, which it did not plan`);
      return b;
    },
    group: (id) => names.groups.get(id) ?? null,
    subject: (s) => names.subjects.get(s) ?? null,
    lane: names.lane,
  };
}
