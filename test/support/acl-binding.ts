/** ACL bindings for tests. */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import type { AclBindingInfo } from '../../src/kafka/adapter';

/** `User:alice` may READ the topic `orders` from any host, `over` applied. */
export function aclBinding(over: Partial<AclBindingInfo>): AclBindingInfo {
  return {
    resourceType: 'TOPIC',
    resourceName: 'orders',
    patternType: 'LITERAL',
    principal: 'User:alice',
    host: '*',
    operation: 'READ',
    permissionType: 'ALLOW',
    ...over,
  };
}

/**
 * A DENY of the operation on the cluster for the user, as a kafkajs admin creates it: any
 * binding on the cluster takes it out of allow.everyone.if.no.acl.found, so the user may then
 * do nothing on the cluster that no binding allows (DescribeAcls needs DESCRIBE, CreateAcls ALTER).
 */
export function clusterDeny(user: string, operation: 'DESCRIBE' | 'ALTER' | 'CREATE'): AclEntry {
  return {
    resourceType: AclResourceTypes.CLUSTER,
    resourceName: 'kafka-cluster',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: `User:${user}`,
    host: '*',
    operation: AclOperationTypes[operation],
    permissionType: AclPermissionTypes.DENY,
  };
}
