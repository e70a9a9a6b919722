/**
 * The produce requests of one partition of an idempotent producer (lean-producer.ts): up to
 * `maxInFlight` sent and not yet acknowledged, written by the broker in the order they were
 * handed in, each exactly once, under the rules of Kafka's idempotence:
 *
 * - a batch gets its base sequence when it is first sent, in hand-in order (the sequence is
 *   in the batch header, under its CRC, so the request is framed then), and every later
 *   attempt sends the same bytes with the same sequence;
 * - the broker keeps the last five batches of each producer and partition: a repeat of one of
 *   them is answered DUPLICATE_SEQUENCE_NUMBER (46), which is an acknowledgement (an earlier
 *   attempt got through); a batch whose sequence is not the next one is refused with
 *   OUT_OF_ORDER_SEQUENCE_NUMBER (45) and not written. Hence at most five in flight;
 * - when a batch fails retriably, the batches sent after it are refused with 45 (a gap): they
 *   are sent again too. As the Java producer does (TransactionManager.canRetry), a 45 is
 *   retried only for a batch that is not the next one after the last acknowledged: for that
 *   one the gap is real (the broker lost acknowledged records) and the send fails;
 * - on the first failure nothing new is sent; once every request in flight has settled, the
 *   unacknowledged batches are sent again one at a time, oldest first (the first after the
 *   retry policy's wait and a metadata refresh; one refused only for a gap at once), and then
 *   the pipeline opens again. A partition's first batch, and the first after a failure, also
 *   go alone: the connection to the leader is made (or re-made) by one request, not five;
 * - a failure that is not retriable, or a batch out of attempts, fails that batch and every
 *   batch not acknowledged with it, before and after (nothing is retried any more; a batch in
 *   flight that the broker still acknowledges resolves); the next batch handed in after that
 *   takes the sequence after the last acknowledged one.
 *
 * Pure sequencing: the bytes, the connection and the errors are the caller's (PipelineIo,
 * PipelineBatch).
 */
import { retryDelay, sleep, type RetryClock, type RetryPolicy } from '../../util/retry';
import { nextSequence } from '../protocol/record-batch';

export const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
export const DUPLICATE_SEQUENCE_NUMBER = 46;
/** Batches a broker remembers per producer and partition (ProducerStateEntry): the most that may be in flight. */
export const MAX_IN_FLIGHT = 5;

export interface PipelineBatch {
  /** Records in the batch: the sequence numbers it takes. */
  readonly count: number;
  /** Builds the request with the batch's base sequence: once, before its first attempt. */
  frame(baseSequence: number): void;
  /** Sends the request once: the partition's error code in the response; rejects when no response came. */
  attempt(): Promise<number>;
}

export interface PipelineIo {
  /** Before a batch is sent again after a failure (not a gap): forget the leader, refresh metadata. Its failure is ignored. */
  beforeResend(): Promise<unknown>;
  /** Whether a failed attempt (a thrown error, or errorOf's) is worth another. */
  retriable(err: unknown): boolean;
  /** The error for a partition error code in a response. */
  errorOf(code: number): Error;
  /** What a failed send rejects with (the closing signal's reason when the producer was closed). */
  failure(err: unknown): Error;
}

interface Entry {
  readonly batch: PipelineBatch;
  /** Prepared (compressed): may be sent. */
  ready: boolean;
  state: 'waiting' | 'sending' | 'failed';
  /** Hand-in order among sent batches; -1 until first sent. */
  ordinal: number;
  seq: number;
  attempts: number;
  /** Its last failure was only a gap left by an earlier batch: sent again without waiting. */
  gap: boolean;
  /** Failed with another batch while in flight (that batch's error): settles without a retry. */
  doomed: Error | null;
  resolve(attempts: number): void;
  reject(err: Error): void;
}

type Outcome = { code: number } | { error: unknown };

export class ProducePipeline {
  /** Not yet acknowledged, in hand-in order. */
  private readonly queue: Entry[] = [];
  private inFlight = 0;
  /** Base sequence of the next batch sent for the first time. */
  private nextSeq = 0;
  private ordinals = 0;
  /** The last acknowledged batch (by hand-in order) and the sequence after it: the broker's next. */
  private acked = { ordinal: -1, next: 0 };
  /** A batch failed: send the failed ones again one at a time once nothing is in flight. */
  private recovering = false;
  /** A batch failed for good: send nothing until those in flight settle, then go on from `acked`. */
  private failing = false;
  /** An acknowledgement since the start or the last failure: the pipeline is open. */
  private warm = false;
  /** Most requests in flight at once so far (tests read it). */
  maxSeen = 0;

  constructor(
    private readonly io: PipelineIo,
    private readonly maxInFlight: number,
    private readonly policy: RetryPolicy,
    private readonly signal: AbortSignal,
    private readonly clock: Pick<RetryClock, 'sleep' | 'random'> = { sleep, random: Math.random },
  ) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT)
      throw new RangeError(`requests in flight per partition must be 1 to ${MAX_IN_FLIGHT}, got ${maxInFlight}`);
  }

  /**
   * Sends `batch` once `prepared` resolves, after every batch handed in before it; resolves
   * to the attempts it took once the broker has it, or rejects (PipelineIo.failure).
   */
  send(batch: PipelineBatch, prepared?: Promise<unknown>): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const e: Entry = { batch, ready: prepared === undefined, state: 'waiting', ordinal: -1, seq: 0, attempts: 0, gap: false, doomed: null, resolve, reject };
      this.queue.push(e);
      if (prepared === undefined) this.pump();
      else
        prepared.then(
          () => {
            e.ready = true;
            this.pump();
          },
          (err: unknown) => {
            // Still in the queue unless another batch's failure took it.
            if (this.queue.includes(e)) this.fail(e, err);
          },
        );
    });
  }

  private pump(): void {
    if (this.failing) {
      if (this.inFlight > 0) return;
      this.failing = false;
      this.recovering = false;
      this.warm = false;
      this.nextSeq = this.acked.next;
    }
    const head = this.queue[0];
    if (head === undefined) return;
    if (this.signal.aborted) {
      if (head.state !== 'sending') this.fail(head, this.signal.reason);
      return;
    }
    if (this.recovering) {
      if (this.inFlight > 0) return;
      if (head.state === 'failed') {
        this.dispatch(head, !head.gap);
        return;
      }
      this.recovering = false;
    }
    const limit = this.warm ? this.maxInFlight : 1;
    for (const e of this.queue) {
      if (this.inFlight >= limit) return;
      if (e.state === 'sending') continue;
      // Hand-in order: a batch still being prepared holds back those behind it.
      if (!e.ready) return;
      this.dispatch(e, false);
    }
  }

  private dispatch(e: Entry, backoff: boolean): void {
    if (e.ordinal < 0) {
      try {
        e.batch.frame(this.nextSeq);
      } catch (err) {
        this.fail(e, err);
        return;
      }
      e.ordinal = this.ordinals++;
      e.seq = this.nextSeq;
      this.nextSeq = nextSequence(e.seq, e.batch.count);
    }
    e.state = 'sending';
    e.attempts++;
    this.inFlight++;
    if (this.inFlight > this.maxSeen) this.maxSeen = this.inFlight;
    void this.attempt(e, backoff).then((outcome) => this.settle(e, outcome));
  }

  private async attempt(e: Entry, backoff: boolean): Promise<Outcome> {
    try {
      if (backoff) {
        await this.clock.sleep(retryDelay(this.policy, e.attempts - 2, this.clock.random()), this.signal);
        await this.io.beforeResend().catch(() => undefined);
      }
      this.signal.throwIfAborted();
      return { code: await e.batch.attempt() };
    } catch (error) {
      return { error };
    }
  }

  private settle(e: Entry, outcome: Outcome): void {
    this.inFlight--;
    const code = 'code' in outcome ? outcome.code : -1;
    if (code === 0 || code === DUPLICATE_SEQUENCE_NUMBER) this.ack(e);
    else {
      const err = 'error' in outcome ? outcome.error : this.io.errorOf(code);
      e.state = 'failed';
      if (e.doomed !== null) e.reject(e.doomed);
      else if (this.signal.aborted) this.fail(e, this.signal.reason);
      else {
        // A gap only where an earlier batch may be missing: not for the broker's next sequence.
        const gap = code === OUT_OF_ORDER_SEQUENCE_NUMBER && e.seq !== this.acked.next;
        if ((gap || this.io.retriable(err)) && e.attempts < (this.policy.attempts ?? Infinity)) {
          e.gap = gap;
          this.recovering = true;
          this.warm = false;
        } else this.fail(e, err);
      }
    }
    this.pump();
  }

  private ack(e: Entry): void {
    if (this.queue[0] === e) this.queue.shift();
    else {
      const i = this.queue.indexOf(e);
      if (i >= 0) this.queue.splice(i, 1);
    }
    if (e.ordinal > this.acked.ordinal) this.acked = { ordinal: e.ordinal, next: nextSequence(e.seq, e.batch.count) };
    this.warm = true;
    e.resolve(e.attempts);
  }

  /** `e` failed for good: it and every batch not acknowledged fail with it (those in flight when they settle). */
  private fail(e: Entry, err: unknown): void {
    const error = this.io.failure(err);
    this.failing = true;
    for (const x of this.queue.splice(0)) {
      if (x === e || x.state !== 'sending') x.reject(error);
      else x.doomed = error;
    }
    this.pump();
  }
}
