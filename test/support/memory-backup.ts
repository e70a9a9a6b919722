/** Set-up shared by the restore tests: a dump of an in-memory cluster into a store, and restore options. */
import { DumpRun, type DumpOptions } from '../../src/dump/dump';
import type { MemoryKafka } from '../../src/kafka/memory';
import type { Manifest } from '../../src/backup/manifest';
import type { DumpSummary } from '../../src/dump/summary';
import { silentLogger, type Logger } from '../../src/output/logger';
import type { RestoreOptions } from '../../src/restore/restore';
import { MemoryStore } from '../../src/store/memory';
import type { ObjectStore } from '../../src/store/store';

/**
 * Dumps the topics of the in-memory cluster into the store (64 KiB segments, no registry;
 * silent, the wall clock unless given); `over` changes the dump's options (smaller blocks,
 * incremental).
 */
export function dumpTopics(
  kafka: MemoryKafka,
  store: ObjectStore,
  topics: string[],
  ctx: { logger?: Logger; now?: () => Date } = {},
  over: Partial<DumpOptions> = {},
): Promise<{ manifest: Manifest; summary: DumpSummary }> {
  return new DumpRun(
    { kafka, store, registry: null, logger: ctx.logger ?? silentLogger(), now: ctx.now },
    {
      selection: { topics },
      window: { since: null, until: null },
      maxRecordsPerPartition: null,
      segmentBytes: 64 * 1024,
      concurrency: 2,
      stallTimeoutMs: 1000,
      ...over,
    },
  ).run();
}

/** Incompressible bytes (so that 64 KiB segments hold few records), the same every run. */
export function noise(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** A memory store that counts the objects opened for reading (segments, in a restore). */
export class CountingStore extends MemoryStore {
  opened: string[] = [];
  override read(key: string): AsyncIterable<Buffer> {
    this.opened.push(key);
    return super.read(key);
  }
}

/** A restore into lane `lane` with every option at its default, `over` applied. */
export function laneOptions(lane: string, over: Partial<RestoreOptions> = {}): RestoreOptions {
  return {
    lane,
    topics: [],
    replicationFactor: null,
    window: { since: null, until: null },
    maxRecordsPerPartition: null,
    mode: 'new',
    laneHeader: null,
    concurrency: 2,
    ...over,
  };
}
