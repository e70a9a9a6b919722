/**
 * The one retry policy (src/util/retry.ts) on an injected clock: which errors are retried,
 * how long each wait is, when the budget (attempts, deadline) is spent, and that an
 * AbortSignal stops it; no test waits for real except the abort of a real sleep.
 */
import { ConflictError, ServiceError, UsageError } from '../../src/errors';
import { retry, retryDelay, sleep, type RetryClock, type RetryPolicy } from '../../src/util/retry';

/** A clock whose sleeps only move its time forward and are recorded. */
function fakeClock(random = 0.5): RetryClock & { waits: number[]; t: number } {
  const c = {
    t: 1_000_000,
    waits: [] as number[],
    now: () => c.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      c.waits.push(ms);
      c.t += ms;
    },
    random: () => random,
  };
  return c;
}

/** A call that fails with each error in turn, then resolves to 'ok'; counts its calls and their start times. */
function failing(clock: { now(): number }, errors: unknown[]) {
  const starts: number[] = [];
  const fn = async (attempt: number): Promise<string> => {
    starts.push(clock.now());
    expect(attempt).toBe(starts.length);
    const e = errors[starts.length - 1];
    // Some fixtures are plain objects, as some libraries throw.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (e !== undefined) throw e;
    return 'ok';
  };
  return { fn, starts };
}

const transient = (): ServiceError => new ServiceError('kafka', 'leader moved');

describe('retryDelay', () => {
  const p: RetryPolicy = { initialMs: 200, maxMs: 3000 };

  it('doubles from the initial wait up to the longest', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => retryDelay(p, n, 0.5))).toEqual([200, 400, 800, 1600, 3000, 3000, 3000]);
  });

  it('spreads each wait by the jitter either way, and not at all without it', () => {
    const j = { ...p, jitter: 0.25 };
    expect([retryDelay(j, 0, 0), retryDelay(j, 0, 0.5), retryDelay(j, 0, 0.999999)]).toEqual([150, 200, 250]);
    expect([retryDelay(p, 0, 0), retryDelay(p, 0, 0.999)]).toEqual([200, 200]);
  });

  it('waits the same every time with factor 1', () => {
    expect([0, 1, 7].map((n) => retryDelay({ initialMs: 500, maxMs: 500, factor: 1 }, n, 0.3))).toEqual([500, 500, 500]);
  });
});

describe('retry', () => {
  it('retries retriable errors with growing waits and resolves with the first success', async () => {
    const clock = fakeClock();
    const { fn, starts } = failing(clock, [transient(), new ConflictError('locked'), { name: 'KafkaJSConnectionError', retriable: true }]);
    await expect(retry(fn, { initialMs: 100, maxMs: 1000 }, { clock })).resolves.toBe('ok');
    expect(starts).toHaveLength(4);
    expect(clock.waits).toEqual([100, 200, 400]);
  });

  it('throws an error that is not retriable at once, unchanged', async () => {
    const clock = fakeClock();
    const denied = new ServiceError('kafka', 'denied', undefined, { retriable: false });
    for (const err of [denied, new UsageError('bad'), new Error('plain'), { retriable: 'yes' }, null]) {
      const { fn, starts } = failing(clock, [err]);
      await expect(retry(fn, { initialMs: 100, maxMs: 100 }, { clock })).rejects.toBe(err);
      expect(starts).toHaveLength(1);
    }
    expect(clock.waits).toEqual([]);
  });

  it('stops after the attempt budget with the last error', async () => {
    const clock = fakeClock();
    const errors = Array.from({ length: 10 }, (_, i) => new ServiceError('kafka', `failure ${i}`));
    const { fn, starts } = failing(clock, errors);
    await expect(retry(fn, { initialMs: 250, maxMs: 4000, attempts: 6 }, { clock })).rejects.toBe(errors[5]);
    expect(starts).toHaveLength(6);
    expect(clock.waits).toEqual([250, 500, 1000, 2000, 4000]);
  });

  it('never starts a call after the deadline, and shortens the last wait to end at it', async () => {
    const clock = fakeClock();
    const t0 = clock.t;
    const errors = Array.from({ length: 20 }, () => transient());
    const { fn, starts } = failing(clock, errors);
    await expect(retry(fn, { initialMs: 1000, maxMs: 4000, deadlineMs: 10_000 }, { clock })).rejects.toBe(errors[4]);
    // Waits 1, 2, 4 s (7 s), then 3 s instead of 4 to end at the deadline: one last call there.
    expect(clock.waits).toEqual([1000, 2000, 4000, 3000]);
    expect(starts.map((s) => s - t0)).toEqual([0, 1000, 3000, 7000, 10_000]);
  });

  it('counts the time calls take against the deadline', async () => {
    const clock = fakeClock();
    let calls = 0;
    const slow = async (): Promise<never> => {
      calls++;
      clock.t += 4000; // each call takes 4 s
      throw transient();
    };
    await expect(retry(slow, { initialMs: 500, maxMs: 500, factor: 1, deadlineMs: 10_000 }, { clock })).rejects.toBeInstanceOf(ServiceError);
    // Starts at 0, 4.5 and 9 s; after the third (13 s) the deadline has passed.
    expect(calls).toBe(3);
    expect(clock.waits).toEqual([500, 500]);
  });

  it('takes a call site classifier over the error field', async () => {
    const clock = fakeClock();
    const taken = Object.assign(new ServiceError('kafka', 'topic already exists', undefined, { retriable: false }), { kafkaCode: 'TOPIC_ALREADY_EXISTS' });
    const { fn, starts } = failing(clock, [taken, taken]);
    const byCode = (e: unknown): boolean => (e as { kafkaCode?: string }).kafkaCode === 'TOPIC_ALREADY_EXISTS';
    await expect(retry(fn, { initialMs: 500, maxMs: 500, factor: 1 }, { clock, retriable: byCode })).resolves.toBe('ok');
    expect(starts).toHaveLength(3);
  });

  it('runs beforeRetry after each wait, ignoring its failures', async () => {
    const clock = fakeClock();
    const log: string[] = [];
    const first = transient();
    const { fn } = failing(clock, [first, transient()]);
    await retry(
      async (attempt) => {
        log.push(`call ${attempt}`);
        return fn(attempt);
      },
      { initialMs: 10, maxMs: 10 },
      {
        clock: { ...clock, sleep: async (ms) => void log.push(`wait ${ms}`) },
        beforeRetry: async (err, attempt) => {
          log.push(`recover after ${attempt}${err === first ? ' (first error)' : ''}`);
          throw new Error('metadata refresh failed');
        },
      },
    );
    expect(log).toEqual(['call 1', 'wait 10', 'recover after 1 (first error)', 'call 2', 'wait 10', 'recover after 2', 'call 3']);
  });

  it('does not call at all once aborted, and stops between attempts with the reason', async () => {
    const clock = fakeClock();
    const controller = new AbortController();
    const reason = new Error('stopped');
    controller.abort(reason);
    const { fn, starts } = failing(clock, []);
    await expect(retry(fn, { initialMs: 10, maxMs: 10 }, { clock, signal: controller.signal })).rejects.toBe(reason);
    expect(starts).toHaveLength(0);

    const later = new AbortController();
    let calls = 0;
    const abortsOnSecond = async (): Promise<never> => {
      if (++calls === 2) later.abort(reason);
      throw transient();
    };
    await expect(retry(abortsOnSecond, { initialMs: 10, maxMs: 10 }, { clock, signal: later.signal })).rejects.toBe(reason);
    expect(calls).toBe(2);
  });

  it('cuts a real wait short when the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('closed');
    let calls = 0;
    const run = retry(
      async () => {
        calls++;
        throw transient();
      },
      { initialMs: 60_000, maxMs: 60_000 },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(reason), 20);
    // Without the abort the wait would be a minute: jest's 5 s timeout fails the test.
    await expect(run).rejects.toBe(reason);
    expect(calls).toBe(1);
  });
});

describe('sleep', () => {
  it('rejects at once with the reason of an aborted signal', async () => {
    await expect(sleep(60_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});
