/**
 * The restore's preflight against the stack: an Apicurio root URL without /apis/ccompat/v7,
 * a wrong SASL password and principals without the rights a restore needs (the stack's
 * ordinary SCRAM user, narrowed with ACLs by the plaintext super user) are refused before
 * anything is written: the ledger topic, read with kcat, has no record of the lane, and no
 * lane topic exists. For --dry-run too, whose plan otherwise shows the lane's expiry and
 * baggage and ends with the command that applies it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { openBackup, restore } from '../../src/api';
import { ExitCode, UsageError } from '../../src/errors';
import { DEFAULT_LEDGER_TOPIC } from '../../src/lane/ledger';
import { DiskStore } from '../../src/store/disk';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { readTopicWithKcat } from '../support/kcat';
import { framedAvroTopic } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

jest.setTimeout(120_000);

const kafka = testKafka('kbak-preflight-test');
const admin = kafka.admin();
let dir: string;
let topic: string;

function env(name: string): string {
  const v = stackEnv().env[name];
  if (!v) throw new Error(`${name} is missing from .stack/env: restart the stack with this branch's scripts/stack/up.sh`);
  return v;
}

/** The stack's registry without /apis/ccompat/v7: Apicurio's root. */
const apicurioRoot = (): string => new URL(stackEnv().registryUrl).origin;

/** The secured listener as the stack's ordinary SCRAM user (or the super user with another password). */
function secure(user: string, password: string): Record<string, string> {
  return {
    KBAK_BROKERS: env('KBAK_SECURE_BROKERS'),
    KBAK_TLS: 'true',
    KBAK_TLS_CA: env('KBAK_SECURE_TLS_CA'),
    KBAK_SASL_MECHANISM: 'scram-sha-512',
    KBAK_SASL_USERNAME: user,
    KBAK_SASL_PASSWORD: password,
  };
}

const lane = (): string => uniqueName('pf').slice(0, 30);
const app = (): Record<string, string> => secure(env('KBAK_SECURE_APP_USERNAME'), env('KBAK_SECURE_APP_PASSWORD'));

/** Records the ledger holds for the lane, read with kcat (none when the ledger topic does not exist). */
async function ledgerRecords(l: string): Promise<number> {
  if (!(await admin.listTopics()).includes(DEFAULT_LEDGER_TOPIC)) return 0;
  return [...readTopicWithKcat(DEFAULT_LEDGER_TOPIC).values()].flat().filter((r) => r.key === l).length;
}

/** Nothing of the lane was written: no ledger record, no lane topic. */
async function expectNothingWritten(l: string): Promise<void> {
  expect(await ledgerRecords(l)).toBe(0);
  expect((await admin.listTopics()).filter((t) => t.startsWith(`${l}.`))).toEqual([]);
}

function oneLineError(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((x) => x.trim().length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kbak: /);
  return lines[0]!;
}

beforeAll(async () => {
  await admin.connect();
  // A topic whose values reference a registered schema: restoring it needs the registry.
  topic = uniqueName('preflight');
  await framedAvroTopic(kafka, topic, 4, stackEnv().registryUrl, 'kbak.preflight');
  dir = mkdtempSync(join(tmpdir(), 'kbak-preflight-'));
  const d = await runKbak(['dump', '--topic', topic, '--to', dir, '--json', '--quiet']);
  expect(d.stderr).toBe('');
  expect(d.code).toBe(0);
});

afterAll(async () => {
  await admin.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('restore preflight: the schema registry', () => {
  for (const dry of [true, false]) {
    it(`refuses the Apicurio root URL${dry ? ' (--dry-run)' : ''} with exit 2, naming /apis/ccompat/v7, before any ledger write`, async () => {
      const l = lane();
      const root = apicurioRoot();
      const r = await runKbak(['restore', '--lane', l, '--source', dir, ...(dry ? ['--dry-run'] : []), '--schema-registry-url', root]);
      expect(r.code).toBe(ExitCode.USAGE);
      expect(r.stdout).toBe('');
      const line = oneLineError(r);
      expect(line).toContain(`the schema registry URL ${root} is not a Confluent-compatible API (HTTP 404 on GET /schemas/types)`);
      expect(line).toContain(`use ${root}/apis/ccompat/v7: Apicurio serves the Confluent-compatible API under /apis/ccompat/v7`);
      expect(line).not.toContain('{');
      await expectNothingWritten(l);
    });
  }

  it('the library restore() with the Apicurio root URL rejects with the same UsageError', async () => {
    const l = lane();
    const backup = await openBackup(new DiskStore(dir), 'latest');
    const outcome = await restore({ kafka: { brokers: stackEnv().brokers }, registry: { url: apicurioRoot() }, backup, lane: l }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(UsageError);
    expect((outcome as UsageError).message).toMatch(/is not a Confluent-compatible API .* answers: an Apicurio registry$/);
    expect((outcome as UsageError).hint).toBe(`use ${apicurioRoot()}/apis/ccompat/v7: Apicurio serves the Confluent-compatible API under /apis/ccompat/v7`);
    await expectNothingWritten(l);
  });
});

describe('restore preflight: Kafka', () => {
  it('refuses a wrong SASL password (exit 4, named as such), before any ledger write', async () => {
    const l = lane();
    const wrong = `wrong-${uniqueName('pw')}`;
    const r = await runKbak(['restore', '--lane', l, '--source', dir], secure(env('KBAK_SECURE_SASL_USERNAME'), wrong));
    expect(r.code).toBe(ExitCode.SERVICE);
    const line = oneLineError(r);
    expect(line).toMatch(/Kafka denied access/);
    expect(line).toMatch(/check the SASL mechanism, user and password/);
    expect(r.stderr + r.stdout).not.toContain(wrong);
    await expectNothingWritten(l);
  });

  /** ACLs for the ordinary SCRAM principal for the test's time, removed afterwards. */
  async function withAcls<T>(acls: Array<Omit<AclEntry, 'principal' | 'host'>>, fn: () => Promise<T>): Promise<T> {
    const entries: AclEntry[] = acls.map((a) => ({ ...a, principal: `User:${env('KBAK_SECURE_APP_USERNAME')}`, host: '*' }));
    await admin.createAcls({ acl: entries });
    try {
      return await fn();
    } finally {
      await admin.deleteAcls({ filters: entries });
    }
  }
  const cluster = (operation: number, permissionType: number): Omit<AclEntry, 'principal' | 'host'> => ({
    resourceType: AclResourceTypes.CLUSTER,
    resourceName: 'kafka-cluster',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    operation,
    permissionType,
  });
  const onTopics = (name: string, pattern: number, operation: number, permissionType: number): Omit<AclEntry, 'principal' | 'host'> => ({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: name,
    resourcePatternType: pattern,
    operation,
    permissionType,
  });

  for (const dry of [false, true]) {
    it(`refuses a read-only principal (may read and describe the lane's topics, may not create)${dry ? ' (--dry-run)' : ''}: exit 4 before any ledger write`, async () => {
      const l = lane();
      // Kafka lets CREATE on the cluster stand for CREATE on every topic: that is denied, the rest the restore's
      // reads need on the cluster is allowed (once a resource has ACLs, allow.everyone.if.no.acl.found no longer applies to it).
      const r = await withAcls(
        [
          cluster(AclOperationTypes.CREATE, AclPermissionTypes.DENY),
          cluster(AclOperationTypes.DESCRIBE, AclPermissionTypes.ALLOW),
          cluster(AclOperationTypes.DESCRIBE_CONFIGS, AclPermissionTypes.ALLOW),
          onTopics(`${l}.`, ResourcePatternTypes.PREFIXED, AclOperationTypes.READ, AclPermissionTypes.ALLOW),
          onTopics(`${l}.`, ResourcePatternTypes.PREFIXED, AclOperationTypes.DESCRIBE, AclPermissionTypes.ALLOW),
        ],
        () => runKbak(['restore', '--lane', l, '--source', dir, ...(dry ? ['--dry-run'] : [])], app()),
      );
      expect(r.code).toBe(ExitCode.SERVICE);
      expect(r.stdout).toBe('');
      const line = oneLineError(r);
      expect(line).toContain(`Kafka denies creating the lane topics ${l}.${topic} (TOPIC_AUTHORIZATION_FAILED): the restore stopped before writing anything`);
      expect(line).toContain(`CREATE on these topics (a prefixed ACL on "${l}." covers every topic of the lane) or on the cluster`);
      await expectNothingWritten(l);
    });
  }

  it('refuses a principal that may create lane topics but not write the ledger: exit 4, no lane topic, no ledger record', async () => {
    const l = lane();
    // The ledger must exist for its rights to be asked: a restore by the super user makes it.
    const seed = await runKbak(['restore', '--lane', lane(), '--source', dir, '--quiet']);
    expect(seed.code).toBe(0);
    const r = await withAcls(
      [
        onTopics(DEFAULT_LEDGER_TOPIC, ResourcePatternTypes.LITERAL, AclOperationTypes.READ, AclPermissionTypes.ALLOW),
        onTopics(DEFAULT_LEDGER_TOPIC, ResourcePatternTypes.LITERAL, AclOperationTypes.DESCRIBE, AclPermissionTypes.ALLOW),
        onTopics(DEFAULT_LEDGER_TOPIC, ResourcePatternTypes.LITERAL, AclOperationTypes.WRITE, AclPermissionTypes.DENY),
      ],
      () => runKbak(['restore', '--lane', l, '--source', dir], app()),
    );
    expect(r.code).toBe(ExitCode.SERVICE);
    const line = oneLineError(r);
    expect(line).toContain(`Kafka denies WRITE on the lane ledger topic ${DEFAULT_LEDGER_TOPIC}`);
    await expectNothingWritten(l);
  });
});

describe('restore --dry-run', () => {
  it('passes the preflight, shows expiry, baggage and header, and ends with the command to apply it, secrets masked', async () => {
    const l = lane();
    const password = env('KBAK_SECURE_APP_PASSWORD');
    const args = ['restore', '--lane', l, '--source', dir, '--dry-run', '--ttl', '72h', '--lane-baggage', 'kbak-lane', '--lane-header', 'x-lane'];
    const r = await runKbak([...args, '--sasl-password', password], { ...app(), KBAK_SASL_PASSWORD: undefined });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`restore plan for lane ${l} (dry run: nothing is changed)`);
    expect(lines[1]).toMatch(
      new RegExp(
        `^lane ${l}: recorded in ledger topic ${DEFAULT_LEDGER_TOPIC}, expires 3d after the restore, about \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(kbak lane gc deletes it then\\)$`,
      ),
    );
    expect(lines[2]).toBe(
      `  added to each record: header x-lane: ${l}; baggage kbak-lane=${l} (set in each record's W3C baggage header, which is created when absent)`,
    );
    expect(lines.at(-2)).toBe(
      `to apply this plan, run: kbak restore --lane ${l} --source ${dir} --ttl 72h --lane-baggage kbak-lane --lane-header x-lane --sasl-password '***'`,
    );
    expect(lines.at(-1)).toMatch(/secrets are shown as \*\*\*/);
    expect(r.stdout).not.toContain(password);
    await expectNothingWritten(l);

    // The command applies the plan: run as printed, with the secret given again.
    const applied = await runKbak([...args.filter((a) => a !== '--dry-run'), '--json', '--quiet', '--sasl-password', password], {
      ...app(),
      KBAK_SASL_PASSWORD: undefined,
    });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ lane: l, records: 4 });
    expect(readTopicWithKcat(`${l}.${topic}`).get(0)).toHaveLength(4);
    expect(await ledgerRecords(l)).toBeGreaterThan(0);
  });
});
