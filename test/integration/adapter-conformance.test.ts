/**
 * The KafkaAdapter contract (test/support/adapter-conformance.ts) on the kafkajs adapter
 * against the stack's broker, as MemoryKafka passes it in the unit project. Records are put
 * in with the kafkajs producer (transactions included) and read back with kcat (librdkafka),
 * neither of which shares kbak's produce or fetch code.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka as StockKafka, logLevel as stockLogLevel, ResourcePatternTypes } from 'kafkajs';
import { loadSettings } from '../../src/config/settings';
import { openKafka, type KafkaAdapter, type ProduceRecord } from '../../src/kafka';
import type { AclEntry, Admin, Producer } from '../support/kafkajs-copy';
import { orderedHeaders } from '../support/kafkajs-wire-patch';
import { silentLogger } from '../../src/output/logger';
import { clusterDeny } from '../support/acl-binding';
import { describeAdapterConformance, type AdapterFixture } from '../support/adapter-conformance';
import { kcatReadBytes } from '../support/kcat';
import { stackEnv, testKafka, uniqueName, waitForLastStable } from '../support/stack';

jest.setTimeout(120_000);

const adapterFor = (env: Record<string, string | undefined>): KafkaAdapter => openKafka(loadSettings({}, { ...stackEnv().env, ...env }).kafka, silentLogger());

const messages = (partition: number, records: readonly ProduceRecord[]) =>
  records.map((r) => ({ partition, key: r.key, value: r.value, timestamp: r.timestamp.toString(), headers: orderedHeaders(r.headers) }));

describeAdapterConformance('the kafkajs adapter (the stack broker)', async (): Promise<AdapterFixture> => {
  const kafka = testKafka('kbak-adapter-conformance');
  const admin: Admin = kafka.admin();
  await admin.connect();
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  /** The stack's ordinary SCRAM principal with these ACLs (created by the plaintext super user) until release. */
  const restrictedApp = async (entries: AclEntry[]): Promise<{ adapter: KafkaAdapter; release(): Promise<void> }> => {
    const env = stackEnv().env;
    await admin.createAcls({ acl: entries });
    const adapter = adapterFor({
      KBAK_BROKERS: env.KBAK_SECURE_BROKERS,
      KBAK_TLS: 'true',
      KBAK_TLS_CA: env.KBAK_SECURE_TLS_CA,
      KBAK_SASL_MECHANISM: 'scram-sha-512',
      KBAK_SASL_USERNAME: env.KBAK_SECURE_APP_USERNAME,
      KBAK_SASL_PASSWORD: env.KBAK_SECURE_APP_PASSWORD,
    });
    return {
      adapter,
      release: async () => {
        await adapter.close();
        await admin.deleteAcls({ filters: entries });
      },
    };
  };
  const stock = new StockKafka({ clientId: 'kbak-conformance-member', brokers: stackEnv().brokers, logLevel: stockLogLevel.NOTHING });
  const end = async (topic: string, partition: number): Promise<bigint> =>
    BigInt((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)!.high);
  /** Waits until the transaction's marker is written: the last stable offset is past it. */
  const settled = async (topic: string, partition: number, expected: bigint): Promise<void> => {
    expect(await waitForLastStable(admin, topic, partition, expected.toString())).toBe(expected.toString());
  };
  const transaction = async (topic: string, partition: number, records: readonly ProduceRecord[], outcome: 'commit' | 'abort'): Promise<void> => {
    const before = await end(topic, partition);
    const tx = kafka.producer({ transactionalId: uniqueName('conformance-tx'), idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    try {
      const t = await tx.transaction();
      await t.send({ topic, acks: -1, messages: messages(partition, records) });
      await (outcome === 'commit' ? t.commit() : t.abort());
    } finally {
      await tx.disconnect();
    }
    await settled(topic, partition, before + BigInt(records.length) + 1n);
  };
  return {
    adapter: adapterFor({}),
    seed: async (topic, partition, records) => {
      await producer.send({ topic, acks: -1, messages: messages(partition, records) });
    },
    // An aborted transaction of one record: the record and its ABORT marker.
    gap: async (topic, partition) => {
      await transaction(topic, partition, [{ key: null, value: Buffer.from('aborted'), timestamp: 1n, headers: [] }], 'abort');
      return 2;
    },
    transaction,
    deleteRecordsBefore: async (topic, partition, offset) => {
      await admin.deleteTopicRecords({ topic, partitions: [{ partition, offset: offset.toString() }] });
    },
    readBack: async (topic, partition) => kcatReadBytes(topic, partition),
    liveMember: async (groupId, topic) => {
      const consumer = stock.consumer({ groupId, maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
      const deadline = Date.now() + 30_000;
      while ((await admin.describeGroups([groupId])).groups[0]?.state !== 'Stable' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      return async () => {
        await consumer.disconnect();
        await admin.deleteGroups([groupId]).catch(() => undefined);
      };
    },
    unreachable: () => adapterFor({ KBAK_BROKERS: '127.0.0.1:1' }),
    denied: () => {
      const env = stackEnv().env;
      if (!env.KBAK_SECURE_BROKERS) throw new Error('KBAK_SECURE_BROKERS is missing from .stack/env: restart the stack with scripts/stack/up.sh');
      return adapterFor({
        KBAK_BROKERS: env.KBAK_SECURE_BROKERS,
        KBAK_TLS: 'true',
        KBAK_TLS_CA: env.KBAK_SECURE_TLS_CA,
        KBAK_SASL_MECHANISM: 'scram-sha-512',
        KBAK_SASL_USERNAME: env.KBAK_SECURE_SASL_USERNAME,
        KBAK_SASL_PASSWORD: `not-${env.KBAK_SECURE_SASL_PASSWORD}`,
      });
    },
    // ACLs for the stack's ordinary SCRAM principal, created and removed by the plaintext (super user) admin.
    restricted: async (acls) => {
      const env = stackEnv().env;
      if (!env.KBAK_SECURE_APP_USERNAME) throw new Error('KBAK_SECURE_APP_USERNAME is missing from .stack/env: restart the stack with scripts/stack/up.sh');
      const entries = acls.flatMap((a) =>
        (['allow', 'deny'] as const).flatMap((kind) =>
          a[kind].map((op) => ({
            resourceType: AclResourceTypes.TOPIC,
            resourceName: a.topic,
            resourcePatternType: ResourcePatternTypes.LITERAL,
            principal: `User:${env.KBAK_SECURE_APP_USERNAME}`,
            host: '*',
            operation: AclOperationTypes[op],
            permissionType: kind === 'allow' ? AclPermissionTypes.ALLOW : AclPermissionTypes.DENY,
          })),
        ),
      );
      // Kafka grants CreateTopics for CREATE on the cluster before it looks at the topic: a denied
      // creation needs the cluster's CREATE denied too (no cluster ACLs otherwise: allow.everyone.if.no.acl.found).
      if (acls.some((a) => a.deny.includes('CREATE')))
        entries.push({
          resourceType: AclResourceTypes.CLUSTER,
          resourceName: 'kafka-cluster',
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: `User:${env.KBAK_SECURE_APP_USERNAME}`,
          host: '*',
          operation: AclOperationTypes.CREATE,
          permissionType: AclPermissionTypes.DENY,
        });
      return restrictedApp(entries);
    },
    addAcls: async (bindings) => {
      const entries = bindings.map((x) => ({
        resourceType: AclResourceTypes[x.resourceType],
        resourceName: x.resourceName,
        resourcePatternType: ResourcePatternTypes[x.patternType],
        principal: x.principal,
        host: x.host,
        operation: AclOperationTypes[x.operation as keyof typeof AclOperationTypes],
        permissionType: AclPermissionTypes[x.permissionType],
      }));
      await admin.createAcls({ acl: entries });
      return async () => void (await admin.deleteAcls({ filters: entries }));
    },
    // The ordinary SCRAM principal with DESCRIBE on the cluster denied (DescribeAcls needs it).
    aclsHidden: async () => {
      const env = stackEnv().env;
      const entry = {
        resourceType: AclResourceTypes.CLUSTER,
        resourceName: 'kafka-cluster',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: `User:${env.KBAK_SECURE_APP_USERNAME}`,
        host: '*',
        operation: AclOperationTypes.DESCRIBE,
        permissionType: AclPermissionTypes.DENY,
      };
      return restrictedApp([entry]);
    },
    // Read and removed by the stock kafkajs admin (plaintext, super user). kafkajs's enum stops at
    // IDEMPOTENT_WRITE: Kafka's codes 13 and 14 are named here from Kafka's AclOperation.
    readAcls: async (principal) => {
      const { resources } = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      // kafkajs's enums are plain objects at run time (name → code): looked up backwards.
      const nameOf = (codes: object, code: number, extra: Record<number, string> = {}): string =>
        Object.entries(codes).find(([, c]) => c === code)?.[0] ?? extra[code] ?? `code ${code}`;
      const beyondKafkajs: Record<number, string> = { 13: 'CREATE_TOKENS', 14: 'DESCRIBE_TOKENS' };
      return resources.flatMap((r) =>
        r.acls.map((a) => ({
          resourceType: nameOf(AclResourceTypes, r.resourceType) as 'TOPIC' | 'GROUP',
          resourceName: r.resourceName,
          patternType: nameOf(ResourcePatternTypes, r.resourcePatternType) as 'LITERAL' | 'PREFIXED',
          principal: a.principal,
          host: a.host,
          operation: nameOf(AclOperationTypes, a.operation, beyondKafkajs),
          permissionType: nameOf(AclPermissionTypes, a.permissionType) as 'ALLOW' | 'DENY',
        })),
      );
    },
    dropAcls: async (principal) => {
      await admin.deleteAcls({
        filters: [
          {
            resourceType: AclResourceTypes.ANY,
            resourcePatternType: ResourcePatternTypes.ANY,
            principal,
            operation: AclOperationTypes.ANY,
            permissionType: AclPermissionTypes.ANY,
          },
        ],
      });
    },
    // The ordinary SCRAM principal on the secured listener with ALTER on the cluster denied (CreateAcls needs it).
    aclsLocked: async () => {
      const env = stackEnv().env;
      return restrictedApp([clusterDeny(env.KBAK_SECURE_APP_USERNAME!, 'ALTER')]);
    },
    close: async () => {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
});
