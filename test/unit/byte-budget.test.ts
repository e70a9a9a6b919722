import { ByteBudget } from '../../src/util/byte-budget';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ByteBudget', () => {
  it('grants within the limit and makes the rest wait, in arrival order', async () => {
    const b = new ByteBudget(100);
    const order: string[] = [];
    await b.acquire(60);
    const big = b.acquire(50).then(() => order.push('big'));
    const small = b.acquire(10).then(() => order.push('small')); // would fit, but waits behind big
    await tick();
    expect(order).toEqual([]);
    expect(b.inUse).toBe(60);
    b.release(60);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(b.inUse).toBe(60);
  });

  it('lets a request larger than the budget through alone', async () => {
    const b = new ByteBudget(10);
    await b.acquire(5);
    let granted = false;
    const huge = b.acquire(1000).then(() => (granted = true));
    await tick();
    expect(granted).toBe(false);
    b.release(5);
    await huge;
    expect(b.inUse).toBe(1000);
    b.release(1000);
    expect(b.inUse).toBe(0);
  });

  it('releases when the work fails, and refuses to release more than granted', async () => {
    const b = new ByteBudget(10);
    await expect(b.with(8, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(b.inUse).toBe(0);
    expect(() => b.release(1)).toThrow(RangeError);
    expect(() => new ByteBudget(0)).toThrow(RangeError);
  });

  it('never holds more than the limit under many concurrent writers', async () => {
    const b = new ByteBudget(1000);
    let peak = 0;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        b.with(100 + (i % 7) * 50, async () => {
          peak = Math.max(peak, b.inUse);
          await tick();
        }),
      ),
    );
    expect(peak).toBeLessThanOrEqual(1000);
    expect(b.inUse).toBe(0);
  });
});
