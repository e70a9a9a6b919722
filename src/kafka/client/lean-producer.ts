/**
 * kbak's own idempotent producer (RecordProducer): record batches encoded by
 * protocol/record-batch.ts straight into the Produce request (protocol/produce.ts), sent over kafkajs's connection layer
 * (TLS, SASL, framing, correlation) of kbak's private copy. kafkajs's producer built a
 * message object, a Record encoder and several growing buffers per record and copied each
 * batch four more times; a restore spent most of its CPU there.
 *
 * Idempotence as Kafka defines it: one producer id and epoch per producer (InitProducerId),
 * a sequence number per partition that advances by the records of each acknowledged batch.
 * A batch whose request failed or timed out is sent again with the same bytes and sequence,
 * so the broker writes it once (a repeat within its last five batches is acknowledged as a
 * duplicate, not appended). acks=all. Up to PRODUCER_MAX_IN_FLIGHT requests in flight per
 * partition, in the order the batches were handed in, with the retry rules of idempotence
 * (produce-pipeline.ts).
 */
import { retry, type RetryPolicy } from '../../util/retry';
import { KafkaServiceError, type ProduceRecord, type ProducerOptions, type RecordProducer } from '../adapter';
import { kafkaError, retriableRequest } from '../transport/kafkajs-errors';
import { CODEC_IDS, codecs } from '../protocol/codecs';
import { compressRecords } from './compress-worker';
import {
  decodeProduceResponse,
  encodeProduceRequest,
  MAX_PRODUCE_VERSION,
  MIN_PRODUCE_VERSION,
  PRODUCE_API_KEY,
  produceHeadBytes,
  type ProduceResult,
} from '../protocol/produce';
import { BATCH_HEADER_BYTES, encodeRecordSet, type PlacedRecordSet } from '../protocol/record-batch';
import { MAX_IN_FLIGHT, ProducePipeline } from './produce-pipeline';
import { requestFrameBytes } from '../protocol/request';
import { createCluster, loadKafkajsModule, type Kafka } from '../transport/kafkajs';
import { FRAME_ROOM, filledEncoder, type KafkajsEncoderClass } from '../transport/patches';

/** Produce requests in flight per partition (see ProducePipeline; at most MAX_IN_FLIGHT). */
export const PRODUCER_MAX_IN_FLIGHT = MAX_IN_FLIGHT;
/**
 * Per batch (and per InitProducerId): 10 attempts, 250 ms doubling to 4 s between them (about
 * 24 s in all): a leader election or broker restart takes seconds.
 */
export const PRODUCE_RETRY: RetryPolicy = { initialMs: 250, maxMs: 4000, attempts: 10 };

// kafkajs internals, untyped: typed here by what kbak uses of them.
const Encoder = loadKafkajsModule('src/protocol/encoder') as KafkajsEncoderClass;
const { createErrorFromCode } = loadKafkajsModule('src/protocol/error') as {
  createErrorFromCode: (code: number) => Error & { type?: string; retriable?: boolean };
};

export interface ConnectionPool {
  send(req: unknown): Promise<unknown>;
}
export interface KafkajsBroker {
  connectionPool: ConnectionPool;
  initProducerId(req: { transactionTimeout: number }): Promise<{ producerId: string; producerEpoch: number }>;
}
/** The slice of kafkajs's Cluster the producer uses (exported for tests with a fake cluster). */
export interface LeanCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
  findBroker(req: { nodeId: number }): Promise<KafkajsBroker>;
  findControllerBroker(): Promise<KafkajsBroker>;
  brokerPool: { versions: Record<number, { minVersion: number; maxVersion: number }> | null };
}

export class LeanProducer implements RecordProducer {
  /** Produce requests in flight per partition (ProducePipeline): Kafka's idempotence allows up to five. */
  readonly maxInFlight: number = PRODUCER_MAX_IN_FLIGHT;
  private readonly pipelines = new Map<string, ProducePipeline>();
  private readonly leaders = new Map<string, number>();
  private readonly knownTopics = new Set<string>();
  /**
   * Buffers of send's record sets and requests, reused from batch to batch (fresh buffers per
   * batch were most of a restore's garbage): one is taken per batch and given back once
   * nothing reads it any more. A request that needed a retry keeps its buffer: an abandoned
   * socket might still be writing it.
   */
  private readonly recordScratch = new ScratchBuffers(PRODUCER_MAX_IN_FLIGHT + 1);
  private readonly requestScratch = new ScratchBuffers(PRODUCER_MAX_IN_FLIGHT + 1);
  /** Bytes kept free in front of each request body for the frame (FRAME_ROOM). */
  private readonly room: number;
  /**
   * Aborted by close(): a send still retrying must not reconnect (its socket would keep the
   * process alive), and one waiting to retry stops at once.
   */
  private readonly closing = new AbortController();

  /** A producer over a connected cluster with an initialised producer id (connect() makes both). */
  constructor(
    private readonly cluster: LeanCluster,
    private readonly id: { producerId: bigint; producerEpoch: number },
    private readonly version: number,
    private readonly brokers: string[],
    private readonly timeoutMs: number,
    clientId: string,
  ) {
    this.room = requestFrameBytes(Buffer.from(clientId, 'utf8'));
  }

  static async connect(kafka: Kafka, brokers: string[], clientId: string, timeoutMs = 30_000): Promise<LeanProducer> {
    const cluster = createCluster(kafka) as unknown as LeanCluster;
    try {
      await cluster.connect();
      // connect() reaches only the seed broker; without metadata the controller is unknown and
      // the first InitProducerId attempt failed as retriable, costing a 250 ms backoff per producer.
      await cluster.refreshMetadata();
      const max = cluster.brokerPool.versions?.[PRODUCE_API_KEY]?.maxVersion ?? 0;
      if (max < MIN_PRODUCE_VERSION)
        throw new KafkaServiceError(
          `the broker speaks Produce up to v${max}; kbak needs v${MIN_PRODUCE_VERSION} (Kafka 0.11 or newer)`,
          undefined,
          'restore into a newer Kafka',
          { retriable: false },
        );
      // Any broker hands out a producer id for a non-transactional producer.
      const init = await retry(async () => (await cluster.findControllerBroker()).initProducerId({ transactionTimeout: timeoutMs }), PRODUCE_RETRY, {
        retriable: retriableRequest,
        beforeRetry: () => cluster.refreshMetadata(),
      });
      return new LeanProducer(
        cluster,
        { producerId: BigInt(init.producerId), producerEpoch: init.producerEpoch },
        Math.min(max, MAX_PRODUCE_VERSION),
        brokers,
        timeoutMs,
        clientId,
      );
    } catch (err) {
      await cluster.disconnect().catch(() => undefined);
      throw kafkaError(err, brokers, 'connecting a producer');
    }
  }

  private async leader(topic: string, partition: number): Promise<KafkajsBroker> {
    const key = `${partition}\0${topic}`;
    let nodeId = this.leaders.get(key);
    if (nodeId === undefined) {
      if (!this.knownTopics.has(topic)) {
        await this.cluster.addTargetTopic(topic);
        this.knownTopics.add(topic);
      }
      const meta = this.cluster.findTopicPartitionMetadata(topic).find((m) => m.partitionId === partition);
      if (!meta || meta.leader < 0) throw createErrorFromCode(5); // LEADER_NOT_AVAILABLE: retried
      nodeId = meta.leader;
      this.leaders.set(key, nodeId);
    }
    return this.cluster.findBroker({ nodeId });
  }

  /** The partition's pipeline of produce requests, made on its first batch. */
  private pipeline(topic: string, partition: number): ProducePipeline {
    const key = `${partition}\0${topic}`;
    let p = this.pipelines.get(key);
    if (p === undefined) {
      const closing = this.closing.signal;
      p = new ProducePipeline(
        {
          beforeResend: async () => {
            this.leaders.delete(key);
            await this.cluster.refreshMetadata();
          },
          retriable: retriableRequest,
          errorOf: (code) => createErrorFromCode(code),
          failure: (err) =>
            closing.aborted && err === closing.reason
              ? new KafkaServiceError(`the producer writing to ${topic}/${partition} was closed`, undefined, undefined, { retriable: false })
              : kafkaError(err, this.brokers, `writing to ${topic}/${partition}`),
        },
        this.maxInFlight,
        PRODUCE_RETRY,
        closing,
      );
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Requests in flight at once on a partition so far, at most (tests). */
  maxInFlightSeen(topic: string, partition: number): number {
    return this.pipelines.get(`${partition}\0${topic}`)?.maxSeen ?? 0;
  }

  async send(topic: string, partition: number, records: readonly ProduceRecord[], opts: ProducerOptions): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.pipeline(topic, partition);
    const scratch = this.recordScratch.take();
    const set = encodeRecordSet(records, scratch);
    // The records' buffer until the request is framed (the payload is copied into it).
    let recordBuf: Buffer | undefined = set.records.length > (scratch?.length ?? 0) ? set.records : scratch;
    let payload = set.records;
    let body: Buffer | undefined;
    const prepared =
      opts.compression === 'none'
        ? undefined
        : codecs[opts.compression].compress(set.records).then((c) => {
            payload = c;
            this.recordScratch.give(recordBuf);
            recordBuf = undefined;
          });
    let reqBuf: Buffer | undefined;
    const attempts = await pipeline.send(
      {
        count: set.count,
        frame: (baseSequence) => {
          const ps = { ...this.id, baseSequence };
          const into = this.requestScratch.take();
          body = encodeProduceRequest(topic, partition, this.timeoutMs, set, payload, CODEC_IDS[opts.compression], ps, this.room, into);
          reqBuf = body.buffer === into?.buffer ? into : body;
          // The payload is in the request now.
          this.recordScratch.give(recordBuf);
          recordBuf = undefined;
        },
        attempt: () => this.attempt(topic, partition, body!),
      },
      prepared,
    );
    // A failed batch's buffers are left to the garbage collector (a codec might still read one).
    if (attempts === 1) this.requestScratch.give(reqBuf);
  }

  /** Bytes a PlacedRecordSet for `topic` needs in front of its records to be sent without a copy. */
  headroom(topic: string): number {
    return this.room + produceHeadBytes(topic) + BATCH_HEADER_BYTES;
  }

  /**
   * Sends records already encoded (restore's transcoder). The request is framed around them
   * in their own buffer when it has the headroom: uncompressed, or compressed by the worker
   * thread, which writes its output over them (compress-worker.ts); else the payload is copied
   * into a request buffer of its own. Resolves to whether `set.buf` may be reused: not when
   * a retried request was sent from it (an abandoned socket might still be writing it).
   */
  async sendPlaced(topic: string, partition: number, set: PlacedRecordSet, opts: ProducerOptions): Promise<boolean> {
    const pipeline = this.pipeline(topic, partition);
    const head = this.headroom(topic);
    // The payload (the records, or what the compression worker wrote over them) where the
    // batch carries it, or a buffer of its own to copy into the request.
    let payload = set.buf.subarray(set.start, set.end);
    let placedPayload = true;
    const prepared =
      opts.compression === 'none'
        ? undefined
        : compressRecords(opts.compression, set.buf, set.start, set.end).then((c) => {
            placedPayload = c.inPlace;
            payload = c.inPlace ? set.buf.subarray(set.start, set.start + c.length) : c.data;
          });
    let inPlace = false;
    let body: Buffer | undefined;
    const attempts = await pipeline.send(
      {
        count: set.count,
        frame: (baseSequence) => {
          inPlace = placedPayload && set.start >= head;
          const ps = { ...this.id, baseSequence };
          const into = inPlace ? set.buf.subarray(set.start - head) : undefined;
          body = encodeProduceRequest(topic, partition, this.timeoutMs, set, payload, CODEC_IDS[opts.compression], ps, this.room, into);
        },
        attempt: () => this.attempt(topic, partition, body!),
      },
      prepared,
    );
    return !(inPlace && attempts > 1);
  }

  /** Sends one framed Produce request body once; resolves to the partition's error code in the response. */
  private async attempt(topic: string, partition: number, body: Buffer): Promise<number> {
    const version = this.version;
    const room = this.room;
    const request = {
      request: {
        apiKey: PRODUCE_API_KEY,
        apiVersion: version,
        apiName: 'Produce',
        expectResponse: () => true,
        // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs awaits these; `async` makes a throw the rejection it expects
        encode: async () => Object.assign(filledEncoder(Encoder, body), { [FRAME_ROOM]: room }),
      },
      // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs awaits these; `async` makes a throw the rejection it expects
      response: { decode: async (p: Buffer) => decodeProduceResponse(p, version), parse: async (r: ProduceResult) => r },
    };
    const res = (await (await this.leader(topic, partition)).connectionPool.send(request)) as ProduceResult;
    return res.errorCode;
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('closed'));
    await this.cluster.disconnect().catch(() => undefined);
  }
}

/** A few buffers handed from batch to batch: taken while a batch uses one, given back after. */
class ScratchBuffers {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep: number) {}

  take(): Buffer | undefined {
    return this.free.pop();
  }

  give(buf: Buffer | undefined): void {
    if (buf !== undefined && this.free.length < this.keep) this.free.push(buf);
  }
}
