/**
 * The plan phase of a dump: which topics and partitions, the cut of each (FORMAT.md, "The
 * cut"), and the name of the backup (cluster folder, backup ID, the writer tag that keeps
 * this dump's segment names apart in the shared pool). Read-only on the cluster.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors';
import type { KafkaAdapter } from '../kafka/adapter';
import type { TimeWindow } from '../model/window';
import type { Logger } from '../output/logger';
import { checkBrokerTopicName } from '../backup/keys';
import { backupPrefix, newBackupId, validateClusterName } from '../backup/layout';
import { planRange, type PartitionRange } from './cut';
import { selectPartitions, selectTopics, type Selection } from './select';
import { describeTopics, type TopicShape } from './topic-metadata';

export interface DumpPlan {
  clusterId: string;
  topics: TopicShape[];
  /** Per topic, the range of each selected partition. */
  ranges: Map<string, PartitionRange[]>;
  /**
   * The manifest's `cut.time` (FORMAT.md settled point 24): taken just before the first
   * ListOffsets, so every record committed before it lies below the cut of every partition.
   * The last answer would be no bound: a record written between two topics' ListOffsets is
   * below one cut and above the other. Point-in-time recovery needs the bound.
   */
  cutTime: Date;
}

export interface PlanOptions {
  selection: Selection;
  window: TimeWindow;
  maxRecordsPerPartition: number | null;
}

export async function planDump(kafka: KafkaAdapter, logger: Logger, opts: PlanOptions, now: () => Date): Promise<DumpPlan> {
  const clusterId = (await kafka.cluster()).clusterId;
  // Topic names become folder names: a broker's answer is checked before it names a path.
  const names = selectTopics(opts.selection, await kafka.listTopics()).map(checkBrokerTopicName);
  const shapes = await describeTopics(kafka, names, logger);
  for (const shape of shapes) checkBrokerTopicName(shape.name);
  const ranges = new Map<string, PartitionRange[]>();
  const { since, until } = opts.window;
  const cutTime = now();
  for (const shape of shapes) {
    const partitions = selectPartitions(shape.name, shape.partitionCount, opts.selection.partitions);
    const offsets = await kafka.listOffsets(shape.name);
    const sinceOffsets = since ? await kafka.offsetsForTimestamp(shape.name, since.getTime()) : null;
    const untilOffsets = until ? await kafka.offsetsForTimestamp(shape.name, until.getTime()) : null;
    const list: PartitionRange[] = [];
    for (const p of partitions) {
      const o = offsets.find((x) => x.partition === p);
      if (!o) throw new ServiceError('kafka', `no offsets returned for ${shape.name}/${p}`);
      const cut = {
        ...o,
        sinceOffset: sinceOffsets?.find((x) => x.partition === p)?.offset ?? null,
        untilOffset: untilOffsets?.find((x) => x.partition === p)?.offset ?? null,
      };
      list.push(planRange(cut, opts.maxRecordsPerPartition));
    }
    ranges.set(shape.name, list);
  }
  return { clusterId, topics: shapes, ranges, cutTime };
}

/** KRaft cluster IDs are base64url and may start with '-' or '_', which the path rule forbids. */
export function clusterNameFromId(id: string): string {
  return validateClusterName(/^[A-Za-z0-9]/.test(id) ? id : `cluster${id}`);
}

/** Where the backup goes and what its segments are called. */
export interface BackupName {
  cluster: string;
  backupId: string;
  /** The backup's folder (its manifest's prefix). */
  prefix: string;
  /** Makes this dump's segment names unique in the shared pool. */
  writerTag: string;
}

/** The backup's name: `--name` or the cluster ID, and the ID of the instant it started. */
export function nameBackup(clusterId: string, clusterName: string | undefined, started: Date): BackupName {
  const cluster = clusterName ? validateClusterName(clusterName) : clusterNameFromId(clusterId);
  const backupId = newBackupId(started);
  return { cluster, backupId, prefix: backupPrefix(cluster, backupId), writerTag: `${backupId}-${randomBytes(4).toString('hex')}` };
}
