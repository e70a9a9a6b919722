/**
 * The dump captures ACLs (FORMAT.md settled point 23) against the stack's StandardAuthorizer:
 * literal, prefixed and wildcard bindings of a topic and of a group whose offsets the backup
 * holds, and one on an unrelated topic, created by the plaintext listener's super user; the
 * manifest is read as plain JSON and by the independent decoder (test/support/format-decoder.ts),
 * not by kbak's reader. A dump by the stack's ordinary SCRAM user, denied DESCRIBE on the
 * cluster (which DescribeAcls needs), succeeds with one warning and no `acls` field.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { listBackupsOnDisk, verifyBackupOnDisk } from '../support/format-decoder';
import { runKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

jest.setTimeout(120_000);

const kafka = testKafka('kbak-dump-acls-test');
const admin = kafka.admin();
const dirs: string[] = [];
const created: AclEntry[] = [];

function env(name: string): string {
  const v = stackEnv().env[name];
  if (!v) throw new Error(`${name} is missing from .stack/env: restart the stack with this branch's scripts/stack/up.sh`);
  return v;
}

interface Binding {
  resourceType: 'TOPIC' | 'GROUP';
  resourceName: string;
  patternType: 'LITERAL' | 'PREFIXED';
  principal: string;
  host: string;
  operation: 'READ' | 'WRITE' | 'DESCRIBE' | 'DELETE' | 'DESCRIBE_CONFIGS';
  permissionType: 'ALLOW' | 'DENY';
}

async function createAcls(bindings: Binding[]): Promise<void> {
  const entries: AclEntry[] = bindings.map((x) => ({
    resourceType: AclResourceTypes[x.resourceType],
    resourceName: x.resourceName,
    resourcePatternType: ResourcePatternTypes[x.patternType],
    principal: x.principal,
    host: x.host,
    operation: AclOperationTypes[x.operation],
    permissionType: AclPermissionTypes[x.permissionType],
  }));
  await admin.createAcls({ acl: entries });
  created.push(...entries);
}

/** A topic of one partition holding 3 records. */
async function topicWithRecords(prefix: string): Promise<string> {
  const t = uniqueName(prefix);
  await createTopic(kafka, t, 1);
  await produce(
    kafka,
    t,
    Array.from({ length: 3 }, (_, i) => ({ partition: 0, key: null, value: Buffer.from(`v${i}`), headers: [], timestamp: String(Date.now()) })),
  );
  return t;
}

/** The one backup in the folder: its manifest as plain JSON. */
function onlyManifest(dir: string): { json: Record<string, unknown>; cluster: string; backupId: string } {
  const backups = listBackupsOnDisk(dir);
  expect(backups).toHaveLength(1);
  const { cluster, backupId } = backups[0]!;
  expect(readdirSync(join(dir, cluster, backupId))).toContain('manifest.json');
  return { json: JSON.parse(readFileSync(join(dir, cluster, backupId, 'manifest.json'), 'utf8')) as Record<string, unknown>, cluster, backupId };
}

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  if (created.length > 0) await admin.deleteAcls({ filters: created });
  await admin.disconnect();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbak-dump-acls-'));
  dirs.push(d);
  return d;
}

it('a dump holds exactly the bindings of its topic and of its group: literal, prefixed and wildcard, sorted; not the unrelated one', async () => {
  const topic = await topicWithRecords('acl-orders');
  const unrelatedTopic = await topicWithRecords('acl-other');
  const group = uniqueName('acl-billing');
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] });
  // A principal of this test alone, so that bindings other tests leave on `*` cannot be mistaken for these.
  const who = `User:${uniqueName('acl-user')}`;
  const b = (over: Partial<Binding>): Binding => ({
    resourceType: 'TOPIC',
    resourceName: topic,
    patternType: 'LITERAL',
    principal: who,
    host: '*',
    operation: 'READ',
    permissionType: 'ALLOW',
    ...over,
  });
  const related = [
    b({}),
    b({ resourceName: topic.slice(0, 'acl-orders-'.length), patternType: 'PREFIXED', operation: 'WRITE' }),
    b({ resourceName: '*', operation: 'DESCRIBE', host: '10.0.0.7' }),
    b({ resourceType: 'GROUP', resourceName: group }),
    b({ resourceType: 'GROUP', resourceName: group.slice(0, 'acl-billing-'.length), patternType: 'PREFIXED', permissionType: 'DENY', operation: 'DELETE' }),
    b({ resourceType: 'GROUP', resourceName: '*', operation: 'DESCRIBE' }),
  ];
  const unrelated = b({ resourceName: unrelatedTopic });
  await createAcls([...related, unrelated]);

  const dir = tempDir();
  const r = await runKbak(['dump', '--topic', topic, '--to', dir, '--json', '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const { json, cluster, backupId } = onlyManifest(dir);
  const acls = json.acls as Binding[];
  const key = (x: Binding): string => [x.resourceType, x.resourceName, x.patternType, x.principal, x.host, x.operation, x.permissionType].join('\u0000');
  const byKey = (x: Binding, y: Binding): number => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0);
  // Exactly this test's related bindings, in the format's order; the unrelated one nowhere.
  expect(acls.filter((x) => x.principal === who)).toEqual([...related].sort(byKey));
  expect(acls.map((x) => x.resourceName)).not.toContain(unrelatedTopic);
  expect([...acls].sort(byKey)).toEqual(acls);
  // Whatever else the cluster holds, each binding in the backup applies to the topic or the group.
  for (const x of acls) {
    const name = x.resourceType === 'TOPIC' ? topic : group;
    expect(x.patternType === 'PREFIXED' ? name.startsWith(x.resourceName) : x.resourceName === '*' || x.resourceName === name).toBe(true);
  }
  // The summary counts them; the cut's time lies between the start and the end (settled point 24).
  expect((JSON.parse(r.stdout) as { acls: number }).acls).toBe(acls.length);
  const cut = json.cut as { time: string };
  expect(cut.time >= (json.startedAt as string) && cut.time <= (json.completedAt as string)).toBe(true);
  // The independent decoder accepts the manifest with its new fields.
  expect(verifyBackupOnDisk(dir, { cluster, backupId }).get(`${topic}/0`)).toHaveLength(3);
  // inspect shows the count, and the bindings in -o json as in the manifest.
  const table = await runKbak(['inspect', backupId, '--source', dir, '--name', cluster]);
  expect(table.stdout).toContain(`ACLs: ${acls.length} bindings`);
  expect(table.stdout).toContain(`cut: read_committed, fixed at ${cut.time}`);
  const asJson = await runKbak(['inspect', backupId, '--source', dir, '--name', cluster, '-o', 'json']);
  expect((JSON.parse(asJson.stdout) as { acls: Binding[] }).acls).toEqual(acls);
});

it('a principal that may not describe ACLs dumps with one warning and no acls field', async () => {
  const topic = await topicWithRecords('acl-hidden');
  const app = env('KBAK_SECURE_APP_USERNAME');
  // DescribeAcls needs DESCRIBE on the cluster. The topic is granted explicitly: a wildcard binding
  // (the test above makes one) takes every topic out of allow.everyone.if.no.acl.found.
  await createAcls(
    (['READ', 'DESCRIBE', 'DESCRIBE_CONFIGS'] as const).map((operation) => ({
      resourceType: 'TOPIC',
      resourceName: topic,
      patternType: 'LITERAL',
      principal: `User:${app}`,
      host: '*',
      operation,
      permissionType: 'ALLOW',
    })),
  );
  const deny: AclEntry = {
    resourceType: AclResourceTypes.CLUSTER,
    resourceName: 'kafka-cluster',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: `User:${app}`,
    host: '*',
    operation: AclOperationTypes.DESCRIBE,
    permissionType: AclPermissionTypes.DENY,
  };
  await admin.createAcls({ acl: [deny] });
  created.push(deny);
  const dir = tempDir();
  const r = await runKbak(['dump', '--topic', topic, '--to', dir, '--json', '--log-format', 'json'], {
    KBAK_BROKERS: env('KBAK_SECURE_BROKERS'),
    KBAK_TLS: 'true',
    KBAK_TLS_CA: env('KBAK_SECURE_TLS_CA'),
    KBAK_SASL_MECHANISM: 'scram-sha-512',
    KBAK_SASL_USERNAME: app,
    KBAK_SASL_PASSWORD: env('KBAK_SECURE_APP_PASSWORD'),
  });
  expect(r.code).toBe(0);
  const warnings = r.stderr
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level === 40);
  expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/^ACLs not backed up: .*\(CLUSTER_AUTHORIZATION_FAILED\)/)]);
  const { json, cluster, backupId } = onlyManifest(dir);
  expect(json).not.toHaveProperty('acls');
  expect((JSON.parse(r.stdout) as { acls: number | null }).acls).toBeNull();
  expect(verifyBackupOnDisk(dir, { cluster, backupId }).get(`${topic}/0`)).toHaveLength(3);
  const table = await runKbak(['inspect', backupId, '--source', dir, '--name', cluster]);
  expect(table.stdout).toContain('ACLs: not captured');
});
