/**
 * `kbak recover --with-acls` (src/recover/acls.ts) against the stack's StandardAuthorizer, the
 * recovery's principal on the secured listener (SASL_SSL, the stack's super SCRAM user).
 * Bindings of topic A (literal and prefixed) and of a group are captured as a dump captures
 * them (manifest-shaped), deleted, and recovered with A renamed to B. The proof uses neither
 * kbak's adapter nor its code: the stack's ordinary SCRAM user, refused before, consumes B in the
 * group with the stock kafkajs client after; Kafka's own AclCommand (kafka-tools, the JVM) lists
 * the bindings on B and the group; the stock kafkajs admin shows the prefixed one kept out by default.
 *
 * allow.everyone.if.no.acl.found is on in the stack: a resource without ACLs is open to all, so
 * B and the group carry a binding of another principal throughout (a fence), and the ordinary
 * user reaches them only through the bindings the recovery creates.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka as StockKafka,
  logLevel as stockLogLevel,
  ResourcePatternTypes,
  type AclEntry,
} from 'kafkajs';
import { loadSettings } from '../../src/config/settings';
import { captureAcls } from '../../src/dump/acls';
import { openKafka, KafkaServiceError, type AclBindingInfo, type KafkaAdapter } from '../../src/kafka';
import { silentLogger } from '../../src/output/logger';
import { recoverAcls } from '../../src/recover/acls';
import { aclBinding, clusterDeny } from '../support/acl-binding';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';
import { runKbak } from '../support/kbak-cli';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const kafka = testKafka('kbak-recover-acls-test');
const admin = kafka.admin();
const created: AclEntry[] = [];
const adapters: KafkaAdapter[] = [];

function env(name: string): string {
  const v = stackEnv().env[name];
  if (!v) throw new Error(`${name} is missing from .stack/env: restart the stack with this branch's scripts/stack/up.sh`);
  return v;
}

/** kbak's adapter on the secured listener as `user` (SCRAM-SHA-512 over TLS). */
function secureAdapter(user: string, password: string): KafkaAdapter {
  const settings = loadSettings(
    {},
    {
      ...stackEnv().env,
      KBAK_BROKERS: env('KBAK_SECURE_BROKERS'),
      KBAK_TLS: 'true',
      KBAK_TLS_CA: env('KBAK_SECURE_TLS_CA'),
      KBAK_SASL_MECHANISM: 'scram-sha-512',
      KBAK_SASL_USERNAME: user,
      KBAK_SASL_PASSWORD: password,
    },
  );
  const a = openKafka(settings.kafka, silentLogger());
  adapters.push(a);
  return a;
}

function entry(b: AclBindingInfo): AclEntry {
  return {
    resourceType: AclResourceTypes[b.resourceType],
    resourceName: b.resourceName,
    resourcePatternType: ResourcePatternTypes[b.patternType],
    principal: b.principal,
    host: b.host,
    operation: AclOperationTypes[b.operation as 'READ'],
    permissionType: AclPermissionTypes[b.permissionType],
  };
}

async function addAcls(bindings: AclBindingInfo[]): Promise<void> {
  const entries = bindings.map(entry);
  await admin.createAcls({ acl: entries });
  created.push(...entries);
}

/**
 * consumeOnce, again while the group's coordinator is not there yet: on a fresh cluster the first
 * group makes the broker create __consumer_offsets, and FindCoordinator answers
 * COORDINATOR_NOT_AVAILABLE until it is ready (a cold CI run met this). Only that error is retried,
 * so a refusal still surfaces at once.
 */
async function consumeAsApp(topic: string, groupId: string, expected: number): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await consumeOnce(topic, groupId, expected);
    } catch (e) {
      if (!(e instanceof Error && e.name === 'KafkaJSGroupCoordinatorNotFound') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * The stock kafkajs client as the stack's ordinary SCRAM user: every value of the topic, read in
 * the group from the beginning, or the error that stopped it (a refusal surfaces at once).
 */
async function consumeOnce(topic: string, groupId: string, expected: number): Promise<string[]> {
  const app = new StockKafka({
    clientId: 'kbak-recover-acls-app',
    brokers: [env('KBAK_SECURE_BROKERS')],
    ssl: { ca: [readFileSync(env('KBAK_SECURE_TLS_CA'), 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: env('KBAK_SECURE_APP_USERNAME'), password: env('KBAK_SECURE_APP_PASSWORD') },
    logLevel: stockLogLevel.NOTHING,
    retry: { retries: 0 },
  });
  const consumer = app.consumer({ groupId, maxWaitTimeInMs: 200 });
  const values: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${expected} records of ${topic} in 60 s`)), 60_000);
      consumer.on(consumer.events.CRASH, (e) => {
        clearTimeout(timer);
        reject((e.payload as { error: Error }).error);
      });
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value?.toString() ?? '');
            if (values.length === expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return values;
}

/** Kafka's own AclCommand (org.apache.kafka.tools, kafka-tools 4.x) listing every binding that matches the topic and the group. */
function aclCommandList(topic: string, group: string): string[] {
  const r = spawnSync(
    'bash',
    [
      join(ROOT, 'scripts/stack/kafka-tool.sh'),
      'org.apache.kafka.tools.AclCommand',
      '--bootstrap-server',
      stackEnv().brokers.join(','),
      '--list',
      '--topic',
      topic,
      '--group',
      group,
      '--resource-pattern-type',
      'match',
    ],
    { encoding: 'utf8', env: { ...process.env, ...stackEnv().env } },
  );
  if (r.status !== 0) throw new Error(`AclCommand exited ${r.status}: ${r.stderr}`);
  // "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`:" then one line per ACL.
  const out: string[] = [];
  let resource = '';
  for (const line of r.stdout.split('\n')) {
    const res = /ResourcePattern\(resourceType=(\w+), name=([^,]+), patternType=(\w+)\)/.exec(line);
    if (res) resource = `${res[1]} ${res[2]} ${res[3]}`;
    const acl = /\(principal=([^,]+), host=([^,]+), operation=(\w+), permissionType=(\w+)\)/.exec(line);
    if (acl) out.push(`${resource} ${acl[1]} ${acl[2]} ${acl[3]} ${acl[4]}`);
  }
  return out.sort();
}

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  for (const a of adapters) await a.close();
  if (created.length > 0) await admin.deleteAcls({ filters: created });
  await admin.disconnect();
});

it("re-creates a topic's and a group's bindings under the rename: the ordinary user, refused before, consumes the recovered topic after; Kafka's AclCommand lists them; prefixed ones only when asked", async () => {
  const source = uniqueName('racl-orders');
  const recovered = `${source}-recovered`;
  const group = uniqueName('racl-billing');
  const app = `User:${env('KBAK_SECURE_APP_USERNAME')}`;
  const fence = `User:${uniqueName('racl-fence')}`;
  // The recovered topic, written as a recovery would have written it.
  await createTopic(kafka, recovered, 1);
  await produce(
    kafka,
    recovered,
    ['a', 'b', 'c'].map((v) => ({ partition: 0, key: null, value: Buffer.from(v), headers: [], timestamp: String(Date.now()) })),
  );
  const b = (over: Partial<AclBindingInfo>): AclBindingInfo => aclBinding({ resourceName: source, principal: app, ...over });
  await addAcls([b({ resourceName: recovered, principal: fence }), b({ resourceType: 'GROUP', resourceName: group, principal: fence })]);
  const prefix = source.slice(0, source.length - 2);
  const sourceBindings = [
    b({}),
    b({ operation: 'DESCRIBE' }),
    b({ resourceName: prefix, patternType: 'PREFIXED', operation: 'DESCRIBE_CONFIGS' }),
    b({ resourceType: 'GROUP', resourceName: group }),
  ];
  await addAcls(sourceBindings);

  // Captured as a dump captures them, by the recovery's principal on the secured listener.
  const kbak = secureAdapter(env('KBAK_SECURE_SASL_USERNAME'), env('KBAK_SECURE_SASL_PASSWORD'));
  const captured = ((await captureAcls(kbak, [source], [group], silentLogger())) ?? []).filter((x) => x.principal === app);
  const key = (x: AclBindingInfo): string =>
    JSON.stringify([x.resourceType, x.resourceName, x.patternType, x.principal, x.host, x.operation, x.permissionType]);
  expect(captured.map(key).sort()).toEqual(sourceBindings.map(key).sort());
  await admin.deleteAcls({ filters: sourceBindings.map(entry) });

  // Before: the fence keeps the ordinary user out of the recovered topic and the group.
  await expect(consumeAsApp(recovered, group, 3)).rejects.toThrow(/[Nn]ot authorized|authorization failed/);

  const plan = await recoverAcls(kbak, captured, new Map([[source, recovered]]), new Set([group]), silentLogger());
  created.push(...plan.create.map(entry));
  expect(plan.create.map(key).sort()).toEqual(
    [b({ resourceName: recovered }), b({ resourceName: recovered, operation: 'DESCRIBE' }), b({ resourceType: 'GROUP', resourceName: group })].map(key).sort(),
  );
  expect(plan.skipped.map((s) => [s.binding.resourceName, s.reason])).toEqual([[prefix, 'broad']]);

  // After: the stock client reads every record as the ordinary user.
  expect(await consumeAsApp(recovered, group, 3)).toEqual(['a', 'b', 'c']);
  // The prefixed binding stayed out, as the stock admin sees it.
  const prefixed = await admin.describeAcls({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: prefix,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal: app,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  expect(prefixed.resources).toEqual([]);

  // Asked for, broad bindings come back as they were; the others are present, not created again.
  const broad = await recoverAcls(kbak, captured, new Map([[source, recovered]]), new Set([group]), silentLogger(), { broad: true });
  created.push(...broad.create.map(entry));
  expect(broad.create.map(key)).toEqual([key(b({ resourceName: prefix, patternType: 'PREFIXED', operation: 'DESCRIBE_CONFIGS' }))]);
  expect(broad.present).toHaveLength(3);

  // Kafka's own tool: every binding that applies to the recovered topic and the group, the fence included.
  expect(aclCommandList(recovered, group).filter((l) => !l.includes('racl-fence') || l.includes(fence))).toEqual(
    [
      `TOPIC ${recovered} LITERAL ${app} * READ ALLOW`,
      `TOPIC ${recovered} LITERAL ${app} * DESCRIBE ALLOW`,
      `TOPIC ${prefix} PREFIXED ${app} * DESCRIBE_CONFIGS ALLOW`,
      `TOPIC ${recovered} LITERAL ${fence} * READ ALLOW`,
      `GROUP ${group} LITERAL ${app} * READ ALLOW`,
      `GROUP ${group} LITERAL ${fence} * READ ALLOW`,
    ].sort(),
  );
});

it('a principal that may not alter ACLs on the target gets one line naming what to do, and nothing is created', async () => {
  const app = env('KBAK_SECURE_APP_USERNAME');
  const topic = uniqueName('racl-denied');
  // A binding on the cluster takes it out of allow.everyone.if.no.acl.found: no DESCRIBE, no ALTER for the ordinary user.
  const deny = clusterDeny(app, 'ALTER');
  await admin.createAcls({ acl: [deny] });
  created.push(deny);
  const binding = aclBinding({ resourceName: topic, principal: 'User:someone' });
  const err = await recoverAcls(secureAdapter(app, env('KBAK_SECURE_APP_PASSWORD')), [binding], new Map([[topic, topic]]), new Set(), silentLogger()).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KafkaServiceError);
  expect((err as KafkaServiceError).kafkaCode).toBe('CLUSTER_AUTHORIZATION_FAILED');
  expect((err as KafkaServiceError).oneLine()).toMatch(
    /^cannot recover ACLs \(.*\): the principal may not read and create ACLs on the target \(CLUSTER_AUTHORIZATION_FAILED\) \(grant it DESCRIBE and ALTER on the cluster, or recover without --with-acls\)$/,
  );
  const left = await admin.describeAcls({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: topic,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  expect(left.resources).toEqual([]);
});

it('kbak recover --with-acls brings a deleted topic back with its literal bindings and its group’s, and shows the prefixed one only in the plan', async () => {
  const topic = uniqueName('racl-cli');
  const group = uniqueName('racl-cli-group');
  const principal = `User:${uniqueName('racl-cli-user')}`;
  const dir = mkdtempSync(join(tmpdir(), 'kbak-recover-acls-'));
  try {
    await createTopic(kafka, topic, 1);
    await produce(kafka, topic, [{ partition: 0, key: null, value: Buffer.from('x'), headers: [], timestamp: String(Date.now()) }]);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '1' }] });
    const b = (over: Partial<AclBindingInfo>): AclBindingInfo => aclBinding({ resourceName: topic, principal, ...over });
    const literal = [b({}), b({ resourceType: 'GROUP', resourceName: group })];
    const prefixed = b({ resourceName: topic.slice(0, -3), patternType: 'PREFIXED', operation: 'DESCRIBE' });
    await addAcls([...literal, prefixed]);
    // The dump runs as the plaintext listener's super user, who may describe ACLs.
    const dumped = await runKbak(['dump', '--topic', topic, '--to', dir, '--quiet']);
    expect(dumped.code).toBe(0);
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    await admin.deleteAcls({ filters: [...literal, prefixed].map(entry) });
    const mine = async (): Promise<string[]> => {
      const res = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      return res.resources.flatMap((r) => r.acls.map(() => `${r.resourceType} ${r.resourceName} ${r.resourcePatternType}`)).sort();
    };
    expect(await mine()).toEqual([]);

    const plan = await runKbak(['recover', '--source', dir, '--topic', topic, '--with-acls', '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('ACLs: 2 bindings to create');
    expect(plan.stdout).toMatch(/not re-created: .*PREFIXED|not re-created: .*prefixed/i);
    const r = await runKbak(['recover', '--source', dir, '--topic', topic, '--with-acls', '-o', 'json', '--quiet']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { acls: { created: number } }).acls.created).toBe(2);
    // Read back with the stock kafkajs admin: the topic's and the group's literal bindings, not the prefixed one.
    expect(await mine()).toEqual(
      [`${AclResourceTypes.GROUP} ${group} ${ResourcePatternTypes.LITERAL}`, `${AclResourceTypes.TOPIC} ${topic} ${ResourcePatternTypes.LITERAL}`].sort(),
    );
    created.push(...literal.map(entry));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('kbak recover --with-acls of a backup without ACLs is refused before anything is written (exit 2)', async () => {
  const topic = uniqueName('racl-none');
  const dir = mkdtempSync(join(tmpdir(), 'kbak-recover-acls-'));
  try {
    await createTopic(kafka, topic, 1);
    // The ordinary SCRAM user may not describe ACLs: its dump holds none.
    const app = {
      KBAK_BROKERS: env('KBAK_SECURE_BROKERS'),
      KBAK_TLS: 'true',
      KBAK_TLS_CA: env('KBAK_SECURE_TLS_CA'),
      KBAK_SASL_MECHANISM: 'scram-sha-512',
      KBAK_SASL_USERNAME: env('KBAK_SECURE_APP_USERNAME'),
      KBAK_SASL_PASSWORD: env('KBAK_SECURE_APP_PASSWORD'),
    };
    const dumped = await runKbak(['dump', '--topic', topic, '--to', dir, '--quiet'], app);
    expect(dumped.code).toBe(0);
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    const r = await runKbak(['recover', '--source', dir, '--topic', topic, '--with-acls']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds no ACLs');
    expect(await admin.listTopics()).not.toContain(topic);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
