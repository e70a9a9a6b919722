/**
 * "Did you mean" for mistyped topics, lanes and backup IDs (src/util/near-names.ts), and
 * unique prefixes of backup IDs (src/backup/id-match.ts). Names come from brokers and stores:
 * the cost of a comparison is bounded and counted here, not timed.
 */
import { matchBackupId, MAX_LISTED } from '../../src/backup/id-match';
import { resolveBackup } from '../../src/backup/catalog';
import { MemoryStore } from '../../src/store/memory';
import { didYouMean, didYouMeanSuffix, editDistance, maxSuggestDistance, nearNames } from '../../src/util/near-names';
import { NotFoundError, UsageError } from '../../src/errors';

describe('edit distance', () => {
  it('counts insertions, deletions, substitutions and adjacent transpositions as one edit each', () => {
    expect(editDistance('orders', 'orders')).toBe(0);
    expect(editDistance('orders', 'order')).toBe(1);
    expect(editDistance('orders', 'ordres')).toBe(1);
    expect(editDistance('restroe', 'restore')).toBe(1);
    expect(editDistance('orders', 'borders')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('stops at the limit: limit + 1 means "further than that"', () => {
    expect(editDistance('kitten', 'sitting', 2)).toBe(3);
    expect(editDistance('a', 'abcdefgh', 2)).toBe(3);
    expect(editDistance('abcdef', 'abcdeg', 1)).toBe(1);
  });
});

describe('near names', () => {
  const topics = ['orders', 'orders-dlq', 'payments', 'users', 'Orders'];
  it('suggests the closest names, closest first, a case-only difference before all', () => {
    expect(nearNames('ordres', topics)).toEqual(['orders', 'Orders']);
    expect(nearNames('ORDERS', topics)).toEqual(['orders', 'Orders']);
    expect(didYouMean('payment', topics)).toBe('did you mean payments?');
    expect(didYouMean('ordrs', topics)).toBe('did you mean orders or Orders?');
    expect(didYouMeanSuffix('featur-x', ['feature-x', 'alpha'])).toBe(': did you mean feature-x?');
  });
  it('suggests nothing for a name far from all, an empty one, or itself', () => {
    expect(didYouMean('inventory', topics)).toBeNull();
    expect(didYouMeanSuffix('', topics)).toBe('');
    expect(nearNames('users', topics)).toEqual([]);
  });
  it('allows more edits for longer names, at most 3', () => {
    expect([1, 4, 8, 12, 100].map(maxSuggestDistance)).toEqual([1, 1, 2, 3, 3]);
    expect(nearNames('a', ['b', 'ab', 'abc'])).toEqual(['b', 'ab']);
  });
  it('names three at most, and skips over-long names (a hostile broker) without comparing them', () => {
    expect(nearNames('topic', ['topic1', 'topic2', 'topic3', 'topic4'])).toHaveLength(3);
    const huge = 'x'.repeat(100_000);
    expect(nearNames(huge, ['x'])).toEqual([]);
    expect(nearNames('xx', [huge, 'xy'])).toEqual(['xy']);
  });
  it('compares 100 000 candidate names at a bounded cost per name', () => {
    // Every name has the mistyped one's length: none is skipped by length, each is compared in its band;
    // ties go to the first found.
    const many = Array.from({ length: 100_000 }, (_, i) => `topic-${String(i).padStart(6, '0')}`);
    expect(nearNames('topic-00042x', many)).toEqual(['topic-000420', 'topic-000421', 'topic-000422']);
  });
});

describe('backup IDs by unique prefix', () => {
  const refs = [
    { cluster: 'prod', backupId: '20261201T030000000Z' },
    { cluster: 'prod', backupId: '20261206T054507020Z' },
    { cluster: 'prod', backupId: '20261206T114500123Z' },
    { cluster: 'stage', backupId: '20261206T114500123Z' },
  ];
  it('takes a whole ID, or a prefix that only one ID starts with', () => {
    expect(matchBackupId('20261201T030000000Z', refs)).toEqual({ kind: 'found', refs: [refs[0]] });
    expect(matchBackupId('20261201T', refs)).toEqual({ kind: 'found', refs: [refs[0]] });
    expect(matchBackupId('20261206T05', refs)).toEqual({ kind: 'found', refs: [refs[1]] });
    // One ID in two clusters: both refs (the caller asks for --name).
    expect(matchBackupId('20261206T1', refs)).toEqual({ kind: 'found', refs: [refs[2], refs[3]] });
  });
  it('an ambiguous prefix lists the IDs it could mean, a bounded number of them', () => {
    expect(matchBackupId('20261206', refs)).toEqual({ kind: 'ambiguous', ids: ['20261206T054507020Z', '20261206T114500123Z'], count: 2 });
    const many = Array.from({ length: 40 }, (_, i) => ({ cluster: 'c', backupId: `202612${String(i + 1).padStart(2, '0')}T000000000Z`.slice(0, 19) }));
    const m = matchBackupId('2026', many);
    expect(m).toEqual({ kind: 'ambiguous', ids: many.slice(0, MAX_LISTED).map((b) => b.backupId), count: 40 });
  });
  it('refuses what cannot be an ID or is too short to be a useful prefix; finds nothing for an unknown one', () => {
    expect(matchBackupId('lastest', refs).kind).toBe('malformed');
    expect(matchBackupId('202', refs).kind).toBe('malformed');
    expect(matchBackupId('2026-12-06', refs).kind).toBe('malformed');
    expect(matchBackupId('2025', refs)).toEqual({ kind: 'none' });
    expect(matchBackupId('20261206T114500124Z', refs)).toEqual({ kind: 'none' });
  });

  describe('through resolveBackup (what every command that takes a backup uses)', () => {
    const store = new MemoryStore('t');
    beforeAll(async () => {
      for (const r of refs) await store.put(`${r.cluster}/${r.backupId}/manifest.json`, Buffer.from('{}'));
    });
    it('resolves a unique prefix', async () => {
      await expect(resolveBackup(store, '20261206T05')).resolves.toEqual(refs[1]);
      await expect(resolveBackup(store, '20261206T1', 'stage')).resolves.toEqual(refs[3]);
    });
    it('an ambiguous prefix is a usage error (exit 2) naming the candidates', async () => {
      const err = await resolveBackup(store, '20261206', 'prod').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(
        'backup ID prefix 20261206 matches 2 backups in memory://t for cluster prod: 20261206T054507020Z, 20261206T114500123Z',
      );
    });
    it('an ID one typo away from an existing one is not found (exit 3), with the ID it probably meant', async () => {
      const err = await resolveBackup(store, '20261206T054507021Z').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as Error).message).toContain('backup 20261206T054507021Z not found (or incomplete) in memory://t: did you mean 20261206T054507020Z?');
    });
    it('"lastest" is a usage error that suggests latest', async () => {
      const err = await resolveBackup(store, 'lastest').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe('"lastest" is not a backup ID: did you mean latest?');
    });
  });
});
