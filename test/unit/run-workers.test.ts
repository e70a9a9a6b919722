import { runWorkers } from '../../src/util/run-workers';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('runWorkers', () => {
  it('processes every item once with at most N in flight, each worker with its own index', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    const workersUsed = new Set<number>();
    await runWorkers([1, 2, 3, 4, 5, 6, 7], 3, async (item, worker) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      workersUsed.add(worker);
      await tick();
      seen.push(item);
      inFlight--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
    expect([...workersUsed].sort()).toEqual([0, 1, 2]);
  });

  it('rejects with the first failure and stops taking new items', async () => {
    const started: number[] = [];
    await expect(
      runWorkers([1, 2, 3, 4, 5, 6], 2, async (item) => {
        started.push(item);
        await tick();
        if (item === 2) throw new Error('boom on 2');
      }),
    ).rejects.toThrow('boom on 2');
    expect(started.length).toBeLessThan(6);
  });

  it('rejects only after the items in flight have settled, so their resources can be closed', async () => {
    let slowDone = false;
    await expect(
      runWorkers([1, 2], 2, async (item) => {
        if (item === 1) throw new Error('fast failure');
        await new Promise((r) => setTimeout(r, 30));
        slowDone = true;
      }),
    ).rejects.toThrow('fast failure');
    expect(slowDone).toBe(true);
  });

  it('does nothing for no items', async () => {
    const work = jest.fn(async () => undefined);
    await runWorkers([], 4, work);
    expect(work).not.toHaveBeenCalled();
  });
});
