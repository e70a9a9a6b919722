/**
 * Reads offset ranges [start, end) by sending Fetch requests straight to the partition
 * leaders through kafkajs's connection layer (TLS, SASL, framing) and decoding the record
 * batches itself (protocol/batch-decoder.ts): no consumer group (nothing is left on the cluster), no
 * kafkajs message objects.
 *
 * Memory is bounded by a budget, not by the partition count: at most `concurrency`
 * partitions are open at once (a partition waits until one finishes), each leader has at
 * most one fetch in flight (sent while the previous response is being handled), and a
 * response is at most MAX_FETCH_BYTES unless a single batch is larger.
 *
 * Semantics are kafkajs's consumer's, as dump relied on: read_committed (aborted
 * transactions and control batches skipped, as Kafka's Java consumer decides it), a
 * partition's position moves past every batch, records or not, so compaction gaps,
 * markers and emptied batches are crossed, and a partition is done once a batch reaches
 * end-1. Offsets deleted by retention mid-read are skipped (the read continues at the
 * new log start, as kafkajs's earliest reset did).
 */
import { ServiceError } from '../../errors';
import type { Logger } from '../../output/logger';
import { retryDelay, sleep, type RetryPolicy } from '../../util/retry';
import type { RangeHandlers, RangeTarget } from '../adapter';
import { codecById, codecs } from '../protocol/codecs';
import { decodeFetchResponse, FETCH_VERSION, type FetchedPartition } from '../protocol/fetch-response';
import { createCluster, loadKafkajsModule, type Kafka } from '../transport/kafkajs';
import { retriableRequest } from '../transport/kafkajs-errors';
import { AbortFilter, BatchRecords, controlType, splitBatches, type RawBatch } from '../protocol/batch-decoder';

/** Whole response limit: bounds memory (two responses per leader at most). */
export const MAX_FETCH_BYTES = 4 * 1024 * 1024;
/** Per partition, so several open partitions share a response. */
export const PARTITION_FETCH_BYTES = 1024 * 1024;
const MAX_WAIT_MS = 500;
const READ_COMMITTED = 1;

export interface DirectReadOptions {
  concurrency: number;
  stallTimeoutMs: number;
  logger: Logger;
}

interface Broker {
  connectionPool: { send(req: unknown): Promise<unknown> };
}
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(q: { nodeId: string }): Promise<Broker>;
  fetchTopicsOffset(
    q: Array<{ topic: string; fromBeginning: boolean; partitions: Array<{ partition: number }> }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  brokerPool: { versions: Record<number, { minVersion: number; maxVersion: number }> | null };
}

const fetchRequest = loadKafkajsModule('src/protocol/requests/fetch/v11/request') as (args: object) => object;
const protocolErrors = loadKafkajsModule('src/protocol/error') as { createErrorFromCode(code: number): Error & { type: string; retriable: boolean } };

interface PartitionState {
  target: RangeTarget;
  /** Next offset to hand over (records below it were handled). */
  next: bigint;
  /** Next offset to fetch (ahead of `next` while a response waits to be handled). */
  fetchAt: bigint;
  /** A single batch larger than the partition limit: ask for at least this much. */
  needBytes: number;
  inFlight: boolean;
  done: boolean;
  /** Not fetched before this time (after a retriable error). */
  backoffUntil: number;
}

interface Outcome {
  nodeId: string;
  parts: PartitionState[];
  response?: ReturnType<typeof decodeFetchResponse>;
  error?: Error;
}

/**
 * A partition whose fetch failed retriably (a leader moving, a broker restarting) is fetched
 * again after half a second, as often as it takes: the read's budget is its stall timeout (no
 * progress on any partition for that long), not a number of attempts.
 */
const FETCH_RETRY: RetryPolicy = { initialMs: 500, maxMs: 500, factor: 1 };
/** With every open partition waiting (a backoff, a leader), the loop looks again this often. */
const IDLE_MS = 100;

async function decompress(batch: RawBatch): Promise<Buffer> {
  const name = codecById(batch.header.codec);
  if (name === 'none') return batch.body;
  if (!name)
    throw new ServiceError('kafka', `record batch at offset ${batch.header.baseOffset} uses unknown compression codec ${batch.header.codec}`, undefined, {
      retriable: false,
    });
  return codecs[name].decompress(batch.body);
}

export async function readRangesDirect(kafka: Kafka, targets: readonly RangeTarget[], opts: DirectReadOptions, handlers: RangeHandlers): Promise<void> {
  const states = targets.map((t): PartitionState => ({
    target: t,
    next: t.start,
    fetchAt: t.start,
    needBytes: 0,
    inFlight: false,
    done: false,
    backoffUntil: 0,
  }));
  // Empty ranges are complete without reading.
  for (const s of states) {
    if (s.target.start >= s.target.end) {
      s.done = true;
      await handlers.onPartitionDone(s.target);
    }
  }
  const waiting = states.filter((s) => !s.done);
  if (waiting.length === 0) return;
  const budget = Math.max(1, opts.concurrency);
  const open: PartitionState[] = [];
  let remaining = waiting.length;

  const cluster = createCluster(kafka) as unknown as Cluster;
  let lastProgress = Date.now();
  // Typed by its initialiser: it is set in callbacks, which TypeScript's narrowing does not see.
  let stalled = null as Error | null;
  const stallTimer = setInterval(() => {
    if (Date.now() - lastProgress > opts.stallTimeoutMs) {
      const stuck = open.filter((s) => !s.done).map((s) => `${s.target.topic}/${s.target.partition}@${s.next}<${s.target.end}`);
      const last = lastError === null ? '' : ` (last error: ${String((lastError as Error).message ?? lastError)})`;
      stalled = new ServiceError(
        'kafka',
        `no progress for ${Math.round(opts.stallTimeoutMs / 1000)}s on ${stuck.slice(0, 5).join(', ')}${last}`,
        'the data may have been deleted by retention during the dump; retry, or raise the stall timeout',
        { options: ['stallTimeoutMs'] },
      );
    }
  }, 1000);
  const inFlight = new Map<string, Promise<Outcome>>();
  let lastError: unknown = null;

  const leaderOf = (s: PartitionState): string | null => {
    const byLeader = cluster.findLeaderForPartitions(s.target.topic, [s.target.partition]);
    const ids = Object.keys(byLeader);
    return ids.length > 0 && ids[0] !== '-1' ? ids[0]! : null;
  };

  const startFetch = (nodeId: string, parts: PartitionState[]): void => {
    for (const s of parts) s.inFlight = true;
    // A partition whose big batch did not fit goes first: the broker always returns the first batch of the first partition whole.
    parts.sort((a, b) => b.needBytes - a.needBytes);
    const need = parts.reduce((n, s) => Math.max(n, s.needBytes), 0);
    const byTopic = new Map<string, Array<{ partition: number; fetchOffset: string; maxBytes: number }>>();
    for (const s of parts) {
      const list = byTopic.get(s.target.topic) ?? [];
      list.push({ partition: s.target.partition, fetchOffset: s.fetchAt.toString(), maxBytes: Math.max(PARTITION_FETCH_BYTES, s.needBytes) });
      byTopic.set(s.target.topic, list);
    }
    const request = fetchRequest({
      replicaId: -1,
      maxWaitTime: MAX_WAIT_MS,
      minBytes: 1,
      maxBytes: Math.max(MAX_FETCH_BYTES, need),
      isolationLevel: READ_COMMITTED,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
    const p = (async (): Promise<Outcome> => {
      try {
        const broker = await cluster.findBroker({ nodeId });
        const response = (await broker.connectionPool.send({
          request,
          // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs awaits these; `async` makes a throw the rejection it expects
          response: { decode: async (payload: Buffer) => decodeFetchResponse(payload), parse: async (d: unknown) => d },
          requestTimeout: MAX_WAIT_MS + 30_000,
        })) as Outcome['response'];
        return { nodeId, parts, response };
      } catch (error) {
        // kafkajs throws Errors; anything else becomes one, so the loop has one type to handle.
        return { nodeId, parts, error: error instanceof Error ? error : new Error(String(error)) };
      }
    })();
    inFlight.set(nodeId, p);
  };

  /** Sends a fetch to every leader that has fetchable open partitions and no fetch in flight. */
  const startFetches = (): void => {
    while (open.length < budget && waiting.length > 0) open.push(waiting.shift()!);
    const now = Date.now();
    const byLeader = new Map<string, PartitionState[]>();
    for (const s of open) {
      if (s.done || s.inFlight || s.backoffUntil > now || s.fetchAt >= s.target.end) continue;
      const leader = leaderOf(s);
      if (leader === null || inFlight.has(leader)) continue;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), s]);
    }
    for (const [nodeId, parts] of byLeader) startFetch(nodeId, parts);
  };

  const markDone = async (s: PartitionState): Promise<void> => {
    if (s.done) return;
    s.done = true;
    open.splice(open.indexOf(s), 1);
    await handlers.onPartitionDone(s.target);
    remaining--;
  };

  const reachedBatchEnd = async (s: PartitionState, lastOffset: bigint): Promise<void> => {
    if (lastOffset + 1n > s.next) s.next = lastOffset + 1n;
    handlers.onPosition?.(s.target, s.next > s.target.end ? s.target.end : s.next);
    lastProgress = Date.now();
    if (s.next >= s.target.end) await markDone(s);
  };

  const retryLater = (parts: PartitionState[], err: unknown): void => {
    lastError = err;
    const until = Date.now() + retryDelay(FETCH_RETRY, 0, Math.random());
    for (const s of parts) s.backoffUntil = until;
  };

  /** Parses a partition's response: moves its fetch position so the next fetch can go out before the records are handled. */
  const accept = async (s: PartitionState, fp: FetchedPartition): Promise<RawBatch[] | null> => {
    if (fp.errorCode !== 0) {
      const err = protocolErrors.createErrorFromCode(fp.errorCode);
      if (err.type === 'OFFSET_OUT_OF_RANGE') {
        // Deleted by retention while the read ran: continue at the log start (a gap, as kafkajs's earliest reset made it).
        const [t] = await cluster.fetchTopicsOffset([{ topic: s.target.topic, fromBeginning: true, partitions: [{ partition: s.target.partition }] }]);
        const earliest = BigInt(t?.partitions[0]?.offset ?? '-1');
        if (earliest > s.fetchAt) {
          opts.logger.warn(
            { topic: s.target.topic, partition: s.target.partition, from: s.fetchAt.toString(), to: earliest.toString() },
            'offsets were deleted by retention during the read; continuing at the log start',
          );
          s.fetchAt = earliest;
          return null;
        }
      }
      if (retriableRequest(err)) {
        retryLater([s], err);
        await cluster.refreshMetadata().catch(() => undefined);
        return null;
      }
      throw Object.assign(err, { message: `${err.message} (${s.target.topic}/${s.target.partition})` });
    }
    const batches = splitBatches(fp.records);
    if (batches.length > 0) {
      const last = batches[batches.length - 1]!.header.lastOffset;
      if (last + 1n > s.fetchAt) s.fetchAt = last + 1n;
      s.needBytes = 0;
    } else if (fp.records.length >= 12) {
      // Only the start of one batch fits the limit: ask for the whole batch next time.
      s.needBytes = fp.records.readInt32BE(8) + 12;
    }
    return batches;
  };

  const handle = async (s: PartitionState, fp: FetchedPartition, batches: RawBatch[]): Promise<void> => {
    const filter = new AbortFilter(fp.abortedTransactions);
    for (const batch of batches) {
      if (s.done) return;
      const h = batch.header;
      if (h.lastOffset < s.next) continue; // before the start
      if (h.isControl) {
        filter.control(h, controlType(await decompress(batch), h));
      } else if (!filter.skipData(h) && h.recordCount > 0) {
        if (handlers.onBatch) {
          s.next = await handlers.onBatch(s.target, { header: h, records: await decompress(batch) }, s.next);
        } else {
          const records = new BatchRecords(h, await decompress(batch));
          for (let r = records.next(); r !== null; r = records.next()) {
            if (r.offset < s.next) continue; // a batch starts before the fetch offset
            if (r.offset >= s.target.end) break;
            await handlers.onRecord(s.target, r);
            s.next = r.offset + 1n;
          }
        }
      }
      await reachedBatchEnd(s, h.lastOffset);
    }
  };

  try {
    await cluster.connect();
    const max = cluster.brokerPool.versions?.[1]?.maxVersion ?? 0;
    if (max < FETCH_VERSION)
      throw new ServiceError('kafka', `the broker speaks Fetch up to v${max}; kbak reads with Fetch v${FETCH_VERSION} (Kafka 2.3 or newer)`, undefined, {
        retriable: false,
      });
    await cluster.addMultipleTargetTopics([...new Set(targets.map((t) => t.topic))]);
    while (remaining > 0) {
      if (stalled) throw stalled;
      startFetches();
      if (inFlight.size === 0) {
        // Everything open waits for a backoff or a leader.
        await sleep(IDLE_MS);
        if (open.some((s) => !s.done && leaderOf(s) === null)) await cluster.refreshMetadata().catch((e: unknown) => (lastError = e));
        continue;
      }
      const outcome = await Promise.race(inFlight.values());
      inFlight.delete(outcome.nodeId);
      for (const s of outcome.parts) s.inFlight = false;
      if (outcome.error !== undefined) {
        if (!retriableRequest(outcome.error)) throw outcome.error;
        opts.logger.debug({ err: String(outcome.error), broker: outcome.nodeId }, 'fetch failed; retrying');
        retryLater(outcome.parts, outcome.error);
        await cluster.refreshMetadata().catch((e: unknown) => (lastError = e));
        continue;
      }
      const res = outcome.response!;
      if (res.errorCode !== 0) {
        const err = protocolErrors.createErrorFromCode(res.errorCode);
        if (!retriableRequest(err)) throw err;
        retryLater(outcome.parts, err);
        continue;
      }
      const byKey = new Map(outcome.parts.map((s) => [`${s.target.partition}\u0000${s.target.topic}`, s]));
      const work: Array<{ s: PartitionState; fp: FetchedPartition; batches: RawBatch[] }> = [];
      for (const fp of res.partitions) {
        const s = byKey.get(`${fp.partition}\u0000${fp.topic}`);
        if (!s || s.done) continue;
        const batches = await accept(s, fp);
        if (batches) work.push({ s, fp, batches });
      }
      // The next fetch is on its way while this response is handled.
      startFetches();
      for (const w of work) await handle(w.s, w.fp, w.batches);
    }
  } finally {
    clearInterval(stallTimer);
    await Promise.allSettled(inFlight.values());
    await cluster.disconnect().catch(() => undefined);
  }
}
