/**
 * The write phase of a dump: every planned partition read up to its cut into its sink
 * (segments in the store), the schema IDs of framed payloads noted on the way, and the
 * consumer groups' committed offsets read alongside.
 */
import type { GroupEntry } from '../backup/manifest';
import type { KafkaAdapter } from '../kafka/adapter';
import { partitionKey } from '../model/partition-key';
import { inWindow, type TimeWindow } from '../model/window';
import { SchemaCollector } from '../schema/collect';
import { collectGroupOffsets } from './group-offsets';
import type { DumpPartitions } from './partitions';
import { BatchTranscoder } from './transcode';

export interface WriteOptions {
  window: TimeWindow;
  concurrency: number;
  stallTimeoutMs: number;
  /** Read the groups' committed offsets alongside (default); a shard of a sharded dump has them from its plan. */
  readGroups?: boolean;
}

export interface WrittenSource {
  /** The committed offsets of the groups on the dumped partitions, at the cut. */
  groups: GroupEntry[];
  /** The schema IDs seen in keys and values. */
  schemas: SchemaCollector;
}

export async function writeSegments(kafka: KafkaAdapter, parts: DumpPartitions, opts: WriteOptions): Promise<WrittenSource> {
  // Group offsets are read at the cut, as the read starts, so they describe the same moment.
  // They are read alongside the records (one round trip per group: a cluster with hundreds
  // of groups spent a tenth of a second or more on them before the first fetch); should
  // that fail, the read stops at its next batch, so a failure still ends the dump early.
  const dumpedPartitions = new Map<string, Set<number>>();
  for (const t of parts.targets) {
    if (!dumpedPartitions.has(t.topic)) dumpedPartitions.set(t.topic, new Set());
    dumpedPartitions.get(t.topic)!.add(t.partition);
  }
  let groupsFailure: { error: unknown } | null = null;
  const groupsRead = opts.readGroups === false ? Promise.resolve([]) : collectGroupOffsets(kafka, dumpedPartitions, (g) => kafka.isInternalGroup(g));
  groupsRead.catch((error: unknown) => {
    groupsFailure = { error };
  });
  const stopIfGroupsFailed = (): void => {
    if (groupsFailure) throw groupsFailure.error;
  };

  const schemas = new SchemaCollector();
  const positions = new Map<string, bigint>();
  await kafka.readRanges(
    parts.targets,
    { concurrency: opts.concurrency, stallTimeoutMs: opts.stallTimeoutMs },
    {
      onRecord: async (target, record) => {
        stopIfGroupsFailed();
        if (!inWindow(record.timestamp, opts.window)) return;
        schemas.observe(record.key);
        schemas.observe(record.value);
        await parts.sink(target.topic, target.partition).append(record);
        parts.progressOf(target.topic).records++;
      },
      // The same, a batch at a time without record objects (src/dump/transcode.ts).
      onBatch: async (target, batch, from) => {
        stopIfGroupsFailed();
        const sink = parts.sink(target.topic, target.partition);
        const records = new BatchTranscoder(batch.header, batch.records, from, target.end, opts.window, schemas);
        parts.progressOf(target.topic).records += await sink.appendFrom(records);
        return records.nextOffset;
      },
      onPosition: (target, next) => {
        const k = partitionKey(target.topic, target.partition);
        const prev = positions.get(k) ?? target.start;
        const prog = parts.progressOf(target.topic);
        prog.offsetsDone += next - prev;
        prog.rawBytes = parts.topicProgressBytes(target.topic);
        positions.set(k, next);
      },
      onPartitionDone: async (target) => {
        await parts.sink(target.topic, target.partition).finish();
      },
    },
  );
  return { groups: await groupsRead, schemas };
}
