/**
 * `kbak cat` like kcat (issue 18 item 3), in process on one deterministic crafted backup:
 * the JSON line shape (text or base64 by the bytes, ISO-8601 timestamps, the same shape
 * with --decode) and `-f` format strings, as golden files (test/golden/cat/), plus the
 * rules behind them: what counts as text, kcat's escapes, a terminal's escaping, the topic
 * taken from a backup of one topic.
 */
import { join } from 'node:path';
import type { SchemaEntry } from '../../src/backup/manifest';
import { isText, PIECE_BYTES, textOf } from '../../src/cli/cat-bytes';
import { parseFormat } from '../../src/cli/cat-format';
import type { BackupRecord } from '../../src/segment/record';
import { runInProcess } from '../support/cli-in-process';
import { craftedRecord, framed, storedSegment, tempFolders, writeCraftedBackup } from '../support/crafted-backup';
import { expectGolden } from '../support/golden';

const tmp = tempFolders('kbak-cat-');
const rec = (offset: number, over: Partial<BackupRecord> = {}): BackupRecord =>
  craftedRecord(offset, { timestamp: 1_764_158_400_000n + BigInt(offset) * 1_250n, ...over });

const JSON_SCHEMA: SchemaEntry = {
  id: 7,
  schemaType: 'JSON',
  schema: '{"type":"object"}',
  references: [],
  registrations: [{ subject: 'orders-value', version: 1 }],
  usedInRecords: true,
};

/** Every kind of key, value and header the shape distinguishes, in two partitions. */
const RECORDS: BackupRecord[] = [
  rec(0, {
    key: Buffer.from('order-1'),
    value: Buffer.from('{"id":1,"note":"tab\there"}'),
    headers: [
      { key: 'traceparent', value: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') },
      { key: 'empty', value: Buffer.alloc(0) },
      { key: 'nothing', value: null },
    ],
  }),
  // Binary: a 0 byte (Confluent framing), invalid UTF-8, a C0 control, a C1 control (U+0085).
  rec(1, { key: Buffer.from([0xff, 0xfe, 0x41]), value: framed(7, Buffer.from('{"ok":true}')), headers: [{ key: 'bin', value: Buffer.from([0x01, 0x02]) }] }),
  rec(2, { key: Buffer.from('k\u0085'), value: Buffer.from('line1\nline2\r\n'), timestamp: -1n }),
  // Text a terminal must not take literally: ESC, a bidi override, U+2028; and non-ASCII text.
  rec(3, { key: Buffer.from('café 🎉'), value: Buffer.from('\u202eevil\u2028x'), headers: [{ key: 'h\u001b[31m', value: Buffer.from('v=1,w') }] }),
  rec(4, { key: Buffer.alloc(0), value: framed(99, Buffer.from('no such schema')) }),
];

function backup(topic = 'orders'): string {
  const root = tmp();
  writeCraftedBackup(root, {
    topic,
    partitions: [
      { partition: 0, segments: [storedSegment([RECORDS.slice(0, 3)])] },
      { partition: 1, segments: [storedSegment([RECORDS.slice(3).map((r, i) => ({ ...r, offset: BigInt(i) }))])] },
    ],
    schemas: [JSON_SCHEMA],
  });
  return root;
}

describe('cat JSON lines', () => {
  it('one shape: text or base64 by the bytes, ISO-8601 timestamps, the topic without --topic', async () => {
    const r = await runInProcess(['cat', 'latest', '--source', backup()]);
    expect(r.code).toBe(0);
    expectGolden('cat/json', `${r.lines.join('\n')}\n`);
    const lines = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // Each encoding gives back exactly the record's bytes (the independent check of the golden).
    const bytesOf = (enc: unknown, v: unknown): Buffer | null =>
      enc === null ? null : enc === 'text' ? Buffer.from(v as string, 'utf8') : enc === 'base64' ? Buffer.from(v as string, 'base64') : Buffer.from('?');
    const inOrder = [RECORDS[0]!, RECORDS[1]!, RECORDS[2]!, RECORDS[3]!, RECORDS[4]!];
    lines.forEach((l, i) => {
      expect(bytesOf(l.keyEncoding, l.key)).toEqual(inOrder[i]!.key);
      expect(bytesOf(l.valueEncoding, l.value)).toEqual(inOrder[i]!.value);
      const hs = l.headers as Array<Record<string, unknown>>;
      expect(hs.map((h) => [h.key, bytesOf(h.valueEncoding, h.value)])).toEqual(inOrder[i]!.headers.map((h) => [h.key, h.value]));
    });
    expect(lines.map((l) => [l.keyEncoding, l.valueEncoding])).toEqual([
      ['text', 'text'],
      ['base64', 'base64'],
      ['base64', 'text'],
      ['text', 'text'],
      ['text', 'base64'],
    ]);
    expect(lines.map((l) => l.timestamp)).toEqual([
      '2025-11-26T12:00:00.000Z',
      '2025-11-26T12:00:01.250Z',
      null,
      '2025-11-26T12:00:03.750Z',
      '2025-11-26T12:00:05.000Z',
    ]);
  });

  it('--decode keeps the shape: a decoded value is the schema type and the JSON, anything else as without it', async () => {
    const root = backup();
    const plain = (await runInProcess(['cat', 'latest', '--source', root])).lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const r = await runInProcess(['cat', 'latest', '--source', root, '--decode']);
    expect(r.code).toBe(0);
    expectGolden('cat/json-decode', `${r.lines.join('\n')}\n`);
    const decoded = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(decoded[1]).toMatchObject({ valueEncoding: 'json-schema', value: { ok: true }, valueSchemaId: 7 });
    expect(decoded[4]).toMatchObject({ valueEncoding: 'base64', valueDecodeError: 'schema 99 is not in the backup' });
    expect(decoded[4]).not.toHaveProperty('valueSchemaId');
    // The same keys in the same order, whatever --decode did; only the decode fields are added.
    decoded.forEach((d, i) => {
      const extra = Object.keys(d).filter((k) => !(k in plain[i]!));
      expect(extra.every((k) => /^(key|value)(SchemaId|DecodeError)$/.test(k))).toBe(true);
      expect(Object.keys(d).filter((k) => k in plain[i]!)).toEqual(Object.keys(plain[i]!));
      expect(d.key).toEqual(plain[i]!.key);
      expect(d.headers).toEqual(plain[i]!.headers);
    });
  });

  it('--epoch-ms gives the timestamps as before (epoch milliseconds in a string)', async () => {
    const r = await runInProcess(['cat', 'latest', '--source', backup(), '--epoch-ms', '--partition', '0']);
    expect(r.lines.map((l) => (JSON.parse(l) as { timestamp: string }).timestamp)).toEqual(['1764158400000', '1764158401250', '-1']);
  });
});

describe('cat -f', () => {
  const fmt = async (f: string, tty = false, extra: string[] = []): Promise<Buffer> => {
    const r = await runInProcess(['cat', 'latest', '--source', backup(), '-f', f, ...extra], { stdoutIsTTY: tty });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([]);
    return r.bytes;
  };

  it("kcat's example format, raw bytes when stdout is not a terminal", async () => {
    const out = await fmt('Topic %t [%p] at offset %o: key %k: %s\\n');
    expectGolden('cat/format-kcat-example', out.toString('latin1'));
    // The record's own bytes, unchanged: invalid UTF-8 key, the framing 0 byte, a raw newline.
    expect(out.includes(Buffer.from([0xff, 0xfe, 0x41]))).toBe(true);
    expect(out.includes(Buffer.from('line1\nline2\r\n'))).toBe(true);
    expect(out.includes(Buffer.from('\u202eevil\u2028x'))).toBe(true);
  });

  it('every placeholder and escape, raw', async () => {
    const out = await fmt('%t|%p|%o|%T|%K|%k|%S|%s|%h|%R|%%|\\x41\\101\\0101\\t\\q\\\\|\\n');
    expectGolden('cat/format-all', out.toString('latin1'));
    const first = out.subarray(0, out.indexOf('\n'));
    expect(first.toString('latin1')).toBe(
      'orders|0|0|1764158400000|7|order-1|26|{"id":1,"note":"tab\there"}|traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01,empty=,nothing=NULL|\x00\x00\x00\x1a|%|AeA\tq\\|',
    );
  });

  it('escaped on a terminal: no control, bidi or invalid byte of a record reaches it raw', async () => {
    const out = (await fmt('%o %k %s %h\\n', true)).toString('utf8');
    expectGolden('cat/format-terminal', out);
    // Only the format's own newlines end lines; nothing of the unsafe set is left.
    expect(out.split('\n')).toHaveLength(6);
    // eslint-disable-next-line no-control-regex -- the unsafe set of safe-text.ts
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\u2028]/);
    expect(out).toContain('\\xff\\xfeA');
    expect(out).toContain('\\u202eevil\\u2028x');
    expect(out).toContain('h\\u001b[31m=v=1,w');
  });

  it('with --decode, %s is the decoded JSON', async () => {
    const out = await fmt('%s\\n', false, ['--decode', '--partition', '0', '--from-offset', '1', '--limit', '1']);
    expect(out.toString()).toBe('{"ok":true}\n');
  });

  it('a placeholder kcat does not have, a lone % and --epoch-ms with -f are usage errors (exit 2)', async () => {
    for (const [f, msg] of [
      ['%x', /-f has an unknown placeholder %x \(placeholders: %t %p %o %k %K %s %S %R %T %h %%\)/],
      ['abc%', /-f ends with a lone %/],
    ] as const) {
      const r = await runInProcess(['cat', 'latest', '--source', backup(), '-f', f]);
      expect(r.code).toBe(2);
      expect(r.stderr.join('\n')).toMatch(msg);
    }
    const r = await runInProcess(['cat', 'latest', '--source', backup(), '-f', '%s', '--epoch-ms']);
    expect(r.code).toBe(2);
  });

  it("parses kcat's escapes into bytes", () => {
    const lit = (f: string): Buffer => (parseFormat(f)[0] as { text: Buffer }).text;
    expect(lit('\\n\\r\\t')).toEqual(Buffer.from('\n\r\t'));
    expect(lit('\\xff\\x4')).toEqual(Buffer.from([0xff, 0x04]));
    // Decimal (at most three digits), octal after a leading 0 (at most three more); anything else is itself.
    expect(lit('\\65\\0101\\2561\\z\\')).toEqual(Buffer.from([65, 65, 0x00, 0x31, 0x7a, 0x5c]));
    expect(lit('é🎉\\t')).toEqual(Buffer.from('é🎉\t'));
  });
});

describe('what is text', () => {
  const t = (b: Buffer): boolean => textOf(b, 0, b.length) !== null;
  it('valid UTF-8 without controls but tab, newline, CR; bidi and line separators are text', () => {
    expect(t(Buffer.alloc(0))).toBe(true);
    expect(t(Buffer.from('a\tb\nc\r'))).toBe(true);
    expect(t(Buffer.from('\u202e\u2028\ufeffé'))).toBe(true);
    for (const c of [0x00, 0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f]) expect(t(Buffer.from([0x61, c]))).toBe(false);
    expect(t(Buffer.from('\u0080'))).toBe(false);
    expect(t(Buffer.from('\u009f'))).toBe(false);
    expect(t(Buffer.from('\u00a0'))).toBe(true);
    expect(t(Buffer.from([0xc3]))).toBe(false);
    expect(t(Buffer.from([0xed, 0xa0, 0x80]))).toBe(false); // an encoded surrogate
  });

  it('a value larger than a piece is looked at whole, in pieces', () => {
    const big = Buffer.from(`${'é'.repeat(PIECE_BYTES)}x`);
    expect(isText(big, 0, big.length)).toBe(true);
    big[big.length - 1] = 0x07;
    expect(isText(big, 0, big.length)).toBe(false);
  });
});

describe('cat without --topic', () => {
  it('names the topics of a backup of several, at most ten, as a usage error', async () => {
    const root = backup('orders');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const { manifestKey } = await import('../../src/backup/layout');
    const { CRAFTED_BACKUP, CRAFTED_CLUSTER } = await import('../support/crafted-backup');
    const file = join(root, ...manifestKey(CRAFTED_CLUSTER, CRAFTED_BACKUP).split('/'));
    const m = JSON.parse(readFileSync(file, 'utf8')) as { topics: Array<Record<string, unknown>> };
    for (let i = 0; i < 11; i++) m.topics.push({ ...m.topics[0]!, name: `t${i}`, partitions: [], partitionCount: 1 });
    writeFileSync(file, JSON.stringify(m));
    const r = await runInProcess(['cat', 'latest', '--source', root]);
    expect(r.stderr.join('\n')).toMatch(
      /backup 20261126T120000000Z holds 12 topics: orders, t0, t1, t2, t3, t4, t5, t6, t7, t8 and 2 more \(name one with --topic\)/,
    );
    expect(r.code).toBe(2);
    expect((await runInProcess(['cat', 'latest', '--source', root, '--topic', 't3'])).code).toBe(0);
  });
});

describe('cat and a slow reader of stdout', () => {
  it('waits for stdout to take what it wrote after each block (JSON lines and -f)', async () => {
    const root = tmp();
    const groups = [0, 1, 2].map((b) => [rec(2 * b, { value: Buffer.from(`v${2 * b}`) }), rec(2 * b + 1, { value: Buffer.from(`v${2 * b + 1}`) })]);
    writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [storedSegment(groups)] }] });
    for (const extra of [[], ['-f', '%s\\n']]) {
      let waits = 0;
      const r = await runInProcess(['cat', 'latest', '--source', root, ...extra], {
        stdoutDrained: async () => {
          waits++;
          await new Promise((res) => setTimeout(res, 2));
        },
      });
      const out = extra.length === 0 ? r.lines.map((l) => (JSON.parse(l) as { value: string }).value) : r.bytes.toString().split('\n').filter(Boolean);
      expect(out).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
      // Once per block of the segment.
      expect(waits).toBe(3);
    }
  });
});
