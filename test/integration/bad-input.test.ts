/**
 * The bad-input table (RELIABILITY.md, "Bad input"): every input kbak accepts from users
 * or from stores, wrong in each way we know, run through the real CLI against the local
 * stack. Each must exit with the documented code and one `kbak: ` line naming what was
 * wrong, with no stack trace and nothing on stdout. The IDs (B01…) are the table's rows.
 *
 * Inputs FORMAT.md keeps instead of refusing (a payload that only looks Confluent-framed,
 * a schema ID the registry does not know) are checked at the end: warning, count, and
 * the bytes restored unchanged, read back with a plain kafkajs consumer.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_VERSION } from '../../src/backup/manifest';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

jest.setTimeout(120_000);

const kafka = testKafka();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kbak-bad-'));
const CLUSTER = 'bad-input';
let topic = '';
let good = '';
let backupId = '';

function manifestPath(dir: string): string {
  return join(dir, CLUSTER, backupId, 'manifest.json');
}

/** A copy of the good backup, changed by `edit`. */
function forge(edit: (dir: string, manifest: Record<string, unknown>) => void): string {
  const dir = tmp();
  cpSync(good, dir, { recursive: true });
  const m = JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as Record<string, unknown>;
  edit(dir, m);
  writeFileSync(manifestPath(dir), JSON.stringify(m));
  return dir;
}

function firstSegment(dir: string): string {
  const m = JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as {
    formatVersion: number;
    topics: Array<{ partitions: Array<{ segments: Array<{ key: string }> }> }>;
  };
  const key = m.topics[0]!.partitions[0]!.segments[0]!.key.split('/');
  // FORMAT.md: v1 segment keys are relative to the backup's folder, v2 keys to its cluster's.
  return m.formatVersion >= 2 ? join(dir, CLUSTER, ...key) : join(dir, CLUSTER, backupId, ...key);
}

/** The contract every row checks. */
function expectOneLine(r: CliResult, code: number, message: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  const errors = lines.filter((l) => l.startsWith('kbak: '));
  expect({ code: r.code, errors: errors.length, stdout: r.stdout }).toEqual({ code, errors: 1, stdout: '' });
  expect(errors[0]).toMatch(message);
  // No stack trace, no raw exception, in any form.
  expect(lines.filter((l) => /^\s+at\s|^\w*Error:|node:internal/.test(l))).toEqual([]);
}

beforeAll(async () => {
  topic = uniqueName('bad');
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: 20 }, (_, i) => ({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      headers: [],
      timestamp: String(Date.now()),
    })),
  );
  good = tmp();
  const r = await runKbak(['dump', '--topic', topic, '--to', good, '--name', CLUSTER, '--json', '--quiet']);
  expect(r.code).toBe(0);
  backupId = (JSON.parse(r.stdout) as { backupId: string }).backupId;
});

type Row = [id: string, what: string, args: () => string[], env: Record<string, string>, code: number, message: RegExp];

const lane = (): string =>
  uniqueName('bad')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');
const restore =
  (dir: () => string, ...extra: string[]): (() => string[]) =>
  () => ['restore', '--source', dir(), '--lane', lane(), '--quiet', ...extra];
const dump =
  (...extra: string[]): (() => string[]) =>
  () => ['dump', '--to', tmp(), '--quiet', ...extra.map((a) => (a === '@topic' ? topic : a))];

const rows: Row[] = [
  // dump: what to read
  ['B01', 'unknown topic', dump('--topic', 'no-such-topic-kbak'), {}, 3, /topic "no-such-topic-kbak" does not exist/],
  ['B02', 'regex matching nothing', dump('--topics-regex', 'nothing-matches-.*'), {}, 3, /matches no topic/],
  ['B03', 'invalid regex', dump('--topics-regex', '(unclosed'), {}, 2, /not a valid regular expression/],
  ['B04', 'no topic selected', dump(), {}, 2, /no topic selected/],
  ['B05', 'partition that does not exist', dump('--topic', '@topic', '--partitions', '7'), {}, 3, /has 2 partitions, no partition 7/],
  ['B06', 'bad --since', dump('--topic', '@topic', '--since', 'yesterday'), {}, 2, /--since "yesterday"/],
  ['B07', 'invalid cluster --name', dump('--topic', '@topic', '--name', '../etc'), {}, 2, /cluster name "\.\.\/etc" is invalid/],
  ['B08', '--segment-bytes too small', dump('--topic', '@topic', '--segment-bytes', '10'), {}, 2, /--segment-bytes "10" is too small/],
  ['B09', 'non-numeric --concurrency', dump('--topic', '@topic', '--concurrency', 'many'), {}, 2, /--concurrency must be a positive integer/],
  // dump: where to write
  [
    'B10',
    'conflicting flags: --file-mode with s3://',
    () => ['dump', '--topic', topic, '--to', 's3://kbak/x', '--file-mode', '600'],
    {},
    2,
    /--file-mode applies to disk destinations only/,
  ],
  ['B11', 'conflicting flags: --s3-sse with a folder', dump('--topic', '@topic', '--s3-sse', 'AES256'), {}, 2, /--s3-sse applies to s3:\/\/ destinations only/],
  [
    'B12',
    'conflicting flags: --s3-sse-kms-key-id without aws:kms',
    () => ['dump', '--topic', topic, '--to', 's3://kbak/x', '--s3-sse', 'AES256', '--s3-sse-kms-key-id', 'k'],
    {},
    2,
    /only applies to --s3-sse aws:kms/,
  ],
  ['B13', 'invalid --file-mode', dump('--topic', '@topic', '--file-mode', '0400'), {}, 2, /takes the owner's read or write permission away/],
  ['B14', 'unsupported destination scheme', () => ['dump', '--topic', topic, '--to', 'ftp://host/x'], {}, 2, /unsupported destination scheme/],
  ['B15', 'invalid bucket name', () => ['dump', '--topic', topic, '--to', 's3://Bad_Bucket/x'], {}, 2, /invalid S3 bucket name/],
  ['B16', 'missing bucket', () => ['dump', '--topic', topic, '--to', 's3://no-such-bucket-kbak/x'], {}, 4, /bucket "no-such-bucket-kbak" does not exist/],
  [
    'B17',
    'wrong S3 credentials',
    () => ['dump', '--topic', topic, '--to', `s3://${stackEnv().s3Bucket}/denied`],
    { AWS_SECRET_ACCESS_KEY: 'wrong-secret' },
    4,
    /S3 denied access/,
  ],
  // --s3-sse reaches the server: S3Proxy refuses server-side encryption, which proves the header was sent.
  [
    'B28',
    '--s3-sse AES256 on a server without SSE',
    () => ['dump', '--topic', topic, '--to', `s3://${stackEnv().s3Bucket}/sse`, '--s3-sse', 'AES256'],
    {},
    4,
    /NotImplemented Server-side encryption is not supported/,
  ],
  [
    'B29',
    '--s3-sse aws:kms with a key on a server without SSE',
    () => ['dump', '--topic', topic, '--to', `s3://${stackEnv().s3Bucket}/sse`, '--s3-sse', 'aws:kms', '--s3-sse-kms-key-id', 'alias/kbak'],
    {},
    4,
    /NotImplemented Server-side encryption is not supported/,
  ],
  // connections and settings
  ['B18', 'unreachable broker', dump('--topic', 'x', '--brokers', '127.0.0.1:1'), {}, 4, /cannot reach Kafka at 127\.0\.0\.1:1/],
  ['B19', 'malformed broker address', dump('--topic', 'x', '--brokers', 'http://h'), {}, 2, /invalid setting --brokers/],
  [
    'B20',
    'unreachable registry',
    dump('--topic', 'x', '--schema-registry-url', 'http://127.0.0.1:1'),
    {},
    4,
    /cannot reach the schema registry at http:\/\/127\.0\.0\.1:1/,
  ],
  ['B21', 'registry URL that is not a URL', dump('--topic', 'x', '--schema-registry-url', 'not a url'), {}, 2, /invalid setting --schema-registry-url/],
  ['B22', 'registry user without password', dump('--topic', 'x', '--schema-registry-user', 'u'), {}, 2, /needs both a user and a password/],
  ['B23', 'TLS cert without key', dump('--topic', 'x', '--tls-cert', '/nonexistent.pem'), {}, 2, /needs both --tls-cert and --tls-key/],
  ['B24', 'unknown SASL mechanism', dump('--topic', 'x', '--sasl-mechanism', 'gssapi'), {}, 2, /Allowed choices are plain, scram-sha-256, scram-sha-512/],
  [
    'B25',
    'config file not found',
    dump('--topic', 'x', '--config', '/nonexistent/kbak.json'),
    {},
    2,
    /cannot read config file \/nonexistent\/kbak\.json: ENOENT/,
  ],
  [
    'B26',
    'config file with a JSON syntax error',
    () => {
      const f = join(tmp(), 'c.json');
      writeFileSync(f, '{"kafka": {');
      return ['dump', '--topic', 'x', '--to', tmp(), '--config', f];
    },
    {},
    2,
    /config file .* is not valid JSON/,
  ],
  ['B27', 'unknown option', dump('--topic', '@topic', '--no-such-flag'), {}, 2, /unknown option '--no-such-flag'/],
  // restore: what to restore, where
  ['B30', 'invalid lane name', () => ['restore', '--source', good, '--lane', 'Feature_X'], {}, 2, /lane name "Feature_X" is invalid/],
  ['B31', 'conflicting flags: --resume with --replace', restore(() => good, '--resume', '--replace'), {}, 2, /--resume and --replace cannot be used together/],
  ['B32', 'template giving an illegal topic', restore(() => good, '--topic-template', '{lane}/{topic}'), {}, 2, /contains "\/"|not a valid|illegal|is invalid/],
  ['B33', 'topic not in the backup', restore(() => good, '--topic', 'no-such-topic'), {}, 3, /topic "no-such-topic" is not in backup/],
  ['B34', 'backup not found', restore(() => good, '--from', '20000101T000000000Z'), {}, 3, /backup 20000101T000000000Z not found/],
  ['B35', 'backup ID that is not an ID', restore(() => good, '--from', 'yesterday'), {}, 2, /"yesterday" is not a backup ID/],
  ['B36', 'empty store', restore(() => tmp()), {}, 3, /no complete backup in/],
  [
    'B37',
    'store with several clusters and latest',
    restore(() => {
      const d = forge(() => undefined);
      cpSync(join(d, CLUSTER), join(d, 'other'), { recursive: true });
      return d;
    }),
    {},
    2,
    /holds backups of several clusters/,
  ],
  // restore: what the store holds
  [
    'B40',
    'newer format version',
    restore(() => forge((_d, m) => (m.formatVersion = 99))),
    {},
    5,
    new RegExp(`has format version 99, this kbak reads up to ${MANIFEST_VERSION} \\(upgrade kbak\\)`),
  ],
  [
    'B41',
    'corrupt manifest (not JSON)',
    restore(() => {
      const d = forge(() => undefined);
      writeFileSync(manifestPath(d), '{"format": "kbak-backup", ');
      return d;
    }),
    {},
    5,
    /manifest .* is not valid JSON/,
  ],
  ['B42', 'manifest with a wrong field type', restore(() => forge((_d, m) => (m.topics = 'x'))), {}, 5, /manifest .* is invalid at topics/],
  [
    'B43',
    'manifest with an offset beyond int64',
    restore(() => forge((_d, m) => ((m.topics as Array<{ partitions: Array<{ endOffset: string }> }>)[0]!.partitions[0]!.endOffset = '99999999999999999999'))),
    {},
    5,
    /endOffset/,
  ],
  [
    'B44',
    'manifest naming a key outside the backup',
    restore(() =>
      forge(
        (_d, m) => ((m.topics as Array<{ partitions: Array<{ segments: Array<{ key: string }> }> }>)[0]!.partitions[0]!.segments[0]!.key = '../../../x.kseg'),
      ),
    ),
    {},
    5,
    /not a safe key/,
  ],
  [
    'B45',
    'manifest larger than 64 MiB',
    restore(() => {
      const d = forge(() => undefined);
      writeFileSync(manifestPath(d), Buffer.alloc(64 * 1024 * 1024 + 1, 0x20));
      return d;
    }),
    {},
    5,
    /more than the limit of 67108864/,
  ],
  [
    'B46',
    'checksum mismatch (a flipped byte in a segment)',
    restore(() => {
      const d = forge(() => undefined);
      const f = firstSegment(d);
      const b = readFileSync(f);
      b.writeUInt8(b.readUInt8(b.length - 1) ^ 0xff, b.length - 1);
      writeFileSync(f, b);
      return d;
    }),
    {},
    5,
    /segment .*(CRC-32 mismatch|zstd frame|SHA-256 mismatch)/,
  ],
  [
    'B47',
    'missing segment',
    restore(() => {
      const d = forge(() => undefined);
      rmSync(firstSegment(d));
      return d;
    }),
    {},
    5,
    /named by the manifest .* is missing/,
  ],
  [
    'B48',
    'segment replaced by a symlink',
    restore(() => {
      const d = forge(() => undefined);
      const f = firstSegment(d);
      rmSync(f);
      symlinkSync('/etc/passwd', f);
      return d;
    }),
    {},
    5,
    /is a symlink/,
  ],
  [
    'B49',
    'segment that is not a segment',
    restore(() => {
      const d = forge(() => undefined);
      writeFileSync(firstSegment(d), 'hello, not a segment file');
      return d;
    }),
    {},
    5,
    /bad magic|SHA-256|truncated/,
  ],
  // list
  ['B50', 'list: missing bucket', () => ['list', '--source', 's3://no-such-bucket-kbak/x'], {}, 4, /does not exist|not found/],
  [
    'B51',
    'list: wrong S3 credentials',
    () => ['list', '--source', `s3://${stackEnv().s3Bucket}/x`],
    { AWS_SECRET_ACCESS_KEY: 'wrong-secret' },
    4,
    /S3 denied access/,
  ],
  ['B52', 'list: unsupported scheme', () => ['list', '--source', 'gs://bucket/x'], {}, 2, /unsupported destination scheme/],
];

describe('bad input: exit code and one line, no stack trace', () => {
  it.each(rows)('%s %s', async (_id, _what, args, env, code, message) => {
    const r = await runKbak(args(), env);
    expectOneLine(r, code, message);
  });

  it('a failed dump leaves nothing in its destination', async () => {
    const dir = tmp();
    const r = await runKbak(['dump', '--topic', 'no-such-topic-kbak', '--to', dir]);
    expect(r.code).toBe(3);
    expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.kseg') || String(f).endsWith('.json'))).toEqual([]);
  });
});

describe('inputs FORMAT.md keeps: warning, count, bytes unchanged', () => {
  it('K1/K2: a payload that only looks framed, with an ID the registry does not know, and with no registry at all', async () => {
    const t = uniqueName('kept');
    await createTopic(kafka, t, 1);
    // 0x00 + schema ID 999999 (0x000f423f): framed in form only; plus a plain value.
    const framed = Buffer.concat([Buffer.from([0x00, 0x00, 0x0f, 0x42, 0x3f]), Buffer.from('not avro at all')]);
    await produce(kafka, t, [
      { partition: 0, key: Buffer.from('a'), value: framed, headers: [], timestamp: String(Date.now()) },
      { partition: 0, key: Buffer.from('b'), value: Buffer.from('plain'), headers: [], timestamp: String(Date.now()) },
    ]);

    const withRegistry = tmp();
    const d1 = await runKbak(['dump', '--topic', t, '--to', withRegistry, '--json', '--name', 'kept'], { KBAK_LOG_LEVEL: 'info' });
    expect(d1.code).toBe(0);
    expect(d1.stderr).toContain('1 payload starts with a Confluent header whose schema ID the registry does not know; kept as raw bytes');
    expect(JSON.parse(d1.stdout)).toMatchObject({ records: 2, unknownSchemaIds: [999999], framedPayloadsWithUnknownId: 1 });
    const human = await runKbak(['dump', '--topic', t, '--to', tmp(), '--name', 'kept', '--quiet']);
    expect(human.stdout).toContain('warning: 1 payload with unknown schema ID 999999');

    const noRegistry = await runKbak(['dump', '--topic', t, '--to', tmp(), '--json', '--name', 'kept'], { KBAK_SCHEMA_REGISTRY_URL: '' });
    expect(noRegistry.code).toBe(0);
    expect(noRegistry.stderr).toContain('1 payload looks Confluent-framed but no schema registry is configured');
    expect(JSON.parse(noRegistry.stdout)).toMatchObject({ schemas: 0, unknownSchemaIds: [999999], framedPayloadsWithUnknownId: 1 });

    const l = lane();
    const r = await runKbak(['restore', '--source', withRegistry, '--lane', l, '--json', '--quiet']);
    expect(r.code).toBe(0);
    // Read back with a plain consumer: the framed-looking bytes are restored unchanged.
    const consumer = kafka.consumer({ groupId: uniqueName('kept-read') });
    await consumer.connect();
    const got: Buffer[] = [];
    try {
      await consumer.subscribe({ topic: `${l}.${t}`, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${got.length} records read`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push(message.value ?? Buffer.alloc(0));
            if (got.length === 2) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    expect(got.map((b) => b.toString('hex'))).toEqual([framed.toString('hex'), Buffer.from('plain').toString('hex')]);
  });
});
