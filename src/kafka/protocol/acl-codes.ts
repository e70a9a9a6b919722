/**
 * Kafka's AclOperation codes by name, the one table of them: DescribeAcls and CreateAcls carry
 * the codes, a Metadata response's authorized operations their bit positions (metadata.ts).
 * kafkajs's own enum stops at IDEMPOTENT_WRITE (12), so the names are Kafka's (AclOperation.java).
 */
import { UsageError } from '../../errors';

export const ACL_OPERATION_CODES = {
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

export type AclOperationName = keyof typeof ACL_OPERATION_CODES;

export function isAclOperation(name: string): name is AclOperationName {
  return Object.hasOwn(ACL_OPERATION_CODES, name);
}

/** The fields of a binding that name it in a refusal. */
interface NamedBinding {
  resourceType: string;
  resourceName: string;
  principal: string;
  operation: string;
  permissionType: string;
}

/** Refuses, before anything is sent, a binding whose operation Kafka does not have (createAcls): names the first. */
export function checkAclOperations(bindings: readonly NamedBinding[]): void {
  const bad = bindings.find((b) => !isAclOperation(b.operation));
  if (bad)
    throw new UsageError(
      `cannot create the ACL binding ${bad.permissionType} ${bad.principal} ${JSON.stringify(bad.operation)} on ${bad.resourceType} ${bad.resourceName}: not one of Kafka's ACL operations`,
      `use one of ${Object.keys(ACL_OPERATION_CODES).join(', ')}`,
    );
}
