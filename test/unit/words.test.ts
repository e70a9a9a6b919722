import { plural } from '../../src/output/words';

it('writes counted nouns in the singular only for one', () => {
  expect([0, 1, 2].map((n) => plural(n, 'backup'))).toEqual(['0 backups', '1 backup', '2 backups']);
  expect(plural(1n, 'record')).toBe('1 record');
  expect(plural(3, 'entry', 'entries')).toBe('3 entries');
});
