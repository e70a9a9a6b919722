/**
 * The ACLs a dump captures (FORMAT.md settled point 23): the bindings of the dumped topics and
 * of the groups whose offsets the backup holds. Kafka answers DescribeAcls only with an
 * authorizer and to a principal with DESCRIBE on the cluster; without either the backup simply
 * has no `acls` (one warning), since ACLs are an extra of a backup, never a reason to lose one.
 */
import { MAX_ACL_BINDINGS, selectAcls, type AclBinding } from '../backup/acls';
import { KafkaServiceError, type AclBindingInfo, type KafkaAdapter } from '../kafka/adapter';
import type { Logger } from '../output/logger';

/** Kafka's answers that mean "no ACLs for this dump": no authorizer, not allowed, a broker without DescribeAcls. */
const DENIED = (code: string): string => `Kafka does not let this principal describe ACLs (${code}); to back them up, grant it DESCRIBE on the cluster`;
const NOT_CAPTURED: Record<string, (code: string) => string> = {
  SECURITY_DISABLED: (code) => `the cluster has no authorizer (${code}), so it enforces none`,
  CLUSTER_AUTHORIZATION_FAILED: DENIED,
  TOPIC_AUTHORIZATION_FAILED: DENIED,
  GROUP_AUTHORIZATION_FAILED: DENIED,
  UNSUPPORTED_VERSION: (code) => `the broker does not support DescribeAcls (${code})`,
};

/**
 * The bindings for the manifest, sorted and each once, or null when they could not be captured
 * (then the dump warns once). Two DescribeAcls requests at most: every binding of topics, and of
 * groups when the backup holds any; the selection is local (acls.ts).
 */
export async function captureAcls(kafka: KafkaAdapter, topics: readonly string[], groups: readonly string[], logger: Logger): Promise<AclBinding[] | null> {
  const found: AclBindingInfo[] = [];
  try {
    found.push(...(await kafka.describeAcls({ resourceType: 'TOPIC' })));
    if (groups.length > 0) found.push(...(await kafka.describeAcls({ resourceType: 'GROUP' })));
  } catch (err) {
    const code = err instanceof KafkaServiceError ? err.kafkaCode : undefined;
    const reason = code === undefined ? undefined : NOT_CAPTURED[code];
    if (reason === undefined) throw err;
    logger.warn({ code }, `ACLs not backed up: ${reason(code!)}`);
    return null;
  }
  const selected = selectAcls(found, topics, groups);
  if (selected.length > MAX_ACL_BINDINGS) {
    // The format holds at most 10 000 (FORMAT.md settled point 23): a manifest with more would be refused.
    logger.warn(
      { bindings: selected.length },
      `ACLs not backed up: ${selected.length} bindings apply to the dumped topics and groups, more than the ${MAX_ACL_BINDINGS} a backup holds`,
    );
    return null;
  }
  return selected;
}
