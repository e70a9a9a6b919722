/**
 * Regression tests for issue 8 (untrusted backups and brokers, secrets, terminal output,
 * permissions), each from a small crafted input generated here.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBackups, openBackup } from '../../src/backup/catalog';
import { checkBrokerTopicName, checkSegmentKey, keySyntaxProblem } from '../../src/backup/keys';
import { segmentKey, segmentKeyV1 } from '../../src/backup/layout';
import { decodeManifest, MAX_MANIFEST_BYTES } from '../../src/backup/manifest';
import { restorableTopicConfigs } from '../../src/backup/topic-configs';
import { buildProgram } from '../../src/cli/main';
import type { CommandEnv } from '../../src/cli/common';
import { loadSettings, redact, redactUrl } from '../../src/config/settings';
import { IntegrityError, KbakError, NotFoundError, ServiceError, UsageError } from '../../src/errors';
import { silentLogger } from '../../src/output/logger';
import { escapeControl } from '../../src/output/safe-text';
import { RegistryClient } from '../../src/schema/registry-client';
import { DiskStore, dirModeFor } from '../../src/store/disk';
import { openStore, parseFileMode, parseS3Sse } from '../../src/store/open';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- forged manifests are edited freely
type Forged = Record<string, any>;

const vectors = join(__dirname, '..', 'vectors', 'backup-v1');
const SAMPLE = 'sample/20261125T120000000Z';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kbak-trust-'));

/** A copy of the backup vector whose manifest `edit` may change. */
function forgedStore(edit: (m: Forged) => void): string {
  const dir = tmp();
  cpSync(vectors, dir, { recursive: true });
  const path = join(dir, SAMPLE, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as Forged;
  edit(m);
  writeFileSync(path, JSON.stringify(m));
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<KbakError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KbakError);
    expect((e as Error).message).not.toContain('\n');
    return e as KbakError;
  }
  throw new Error('expected a rejection');
}

describe('key safety (FORMAT.md "Key safety")', () => {
  const v1 = { backupPrefix: 'prod/20261125T120000000Z', clusterPrefix: 'prod', formatVersion: 1 };
  const v2 = { ...v1, formatVersion: 2 };

  it('accepts the keys kbak writes and returns the store key', () => {
    expect(checkSegmentKey('topics/orders/0/00000000000000000000.kseg', v1)).toBe('prod/20261125T120000000Z/topics/orders/0/00000000000000000000.kseg');
    expect(checkSegmentKey('segments/orders/0/date=2026-11-25/x.kseg', v2)).toBe('prod/segments/orders/0/date=2026-11-25/x.kseg');
    expect(checkSegmentKey('topics/x.kseg', { ...v2, base: 'backup' })).toBe('prod/20261125T120000000Z/topics/x.kseg');
  });

  it.each([
    ['../../etc/passwd', /"\.\." component/],
    ['topics/../../other/x.kseg', /"\.\." component/],
    ['/etc/passwd', /absolute/],
    ['topics//x.kseg', /empty component/],
    ['./x.kseg', /"\." component/],
    ['', /empty/],
    ['topics\\..\\..\\x.kseg', /outside \[A-Za-z0-9._=-\]/],
    ['C:/x.kseg', /outside/],
    ['topics/a b.kseg', /outside/],
    ['topics/\u001b[2Jx.kseg', /outside/],
  ])('refuses %j', (key, why) => {
    expect(() => checkSegmentKey(key, v1)).toThrow(IntegrityError);
    expect(() => checkSegmentKey(key, v1)).toThrow(why);
    expect(() => checkSegmentKey(key, v2)).toThrow(IntegrityError);
  });

  it('keySyntaxProblem is null only for plain relative keys', () => {
    expect(keySyntaxProblem('a/b=c/d.e_f-g')).toBeNull();
    expect(keySyntaxProblem('a/'.repeat(3000))).toMatch(/characters long|empty/);
  });

  it('refuses a forged v1 manifest that names a key outside its backup, before any record is read', async () => {
    const dir = forgedStore((m) => {
      m.topics[0].partitions[0].segments[0].key = '../../../../etc/passwd';
    });
    const e = await rejection(openBackup(new DiskStore(dir), 'latest'));
    expect(e).toBeInstanceOf(IntegrityError);
    expect(e.message).toMatch(/segment key "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd", which is not a safe key/);
  });

  it('refuses illegal topic names from a broker and for segment keys', () => {
    for (const bad of ['../../x', '..', '.', '', 'a/b', 'a\\b', 'x'.repeat(250), 'evil\nname', 'c:x']) {
      expect(() => checkBrokerTopicName(bad)).toThrow(ServiceError);
      expect(() => segmentKey(bad, 0, 0n, '20261125T120000000Z-00000001')).toThrow(UsageError);
      expect(() => segmentKeyV1(bad, 0, 0n)).toThrow(UsageError);
    }
    expect(checkBrokerTopicName('orders.v1_eu-2')).toBe('orders.v1_eu-2');
    expect(() => checkBrokerTopicName('../../x')).toThrow(/not a legal Kafka topic name/);
  });
});

describe('DiskStore stays inside its root', () => {
  it('refuses traversal, backslashes, empty, absolute and drive-letter components on every operation', async () => {
    const root = tmp();
    const store = new DiskStore(join(root, 'store'));
    await store.check();
    for (const key of ['../x', 'a/../../x', 'a\\..\\..\\x', '/etc/passwd', 'a//b', 'C:\\x', 'c:/x', 'a/./b']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(IntegrityError);
      await expect(store.get(key)).rejects.toThrow(IntegrityError);
      await expect(store.delete(key)).rejects.toThrow(IntegrityError);
    }
    expect(readdirSync(root)).toEqual(['store']);
    // A backslash is refused, never read as a separator (issue 15): a file another program
    // named a\b must not stand for a/b (test/support/store-conformance.ts has the listing side).
    await expect(store.put('a\\b', Buffer.from('ok'))).rejects.toThrow(/holds a "\\", which the disk store refuses/);
    expect(readdirSync(join(root, 'store'))).toEqual([]);
  });

  it('never reads through a symlink: a segment linked to a file outside leaks nothing', async () => {
    const dir = forgedStore(() => undefined);
    const secret = join(tmp(), 'secret.txt');
    writeFileSync(secret, 'root:x:0:0:SECRET-CONTENT');
    const seg = join(dir, SAMPLE, 'topics', 'orders', '1', '00000000000000000003.kseg');
    execFileSync('rm', [seg]);
    symlinkSync(secret, seg);
    const backup = await openBackup(new DiskStore(dir), 'latest');
    const e = await rejection(
      (async () => {
        for await (const r of backup.records('orders', 1)) void r;
      })(),
    );
    expect(e.message).toMatch(/is a symlink/);
    expect(e.message).not.toMatch(/SECRET|726f6f74/);
  });

  it('never writes or reads through a symlinked folder that leads outside', async () => {
    const root = tmp();
    const outside = tmp();
    const store = new DiskStore(join(root, 'store'));
    await store.check();
    symlinkSync(outside, join(root, 'store', 'prod'));
    await expect(store.put('prod/20261125T120000000Z/manifest.json', Buffer.from('{}'))).rejects.toThrow(/outside .* through a symlink/);
    expect(readdirSync(outside)).toEqual([]);
    writeFileSync(join(outside, 'manifest.json'), 'x');
    await expect(store.get('prod/manifest.json')).rejects.toThrow(/through a symlink/);
    // Listing does not walk it either.
    const keys: string[] = [];
    for await (const k of store.list('')) keys.push(k);
    expect(keys).toEqual([]);
  });

  it('refuses a FIFO instead of hanging on it, and any other non-regular file', async () => {
    const root = tmp();
    const store = new DiskStore(root);
    mkdirSync(join(root, 'c'));
    execFileSync('mkfifo', [join(root, 'c', 'fifo')]);
    await expect(store.get('c/fifo')).rejects.toThrow(/not a regular file/);
    await expect(
      (async () => {
        for await (const c of store.read('c/fifo')) void c;
      })(),
    ).rejects.toThrow(/not a regular file/);
    await expect(store.get('c')).rejects.toThrow(/not a regular file/);
    await expect(store.get('c/none')).rejects.toThrow(NotFoundError);
  });

  it('checks the manifest size before reading it whole', async () => {
    const root = tmp();
    const store = new DiskStore(root);
    mkdirSync(join(root, 'c', '20261125T120000000Z'), { recursive: true });
    writeFileSync(join(root, 'c', '20261125T120000000Z', 'manifest.json'), Buffer.alloc(0));
    execFileSync('truncate', ['-s', String(MAX_MANIFEST_BYTES + 1), join(root, 'c', '20261125T120000000Z', 'manifest.json')]);
    const e = await rejection(openBackup(store, 'latest'));
    expect(e.message).toMatch(/67108865 bytes, more than the limit of 67108864/);
    expect(() => decodeManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1), 'x')).toThrow(/more than the limit/);
  });
});

describe('backups are owner-only unless --file-mode says otherwise', () => {
  const mode = (p: string): number => statSync(p).mode & 0o777;

  it('writes 0600 files and 0700 folders by default, whatever the umask', async () => {
    const old = process.umask(0o000);
    try {
      const root = join(tmp(), 'new-store');
      const store = new DiskStore(root);
      await store.check();
      await store.put('c/20261125T120000000Z/topics/t/0/x.kseg', Buffer.from('x'));
      expect(mode(root)).toBe(0o700);
      expect(mode(join(root, 'c'))).toBe(0o700);
      expect(mode(join(root, 'c', '20261125T120000000Z', 'topics', 't', '0'))).toBe(0o700);
      expect(mode(join(root, 'c', '20261125T120000000Z', 'topics', 't', '0', 'x.kseg'))).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('--file-mode 640 gives 0640 files and 0750 folders', async () => {
    const root = tmp();
    const store = openStore(join(root, 's'), {}, { fileMode: parseFileMode('640') });
    await store.check();
    await store.put('c/b/m.json', Buffer.from('{}'));
    expect(mode(join(root, 's', 'c', 'b'))).toBe(0o750);
    expect(mode(join(root, 's', 'c', 'b', 'm.json'))).toBe(0o640);
    expect(dirModeFor(0o644)).toBe(0o755);
    expect(dirModeFor(0o600)).toBe(0o700);
  });

  it('validates --file-mode, --s3-sse and their combinations', () => {
    expect(parseFileMode('0600')).toBe(0o600);
    for (const bad of ['rw', '9', '1600', '400', '000', '-600']) expect(() => parseFileMode(bad)).toThrow(UsageError);
    expect(parseS3Sse('aws:kms', 'alias/kbak')).toEqual({ mode: 'aws:kms', kmsKeyId: 'alias/kbak' });
    expect(parseS3Sse('AES256', undefined)).toEqual({ mode: 'AES256', kmsKeyId: undefined });
    expect(() => parseS3Sse('aes', undefined)).toThrow(/is not supported/);
    expect(() => parseS3Sse(undefined, 'k')).toThrow(/needs --s3-sse aws:kms/);
    expect(() => parseS3Sse('AES256', 'k')).toThrow(/only applies to --s3-sse aws:kms/);
    expect(() => openStore('s3://kbak/x', {}, { fileMode: 0o600 })).toThrow(/disk destinations only/);
    expect(() => openStore(tmp(), {}, { sse: { mode: 'AES256' } })).toThrow(/s3:\/\/ destinations only/);
  });
});

describe('hostile manifests are refused with one line', () => {
  const where = (edit: (m: Forged) => void): string => {
    const m = JSON.parse(readFileSync(join(vectors, SAMPLE, 'manifest.json'), 'utf8')) as Forged;
    edit(m);
    try {
      decodeManifest(Buffer.from(JSON.stringify(m)), SAMPLE);
    } catch (e) {
      expect(e).toBeInstanceOf(IntegrityError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it.each<[string, (m: Forged) => void, RegExp]>([
    ['an offset above 2^63-1', (m) => (m.topics[0].partitions[0].endOffset = '9223372036854775808'), /endOffset: outside the signed 64-bit range/],
    ['a 30-digit offset', (m) => (m.topics[0].partitions[0].segments[0].lastOffset = '1'.repeat(30)), /lastOffset/],
    ['a negative offset', (m) => (m.topics[0].partitions[0].startOffset = '-1'), /startOffset: an offset must not be negative/],
    ['firstOffset > lastOffset', (m) => (m.topics[0].partitions[0].segments[0].firstOffset = '3'), /firstOffset is greater than lastOffset/],
    ['startOffset > endOffset', (m) => (m.topics[0].partitions[0].startOffset = '7'), /logStartOffset <= startOffset <= endOffset/],
    ['a segment outside the range', (m) => (m.topics[0].partitions[0].endOffset = '3'), /outside \[startOffset, endOffset\)/],
    ['overlapping segments', (m) => (m.topics[0].partitions[0].segments[1].firstOffset = '2'), /overlaps/],
    ['records that do not add up', (m) => (m.topics[0].partitions[0].records = 99), /segments hold 4 records, the partition says 99/],
    ['2^31-1 partitions', (m) => (m.topics[0].partitionCount = 2 ** 31 - 1), /partitionCount/],
    ['a partition not below partitionCount', (m) => (m.topics[0].partitionCount = 1), /partition 1 is not below partitionCount 1/],
    ['a partition listed twice', (m) => (m.topics[0].partitions[1].partition = 0), /listed twice/],
    ['a topic named ../../x', (m) => (m.topics[0].name = '../../x'), /topics\.0\.name: not a legal Kafka topic name/],
  ])('%s', (_what, edit, re) => {
    expect(where(edit)).toMatch(re);
  });

  it('a JSON syntax error names the position, never the content', () => {
    const e = (() => {
      try {
        decodeManifest(Buffer.from('{"format": "kbak-backup", "x": SECRET-IN-MANIFEST'), 'c/x');
      } catch (err) {
        return err as Error;
      }
      throw new Error('accepted');
    })();
    expect(e.message).toMatch(/^manifest c\/x is not valid JSON/);
    expect(e.message).not.toContain('SECRET');
  });

  it('topic configs are filtered to known topic-level names before CreateTopics', () => {
    const r = restorableTopicConfigs({
      'retention.ms': '604800000',
      'cleanup.policy': 'compact,delete',
      'max.message.bytes': '10485760',
      'leader.replication.throttled.replicas': '1:2',
      'sasl.jaas.config': 'x',
      'segment.bytes': 'x\u001b[2J',
      'made.up': '1',
    });
    expect(r.configs).toEqual({ 'retention.ms': '604800000', 'cleanup.policy': 'compact,delete', 'max.message.bytes': '10485760' });
    expect(r.dropped).toEqual(['leader.replication.throttled.replicas', 'made.up', 'sasl.jaas.config', 'segment.bytes']);
  });
});

describe('secrets are never echoed', () => {
  it('a config file with a JSON syntax error is not quoted', () => {
    const path = join(tmp(), 'kbak.json');
    writeFileSync(path, '{\n  "kafka": {\n    "sasl": { "mechanism": "plain", "username": "u", "password": "CONFIG-SECRET-1" }\n  ,, }\n}\n');
    let msg = '';
    try {
      loadSettings({ config: path }, {});
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      msg = (e as UsageError).oneLine();
    }
    expect(msg).toMatch(/is not valid JSON at line 4/);
    expect(msg).not.toContain('CONFIG-SECRET-1');
  });

  it('a registry URL with user:pass@ is never echoed, and its credentials become Basic auth', async () => {
    const client = new RegistryClient({ url: 'http://kbakuser:URL-SECRET-2@127.0.0.1:1/apis/ccompat/v7/?token=QUERY-SECRET-3' });
    expect(client.url).toBe('http://127.0.0.1:1/apis/ccompat/v7');
    const e = await rejection(client.check());
    expect(e.oneLine()).not.toMatch(/URL-SECRET-2|QUERY-SECRET-3|kbakuser/);
    expect(redactUrl('https://a:b@h/x?sig=1')).toBe('https://h/x');
    const s = loadSettings(
      {
        schemaRegistryUrl: 'http://u:URL-SECRET-2@127.0.0.1:8081',
        saslMechanism: 'plain',
        saslUsername: 'u',
        saslPassword: 'SASL-SECRET-4',
        s3Endpoint: 'http://k:S3-SECRET-5@127.0.0.1:9000',
      },
      {},
    );
    expect(JSON.stringify(redact(s))).not.toMatch(/SECRET/);
    // An unreachable registry is retried with backoff (5 attempts) before the error above.
  }, 30_000);
});

describe('terminal output is escaped', () => {
  it('escapeControl makes control characters visible', () => {
    expect(escapeControl('a\nb\u001b[31mc\u009bd\u202ee\tf')).toBe('a\\u000ab\\u001b[31mc\\u009bd\\u202ee\\u0009f');
  });

  it('kbak list prints a forged cluster folder name as one escaped line', async () => {
    const root = tmp();
    const evil = 'prod\n\u001b[2Jevil\tFAKE';
    for (const c of [evil, 'ok']) {
      mkdirSync(join(root, c, '20261125T120000000Z'), { recursive: true });
      writeFileSync(join(root, c, '20261125T120000000Z', 'manifest.json'), '{}');
    }
    expect((await listBackups(new DiskStore(root))).map((b) => b.cluster).sort()).toEqual(['ok', evil].sort());
    const lines: string[] = [];
    const env: CommandEnv = { env: {}, isTTY: false, stdout: (l) => lines.push(l), logger: () => silentLogger() };
    await buildProgram(env).parseAsync(['node', 'kbak', 'list', '--source', root]);
    // A header and one line per backup (both manifests are unreadable here).
    expect(lines).toHaveLength(3);
    for (const l of lines) expect([...l].filter((c) => c < ' ' && c !== '\t')).toEqual([]);
    expect(lines.some((l) => l.startsWith('20261125T120000000Z  prod\\u000a\\u001b[2Jevil\\u0009FAKE  UNREADABLE'))).toBe(true);
    expect(existsSync(root) && lstatSync(root).isDirectory()).toBe(true);
  });
});

describe('segment offsets must match the manifest entry', () => {
  it('refuses a segment whose records start elsewhere than firstOffset says', async () => {
    // Shift the entry by one on both ends: still ordered and in range, but not what the segment holds.
    const dir = forgedStore((m) => {
      const seg = m.topics[0].partitions[1].segments[0];
      seg.firstOffset = '3';
      seg.lastOffset = '3';
    });
    // Refused when opened (2 records cannot fit in 3..3) or, at the latest, when read.
    const e = await rejection(
      (async () => {
        const backup = await openBackup(new DiskStore(dir), 'latest');
        for await (const r of backup.records('orders', 1)) void r;
      })(),
    );
    expect(e).toBeInstanceOf(IntegrityError);
    expect(e.message).toMatch(/holds offsets 3\.\.4, its manifest entry says 3\.\.3|2 records cannot fit in offsets 3\.\.3/);
  });
});
