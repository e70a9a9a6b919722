/**
 * Which ACL bindings a backup holds (FORMAT.md settled point 23): those of the dumped topics
 * and of the groups whose offsets it holds, LITERAL equal, PREFIXED a prefix, or the LITERAL
 * wildcard; sorted field by field in UTF-16 code units, each once.
 */
import { compareAcls, firstDuplicateAcl, selectAcls, type AclBinding } from '../../src/backup/acls';
import { aclBinding } from '../support/acl-binding';

const b = (over: Partial<AclBinding>): AclBinding => aclBinding(over) as AclBinding;

describe('selectAcls', () => {
  it('keeps literal, prefixed and wildcard bindings of dumped topics and held groups, and nothing else', () => {
    const related = [
      b({}),
      b({ resourceName: 'ord', patternType: 'PREFIXED', operation: 'WRITE' }),
      b({ resourceName: '*', operation: 'DESCRIBE' }),
      b({ resourceName: 'orders', patternType: 'PREFIXED', operation: 'ALL' }),
      b({ resourceType: 'GROUP', resourceName: 'billing', principal: 'User:bob' }),
      b({ resourceType: 'GROUP', resourceName: 'bill', patternType: 'PREFIXED', permissionType: 'DENY' }),
      b({ resourceType: 'GROUP', resourceName: '*', host: '10.0.0.1' }),
    ];
    const unrelated = [
      b({ resourceName: 'payments' }),
      b({ resourceName: 'ordersx', patternType: 'PREFIXED' }), // longer than the name: no prefix of it
      b({ resourceName: 'ord' }), // LITERAL: not a prefix match
      b({ resourceName: '*', patternType: 'PREFIXED' }), // "*" is a wildcard only as LITERAL
      b({ resourceType: 'GROUP', resourceName: 'orders' }), // a group named like the topic
      b({ resourceType: 'TOPIC', resourceName: 'billing' }), // a topic named like the group
    ];
    const kept = selectAcls([...unrelated, ...related].reverse(), ['orders', 'zeta'], ['billing']);
    expect(kept).toEqual([...related].sort(compareAcls));
    expect(kept).toHaveLength(related.length);
  });

  it('sorts by resourceType, resourceName, patternType, principal, host, operation, permissionType in code units, each binding once', () => {
    const items = [
      b({ principal: 'User:b' }),
      b({ principal: 'User:a', operation: 'WRITE' }),
      b({ principal: 'User:a', operation: 'READ' }),
      b({ principal: 'User:\u{1F600}' }),
      b({ principal: 'User:\uFF21' }), // code units put U+1F600 (D83D DE00) before U+FF21; code points would not
      b({ resourceType: 'GROUP', resourceName: 'billing' }),
      b({ principal: 'User:a', operation: 'READ' }),
    ];
    const kept = selectAcls(items, ['orders'], ['billing']);
    expect(kept.map((a) => `${a.resourceType} ${a.principal} ${a.operation}`)).toEqual([
      'GROUP User:alice READ',
      'TOPIC User:a READ',
      'TOPIC User:a WRITE',
      'TOPIC User:b READ',
      'TOPIC User:\u{1F600} READ',
      'TOPIC User:\uFF21 READ',
    ]);
    expect(firstDuplicateAcl(kept)).toBe(-1);
  });

  it('leaves out what the format cannot hold (other resource types, MATCH, unknown operations, names beyond 255)', () => {
    const kept = selectAcls(
      [
        { ...b({}), resourceType: 'CLUSTER', resourceName: 'kafka-cluster' },
        { ...b({}), patternType: 'MATCH' },
        { ...b({}), operation: 'UNKNOWN' },
        b({ resourceName: 'o'.repeat(256), patternType: 'PREFIXED' }),
        b({ host: '' }),
        b({ operation: 'ALTER_CONFIGS' }),
      ],
      ['o'.repeat(300), 'orders'],
      [],
    );
    expect(kept).toEqual([b({ operation: 'ALTER_CONFIGS' })]);
  });

  it('checks each prefix against the sorted names, not every name (a prefix between two names matches neither)', () => {
    const names = Array.from({ length: 50_000 }, (_, i) => `t${String(i).padStart(6, '0')}`);
    const kept = selectAcls([b({ resourceName: 't0499', patternType: 'PREFIXED' }), b({ resourceName: 't1', patternType: 'PREFIXED' })], names, []);
    expect(kept.map((a) => a.resourceName)).toEqual(['t0499']);
  });
});

describe('firstDuplicateAcl', () => {
  it('finds the first binding equal to an earlier one, whatever lies between', () => {
    expect(firstDuplicateAcl([b({}), b({ host: 'h' }), b({ host: 'h', operation: 'ALL' }), b({ host: 'h' })])).toBe(3);
    expect(firstDuplicateAcl([b({ principal: 'User:a"b' }), b({ principal: 'User:a', host: 'b' })])).toBe(-1);
  });
});
