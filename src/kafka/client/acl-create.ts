/**
 * CreateAcls sent to the controller without kafkajs's admin.createAcls, which checks each
 * operation against kafkajs's own enum: that enum stops at IDEMPOTENT_WRITE (12), so a backup's
 * CREATE_TOKENS or DESCRIBE_TOKENS binding (Kafka's codes 13 and 14) would be refused before the
 * broker saw it. The broker's request and response are kafkajs's (its version negotiation
 * included); the codes are Kafka's, from protocol/acl-codes.ts's one table.
 */
import { retry, type RetryPolicy } from '../../util/retry';
import { retriableRequest } from '../transport/kafkajs-errors';
import { adminCluster } from './group-commit';

/** One binding as CreateAcls carries it: Kafka's codes. */
export interface AclCreation {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** The slice of kafkajs's Cluster and Broker that CreateAcls uses. */
interface AclCluster {
  refreshMetadata(): Promise<void>;
  findControllerBroker(): Promise<{ createAcls(req: { acl: AclCreation[] }): Promise<unknown> }>;
}

/** A controller moving (NOT_CONTROLLER) or a connection dropping: 6 attempts, 200 ms doubling to 2 s. */
const CREATE_ACLS_RETRY: RetryPolicy = { initialMs: 200, maxMs: 2000, attempts: 6 };

/**
 * One CreateAcls request with every binding. Throws kafkajs's protocol error of the first
 * binding Kafka refused (SECURITY_DISABLED, CLUSTER_AUTHORIZATION_FAILED, INVALID_REQUEST) as
 * is; the adapter maps it. A retry after a lost answer is harmless: Kafka keeps an existing binding once.
 */
export async function createAclsDirect(admin: unknown, creations: readonly AclCreation[]): Promise<void> {
  // The admin's cluster is kafkajs's Cluster (group-commit.ts types only the part it uses).
  const cluster = adminCluster(admin) as unknown as AclCluster;
  await retry(
    async () => {
      await cluster.refreshMetadata();
      const controller = await cluster.findControllerBroker();
      await controller.createAcls({ acl: [...creations] });
    },
    CREATE_ACLS_RETRY,
    { retriable: retriableRequest },
  );
}
