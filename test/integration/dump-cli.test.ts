/**
 * The dump command as a user runs it: exit codes, one-line errors, nothing half-visible.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBackups, openBackup } from '../../src/backup/catalog';
import { DiskStore } from '../../src/store/disk';
import { runKbak, startKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const kafka = testKafka();
let topic: string;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kbak-cli-'));
}

/** Files anywhere below dir (a failed dump must leave none). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

function oneLineError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('kbak: '));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

beforeAll(async () => {
  topic = uniqueName('cli');
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: 50 }, (_, i) => ({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      headers: [],
      timestamp: String(Date.now()),
    })),
  );
});

describe('kbak dump (CLI)', () => {
  it('writes a backup and prints a JSON summary with --json', async () => {
    const dir = tempDir();
    const r = await runKbak(['dump', '--topic', topic, '--to', dir, '--json', '--name', 'cli-test']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ topics: 1, partitions: 2, records: 50, cluster: 'cli-test' });
    const b = await openBackup(new DiskStore(dir), 'latest');
    expect(b.ref.backupId).toBe(summary.backupId);
  });

  it('writes to S3 with s3://bucket/prefix', async () => {
    const prefix = uniqueName('cli-s3');
    const r = await runKbak(['dump', '--topic', topic, '--to', `s3://${stackEnv().s3Bucket}/${prefix}`, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).location).toContain(`s3://${stackEnv().s3Bucket}/${prefix}/`);
  });

  const failures: Array<[string, string[], Record<string, string>, RegExp, number]> = [
    ['an unknown topic', ['--topic', 'no-such-topic-kbak'], {}, /topic "no-such-topic-kbak" does not exist/, 3],
    ['a regex matching nothing', ['--topics-regex', 'nothing-matches-.*'], {}, /matches no topic/, 3],
    ['an invalid regex', ['--topics-regex', '(unclosed'], {}, /not a valid regular expression/, 2],
    ['no topic at all', [], {}, /no topic selected/, 2],
    ['an unreachable broker', ['--topic', 'x', '--brokers', '127.0.0.1:1'], {}, /cannot reach Kafka at 127\.0\.0\.1:1/, 4],
    [
      'an unreachable registry',
      ['--topic', 'x', '--schema-registry-url', 'http://127.0.0.1:1'],
      {},
      /cannot reach the schema registry at http:\/\/127\.0\.0\.1:1/,
      4,
    ],
    ['a bad --since', ['--topic', 'x', '--since', 'yesterday'], {}, /--since "yesterday" is neither/, 2],
    ['a bad partition list', ['--topic', 'x', '--partitions', 'a,b'], {}, /--partitions "a,b"/, 2],
    ['a missing partition', ['--topic', '__TOPIC__', '--partitions', '7'], {}, /has 2 partitions, no partition 7/, 3],
    ['a bad SASL mechanism', ['--topic', 'x', '--sasl-mechanism', 'gssapi'], {}, /Allowed choices are plain, scram-sha-256, scram-sha-512/, 2],
  ];

  it.each(failures)('fails cleanly on %s', async (_what, args, env, message, code) => {
    const dir = tempDir();
    const r = await runKbak(['dump', '--to', dir, ...args.map((a) => (a === '__TOPIC__' ? topic : a))], env);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(filesUnder(dir)).toEqual([]);
  });

  it('fails cleanly when S3 is unreachable', async () => {
    const r = await runKbak(['dump', '--topic', topic, '--to', 's3://kbak/x', '--s3-endpoint', 'http://127.0.0.1:1']);
    expect(r.code).toBe(4);
    expect(oneLineError(r.stderr)).toMatch(/cannot reach S3|S3 failed/);
  });

  it('fails cleanly when S3 denies access, and never prints the secret', async () => {
    const r = await runKbak(['dump', '--topic', topic, '--to', `s3://${stackEnv().s3Bucket}/denied`], { AWS_SECRET_ACCESS_KEY: 'wrong-secret-value-xyz' });
    expect(r.code).toBe(4);
    expect(oneLineError(r.stderr)).toMatch(/S3 denied access|S3 failed/);
    expect(r.stderr).not.toContain('wrong-secret-value-xyz');
  });

  it('fails cleanly when the bucket does not exist', async () => {
    const r = await runKbak(['dump', '--topic', topic, '--to', 's3://no-such-bucket-kbak/x']);
    expect(r.code).toBe(4);
    expect(oneLineError(r.stderr)).toMatch(/bucket "no-such-bucket-kbak" does not exist/);
  });

  it('leaves nothing a reader lists when killed before the manifest', async () => {
    const big = uniqueName('big');
    await createTopic(kafka, big, 1);
    // ~40 MB of poorly compressible data: several 64 KiB segments appear long before the end.
    const chunk = Array.from({ length: 2000 }, (_, i) => ({
      partition: 0,
      key: null,
      value: Buffer.from(Array.from({ length: 2000 }, (_, j) => (i * 31 + j * 7) % 251)),
      headers: [],
      timestamp: String(Date.now()),
    }));
    for (let i = 0; i < 10; i++) await produce(kafka, big, chunk);
    const dir = tempDir();
    const { child, done } = startKbak(['dump', '--topic', big, '--to', dir, '--segment-bytes', '65536', '--name', 'killed']);
    const deadline = Date.now() + 60_000;
    while (!filesUnder(dir).some((f) => f.endsWith('.kseg')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    const r = await done;
    expect(r.signal).toBe('SIGKILL');
    expect(filesUnder(dir).some((f) => f.endsWith('.kseg'))).toBe(true);
    expect(filesUnder(dir)).not.toContain('manifest.json');
    expect(await listBackups(new DiskStore(dir))).toEqual([]);
    await expect(openBackup(new DiskStore(dir), 'latest')).rejects.toThrow(/no complete backup/);
  });
});
