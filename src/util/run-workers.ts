/**
 * Runs `work` over `items` with at most `workers` calls in flight, in item order per
 * worker. The worker index lets callers give each worker its own resource (a producer).
 * The first failure rejects the whole run, but only once the items already in flight have
 * settled: workers stop taking new items once one fails, and the caller may then close the
 * resources they use (a producer closed under a running send would retry, or reconnect).
 */
export async function runWorkers<T>(items: readonly T[], workers: number, work: (item: T, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown;
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, workers), items.length) }, async (_, worker) => {
      while (!failed && next < items.length) {
        const item = items[next++]!;
        try {
          await work(item, worker);
        } catch (err) {
          if (!failed) firstError = err;
          failed = true;
        }
      }
    }),
  );
  if (failed) throw firstError;
}
