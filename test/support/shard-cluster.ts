/**
 * Set-up for the sharded dump tests: an in-memory cluster with partitions of unequal sizes,
 * keys, headers and committed group offsets; the options of one shard; and stores that fail
 * or pause on cue, to put a shard's crash or two finalisers' race at an exact point.
 */
import type { ShardedDumpOptions } from '../../src/api';
import type { Manifest } from '../../src/backup/manifest';
import { MemoryKafka } from '../../src/kafka/memory';
import type { ObjectStore, ObjectWriter } from '../../src/store/store';
import { noise } from './memory-backup';

export const CLUSTER = 'mem';

/** Records per partition of `orders`: one big, one empty, the rest in between. */
export const ORDERS_SIZES = [300, 12, 0, 120, 40, 5];

/** Appends `n` records to topic/partition from its current end: keys, 400 incompressible bytes, two headers (one null). */
export function appendRecords(kafka: MemoryKafka, topic: string, partition: number, n: number, valueBytes = 400): void {
  const end = Number(kafka.topics.get(topic)!.partitions[partition]!.next);
  for (let i = 0; i < n; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 10); j++) {
      const o = end + j;
      batch.push({
        timestamp: BigInt(1_790_000_000_000 + o * 1000),
        key: o % 7 === 0 ? null : Buffer.from(`${topic}-${partition}-${o}`),
        value: noise(partition * 100_000 + o, valueBytes),
        headers: [
          { key: 'trace', value: Buffer.from(`t${o}`) },
          { key: 'empty', value: null },
        ],
      });
    }
    kafka.append(topic, partition, batch);
  }
}

/** `orders` (6 partitions of ORDERS_SIZES records) and `audit` (2 small ones), groups `billing` and `audit-reader`. */
export async function shardedSource(): Promise<MemoryKafka> {
  const kafka = new MemoryKafka();
  await kafka.createTopics([
    { topic: 'orders', partitions: 6, replicationFactor: 1, configs: { 'cleanup.policy': 'delete', 'retention.ms': '604800000' } },
    { topic: 'audit', partitions: 2, replicationFactor: 1, configs: {} },
  ]);
  ORDERS_SIZES.forEach((n, p) => appendRecords(kafka, 'orders', p, n));
  appendRecords(kafka, 'audit', 0, 3, 50);
  appendRecords(kafka, 'audit', 1, 2, 50);
  await kafka.commitGroupOffsets('billing', 'orders', [
    { partition: 0, offset: 150n },
    { partition: 1, offset: 12n },
    { partition: 3, offset: 7n },
  ]);
  await kafka.commitGroupOffsets('audit-reader', 'audit', [{ partition: 1, offset: 1n }]);
  return kafka;
}

/** The options of shard `index` of `count` (small segments and blocks, so that big partitions take several segments). */
export function shardOptions(
  kafka: MemoryKafka,
  store: ObjectStore,
  index: number,
  count: number,
  backupId: string,
  over: Partial<ShardedDumpOptions> = {},
): ShardedDumpOptions {
  return {
    kafka,
    store,
    topics: ['orders', 'audit'],
    clusterName: CLUSTER,
    segmentBytes: 64 * 1024,
    blockBytes: 8 * 1024,
    concurrency: 2,
    stallTimeoutMs: 2000,
    lockWaitMs: 5000,
    shard: { index, count },
    backupId,
    ...over,
  };
}

/**
 * A manifest without what differs between two dumps of the same data: the backup's ID and
 * times, its cut time, the bases' IDs (`basedOn`, given as `based`) and its segments (names
 * carry each dump's writer tag; where a segment ends depends on how fast compressed bytes
 * reach the store, so boundaries and stored bytes differ from run to run). What the segments
 * hold is compared by decoding them.
 */
export function comparable(m: Manifest): unknown {
  const { backupId: _id, startedAt: _s, completedAt: _c, cut, topics, stats, ...rest } = m;
  const { time: _t, ...cutRest } = cut;
  const { storedBytes: _sb, rawBytes: _rb, segments: _sg, ...statsRest } = stats;
  return {
    ...rest,
    cut: cutRest,
    stats: statsRest,
    topics: topics.map((t) => ({
      ...t,
      partitions: t.partitions.map(({ segments, ...p }) => ({
        ...p,
        basedOn: p.basedOn === null ? null : 'based',
        segments: segments.length > 0,
      })),
    })),
  };
}

/** Wraps a store: every method passes through unless a hook says otherwise. */
export class HookedStore implements ObjectStore {
  /** Called before each segment writer's complete(): throw to fail that segment. */
  beforeSegmentComplete: ((key: string) => void) | null = null;
  /** Awaited before each get(): a test pauses one reader here. */
  beforeGet: ((key: string) => Promise<void>) | null = null;
  /** Awaited after each size() with its answer: a test runs another process in between. */
  afterSize: ((key: string, size: number | null) => Promise<void>) | null = null;
  completedSegments = 0;

  constructor(readonly inner: ObjectStore) {}

  get location(): string {
    return this.inner.location;
  }
  put(key: string, body: Buffer): Promise<void> {
    return this.inner.put(key, body);
  }
  create(key: string): ObjectWriter {
    const w = this.inner.create(key);
    return {
      write: (chunk) => w.write(chunk),
      complete: async () => {
        if (key.includes('/segments/')) {
          this.beforeSegmentComplete?.(key);
          this.completedSegments++;
        }
        await w.complete();
      },
      abort: () => w.abort(),
    };
  }
  async get(key: string, maxBytes?: number): Promise<Buffer> {
    await this.beforeGet?.(key);
    return this.inner.get(key, maxBytes);
  }
  read(key: string): AsyncIterable<Buffer> {
    return this.inner.read(key);
  }
  list(prefix: string): AsyncIterable<string> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return this.inner.putIfAbsent(key, body);
  }
  async size(key: string): Promise<number | null> {
    const size = await this.inner.size(key);
    await this.afterSize?.(key, size);
    return size;
  }
  check(): Promise<void> {
    return this.inner.check();
  }
}

export async function keysOf(store: ObjectStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list(prefix)) out.push(k);
  return out.sort();
}
