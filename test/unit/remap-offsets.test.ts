import { CommittedOffset, NO_COMMITTED_OFFSET, OffsetTranslator, translateOffset } from '../../src/remap/offsets';
import { prng } from '../support/prng';

type Pair = [bigint, bigint];

function translate(committed: CommittedOffset[], pairs: Pair[], laneEnd: bigint): Map<string, bigint> {
  const t = new OffsetTranslator(committed);
  for (const [source, lane] of pairs) t.observe(source, lane);
  return t.finish(laneEnd);
}

/** Restored records at these source offsets, written to an empty lane partition from 0. */
function restored(...sourceOffsets: number[]): Pair[] {
  return sourceOffsets.map((s, i) => [BigInt(s), BigInt(i)]);
}

describe('translateOffset (reference rule)', () => {
  const pairs = restored(10, 11, 15, 20);
  it.each([
    [0, 0n], // before the first restored record: lane start
    [10, 0n],
    [11, 1n],
    [12, 2n], // inside a gap: next restored record
    [15, 2n],
    [16, 3n],
    [20, 3n],
    [21, 4n], // past the last restored record: lane end
    [1000, 4n],
  ])('committed %d → %d', (committed, expected) => {
    expect(translateOffset(BigInt(committed), pairs, 4n)).toBe(expected);
  });

  it('maps everything to the lane end when nothing was restored', () => {
    expect(translateOffset(5n, [], 7n)).toBe(7n);
  });

  it('refuses negative committed offsets', () => {
    expect(() => translateOffset(-1n, pairs, 4n)).toThrow(RangeError);
  });
});

describe('OffsetTranslator', () => {
  it('translates a dense partition one-to-one, shifted to the lane base', () => {
    const pairs: Pair[] = [0, 1, 2, 3, 4].map((i) => [BigInt(i), BigInt(100 + i)]);
    const result = translate(
      [
        { group: 'at-start', offset: 0n },
        { group: 'middle', offset: 3n },
        { group: 'caught-up', offset: 5n },
      ],
      pairs,
      105n,
    );
    expect(result).toEqual(
      new Map([
        ['at-start', 100n],
        ['middle', 103n],
        ['caught-up', 105n],
      ]),
    );
  });

  it('skips compaction gaps to the next surviving record', () => {
    // Offsets 2..6 were compacted away.
    const result = translate([{ group: 'g', offset: 4n }], restored(0, 1, 7, 8), 4n);
    expect(result.get('g')).toBe(2n);
  });

  it('treats a trailing transaction marker as caught up', () => {
    // Records 0..4 committed in a transaction; the commit marker sits at 5, so a caught-up
    // consumer has committed 6, and one that stopped right before the marker has 5.
    const pairs = restored(0, 1, 2, 3, 4);
    const result = translate(
      [
        { group: 'after-marker', offset: 6n },
        { group: 'at-marker', offset: 5n },
      ],
      pairs,
      5n,
    );
    expect(result).toEqual(
      new Map([
        ['after-marker', 5n],
        ['at-marker', 5n],
      ]),
    );
  });

  it('skips aborted records and their marker', () => {
    // 0,1 committed; 2,3 aborted; 4 abort marker; 5 committed.
    const result = translate(
      [
        { group: 'in-aborted', offset: 3n },
        { group: 'at-marker', offset: 4n },
        { group: 'at-5', offset: 5n },
      ],
      restored(0, 1, 5),
      3n,
    );
    expect(result).toEqual(
      new Map([
        ['in-aborted', 2n],
        ['at-marker', 2n],
        ['at-5', 2n],
      ]),
    );
  });

  it('maps a position before a --since cut to the lane start', () => {
    const pairs: Pair[] = [
      [500n, 42n],
      [501n, 43n],
    ];
    const result = translate(
      [
        { group: 'old', offset: 3n },
        { group: 'zero', offset: 0n },
      ],
      pairs,
      44n,
    );
    expect(result).toEqual(
      new Map([
        ['old', 42n],
        ['zero', 42n],
      ]),
    );
  });

  it('uses the lane offsets it is given, including gaps in the lane', () => {
    const result = translate(
      [{ group: 'g', offset: 2n }],
      [
        [0n, 10n],
        [1n, 11n],
        [2n, 13n],
      ],
      14n,
    );
    expect(result.get('g')).toBe(13n);
  });

  it('leaves out groups with no committed position (-1)', () => {
    const result = translate(
      [
        { group: 'none', offset: NO_COMMITTED_OFFSET },
        { group: 'g', offset: 1n },
      ],
      restored(0, 1),
      2n,
    );
    expect(result).toEqual(new Map([['g', 1n]]));
  });

  it('maps every group to the lane end when nothing was restored', () => {
    const result = translate(
      [
        { group: 'a', offset: 0n },
        { group: 'b', offset: 9n },
      ],
      [],
      0n,
    );
    expect(result).toEqual(
      new Map([
        ['a', 0n],
        ['b', 0n],
      ]),
    );
  });

  it('handles several groups at the same committed offset', () => {
    const result = translate(
      [
        { group: 'a', offset: 1n },
        { group: 'b', offset: 1n },
      ],
      restored(0, 1),
      2n,
    );
    expect(result).toEqual(
      new Map([
        ['a', 1n],
        ['b', 1n],
      ]),
    );
  });

  it('refuses source offsets that do not strictly increase', () => {
    const t = new OffsetTranslator([]);
    t.observe(5n, 0n);
    expect(() => t.observe(5n, 1n)).toThrow('source offsets must strictly increase: got 5 after 5');
    expect(() => t.observe(4n, 1n)).toThrow('got 4 after 5');
  });

  it('refuses lane offsets that do not strictly increase', () => {
    const t = new OffsetTranslator([]);
    t.observe(0n, 3n);
    expect(() => t.observe(1n, 3n)).toThrow('lane offsets must strictly increase: got 3 after 3');
  });

  it('refuses a lane end that is not after the last restored record', () => {
    const t = new OffsetTranslator([]);
    t.observe(0n, 3n);
    expect(() => t.finish(3n)).toThrow('lane end offset 3');
  });

  it('refuses use after finish', () => {
    const t = new OffsetTranslator([]);
    t.finish(0n);
    expect(() => t.observe(0n, 0n)).toThrow('after finish');
    expect(() => t.finish(0n)).toThrow('twice');
  });

  it('refuses a group listed twice and offsets below -1', () => {
    expect(
      () =>
        new OffsetTranslator([
          { group: 'g', offset: 1n },
          { group: 'g', offset: 2n },
        ]),
    ).toThrow('group "g" has more than one committed offset');
    expect(() => new OffsetTranslator([{ group: 'g', offset: -2n }])).toThrow(RangeError);
  });

  it('does not keep the records it observes', () => {
    // Memory must not grow with records: after many observations the translator holds
    // only its per-group state.
    const t = new OffsetTranslator([{ group: 'g', offset: 250_000n }]);
    for (let i = 0n; i < 300_000n; i++) t.observe(i, i);
    const ownArrays = Object.values(t).filter(Array.isArray) as unknown[][];
    expect(ownArrays.every((a) => a.length <= 1)).toBe(true);
    expect(t.finish(300_000n).get('g')).toBe(250_000n);
  });
});

describe('OffsetTranslator matches translateOffset on random partitions', () => {
  it('agrees over 3000 seeded gap patterns', () => {
    const rand = prng(0x6b62616b);
    const int = (n: number): number => Math.floor(rand() * n);
    for (let run = 0; run < 3000; run++) {
      // Source: a --since cut or retention start, then a mix of dense stretches,
      // compaction gaps, transaction markers and aborted batches.
      const style = int(4);
      let source = BigInt(int(3) === 0 ? 0 : int(10_000));
      const pairs: Pair[] = [];
      let lane = BigInt(int(3) === 0 ? 0 : int(1_000));
      const count = int(3) === 0 ? int(3) : int(60);
      for (let i = 0; i < count; i++) {
        pairs.push([source, lane]);
        const gap = style === 0 ? 1 : int(10) < 7 ? 1 : 1 + int(style === 3 ? 1000 : 6);
        source += BigInt(gap);
        // Lane offsets are input, not assumed dense: occasionally skip (markers in the lane).
        lane += BigInt(int(10) === 0 ? 2 + int(3) : 1);
      }
      const laneEnd = pairs.length ? pairs[pairs.length - 1]![1] + 1n + BigInt(int(2)) : lane;

      const first = pairs[0]?.[0] ?? 0n;
      const last = pairs[pairs.length - 1]?.[0] ?? 0n;
      const committed: CommittedOffset[] = [];
      const groups = int(8);
      for (let g = 0; g < groups; g++) {
        const pick = int(6);
        let offset: bigint;
        if (pick === 0) offset = NO_COMMITTED_OFFSET;
        else if (pick === 1)
          offset = BigInt(int(Number(first) + 1)); // at or before the first record
        else if (pick === 2)
          offset = last + BigInt(int(5)); // at or after the last record
        else if (pick === 3 && pairs.length)
          offset = pairs[int(pairs.length)]![0]; // exactly on a record
        else offset = first + BigInt(int(Number(last - first) + 2)); // anywhere, gaps included
        committed.push({ group: `g${g}`, offset });
      }

      const actual = translate(committed, pairs, laneEnd);
      const expected = new Map<string, bigint>();
      for (const c of committed) {
        if (c.offset !== NO_COMMITTED_OFFSET) expected.set(c.group, translateOffset(c.offset, pairs, laneEnd));
      }
      if (actual.size !== expected.size || [...expected].some(([g, o]) => actual.get(g) !== o)) {
        throw new Error(
          `run ${run}: committed=${JSON.stringify(committed, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))} ` +
            `pairs=${pairs.map(([s, l]) => `${s}->${l}`).join(',')} laneEnd=${laneEnd} ` +
            `expected=${[...expected].join(';')} actual=${[...actual].join(';')}`,
        );
      }
    }
  });
});
