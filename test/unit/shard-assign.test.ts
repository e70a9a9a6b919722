import { UsageError } from '../../src/errors';
import { JOB_INDEX_ENV, MAX_SHARDS, assignShards, parseShardSpec, shardText, type Weighted } from '../../src/model/shard';
import { prng } from '../support/prng';

/** The thrown error, for assertions on its class, message and hint. */
function refusal(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

/** Bytes per shard under an assignment (an empty item weighs 1, as assignShards counts it). */
function loads(items: readonly Weighted[], shards: readonly number[], count: number): number[] {
  const out = new Array<number>(count).fill(0);
  shards.forEach((s, i) => (out[s]! += Math.max(items[i]!.bytes, 1)));
  return out;
}

/** The best makespan by trying every assignment (small inputs only). */
function optimum(items: readonly Weighted[], count: number): number {
  const w = items.map((x) => Math.max(x.bytes, 1)).sort((a, b) => b - a);
  const load = new Array<number>(count).fill(0);
  let best = Infinity;
  const go = (i: number): void => {
    const now = Math.max(...load);
    if (now >= best) return;
    if (i === w.length) {
      best = now;
      return;
    }
    const seen = new Set<number>();
    for (let s = 0; s < count; s++) {
      if (seen.has(load[s]!)) continue; // shards with equal loads are interchangeable
      seen.add(load[s]!);
      load[s]! += w[i]!;
      go(i + 1);
      load[s]! -= w[i]!;
    }
  };
  go(0);
  return best;
}

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function randomItems(rnd: () => number, n: number, maxBytes: number): Weighted[] {
  return Array.from({ length: n }, (_, i) => ({ key: `t${Math.floor(rnd() * 3)}/${i}`, bytes: 1 + Math.floor(rnd() * maxBytes) }));
}

describe('parseShardSpec', () => {
  it('reads I/N, 0-based', () => {
    expect(parseShardSpec('0/3')).toEqual({ index: 0, count: 3 });
    expect(parseShardSpec('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShardSpec('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShardSpec(`${MAX_SHARDS - 1}/${MAX_SHARDS}`)).toEqual({ index: MAX_SHARDS - 1, count: MAX_SHARDS });
  });

  it('takes I from JOB_COMPLETION_INDEX when only N is given', () => {
    expect(parseShardSpec('4', { [JOB_INDEX_ENV]: '3' })).toEqual({ index: 3, count: 4 });
    expect(parseShardSpec('4', { [JOB_INDEX_ENV]: '0' })).toEqual({ index: 0, count: 4 });
  });

  it('prefers an explicit I over JOB_COMPLETION_INDEX', () => {
    expect(parseShardSpec('1/4', { [JOB_INDEX_ENV]: '3' })).toEqual({ index: 1, count: 4 });
  });

  it('writes back what it reads', () => {
    for (const text of ['0/1', '0/3', '2/3', '17/100']) expect(shardText(parseShardSpec(text))).toBe(text);
  });

  it('refuses an index outside 0..N-1, naming the range', () => {
    for (const [text, env, range] of [
      ['3/3', {}, '0..2'],
      ['7/3', {}, '0..2'],
      ['1/1', {}, '0..0'],
      ['3', { [JOB_INDEX_ENV]: '3' }, '0..2'],
    ] as const) {
      const e = refusal(() => parseShardSpec(text, env));
      expect(e.message).toContain(`--shard "${text}"`);
      expect(e.message).toContain(range);
      expect(e.hint).toMatch(/0 to \d+/);
      expect(e.exitCode).toBe(2);
    }
  });

  it('refuses 0 shards and more than MAX_SHARDS', () => {
    for (const text of ['0/0', '0', `0/${MAX_SHARDS + 1}`]) {
      const e = refusal(() => parseShardSpec(text, { [JOB_INDEX_ENV]: '0' }));
      expect(e.message).toMatch(/has \d+ shards/);
      expect(e.hint).toContain(`1 to ${MAX_SHARDS}`);
    }
  });

  it('refuses junk, saying how to write a shard', () => {
    for (const text of ['', 'a/b', '1/b', '1/3x', '-1/3', '1.0/3', '01/3', '1/03', '1//3', '/3', '1/', ' 1/3', '1/3 ', '1e2/300', '0x1/3', '1/2/3']) {
      const e = refusal(() => parseShardSpec(text, { [JOB_INDEX_ENV]: '0' }));
      expect(e.message).toContain(`--shard ${JSON.stringify(text)}`);
      expect(e.message).toMatch(/is not I\/N/);
      expect(e.hint).toMatch(/I\/N|0 to N-1/);
    }
  });

  it('refuses N alone without JOB_COMPLETION_INDEX, naming both ways out', () => {
    const e = refusal(() => parseShardSpec('3', {}));
    expect(e.message).toContain(JOB_INDEX_ENV);
    expect(e.message).toContain('not set');
    expect(e.hint).toContain('--shard I/3');
    expect(e.hint).toContain('Indexed Job');
    // The default env is empty, not the test runner's process.env.
    expect(() => parseShardSpec('3')).toThrow(UsageError);
  });

  it('refuses a JOB_COMPLETION_INDEX that is not a number, quoting it', () => {
    for (const bad of ['', 'x', '-1', '1.5', ' 1']) {
      const e = refusal(() => parseShardSpec('3', { [JOB_INDEX_ENV]: bad }));
      expect(e.message).toContain(`${JOB_INDEX_ENV}=${JSON.stringify(bad)}`);
      expect(e.hint).toContain('0 to N-1');
    }
  });
});

describe('assignShards', () => {
  it('gives every item exactly one shard in 0..N-1, in the items order', () => {
    const rnd = prng(21);
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(rnd() * 40);
      const count = 1 + Math.floor(rnd() * 8);
      const items = randomItems(rnd, n, 1e6);
      const out = assignShards(items, count);
      expect(out).toHaveLength(n);
      for (const s of out) {
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(count);
      }
      // Total bytes are conserved: no item counted twice or dropped.
      expect(loads(items, out, count).reduce((a, b) => a + b, 0)).toBe(items.reduce((a, x) => a + Math.max(x.bytes, 1), 0));
    }
  });

  it('depends only on the set of items, not their order (ties broken by key)', () => {
    const rnd = prng(7);
    for (let round = 0; round < 100; round++) {
      // Few distinct sizes, so many ties between items.
      const items = Array.from({ length: 5 + Math.floor(rnd() * 30) }, (_, i) => ({ key: `orders/${i}`, bytes: [0, 100, 100, 5000][Math.floor(rnd() * 4)]! }));
      const count = 1 + Math.floor(rnd() * 6);
      const byKey = (xs: readonly Weighted[], out: readonly number[]): Record<string, number> => Object.fromEntries(xs.map((x, i) => [x.key, out[i]!]));
      const first = byKey(items, assignShards(items, count));
      for (let k = 0; k < 3; k++) {
        const other = shuffled(items, rnd);
        expect(byKey(other, assignShards(other, count))).toEqual(first);
      }
    }
  });

  it('balances bytes, not counts: one huge partition has a shard to itself', () => {
    const items: Weighted[] = [...Array.from({ length: 11 }, (_, i) => ({ key: `t/${i}`, bytes: 10_000 })), { key: 't/11', bytes: 1_000_000 }];
    const out = assignShards(items, 3);
    const huge = out[11]!;
    expect(out.filter((s) => s === huge)).toHaveLength(1);
    // The 11 others split over the two remaining shards (by count that would have been 4/4/4).
    const rest = out.slice(0, 11);
    expect(rest).not.toContain(huge);
    const counts = [0, 1, 2].filter((s) => s !== huge).map((s) => rest.filter((x) => x === s).length);
    expect(counts.sort()).toEqual([5, 6]);
  });

  it('puts many small partitions against one large one by bytes', () => {
    // 1 of 600 bytes and 6 of 100: by bytes 600 | 600 is perfect; by count it would be 4 | 3.
    const items: Weighted[] = [{ key: 'a/0', bytes: 600 }, ...Array.from({ length: 6 }, (_, i) => ({ key: `a/${i + 1}`, bytes: 100 }))];
    const out = assignShards(items, 2);
    expect(loads(items, out, 2)).toEqual([600, 600]);
    expect(out.filter((s) => s === out[0])).toHaveLength(1);
  });

  it('spreads empty partitions over the shards', () => {
    const items = Array.from({ length: 9 }, (_, i) => ({ key: `empty/${i}`, bytes: 0 }));
    const out = assignShards(items, 3);
    expect([0, 1, 2].map((s) => out.filter((x) => x === s).length)).toEqual([3, 3, 3]);
    // Empty partitions beside equal non-empty ones spread too.
    const mixed = [
      ...Array.from({ length: 4 }, (_, i) => ({ key: `full/${i}`, bytes: 1000 })),
      ...Array.from({ length: 4 }, (_, i) => ({ key: `empty/${i}`, bytes: 0 })),
    ];
    const m = assignShards(mixed, 4);
    expect([0, 1, 2, 3].map((s) => m.filter((x) => x === s).length)).toEqual([2, 2, 2, 2]);
  });

  it('gives each item its own shard when there are more shards than items', () => {
    const items = [
      { key: 'x/0', bytes: 5 },
      { key: 'x/1', bytes: 50 },
      { key: 'x/2', bytes: 0 },
    ];
    const out = assignShards(items, 8);
    expect(new Set(out).size).toBe(3);
    expect(assignShards([], 3)).toEqual([]);
  });

  it('stays within the LPT bound of the best split on random inputs', () => {
    const rnd = prng(2026);
    for (let round = 0; round < 300; round++) {
      const count = 2 + Math.floor(rnd() * 3); // 2..4 shards
      const n = 1 + Math.floor(rnd() * 10); // up to 10 items: the optimum is found exactly
      const items = randomItems(rnd, n, rnd() < 0.5 ? 100 : 1e6);
      const got = Math.max(...loads(items, assignShards(items, count), count));
      const best = optimum(items, count);
      // Graham: LPT ≤ (4/3 − 1/(3m)) · OPT.
      expect(got).toBeLessThanOrEqual((4 / 3 - 1 / (3 * count)) * best + 1e-9);
    }
  });

  it('stays within 4/3 of the lower bound plus the largest item on large random inputs', () => {
    const rnd = prng(99);
    for (let round = 0; round < 100; round++) {
      const count = 1 + Math.floor(rnd() * 100);
      const items = randomItems(rnd, Math.floor(rnd() * 2000), rnd() < 0.3 ? 1e9 : 1e4);
      if (items.length === 0) continue;
      const total = items.reduce((a, x) => a + x.bytes, 0);
      const largest = Math.max(...items.map((x) => x.bytes));
      const got = Math.max(...loads(items, assignShards(items, count), count));
      // OPT ≥ max(average, largest); greedy list scheduling alone guarantees ≤ average + largest.
      expect(got).toBeLessThanOrEqual((4 / 3) * Math.max(total / count, largest) + largest);
      expect(got).toBeLessThanOrEqual(total / count + largest);
    }
  });

  it('refuses a shard count below 1 or not whole', () => {
    for (const count of [0, -1, 1.5, NaN]) expect(() => assignShards([{ key: 'a/0', bytes: 1 }], count)).toThrow(RangeError);
  });
});
