/**
 * The prepare phase of a dump: for each planned partition, the sink its segments go to, the
 * range the read covers (from the base's end when an incremental dump continues it), and
 * each topic's progress. Afterwards, what the sinks wrote, for the manifest and the summary.
 */
import type { RangeTarget } from '../kafka/adapter';
import { partitionKey } from '../model/partition-key';
import type { ObjectStore } from '../store/store';
import type { DumpedTopic } from '../backup/manifest-build';
import { budgetedBlockBytes } from './block-budget';
import type { Continued } from './incremental';
import { PartitionSink } from './partition-sink';
import type { StoredNames } from './naming';
import type { DumpPlan } from './plan';

export interface TopicProgress {
  topic: string;
  records: number;
  rawBytes: number;
  offsetsDone: bigint;
  offsetsTotal: bigint;
}

/** Records and bytes written by some sinks. */
export interface Written {
  records: number;
  rawBytes: number;
  storedBytes: number;
  segments: number;
}

export interface PartitionsOptions {
  segmentBytes: number;
  /** An explicit block size; otherwise blocks shrink with many partitions open at once. */
  blockBytes?: number;
  compressionLevel?: number;
  /** Partitions read at once. */
  concurrency: number;
  /** The names topics are stored under (default: their own). */
  names?: Pick<StoredNames, 'topic'>;
}

export class DumpPartitions {
  readonly sinks: PartitionSink[] = [];
  /** What the read covers, partition by partition. */
  readonly targets: RangeTarget[] = [];
  private readonly byKey = new Map<string, PartitionSink>();
  private readonly byTopic = new Map<string, PartitionSink[]>();
  /** The same, by the name each topic is stored under. */
  private readonly byStored = new Map<string, PartitionSink[]>();
  private readonly storedName: (topic: string) => string;

  /**
   * Opens a sink per planned partition in the cluster folder `cluster`, segment names tagged
   * `writerTag`, and a progress entry per topic in `progress`.
   */
  constructor(
    store: ObjectStore,
    cluster: string,
    writerTag: string,
    private readonly plan: DumpPlan,
    private readonly continued: Continued,
    opts: PartitionsOptions,
    private readonly progress: Map<string, TopicProgress>,
  ) {
    // The read keeps at most `concurrency` partitions open (block-budget.ts).
    const open = Math.min(
      opts.concurrency,
      [...plan.ranges.values()].reduce((n, rs) => n + rs.length, 0),
    );
    const blockBytes = opts.blockBytes ?? budgetedBlockBytes(open);
    this.storedName = (topic) => opts.names?.topic(topic) ?? topic;
    for (const t of plan.topics) {
      const prog: TopicProgress = { topic: t.name, records: 0, rawBytes: 0, offsetsDone: 0n, offsetsTotal: 0n };
      progress.set(t.name, prog);
      const own: PartitionSink[] = [];
      this.byTopic.set(t.name, own);
      this.byStored.set(this.storedName(t.name), own);
      for (const r of plan.ranges.get(t.name)!) {
        const cont = continued.continuations.get(partitionKey(t.name, r.partition));
        const start = cont ? cont.readStart : r.start;
        const sink = new PartitionSink(store, cluster, this.storedName(t.name), r.partition, writerTag, {
          segmentBytes: opts.segmentBytes,
          blockBytes,
          level: opts.compressionLevel,
        });
        this.sinks.push(sink);
        this.byKey.set(partitionKey(t.name, r.partition), sink);
        own.push(sink);
        this.targets.push({ topic: t.name, partition: r.partition, start, end: r.end });
        prog.offsetsTotal += r.end - start;
      }
    }
  }

  sink(topic: string, partition: number): PartitionSink {
    return this.byKey.get(partitionKey(topic, partition))!;
  }

  progressOf(topic: string): TopicProgress {
    return this.progress.get(topic)!;
  }

  /** Raw bytes a topic's sinks wrote so far, open segments included. */
  topicProgressBytes(topic: string): number {
    return this.byTopic.get(topic)!.reduce((n, s) => n + s.progressBytes, 0);
  }

  /** What this dump wrote: in all, or for one topic (by the name it is stored under). */
  written(topic?: string): Written {
    const sinks = topic === undefined ? this.sinks : (this.byStored.get(topic) ?? []);
    return sinks.reduce(
      (a, s) => ({
        records: a.records + s.records,
        rawBytes: a.rawBytes + s.rawBytes,
        storedBytes: a.storedBytes + s.storedBytes,
        segments: a.segments + s.segments.length,
      }),
      { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 },
    );
  }

  /** Every topic with what its partitions' sinks wrote and what they carried over from a base (manifest-build.ts). */
  dumped(): DumpedTopic[] {
    return this.plan.topics.map((t) => ({
      name: this.storedName(t.name),
      partitionCount: t.partitionCount,
      replicationFactor: t.replicationFactor,
      configs: t.configs,
      topicId: t.topicId,
      partitions: this.plan.ranges.get(t.name)!.map((r) => {
        const sink = this.sink(t.name, r.partition);
        const cont = this.continued.continuations.get(partitionKey(t.name, r.partition));
        return {
          partition: r.partition,
          logStartOffset: r.logStartOffset,
          startOffset: r.start,
          endOffset: r.end,
          segments: sink.segments,
          records: sink.records,
          carried: cont ? { basedOn: cont.basedOn, startOffset: cont.startOffset, segments: cont.segments, records: cont.records, gaps: cont.gaps } : null,
        };
      }),
    }));
  }

  /** Removes everything the sinks wrote: a failed dump leaves nothing behind. */
  async abort(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.abort()));
  }
}
