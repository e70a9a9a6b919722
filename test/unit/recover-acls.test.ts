/**
 * `kbak recover --with-acls` (src/recover/acls.ts): which of a backup's bindings are re-created
 * (planAclRecovery, pure) and recoverAcls on MemoryKafka: the target's bindings read, the missing
 * ones created, refusals as one line naming what to do. The real authorizer's enforcement is in
 * test/integration/recover-acls.test.ts.
 */
import pino from 'pino';
import { ExitCode } from '../../src/errors';
import { KafkaServiceError, type AclBindingInfo } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { silentLogger } from '../../src/output/logger';
import { BackupHasNoAclsError, planAclRecovery, recoverAcls, requireBackupAcls } from '../../src/recover/acls';
import { aclBinding as acl } from '../support/acl-binding';

const same = (names: string[]): Map<string, string> => new Map(names.map((n) => [n, n]));

describe('planAclRecovery', () => {
  it('a literal topic binding follows the rename; a group binding keeps its name', () => {
    const backup = [acl({}), acl({ resourceType: 'GROUP', resourceName: 'billing', operation: 'READ' })];
    const plan = planAclRecovery(backup, new Map([['orders', 'orders-recovered']]), new Set(['billing']), []);
    expect(plan.create).toEqual([acl({ resourceName: 'orders-recovered' }), acl({ resourceType: 'GROUP', resourceName: 'billing', operation: 'READ' })]);
    expect(plan.present).toEqual([]);
    expect(plan.skipped).toEqual([]);
  });

  it('bindings of topics and groups not being recovered are skipped, naming them', () => {
    const backup = [
      acl({}),
      acl({ resourceName: 'payments' }),
      acl({ resourceType: 'GROUP', resourceName: 'billing' }),
      acl({ resourceType: 'GROUP', resourceName: 'reporting' }),
      // A prefix of only the unrecovered topic reaches nothing recovered, even with `broad`.
      acl({ resourceName: 'pay', patternType: 'PREFIXED' }),
    ];
    const plan = planAclRecovery(backup, same(['orders']), new Set(['billing']), [], { broad: true });
    expect(plan.create).toEqual([acl({}), acl({ resourceType: 'GROUP', resourceName: 'billing' })]);
    expect(plan.skipped.map((s) => [s.binding.resourceName, s.reason, s.why])).toEqual([
      ['payments', 'not-recovered', 'topic payments is not recovered'],
      ['reporting', 'not-recovered', 'group reporting is not recovered'],
      ['pay', 'not-recovered', 'a prefixed binding (every topic starting with pay) that reaches no recovered topic'],
    ]);
  });

  it('prefixed and wildcard bindings are not re-created by default: skipped as broad, saying what they would grant or deny', () => {
    const prefixAllow = acl({ resourceName: 'ord', patternType: 'PREFIXED', operation: 'WRITE' });
    const wildcardAllow = acl({ resourceName: '*', operation: 'DESCRIBE' });
    const groupDeny = acl({ resourceType: 'GROUP', resourceName: '*', permissionType: 'DENY', principal: 'User:mallory', operation: 'DELETE' });
    const plan = planAclRecovery([acl({}), prefixAllow, wildcardAllow, groupDeny], same(['orders']), new Set(['billing']), []);
    expect(plan.create).toEqual([acl({})]);
    expect(plan.skipped.map((s) => s.binding)).toEqual([prefixAllow, wildcardAllow, groupDeny]);
    expect(plan.skipped.every((s) => s.reason === 'broad')).toBe(true);
    expect(plan.skipped[0]!.why).toBe(
      "a prefixed binding (every topic starting with ord): it would grant User:alice WRITE on the target's other topics too (create it by hand if the target should have it)",
    );
    expect(plan.skipped[1]!.why).toMatch(/^a wildcard binding \(every topic\): it would grant User:alice DESCRIBE/);
    expect(plan.skipped[2]!.why).toMatch(/^a wildcard binding \(every group\): it would deny User:mallory DELETE .*less restricted than in the source/);
  });

  it('with broad, prefixed and wildcard bindings are kept as they are; a prefix a rename leaves behind is noted', () => {
    const stillReaches = acl({ resourceName: 'ord', patternType: 'PREFIXED', operation: 'WRITE' });
    const leftBehind = acl({ resourceName: 'orders', patternType: 'PREFIXED', operation: 'DESCRIBE' });
    const wildcard = acl({ resourceName: '*', operation: 'DESCRIBE_CONFIGS' });
    const plan = planAclRecovery([stillReaches, leftBehind, wildcard], new Map([['orders', 'ord-archive']]), new Set(), [], { broad: true });
    expect(plan.create).toEqual([stillReaches, leftBehind, wildcard]);
    expect(plan.notes).toEqual(['the prefixed binding orders (ALLOW User:alice DESCRIBE) no longer reaches topic orders, recovered as ord-archive']);
    expect(plan.skipped).toEqual([]);
  });

  it('with broad, a prefix that reaches another recovered topic and, after a rename, this one too is noted', () => {
    const prefix = acl({ resourceName: 'archive-', patternType: 'PREFIXED', operation: 'READ' });
    const names = new Map([
      ['archive-2025', 'archive-2025'],
      ['orders', 'archive-orders'],
    ]);
    const plan = planAclRecovery([prefix], names, new Set(), [], { broad: true });
    expect(plan.create).toEqual([prefix]);
    expect(plan.notes).toEqual([
      'the prefixed binding archive- (ALLOW User:alice READ) now also reaches topic archive-orders, recovered from orders, which it did not reach in the source',
    ]);
  });

  it('bindings the target already has are present, not created again; equal only in all seven fields', () => {
    const backup = [acl({}), acl({ operation: 'WRITE' }), acl({ resourceType: 'GROUP', resourceName: 'billing' })];
    const existing = [
      acl({ resourceName: 'orders-recovered' }),
      // Differs in the host only: not the backup's binding.
      acl({ resourceName: 'orders-recovered', operation: 'WRITE', host: '10.0.0.1' }),
      acl({ resourceType: 'GROUP', resourceName: 'billing' }),
      // An operation outside the format does not disturb the comparison.
      acl({ operation: 'UNKNOWN(42)' }),
    ];
    const plan = planAclRecovery(backup, new Map([['orders', 'orders-recovered']]), new Set(['billing']), existing);
    expect(plan.present).toEqual([acl({ resourceName: 'orders-recovered' }), acl({ resourceType: 'GROUP', resourceName: 'billing' })]);
    expect(plan.create).toEqual([acl({ resourceName: 'orders-recovered', operation: 'WRITE' })]);
  });

  it('a binding outside the backup format is skipped as unknown; each binding is planned once', () => {
    const odd: AclBindingInfo = acl({ operation: 'UNKNOWN(99)' });
    const plan = planAclRecovery([acl({}), acl({}), odd], same(['orders']), new Set(), []);
    expect(plan.create).toEqual([acl({})]);
    expect(plan.skipped).toEqual([{ binding: odd, why: 'not an ACL binding the backup format holds', reason: 'unknown' }]);
  });

  it('a backup without acls (not captured) is refused with exit 2, naming the backup; an empty list is a backup with none', () => {
    expect(() => planAclRecovery(undefined, same(['orders']), new Set(), [])).toThrow(BackupHasNoAclsError);
    const err = (() => {
      try {
        requireBackupAcls(undefined, '20261206T080000Z');
      } catch (e) {
        return e as BackupHasNoAclsError;
      }
      throw new Error('requireBackupAcls accepted a backup without acls');
    })();
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.oneLine()).toMatch(/^backup 20261206T080000Z holds no ACLs: .*\(recover without --with-acls, or choose a backup/);
    expect(requireBackupAcls([], 'x')).toEqual([]);
    expect(planAclRecovery([], same(['orders']), new Set(), [])).toEqual({ create: [], present: [], skipped: [], notes: [] });
  });

  it("plans the format's bound of 10 000 bindings (literal and prefixed) of 10 000 topics against 5 000 present ones", () => {
    const topics = Array.from({ length: 10_000 }, (_, i) => `t${i}`);
    const backup = topics.map((t, i) => acl({ resourceName: t, patternType: i % 2 === 0 ? 'LITERAL' : 'PREFIXED' }));
    const existing = topics.filter((_, i) => i % 2 === 0).map((t) => acl({ resourceName: `${t}-r` }));
    const plan = planAclRecovery(backup, new Map(topics.map((t) => [t, `${t}-r`])), new Set(), existing, { broad: true });
    expect(plan.present).toHaveLength(5_000);
    expect(plan.create).toHaveLength(5_000);
    expect(plan.create.every((x) => x.patternType === 'PREFIXED')).toBe(true);
    // Each prefix still reaches its renamed topic (`t1` → `t1-r`): nothing to note.
    expect(plan.notes).toEqual([]);
  });
});

describe('recoverAcls', () => {
  function warnings(): { logger: pino.Logger; lines: string[] } {
    const lines: string[] = [];
    return { lines, logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push((JSON.parse(l) as { msg: string }).msg) }) };
  }

  it('creates the missing bindings on the target, once; a second run creates nothing', async () => {
    const kafka = new MemoryKafka();
    kafka.aclBindings.push(acl({ resourceName: 'orders-recovered' }));
    const backup = [acl({}), acl({ operation: 'WRITE' }), acl({ resourceType: 'GROUP', resourceName: 'billing' }), acl({ resourceName: 'payments' })];
    const names = new Map([['orders', 'orders-recovered']]);
    const plan = await recoverAcls(kafka, backup, names, new Set(['billing']), silentLogger());
    expect(plan.create).toHaveLength(2);
    expect(kafka.aclBindings).toEqual([
      acl({ resourceName: 'orders-recovered' }),
      acl({ resourceName: 'orders-recovered', operation: 'WRITE' }),
      acl({ resourceType: 'GROUP', resourceName: 'billing' }),
    ]);
    const calls = kafka.calls.length;
    const again = await recoverAcls(kafka, backup, names, new Set(['billing']), silentLogger());
    expect(again.create).toEqual([]);
    expect(again.present).toHaveLength(3);
    expect(kafka.calls.slice(calls)).toEqual(['describeAcls', 'describeAcls']);
    expect(kafka.aclBindings).toHaveLength(3);
  });

  it('a dry run reads the target and plans, creating nothing', async () => {
    const kafka = new MemoryKafka();
    kafka.aclBindings.push(acl({ operation: 'WRITE' }));
    const plan = await recoverAcls(kafka, [acl({}), acl({ operation: 'WRITE' })], same(['orders']), new Set(), silentLogger(), { dryRun: true });
    expect(plan.create).toEqual([acl({})]);
    expect(plan.present).toEqual([acl({ operation: 'WRITE' })]);
    expect(kafka.calls).toEqual(['describeAcls']);
    expect(kafka.aclBindings).toEqual([acl({ operation: 'WRITE' })]);
  });

  it('warns for each broad binding left out, not for the bindings of what is not recovered', async () => {
    const kafka = new MemoryKafka();
    const { logger, lines } = warnings();
    await recoverAcls(kafka, [acl({ resourceName: '*' }), acl({ resourceName: 'payments' })], same(['orders']), new Set(), logger);
    expect(lines).toEqual([expect.stringMatching(/^ACL binding not re-created: a wildcard binding \(every topic\)/)]);
    expect(kafka.aclBindings).toEqual([]);
  });

  it('a backup without acls is refused before the target is asked anything', async () => {
    const kafka = new MemoryKafka();
    await expect(recoverAcls(kafka, undefined, same(['orders']), new Set(), silentLogger())).rejects.toThrow(BackupHasNoAclsError);
    expect(kafka.calls).toEqual([]);
  });

  it.each([
    [
      'describeAclsRefusal',
      'SECURITY_DISABLED',
      /^cannot recover ACLs \(reading the ACLs of the target\): the target cluster has no authorizer.*\(SECURITY_DISABLED\) \(configure authorizer\.class\.name/,
    ],
    ['createAclsRefusal', 'SECURITY_DISABLED', /^cannot recover ACLs \(creating 1 bindings\): the target cluster has no authorizer/],
    [
      'describeAclsRefusal',
      'CLUSTER_AUTHORIZATION_FAILED',
      /^cannot recover ACLs \(reading the ACLs of the target\): the principal may not .*\(grant it DESCRIBE and ALTER on the cluster/,
    ],
    ['createAclsRefusal', 'CLUSTER_AUTHORIZATION_FAILED', /^cannot recover ACLs \(creating 1 bindings\): the principal may not/],
  ] as const)('%s %s: one line naming what failed and what to do, Kafka code kept, exit 4, nothing created', async (field, code, line) => {
    const kafka = new MemoryKafka();
    kafka[field] = code;
    const err = await recoverAcls(kafka, [acl({})], same(['orders']), new Set(), silentLogger()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaServiceError);
    const e = err as KafkaServiceError;
    expect(e.kafkaCode).toBe(code);
    expect(e.exitCode).toBe(ExitCode.SERVICE);
    expect(e.retriable).toBe(false);
    expect(e.oneLine()).toMatch(line);
    expect(e.oneLine()).not.toContain('\n');
    expect(kafka.aclBindings).toEqual([]);
  });

  it('another failure of the target passes through as it is', async () => {
    const kafka = new MemoryKafka();
    const broken = new KafkaServiceError('Kafka failed while creating ACL bindings: the broker went away', 'NETWORK_EXCEPTION');
    kafka.failNext('createAcls', { error: broken });
    await expect(recoverAcls(kafka, [acl({})], same(['orders']), new Set(), silentLogger())).rejects.toBe(broken);
  });
});
