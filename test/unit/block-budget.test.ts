import { BLOCK_BUDGET_BYTES, budgetedBlockBytes, MIN_BLOCK_BYTES } from '../../src/dump/block-budget';
import { DEFAULT_BLOCK_BYTES } from '../../src/segment/format';

describe('budgetedBlockBytes', () => {
  it('keeps the default block for few partitions', () => {
    for (const n of [0, 1, 6, 32]) expect(budgetedBlockBytes(n)).toBe(DEFAULT_BLOCK_BYTES);
  });
  it('shrinks blocks so many partitions stay within the budget, down to a floor', () => {
    expect(budgetedBlockBytes(64)).toBe(BLOCK_BUDGET_BYTES / 64);
    expect(budgetedBlockBytes(200) * 200).toBeLessThanOrEqual(BLOCK_BUDGET_BYTES);
    expect(budgetedBlockBytes(200)).toBeGreaterThan(MIN_BLOCK_BYTES);
    expect(budgetedBlockBytes(10_000)).toBe(MIN_BLOCK_BYTES);
  });
});
