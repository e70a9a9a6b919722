/**
 * No secret in any output (issue 8, item 3): every command's failure paths, and its
 * success paths, run with known secrets in flags, environment and config file; then
 * stdout, stderr (logs at debug level, progress, errors), --json and every file written
 * (manifests included) are searched for each secret and for the Basic-auth form of it.
 * The masking key of issue 19 is in every run's environment as KBAK_MASK_KEY and searched for
 * as base64, hex and raw bytes (test/unit/mask-key-secrets.test.ts covers loadMaskKey and
 * parsePolicy without the stack); a command that loads it (restore --policy) joins the runs here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '../../src/schema/registry-client';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

jest.setTimeout(180_000);

const kafka = testKafka();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kbak-secret-'));
const tag = randomBytes(4).toString('hex');
const S = {
  saslFlag: `SASL-FLAG-${tag}`,
  saslEnv: `SASL-ENV-${tag}`,
  saslFile: `SASL-FILE-${tag}`,
  regFlag: `REG-FLAG-${tag}`,
  regEnv: `REG-ENV-${tag}`,
  regFile: `REG-FILE-${tag}`,
  regUrl: `REG-URL-${tag}`,
  regQuery: `REG-QUERY-${tag}`,
  aws: `AWS-SECRET-${tag}`,
  broken: `BROKEN-CONFIG-${tag}`,
};
const ALL = Object.values(S);
/** What a leaked Authorization header or a decoded form would look like. */
const DERIVED = ALL.flatMap((s) => [Buffer.from(`reguser:${s}`).toString('base64'), Buffer.from(`kbakuser:${s}`).toString('base64'), encodeURIComponent(s)]);
/** The masking key: in the environment of every run (as a policy names it), never in any output. */
const MASK_KEY = randomBytes(32);
const MASK_KEY_FORMS = [MASK_KEY.toString('base64'), MASK_KEY.toString('hex'), MASK_KEY.toString('hex').toUpperCase(), MASK_KEY.toString('latin1')];
const MASK_ENV = { KBAK_MASK_KEY: MASK_KEY.toString('base64') };

let topic = '';
let good = '';
const outputs: Array<{ what: string; text: string }> = [];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((p) => statSync(p).isFile());
}

/** Records everything a run printed and wrote, for the final search. */
function collect(what: string, r: CliResult, dirs: string[] = []): CliResult {
  outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
  for (const d of dirs) for (const f of filesUnder(d)) outputs.push({ what: `${what} file ${f}`, text: readFileSync(f).toString('latin1') });
  return r;
}

function configFile(body: unknown): string {
  const f = join(tmp(), 'kbak.json');
  writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
  return f;
}

const registryUrl = (): string => stackEnv().registryUrl;
const urlWithCreds = (): string => registryUrl().replace('http://', `http://reguser:${S.regUrl}@`) + `?token=${S.regQuery}`;

/** Secrets in all three places at once: the flag wins, the others must not leak either. */
function everywhere(): { args: string[]; env: Record<string, string> } {
  const config = configFile({
    kafka: { sasl: { mechanism: 'scram-sha-512', username: 'kbakuser', password: S.saslFile } },
    registry: { url: registryUrl(), username: 'reguser', password: S.regFile },
  });
  return {
    args: [
      '--config',
      config,
      '--sasl-mechanism',
      'scram-sha-512',
      '--sasl-username',
      'kbakuser',
      '--sasl-password',
      S.saslFlag,
      '--schema-registry-user',
      'reguser',
      '--schema-registry-password',
      S.regFlag,
    ],
    env: {
      KBAK_SASL_PASSWORD: S.saslEnv,
      KBAK_SCHEMA_REGISTRY_PASSWORD: S.regEnv,
      KBAK_SCHEMA_REGISTRY_USER: 'reguser',
      AWS_SECRET_ACCESS_KEY_UNUSED: S.aws,
      KBAK_LOG_LEVEL: 'debug',
      ...MASK_ENV,
    },
  };
}

/** Registry credentials only (the local broker is PLAINTEXT): these runs succeed. */
function registryOnly(where: 'flag' | 'env' | 'file' | 'url'): { args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = { KBAK_LOG_LEVEL: 'debug', ...MASK_ENV };
  if (where === 'flag')
    return { args: ['--schema-registry-url', registryUrl(), '--schema-registry-user', 'reguser', '--schema-registry-password', S.regFlag], env };
  if (where === 'env') return { args: [], env: { ...env, KBAK_SCHEMA_REGISTRY_USER: 'reguser', KBAK_SCHEMA_REGISTRY_PASSWORD: S.regEnv } };
  if (where === 'file')
    return {
      args: ['--config', configFile({ registry: { url: registryUrl(), username: 'reguser', password: S.regFile } })],
      env: { ...env, KBAK_SCHEMA_REGISTRY_URL: '' },
    };
  return { args: ['--schema-registry-url', urlWithCreds()], env };
}

beforeAll(async () => {
  topic = uniqueName('secret');
  await createTopic(kafka, topic, 1);
  // A schema of its own (unique name), so dump and restore both talk to the registry with the credentials.
  const schema = JSON.stringify({ type: 'record', name: `Secret${tag}`, namespace: 'kbak.secrets', fields: [{ name: 'n', type: 'int' }] });
  const id = await new RegistryClient({ url: registryUrl() }).register(`${topic}-value`, { schemaType: 'AVRO', schema, references: [] });
  const framed = (i: number): Buffer => {
    const b = Buffer.alloc(6); // magic 0, the schema ID, then the Avro int i (zigzag)
    b.writeUInt32BE(id, 1);
    b.writeUInt8(i * 2, 5);
    return b;
  };
  await produce(
    kafka,
    topic,
    Array.from({ length: 5 }, (_, i) => ({ partition: 0, key: Buffer.from(`k${i}`), value: framed(i), headers: [], timestamp: String(Date.now()) })),
  );
  good = tmp();
  const r = await runKbak(['dump', '--topic', topic, '--to', good, '--name', 'secrets', '--quiet']);
  expect(r.code).toBe(0);
});

describe('secrets never appear in output or in what kbak writes', () => {
  it.each(['flag', 'env', 'file', 'url'] as const)('dump and restore succeed with registry credentials in the %s, printing none', async (where) => {
    const { args, env } = registryOnly(where);
    const dest = tmp();
    const d = collect(`dump ${where}`, await runKbak(['dump', '--topic', topic, '--to', dest, '--name', 'secrets', '--json', ...args], env), [dest]);
    expect(d.code).toBe(0);
    const manifest = filesUnder(dest).find((f) => f.endsWith('manifest.json'))!;
    expect(JSON.parse(readFileSync(manifest, 'utf8')).schemaRegistry).toEqual({ url: registryUrl() });
    const human = collect(`dump human ${where}`, await runKbak(['dump', '--topic', topic, '--to', tmp(), '--name', 'secrets', ...args], env));
    expect(human.code).toBe(0);
    const lane = uniqueName('sec').toLowerCase();
    const dry = collect(`restore dry-run ${where}`, await runKbak(['restore', '--source', dest, '--lane', lane, '--dry-run', '--json', ...args], env));
    expect(dry.code).toBe(0);
    const r = collect(`restore ${where}`, await runKbak(['restore', '--source', dest, '--lane', lane, '--json', ...args], env));
    expect(r.code).toBe(0);
  });

  it('every command fails with secrets in flags, env and config file at once', async () => {
    const { args, env } = everywhere();
    // SASL against the PLAINTEXT listener: the handshake fails.
    const dest = tmp();
    const d = collect('dump sasl', await runKbak(['dump', '--topic', topic, '--to', dest, ...args], env), [dest]);
    expect(d.code).toBe(4); // a service error (exit-code table in src/errors.ts)
    const r = collect('restore sasl', await runKbak(['restore', '--source', good, '--lane', uniqueName('sec').toLowerCase(), ...args], env));
    expect(r.code).toBe(4);
    const l = collect('list', await runKbak(['list', '--source', good, '--json'], { ...env, KBAK_CONFIG: args[1]! }));
    expect(l.code).toBe(0);
  });

  it('registry failures (unreachable, refused) with credentials in the URL and flags', async () => {
    const env = { KBAK_LOG_LEVEL: 'debug', ...MASK_ENV };
    const unreachable = `http://reguser:${S.regUrl}@127.0.0.1:1/?token=${S.regQuery}`;
    collect('dump registry down', await runKbak(['dump', '--topic', topic, '--to', tmp(), '--schema-registry-url', unreachable], env));
    collect(
      'restore registry down',
      await runKbak(
        [
          'restore',
          '--source',
          good,
          '--lane',
          uniqueName('sec').toLowerCase(),
          '--schema-registry-url',
          unreachable,
          '--schema-registry-password',
          S.regFlag,
          '--schema-registry-user',
          'u',
        ],
        env,
      ),
    );
    // A registry path that answers 404 for everything: an HTTP error message.
    const wrongPath = registryUrl().replace('/apis/ccompat/v7', '/nope').replace('http://', `http://reguser:${S.regUrl}@`);
    collect('dump registry 404', await runKbak(['dump', '--topic', topic, '--to', tmp(), '--schema-registry-url', wrongPath], env));
    expect(outputs.filter((o) => o.what.startsWith('dump registry') && o.what.endsWith('stderr')).every((o) => /kbak: .*schema registry/.test(o.text))).toBe(
      true,
    );
  });

  it('config file errors, S3 refusals and corrupt backups', async () => {
    const env = { KBAK_LOG_LEVEL: 'debug', ...MASK_ENV };
    const broken = configFile(`{ "kafka": { "sasl": { "password": "${S.broken}" } }, oops }`);
    for (const cmd of [
      ['dump', '--topic', topic, '--to', tmp()],
      ['restore', '--source', good, '--lane', 'x'],
      ['list', '--source', good],
    ]) {
      const r = collect(`${cmd[0]} broken config`, await runKbak([...cmd, '--config', broken], env));
      expect(r.code).toBe(2);
    }
    const badType = configFile({ kafka: { sasl: { mechanism: 'scram-sha-512', username: 'u', password: 42 } }, registry: { url: S.broken } });
    collect('dump config types', await runKbak(['dump', '--topic', topic, '--to', tmp(), '--config', badType], env));
    const s3 = `s3://${stackEnv().s3Bucket}/secrets`;
    collect('dump s3 denied', await runKbak(['dump', '--topic', topic, '--to', s3], { ...env, AWS_SECRET_ACCESS_KEY: S.aws }));
    collect('list s3 denied', await runKbak(['list', '--source', s3, '--json'], { ...env, AWS_SECRET_ACCESS_KEY: S.aws }));
    collect('restore s3 denied', await runKbak(['restore', '--source', s3, '--lane', 'x'], { ...env, AWS_SECRET_ACCESS_KEY: S.aws }));
    const { args, env: env2 } = everywhere();
    collect('restore missing backup', await runKbak(['restore', '--source', tmp(), '--lane', 'x', ...args], env2));
  });

  it('none of the secrets, nor their Basic-auth or URL-encoded forms, nor the masking key, appear in anything collected above', () => {
    expect(outputs.length).toBeGreaterThan(40);
    const leaks = outputs.flatMap((o) =>
      [...ALL, ...DERIVED, ...MASK_KEY_FORMS]
        .filter((s) => o.text.includes(s))
        .map((s) => `${MASK_KEY_FORMS.includes(s) ? 'the masking key' : s} in ${o.what}`),
    );
    expect(leaks).toEqual([]);
  });
});
