/**
 * The one retry policy: every loop in kbak that tries a failed call again (Kafka admin and
 * lane operations, waiting for new partitions' leaders, the producer, the fetch reader, group
 * commits, topic IDs, the schema registry, S3, store locks) waits, budgets and gives up the
 * same way, here:
 *
 * - only errors whose `retriable` is true are retried (kbak errors say it per class and per
 *   case, src/errors.ts; kafkajs's own errors carry the same field); anything else is thrown
 *   at once, unchanged;
 * - waits grow exponentially from `initialMs` by `factor` up to `maxMs`, spread by `jitter`
 *   so that clients failing together do not come back together;
 * - the budget is a number of attempts, a deadline, or both: when it is spent the last error
 *   is thrown as it was (callers' messages stay theirs). A deadline is never overshot and
 *   never given up early: the last wait is shortened to end at it, and one last attempt runs;
 * - an AbortSignal stops it between attempts and cuts a wait short, with the signal's reason.
 *
 * The clock (time, sleep, randomness) can be replaced, so tests count attempts and waits
 * without waiting.
 */

export interface RetryPolicy {
  /** Wait before the first retry. */
  initialMs: number;
  /** Longest single wait. */
  maxMs: number;
  /** Each wait is this many times the one before (default 2; 1 waits the same every time). */
  factor?: number;
  /** Each wait is spread by up to this fraction of itself either way (0.25: 0.75 to 1.25 times); default 0. */
  jitter?: number;
  /** At most this many calls in all, the first included. */
  attempts?: number;
  /** No call starts later than this long after the first one started. */
  deadlineMs?: number;
}

export interface RetryClock {
  now: () => number;
  /** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1). */
  random: () => number;
}

export interface RetryOptions {
  /** Stops retrying: checked before every attempt, and it ends a wait at once. */
  signal?: AbortSignal;
  /**
   * How to read `retriable` off what fn throws; default: the error's own `retriable` field.
   * For the few call sites that know more than the error (kafkajs errors inside the Kafka
   * adapter, a name still taken right after its topic was deleted).
   */
  retriable?: (err: unknown) => boolean;
  /** Runs after each wait, before the next attempt (refresh metadata, reconnect); its failure is ignored. */
  beforeRetry?(err: unknown, attempt: number): Promise<unknown> | void;
  clock?: RetryClock;
}

/** Sleeps that an AbortSignal cuts short, rejecting with its reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      // The signal's reason as given (an abort names its own error), as AbortSignal.throwIfAborted does.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const realClock: RetryClock = { now: () => Date.now(), sleep, random: () => Math.random() };

/** Whether an error says it is worth retrying: its `retriable` field is true (KbakError, KafkaJSError). */
export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/** Pure: the wait before retry number `retry` (0 before the second attempt), for a random draw in [0, 1). */
export function retryDelay(policy: RetryPolicy, retry: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * (policy.factor ?? 2) ** retry);
  const jitter = policy.jitter ?? 0;
  return Math.max(0, Math.round(base * (1 - jitter + 2 * jitter * random)));
}

/**
 * Calls `fn` (with its attempt number, from 1) until it resolves, throws an error that is not
 * retriable, or the policy's budget is spent; resolves or rejects as its last call did.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, opts: RetryOptions = {}): Promise<T> {
  const clock = opts.clock ?? realClock;
  const retriable = opts.retriable ?? isRetriable;
  const deadline = policy.deadlineMs === undefined ? Infinity : clock.now() + policy.deadlineMs;
  const attempts = policy.attempts ?? Infinity;
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retriable(err) || attempt >= attempts) throw err;
      const left = deadline - clock.now();
      if (left <= 0) throw err;
      await clock.sleep(Math.min(left, retryDelay(policy, attempt - 1, clock.random())), opts.signal);
      if (opts.beforeRetry) {
        try {
          await opts.beforeRetry(err, attempt);
        } catch {
          /* the next attempt meets the problem again */
        }
      }
    }
  }
}
