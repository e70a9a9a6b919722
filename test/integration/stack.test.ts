/**
 * The foundation: the real services answer, and kafkajs can use every Kafka API kbak
 * needs against the stack's broker (Kafka 4.x by default, 3.9 with KAFKA_VERSION).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { readFileSync } from 'node:fs';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { ConfigResourceTypes, Kafka, logLevel } from '../support/kafkajs-copy';
import { orderedHeaders } from '../support/kafkajs-wire-patch';
import { stackEnv, testKafka, uniqueName, waitForLastStable } from '../support/stack';

const kafka = testKafka();

describe('Kafka APIs kbak uses, through kafkajs', () => {
  const topic = uniqueName('compat');
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it('CreateTopics and Metadata', async () => {
    expect(
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      }),
    ).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(2);
  });

  it('DescribeConfigs shows the topic-level config', async () => {
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    const policy = res.resources[0]!.configEntries.find((e) => e.configName === 'cleanup.policy');
    expect(policy?.configValue).toBe('compact');
  });

  it('Produce (idempotent) and Fetch (read_committed) keep headers in order', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const headers = [
      { key: 'traceparent', value: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') },
      { key: 'dup', value: Buffer.from('1') },
      { key: 'b3', value: Buffer.from('x') },
      { key: 'dup', value: Buffer.from('2') },
    ];
    await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: 'k', value: 'v', headers: orderedHeaders(headers) }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('compat-g'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const got = await new Promise<{ headerList: unknown; value: Buffer | null }>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message as unknown as { headerList: unknown; value: Buffer | null }) });
    });
    await consumer.disconnect();
    expect(got.value?.toString()).toBe('v');
    expect(got.headerList).toEqual(headers);
  });

  it('ListOffsets (earliest, latest, by timestamp)', async () => {
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.find((o) => o.partition === 0)).toMatchObject({ low: '0', high: '1' });
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, 0);
    expect(byTime.find((o) => o.partition === 0)?.offset).toBe('0');
  });

  it('OffsetCommit, OffsetFetch, ListGroups, DescribeGroups and DeleteGroups', async () => {
    const groupId = uniqueName('compat-offsets');
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
    const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched[0]!.partitions.find((p) => p.partition === 0)?.offset).toBe('1');
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId);
    const described = await admin.describeGroups([groupId]);
    expect(described.groups[0]!.state).toBe('Empty');
    await admin.deleteGroups([groupId]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(groupId);
  });

  it('transactions commit and abort (one-node transaction coordinator)', async () => {
    const producer = kafka.producer({ transactionalId: uniqueName('compat-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ partition: 1, key: 'a', value: 'committed' }] });
    await tx.commit();
    await producer.disconnect();
    // The commit marker takes an offset of its own.
    expect(await waitForLastStable(admin, topic, 1, '2')).toBe('2');
  });

  it('DeleteTopics', async () => {
    await admin.deleteTopics({ topics: [topic], timeout: 30000 });
    const deadline = Date.now() + 30000;
    while ((await admin.listTopics()).includes(topic) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await admin.listTopics()).not.toContain(topic);
  });
});

describe('schema registry', () => {
  it('registers and fetches a schema with @kafkajs/confluent-schema-registry', async () => {
    const registry = new SchemaRegistry({ host: stackEnv().registryUrl });
    const subject = `${uniqueName('stack')}-value`;
    const schema = JSON.stringify({ type: 'record', name: 'Ping', fields: [{ name: 'n', type: 'int' }] });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    const encoded = await registry.encode(id, { n: 42 });
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual({ n: 42 });
  });
});

describe('S3 server', () => {
  it('puts, gets and lists an object with @aws-sdk/client-s3', async () => {
    const env = stackEnv();
    const s3 = new S3Client({ endpoint: env.s3Endpoint, forcePathStyle: true, region: 'us-east-1' });
    const key = `${uniqueName('stack')}/hello.txt`;
    await s3.send(new PutObjectCommand({ Bucket: env.s3Bucket, Key: key, Body: 'hello kbak' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: env.s3Bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('hello kbak');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: env.s3Bucket, Prefix: key.split('/')[0] }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);
  });
});

describe("authorizer (StandardAuthorizer, the stack's own principals as super users)", () => {
  function env(name: string): string {
    const v = stackEnv().env[name];
    if (!v) throw new Error(`${name} is missing from .stack/env: restart the stack with this branch's scripts/stack/up.sh`);
    return v;
  }
  /** A kafkajs client of the ordinary SCRAM principal over the SASL_SSL listener. */
  function appKafka(): ReturnType<typeof testKafka> {
    return new Kafka({
      clientId: 'kbak-stack-acl',
      brokers: [env('KBAK_SECURE_BROKERS')],
      ssl: { ca: [readFileSync(env('KBAK_SECURE_TLS_CA'))] },
      sasl: { mechanism: 'scram-sha-512', username: env('KBAK_SECURE_APP_USERNAME'), password: env('KBAK_SECURE_APP_PASSWORD') },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
  }

  it('enforces ACLs for an ordinary principal and leaves the super users and unrestricted resources alone', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const open = uniqueName('acl-open');
    const denied = uniqueName('acl-denied');
    const principal = `User:${env('KBAK_SECURE_APP_USERNAME')}`;
    const deny = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: denied,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal,
      host: '*',
      operation: AclOperationTypes.ALL,
      permissionType: AclPermissionTypes.DENY,
    };
    const app = appKafka().admin();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: open }, { topic: denied }] });
      await admin.createAcls({ acl: [deny] });
      const described = await admin.describeAcls({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: denied,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      expect(described.resources).toHaveLength(1);
      await app.connect();
      // No ACL on `open`: allow.everyone.if.no.acl.found lets the ordinary principal see it...
      const meta = await app.fetchTopicMetadata({ topics: [open] });
      expect(meta.topics[0]!.name).toBe(open);
      // ...and the DENY on `denied` refuses it, while the plaintext (ANONYMOUS, super user) admin still may.
      await expect(app.fetchTopicOffsets(denied)).rejects.toThrow(/authoriz/i);
      expect((await admin.fetchTopicOffsets(denied)).map((o) => o.partition)).toEqual([0]);
    } finally {
      await app.disconnect();
      await admin.deleteAcls({ filters: [deny] });
      await admin.deleteTopics({ topics: [open, denied] });
      await admin.disconnect();
    }
  });
});
