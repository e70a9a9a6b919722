/**
 * The batches of one lane partition on their way to the producer: the batch being built,
 * and up to `inFlight` batches sent and not yet acknowledged (the producer's in-flight
 * window, producerWindow in write-partition.ts: one today, though the lean producer keeps up
 * to five in order; the next batch is built meanwhile). A sent batch holds
 * its bytes of the restore's byte budget until the broker acknowledges it, and its buffer
 * is reused only once the producer says nothing still reads it.
 *
 * A batch is full at `maxRecords` records, or when the next record's key, value and header
 * bytes would take it past `maxBytes` (a batch always takes one record, however large).
 *
 * Two kinds of batch, chosen when the sink is opened: record sets encoded in place
 * (RecordSetBuilder, sent with the adapter's RecordProducer.sendPlaced), which also take a
 * segment block's records transcoded without an object each (transcodeBlock); and record
 * objects (RecordProducer.send), for producers without placed sends.
 */
import type { CodecName } from '../kafka/protocol/codecs';
import { compressWorkerAvailable } from '../kafka/client/compress-worker';
import type { ProduceRecord, RecordProducer } from '../kafka/adapter';
import type { RawBlock } from '../segment/reader';
import type { ByteBudget } from '../util/byte-budget';
import { RecordSetBuilder, type BatchLimits, type IdRewrite, type TranscodeResult } from './record-transcoder';

export interface BatchSinkOptions {
  topic: string;
  partition: number;
  compression: CodecName;
  /** When a batch is full. */
  maxRecords: number;
  maxBytes: number;
  /** Bytes of batches between their encoding and their acknowledgement, shared with other sinks. */
  budget?: ByteBudget;
  /** Batches sent and not yet acknowledged while the next one is built (at least 1). */
  inFlight: number;
}

/** One batch: records appended until it is full, then sent as a whole. */
interface Batch {
  readonly count: number;
  /** Key, value and header bytes of its records (the `maxBytes` measure). */
  readonly size: number;
  append(r: ProduceRecord, size: number): void;
  /** Sends the batch; resolves to whether its buffer may be reused. */
  send(): Promise<boolean>;
  /** Empties it for the next records, in a fresh buffer when the last send may still read the old one. */
  reset(fresh: boolean): void;
  /** Record sets encoded in place only: see RecordSetBuilder.transcode. */
  transcode?: RecordSetBuilder['transcode'];
}

/** A record set encoded in place, sent with the producer's sendPlaced. */
class PlacedBatch implements Batch {
  constructor(
    private readonly builder: RecordSetBuilder,
    private readonly sendSet: () => Promise<boolean>,
  ) {}

  get count(): number {
    return this.builder.count;
  }

  get size(): number {
    return this.builder.size;
  }

  append(r: ProduceRecord): void {
    this.builder.appendRecord(r);
  }

  send(): Promise<boolean> {
    return this.sendSet();
  }

  reset(fresh: boolean): void {
    this.builder.reset(fresh);
  }

  transcode(...args: Parameters<RecordSetBuilder['transcode']>): TranscodeResult {
    return this.builder.transcode(...args);
  }
}

/** Record objects, sent with the producer's send. */
class ObjectBatch implements Batch {
  private records: ProduceRecord[] = [];
  size = 0;

  constructor(private readonly sendRecords: (records: ProduceRecord[]) => Promise<void>) {}

  get count(): number {
    return this.records.length;
  }

  append(r: ProduceRecord, size: number): void {
    this.records.push(r);
    this.size += size;
  }

  async send(): Promise<boolean> {
    await this.sendRecords(this.records);
    return true;
  }

  reset(): void {
    // A new array: the producer may keep the one it was given.
    this.records = [];
    this.size = 0;
  }
}

export class BatchSink {
  private current: Batch;
  /** Empty batches ready to be filled, made only as the window fills (a short partition needs few). */
  private readonly free: Batch[] = [];
  /** Sent, oldest first. */
  private readonly sent: Array<{ batch: Batch; acked: Promise<boolean> }> = [];

  /**
   * A sink for one lane partition. With `placed` (how records change on the way to the lane, when
   * the partition is read whole, see writePartition), batches are record sets encoded in place (sent with the producer's
   * sendPlaced, part of every RecordProducer) and the sink can transcode segment blocks;
   * otherwise record objects (send).
   */
  static open(producer: RecordProducer, opts: BatchSinkOptions, placed: IdRewrite | null): BatchSink {
    const { topic, partition, compression } = opts;
    const window = Math.max(1, opts.inFlight);
    if (placed !== null) {
      const headroom = producer.headroom(topic);
      // Room for a full batch of 1 KiB records without growing; a bigger record grows the buffer.
      const capacity = opts.maxBytes + opts.maxRecords * 64 + 4096;
      // Shared memory when a worker thread compresses the sets (compress-worker.ts).
      const alloc = compression !== 'none' && compressWorkerAvailable() ? (n: number): Buffer => Buffer.from(new SharedArrayBuffer(n)) : undefined;
      const make = (): Batch => {
        const builder = new RecordSetBuilder(headroom, capacity, placed, alloc);
        return new PlacedBatch(builder, () => producer.sendPlaced(topic, partition, builder.placed(), { compression }));
      };
      return new BatchSink(make, opts, window);
    }
    return new BatchSink(() => new ObjectBatch((records) => producer.send(topic, partition, records, { compression })), opts, window);
  }

  private constructor(
    /** A new empty batch: made when one is needed and none is free (inFlight + 1 at most). */
    private readonly make: () => Batch,
    private readonly opts: BatchSinkOptions,
    private readonly window: number,
  ) {
    this.current = make();
  }

  /** Whether segment blocks can be transcoded into the batches (transcodeBlock). */
  get transcodes(): boolean {
    return this.current.transcode !== undefined;
  }

  /** Appends one record of `size` key, value and header bytes, sending the batch first when it is full. */
  async add(r: ProduceRecord, size: number): Promise<void> {
    const b = this.current;
    if (b.count > 0 && (b.count >= this.opts.maxRecords || b.size + size > this.opts.maxBytes)) await this.flush();
    this.current.append(r, size);
  }

  /**
   * Transcodes every record of a raw segment block into the batches, sending each as it
   * fills; `each` sees what every transcode step did, before a full batch is sent.
   */
  async transcodeBlock(blk: RawBlock, each: (r: TranscodeResult) => void): Promise<void> {
    const body = blk.body;
    const limits: BatchLimits = { maxRecords: this.opts.maxRecords, maxBytes: this.opts.maxBytes };
    let p = 0;
    let index = blk.firstIndex;
    while (p < body.length) {
      const b = this.current;
      if (b.transcode === undefined) throw new Error('BatchSink: this sink takes record objects, not segment blocks');
      const r = b.transcode(body, p, body.length, index, blk.ctx, blk.basePos, limits);
      p = r.next;
      index += r.records;
      each(r);
      if (r.full) await this.flush();
    }
  }

  /** Sends what is left and waits until every batch is acknowledged. */
  async close(): Promise<void> {
    await this.flush();
    while (this.sent.length > 0) await this.settleOldest();
  }

  /** Sends the batch being built (after waiting for room in the window); nothing when it is empty. */
  private async flush(): Promise<void> {
    while (this.sent.length >= this.window) await this.settleOldest();
    const b = this.current;
    if (b.count === 0) return;
    const budget = this.opts.budget;
    const acked = budget ? budget.with(b.size, () => b.send()) : b.send();
    // Awaited by settleOldest; until then a failure must not count as unhandled.
    acked.catch(() => undefined);
    this.sent.push({ batch: b, acked });
    this.current = this.free.pop() ?? this.make();
  }

  private async settleOldest(): Promise<void> {
    const { batch, acked } = this.sent.shift()!;
    const reusable = await acked;
    batch.reset(!reusable);
    this.free.push(batch);
  }
}
