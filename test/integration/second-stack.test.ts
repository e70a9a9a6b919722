/**
 * The second local cluster the two-cluster tests use (test/support/second-stack.ts): started by
 * the tests' own support code beside the primary stack, on its own ports and folder, and
 * independent of it — its own Kafka cluster (with its own secured listener and authorizer),
 * registry and S3. Topics and subjects are read back with kcat and curl, which share no code
 * with kbak or the tests' kafkajs.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { Kafka, logLevel } from '../support/kafkajs-copy';
import { secondStack, secondStackPlace, stackStartProblem, startStack, type StackEndpoints } from '../support/second-stack';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const STATUS_SH = join(__dirname, '..', '..', 'scripts', 'stack', 'status.sh');

let a: StackEndpoints;
let b: StackEndpoints;

beforeAll(async () => {
  a = stackEnv();
  b = await secondStack();
});

function kafkaOf(stack: StackEndpoints): Kafka {
  return new Kafka({ clientId: 'kbak-second-stack-test', brokers: stack.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

async function clusterId(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
}

/** The topic names a cluster's metadata lists, as kcat (librdkafka) reads them. */
function kcatTopics(stack: StackEndpoints): string[] {
  const out = execFileSync('kcat', ['-L', '-J', '-b', stack.brokers.join(',')], { encoding: 'utf8', timeout: 30_000 });
  return (JSON.parse(out) as { topics: Array<{ topic: string }> }).topics.map((t) => t.topic);
}

/** The subjects a registry lists, asked with curl. */
function curlSubjects(stack: StackEndpoints): string[] {
  return JSON.parse(execFileSync('curl', ['-fsS', '--max-time', '10', `${stack.registryUrl}/subjects`], { encoding: 'utf8' })) as string[];
}

function s3Of(stack: StackEndpoints): S3Client {
  return new S3Client({ endpoint: stack.s3Endpoint, forcePathStyle: true, region: stack.env.AWS_REGION ?? 'us-east-1' });
}

describe('the second stack', () => {
  it('runs on its own folder and ports, the primary offset + 1000 unless overridden', () => {
    const place = secondStackPlace();
    expect(b.env.KBAK_STACK_PORT_OFFSET).toBe(String(place.offset));
    if (!process.env.KBAK_SECOND_STACK_PORT_OFFSET) expect(place.offset).toBe(Number(a.env.KBAK_STACK_PORT_OFFSET ?? '0') + 1000);
    const ports = (s: StackEndpoints): string[] =>
      ['KAFKA_PORT', 'KAFKA_CONTROLLER_PORT', 'KAFKA_SECURE_PORT', 'KAFKA_MTLS_PORT', 'REGISTRY_PORT', 'REGISTRY_MANAGEMENT_PORT', 'S3_PORT'].map(
        (k) => s.env[k]!,
      );
    expect(ports(b).every((p) => /^\d+$/.test(p))).toBe(true);
    expect(ports(b).filter((p) => ports(a).includes(p))).toEqual([]);
    expect(b.brokers).toEqual([`127.0.0.1:${b.env.KAFKA_PORT}`]);
    expect(b.registryUrl).toBe(`http://127.0.0.1:${b.env.REGISTRY_PORT}/apis/ccompat/v7`);
    expect(b.s3Endpoint).toBe(`http://127.0.0.1:${b.env.S3_PORT}`);
  });

  it('is a cluster of its own: another cluster ID, also behind its own secured listener, with its own authorizer', async () => {
    const idA = await clusterId(testKafka('kbak-second-stack-test'));
    const idB = await clusterId(kafkaOf(b));
    expect(idB).not.toBe(idA);
    // B's SASL_SSL listener (its own CA and SCRAM user) leads to B, not to A.
    const secure = new Kafka({
      clientId: 'kbak-second-stack-test',
      brokers: [b.env.KBAK_SECURE_BROKERS!],
      ssl: { ca: [readFileSync(b.env.KBAK_SECURE_TLS_CA!)] },
      sasl: { mechanism: 'scram-sha-512', username: b.env.KBAK_SECURE_SASL_USERNAME!, password: b.env.KBAK_SECURE_SASL_PASSWORD! },
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    expect(await clusterId(secure)).toBe(idB);
    // A broker without an authorizer answers DescribeAcls with SECURITY_DISABLED.
    const admin = kafkaOf(b).admin();
    await admin.connect();
    try {
      const acls = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      expect(Array.isArray(acls.resources)).toBe(true);
    } finally {
      await admin.disconnect();
    }
  });

  it('does not see a topic created on the primary (kcat)', async () => {
    const topic = uniqueName('second-stack');
    const admin = testKafka('kbak-second-stack-test').admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
      expect(kcatTopics(a)).toContain(topic);
      expect(kcatTopics(b)).not.toContain(topic);
    } finally {
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    }
  });

  it("does not list a subject registered in the primary's registry (curl)", () => {
    const subject = `${uniqueName('second-stack')}-value`;
    const register = (stack: StackEndpoints): void => {
      execFileSync('curl', [
        '-fsS',
        '--max-time',
        '10',
        '-X',
        'POST',
        '-H',
        'Content-Type: application/vnd.schemaregistry.v1+json',
        '--data',
        JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'SecondStack', fields: [{ name: 'id', type: 'long' }] }) }),
        `${stack.registryUrl}/subjects/${subject}/versions`,
      ]);
    };
    register(a);
    try {
      expect(curlSubjects(a)).toContain(subject);
      expect(curlSubjects(b)).not.toContain(subject);
    } finally {
      execFileSync('curl', ['-fsS', '--max-time', '10', '-X', 'DELETE', `${a.registryUrl}/subjects/${subject}`]);
      execFileSync('curl', ['-fsS', '--max-time', '10', '-X', 'DELETE', `${a.registryUrl}/subjects/${subject}?permanent=true`]);
    }
  });

  it("does not hold an object put into the primary's bucket", async () => {
    const prefix = uniqueName('second-stack');
    await s3Of(a).send(new PutObjectCommand({ Bucket: a.s3Bucket, Key: `${prefix}/x`, Body: 'a' }));
    const listed = async (s: StackEndpoints): Promise<string[]> =>
      ((await s3Of(s).send(new ListObjectsV2Command({ Bucket: s.s3Bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
    expect(await listed(a)).toEqual([`${prefix}/x`]);
    expect(await listed(b)).toEqual([]);
  });

  it('is reused when it is up: a second start is a no-op on the same processes', async () => {
    const { dir, offset } = secondStackPlace();
    const pids = (): string[] => ['kafka', 'registry', 's3'].map((s) => readFileSync(join(dir, 'pids', `${s}.pid`), 'utf8').trim());
    const before = pids();
    const again = await startStack(dir, offset);
    expect(again.brokers).toEqual(b.brokers);
    expect(pids()).toEqual(before);
  });

  it('is found by the stack scripts from its folder alone (status.sh with only KBAK_STACK_DIR)', () => {
    const { dir } = secondStackPlace();
    const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME, KBAK_STACK_DIR: dir };
    const r = spawnSync('bash', [STATUS_SH], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`127.0.0.1:${b.env.KAFKA_PORT} `);
    expect(r.stdout).toContain(b.registryUrl);
  });
});

describe('a stack that cannot start', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    if (server) await new Promise((r) => server!.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = dir = undefined;
  });

  it('fails with one line naming the port in use, and starts nothing', async () => {
    // A port of our own that the stack's Kafka would want: offset = port - 9092.
    let port = 0;
    while (port === 0) {
      server = createServer();
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const p = (server.address() as AddressInfo).port;
      if (p > 9092 && p - 9092 <= 50_000) port = p;
      else await new Promise((r) => server!.close(r));
    }
    dir = mkdtempSync(join(tmpdir(), 'kbak-collide-'));
    const stackDir = join(dir, 'stack');
    const err = await startStack(stackDir, port - 9092).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.message.split('\n')).toHaveLength(1);
    expect(err!.message).toContain(`the stack in ${stackDir} (port offset ${port - 9092}) did not start: stack: port ${port}, `);
    expect(err!.message).toContain('already in use by a process this stack did not start');
    // Kafka is checked first and up.sh stops there: no service was started, no pid file written.
    expect(readdirSync(join(stackDir, 'pids'))).toEqual([]);
  });

  it('names a half-started stack by the service that did not come up and its log, not by the log tail', () => {
    // What up.sh prints when one service never answers (wait_healthy's line, its log tail, the closing line).
    const stderr = [
      'stack: kafka already running (pid 4242)',
      'stack: registry did not come up within 120s (log: /x/.stack-b/logs/registry.log)',
      '2026-12-06 09:00:00,000 ERROR Failed to start application (io.quarkus.runtime)',
      'java.net.BindException: Address already in use',
      "stack: not all services came up; 'npm run stack:status' shows what runs, 'npm run stack:down' stops it",
    ].join('\n');
    expect(stackStartProblem(stderr)).toBe('stack: registry did not come up within 120s (log: /x/.stack-b/logs/registry.log)');
    expect(stackStartProblem('boom\n')).toBe('boom');
  });
});
