/**
 * The dump's ACL capture (FORMAT.md settled point 23) on MemoryKafka: exactly the bindings of
 * the dumped topics and of the groups whose offsets the backup holds, in the manifest as
 * written (read back as plain JSON) and in the summary; a cluster without an authorizer or a
 * principal that may not describe ACLs gives one warning and no `acls`, never a failed dump.
 */
import pino from 'pino';
import { manifestKey } from '../../src/backup/layout';
import { KafkaServiceError, type AclBindingInfo } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { MemoryStore } from '../../src/store/memory';
import { aclBinding as acl } from '../support/acl-binding';
import { dumpTopics } from '../support/memory-backup';

async function cluster(): Promise<MemoryKafka> {
  const kafka = new MemoryKafka();
  for (const t of ['orders', 'payments']) {
    await kafka.createTopics([{ topic: t, partitions: 1, replicationFactor: 1, configs: {} }]);
    kafka.append(t, 0, [{ timestamp: 1n, key: null, value: Buffer.from('x'), headers: [] }]);
  }
  await kafka.commitGroupOffsets('billing', 'orders', [{ partition: 0, offset: 1n }]);
  await kafka.commitGroupOffsets('reporting', 'payments', [{ partition: 0, offset: 1n }]);
  return kafka;
}

async function dump(kafka: MemoryKafka): Promise<{ json: Record<string, unknown>; acls: number | null; warnings: string[] }> {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  const store = new MemoryStore();
  const { manifest, summary } = await dumpTopics(kafka, store, ['orders'], { logger });
  const bytes = await store.get(manifestKey(manifest.cluster.name, manifest.backupId));
  return { json: JSON.parse(bytes.toString('utf8')) as Record<string, unknown>, acls: summary.acls, warnings };
}

describe('a dump captures the ACLs of its topics and groups', () => {
  it('literal, prefixed and wildcard bindings of the dumped topic and the held group, sorted, each once; nothing else', async () => {
    const kafka = await cluster();
    const related = [
      acl({}),
      acl({ resourceName: 'ord', patternType: 'PREFIXED', operation: 'WRITE' }),
      acl({ resourceName: '*', principal: 'User:ops', operation: 'DESCRIBE' }),
      acl({ resourceType: 'GROUP', resourceName: 'billing' }),
      acl({ resourceType: 'GROUP', resourceName: 'bill', patternType: 'PREFIXED', permissionType: 'DENY', host: '10.0.0.9' }),
      acl({ resourceType: 'GROUP', resourceName: '*', operation: 'DESCRIBE' }),
    ];
    const unrelated = [
      acl({ resourceName: 'payments' }), // a topic not dumped
      acl({ resourceType: 'GROUP', resourceName: 'reporting' }), // a group without offsets on the dumped topic
      acl({ resourceName: 'orders-archive', patternType: 'PREFIXED' }),
      acl({ resourceType: 'GROUP', resourceName: 'orders' }), // a group named like the topic
    ];
    kafka.aclBindings.push(...unrelated, ...related.slice().reverse(), related[0]!);
    const { json, acls, warnings } = await dump(kafka);
    const key = (a: AclBindingInfo): string =>
      [a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permissionType].join('\u0000');
    const expected = related.slice().sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    expect(json.acls).toEqual(expected);
    // The keys in the order of FORMAT.md's table, after consumerGroups.
    expect(Object.keys((json.acls as object[])[0]!)).toEqual([
      'resourceType',
      'resourceName',
      'patternType',
      'principal',
      'host',
      'operation',
      'permissionType',
    ]);
    expect(Object.keys(json).slice(-3)).toEqual(['consumerGroups', 'acls', 'stats']);
    expect(acls).toBe(related.length);
    expect(warnings).toEqual([]);
  });

  it('[] when the cluster has ACLs but none apply', async () => {
    const kafka = await cluster();
    kafka.aclBindings.push(acl({ resourceName: 'payments' }));
    const { json, acls } = await dump(kafka);
    expect(json.acls).toEqual([]);
    expect(acls).toBe(0);
  });

  for (const refusal of ['SECURITY_DISABLED', 'CLUSTER_AUTHORIZATION_FAILED'] as const) {
    it(`${refusal}: the dump succeeds with one warning and no acls field`, async () => {
      const kafka = await cluster();
      kafka.aclBindings.push(acl({}));
      kafka.describeAclsRefusal = refusal;
      const { json, acls, warnings } = await dump(kafka);
      expect(json).not.toHaveProperty('acls');
      expect(acls).toBeNull();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toBe(
        refusal === 'SECURITY_DISABLED'
          ? 'ACLs not backed up: the cluster has no authorizer (SECURITY_DISABLED), so it enforces none'
          : 'ACLs not backed up: Kafka does not let this principal describe ACLs (CLUSTER_AUTHORIZATION_FAILED); to back them up, grant it DESCRIBE on the cluster',
      );
      expect(json.topics).toHaveLength(1);
    });
  }

  it('any other failure of DescribeAcls fails the dump, as any broker failure does', async () => {
    const kafka = await cluster();
    kafka.failNext('describeAcls', { error: new KafkaServiceError('Kafka failed while describing ACLs: broken', 'UNKNOWN_SERVER_ERROR') });
    await expect(dump(kafka)).rejects.toThrow(/broken/);
  });

  it('more than 10 000 applicable bindings: one warning and no acls field (a manifest holds at most 10 000)', async () => {
    const kafka = await cluster();
    for (let i = 0; i < 10_001; i++) kafka.aclBindings.push(acl({ principal: `User:u${i}` }));
    const { json, acls, warnings } = await dump(kafka);
    expect(json).not.toHaveProperty('acls');
    expect(acls).toBeNull();
    expect(warnings).toEqual(['ACLs not backed up: 10001 bindings apply to the dumped topics and groups, more than the 10000 a backup holds']);
  });
});
