/** Set-up shared by the restore tests: a dump of an in-memory cluster into a store, and restore options. */
import { DumpRun } from '../../src/dump/dump';
import type { MemoryKafka } from '../../src/kafka/memory';
import type { Manifest } from '../../src/backup/manifest';
import type { DumpSummary } from '../../src/dump/summary';
import { silentLogger, type Logger } from '../../src/output/logger';
import type { RestoreOptions } from '../../src/restore/restore';
import type { ObjectStore } from '../../src/store/store';

/** Dumps the topics of the in-memory cluster into the store (64 KiB segments, no registry; silent, the wall clock unless given). */
export function dumpTopics(
  kafka: MemoryKafka,
  store: ObjectStore,
  topics: string[],
  ctx: { logger?: Logger; now?: () => Date } = {},
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
    },
  ).run();
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
