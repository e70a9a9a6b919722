/** An ACL binding for tests: `User:alice` may READ the topic `orders` from any host, `over` applied. */
import type { AclBindingInfo } from '../../src/kafka/adapter';

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
