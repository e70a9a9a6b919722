/**
 * kbak against the stack's secured listeners (scripts/stack/secure.sh): dump and restore over
 * SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) and over mutual TLS, the failures a user
 * meets there (wrong password, untrusted broker certificate, missing client certificate),
 * and schema-registry basic auth through a proxy that enforces it. Lanes are read back over
 * the plaintext listener with kcat, which shares no code with kbak.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../src/errors';
import { startAuthProxy, type AuthProxy } from '../support/auth-proxy';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { readTopicWithKcat } from '../support/kcat';
import { createTopic, framedAvroTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const kafka = testKafka('kbak-secure-test');
const tmpDirs: string[] = [];
const RECORDS = 40;
let topic: string;
let framedTopic: string;
let schemaId: number;
let proxy: AuthProxy;
const PROXY_USER = 'registry-user';
const PROXY_PASSWORD = `reg-${uniqueName('pw')}`;

function env(name: string): string {
  const v = stackEnv().env[name];
  if (!v) throw new Error(`${name} is missing from .stack/env: restart the stack with this branch's scripts/stack/up.sh`);
  return v;
}

/** Connection settings of one secured listener, as kbak's KBAK_* variables. */
function scram(mechanism = 'scram-sha-512', password = env('KBAK_SECURE_SASL_PASSWORD')): Record<string, string | undefined> {
  return {
    KBAK_BROKERS: env('KBAK_SECURE_BROKERS'),
    KBAK_TLS: 'true',
    KBAK_TLS_CA: env('KBAK_SECURE_TLS_CA'),
    KBAK_SASL_MECHANISM: mechanism,
    KBAK_SASL_USERNAME: env('KBAK_SECURE_SASL_USERNAME'),
    KBAK_SASL_PASSWORD: password,
  };
}
function plain(): Record<string, string | undefined> {
  return { ...scram('plain'), KBAK_SASL_USERNAME: env('KBAK_SECURE_PLAIN_USERNAME'), KBAK_SASL_PASSWORD: env('KBAK_SECURE_PLAIN_PASSWORD') };
}
function mtls(): Record<string, string | undefined> {
  return {
    KBAK_BROKERS: env('KBAK_SECURE_MTLS_BROKERS'),
    KBAK_TLS_CA: env('KBAK_SECURE_TLS_CA'),
    KBAK_TLS_CERT: env('KBAK_SECURE_TLS_CERT'),
    KBAK_TLS_KEY: env('KBAK_SECURE_TLS_KEY'),
  };
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbak-secure-'));
  tmpDirs.push(d);
  return d;
}

function lane(): string {
  return uniqueName('sec').slice(0, 30);
}

function oneLineError(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kbak: /);
  return lines[0]!;
}

function expectNoSecret(r: CliResult, ...secrets: string[]): void {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

/** Source records as kcat sees them, to compare a lane against. */
function sourceView(t: string): Array<[number, string | null, string | null, Array<string | null>]> {
  return [...readTopicWithKcat(t).values()].flat().map((r) => [r.partition, r.key, r.value, r.headers]);
}

async function dumpAndRestore(connection: Record<string, string | undefined>): Promise<void> {
  const dir = tempDir();
  const d = await runKbak(['dump', '--topic', topic, '--to', dir, '--json', '--quiet'], connection);
  expect(d.stderr).toBe('');
  expect(d.code).toBe(0);
  expect(JSON.parse(d.stdout)).toMatchObject({ records: RECORDS, partitions: 2 });
  const l = lane();
  const r = await runKbak(['restore', '--lane', l, '--source', dir, '--json', '--quiet'], connection);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ records: RECORDS });
  expect(sourceView(`${l}.${topic}`)).toEqual(sourceView(topic));
}

beforeAll(async () => {
  topic = uniqueName('secure');
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: RECORDS }, (_, i) => ({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      headers: [{ key: 'traceparent', value: Buffer.from(`00-${String(i).padStart(32, '0')}-${String(i).padStart(16, '0')}-01`) }],
      timestamp: String(Date.now()),
    })),
  );
  // A topic whose values reference a registered schema, for the registry auth tests.
  framedTopic = uniqueName('secure-framed');
  schemaId = await framedAvroTopic(kafka, framedTopic, 5, stackEnv().registryUrl, 'kbak.secure');
  proxy = await startAuthProxy(stackEnv().registryUrl, PROXY_USER, PROXY_PASSWORD);
});

afterAll(async () => {
  await proxy?.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('kbak over SASL_SSL and mutual TLS', () => {
  it('dumps and restores over SASL_SSL with SCRAM-SHA-512', async () => {
    await dumpAndRestore(scram('scram-sha-512'));
  });

  it('dumps and restores over mutual TLS (client certificate required by the listener)', async () => {
    await dumpAndRestore(mtls());
  });

  it('dumps over SASL_SSL with SCRAM-SHA-256 and with PLAIN', async () => {
    for (const connection of [scram('scram-sha-256'), plain()]) {
      const r = await runKbak(['dump', '--topic', topic, '--to', tempDir(), '--json', '--quiet'], connection);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ records: RECORDS });
    }
  });

  it('refuses a wrong password with one line that names the cause and not the password', async () => {
    const wrong = `wrong-${uniqueName('pw')}`;
    const dir = tempDir();
    for (const args of [
      ['dump', '--topic', topic, '--to', dir],
      ['restore', '--lane', lane(), '--source', 'test/vectors/backup-v1'],
    ]) {
      const r = await runKbak(args, scram('scram-sha-512', wrong));
      expect(r.code).toBe(ExitCode.SERVICE);
      expect(oneLineError(r)).toMatch(/Kafka denied access .*\(check the SASL mechanism, user and password; see --sasl-mechanism/);
      expectNoSecret(r, wrong, env('KBAK_SECURE_SASL_PASSWORD'));
    }
  });

  it('refuses a broker certificate from an untrusted CA', async () => {
    // No --tls-ca: the stack's CA is not in Node's trust store.
    const r = await runKbak(['dump', '--topic', topic, '--to', tempDir()], { ...scram(), KBAK_TLS_CA: undefined });
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(oneLineError(r)).toMatch(
      /TLS handshake with Kafka at .* failed .*certificate.*\(check the CA that signed the broker certificate.*see --tls, --tls-ca/,
    );
    expectNoSecret(r, env('KBAK_SECURE_SASL_PASSWORD'));
  });

  it('fails clearly when the mutual-TLS listener gets no client certificate', async () => {
    const r = await runKbak(['dump', '--topic', topic, '--to', tempDir()], { ...mtls(), KBAK_TLS_CERT: undefined, KBAK_TLS_KEY: undefined });
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(oneLineError(r)).toMatch(
      /TLS handshake with Kafka at .* failed .*certificate.*client certificate and key; see --tls, --tls-ca, --tls-cert, --tls-key\)$/,
    );
  });
});

describe('schema registry basic auth (through an enforcing proxy)', () => {
  it('dumps and restores schemas with the right credentials', async () => {
    const auth = { KBAK_SCHEMA_REGISTRY_URL: proxy.url, KBAK_SCHEMA_REGISTRY_USER: PROXY_USER, KBAK_SCHEMA_REGISTRY_PASSWORD: PROXY_PASSWORD };
    const dir = tempDir();
    const refusedBefore = proxy.refused;
    const d = await runKbak(['dump', '--topic', framedTopic, '--to', dir, '--json', '--quiet'], auth);
    expect(d.stderr).toBe('');
    expect(JSON.parse(d.stdout)).toMatchObject({ records: 5, schemas: 1 });
    const l = lane();
    const r = await runKbak(['restore', '--lane', l, '--source', dir, '--json', '--quiet'], auth);
    expect(r.stderr).toBe('');
    const summary = JSON.parse(r.stdout) as { records: number; subjectsRegistered: number; idMap: Record<string, number> };
    expect(summary).toMatchObject({ records: 5, subjectsRegistered: 1 });
    expect(proxy.refused).toBe(refusedBefore);
    // The lane subject exists in the real registry under the ID the lane records carry.
    const laneId = summary.idMap[String(schemaId)]!;
    const versions = (await (await fetch(`${stackEnv().registryUrl}/schemas/ids/${laneId}/versions`)).json()) as Array<{ subject: string }>;
    expect(versions.map((v) => v.subject)).toContain(`${l}.${framedTopic}-value`);
    const laneRecords = readTopicWithKcat(`${l}.${framedTopic}`).get(0)!;
    expect(laneRecords).toHaveLength(5);
    expect(expectNoSecret(d, PROXY_PASSWORD)).toBeUndefined();
  });

  it('refuses wrong registry credentials with one line and no password', async () => {
    const wrong = `wrong-${uniqueName('pw')}`;
    const dir = tempDir();
    const r = await runKbak(['dump', '--topic', framedTopic, '--to', dir], {
      KBAK_SCHEMA_REGISTRY_URL: proxy.url,
      KBAK_SCHEMA_REGISTRY_USER: PROXY_USER,
      KBAK_SCHEMA_REGISTRY_PASSWORD: wrong,
    });
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(oneLineError(r)).toMatch(/schema registry at .* denied .*HTTP 401/);
    expectNoSecret(r, wrong, PROXY_PASSWORD);
  });
});
