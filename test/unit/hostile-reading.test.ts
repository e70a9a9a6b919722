/**
 * Hostile input, round 2 (issue 15), the reading half: crafted backups, generated here
 * deterministically (test/support/crafted-backup.ts), run through the real commands in
 * process. One describe per defect of RELIABILITY.md "Hostile input, round 2": hostile
 * input exits 5 (or is shown raw by `cat --decode`, as FORMAT.md keeps undecodable
 * payloads), never 70; legal input, however large, works. Costs are asserted as counts
 * (calls, values visited, pieces written), never as timings.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import avro from 'avsc';
import { Backup } from '../../src/backup/catalog';
import { DECODE_LIMITS, SchemaDecoder } from '../../src/backup/decode';
import type { Manifest, SchemaEntry } from '../../src/backup/manifest';
import { verifyBackup } from '../../src/backup/verify';
import { IntegrityError } from '../../src/errors';
import * as format from '../../src/segment/format';
import { Codec, encodeFileHeader, encodeRecord } from '../../src/segment/format';
import { readSegment } from '../../src/segment/reader';
import type { BackupRecord } from '../../src/segment/record';
import * as zstd from '../../src/segment/zstd';
import { DiskStore } from '../../src/store/disk';
import { MemoryStore } from '../../src/store/memory';
import { runInProcess } from '../support/cli-in-process';
import {
  block,
  craftedRecord,
  CRAFTED_BACKUP,
  CRAFTED_CLUSTER,
  describe as describeSegment,
  framed,
  storedSegment,
  tempFolders,
  writeCraftedBackup,
  type CraftedSegment,
} from '../support/crafted-backup';

jest.setTimeout(120_000);

const tmp = tempFolders('kbak-hostile-');
const rec = craftedRecord;

/** Zigzag varint of a long (Avro's int/long encoding, Confluent's message indexes). */
function zz(n: bigint): Buffer {
  let v = n >= 0n ? n * 2n : -n * 2n - 1n;
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return Buffer.from(out);
}

const schema = (id: number, schemaType: SchemaEntry['schemaType'], text: string, refs: Array<[string, number]> = [], subject = `s${id}`): SchemaEntry => ({
  id,
  schemaType,
  schema: text,
  references: refs.map(([s, v], i) => ({ name: `ref${i}`, subject: s, version: v })),
  registrations: [{ subject, version: 1 }],
  usedInRecords: true,
});

/** One partition, one stored segment of these records. */
function oneSegmentBackup(records: BackupRecord[], schemas?: SchemaEntry[]): string {
  const root = tmp();
  writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [storedSegment([records])] }], schemas });
  return root;
}

const expectNot70 = (code: number): void => expect([0, 2, 3, 5]).toContain(code);

describe('defect 3: cat --decode is bounded', () => {
  const fromBuffer = (): jest.SpyInstance => jest.spyOn(avro.Type.prototype, 'fromBuffer');
  afterEach(() => jest.restoreAllMocks());

  it('refuses an Avro map<null> block count of 2^50 and an array<null> of 4·10^8 items before avsc loops', () => {
    const d = new SchemaDecoder([schema(1, 'AVRO', '{"type":"map","values":"null"}'), schema(2, 'AVRO', '{"type":"array","items":"null"}')]);
    const spy = fromBuffer();
    const map = d.decode(framed(1, Buffer.concat([zz(2n ** 50n), Buffer.from([0, 0])])));
    const arr = d.decode(framed(2, Buffer.concat([zz(400_000_000n), zz(0n)])));
    for (const r of [map, arr]) {
      expect(r).toMatchObject({
        schemaId: expect.any(Number),
        error: expect.stringMatching(/block of \d+ items is more than a payload of \d+ bytes can hold/),
      });
      expect('raw' in r && r.raw.length).toBeGreaterThan(5);
    }
    // The walk refused them: avsc never started.
    expect(spy).not.toHaveBeenCalled();
  });

  it('still decodes legal arrays, maps, nulls and a recursive list inside the limits', () => {
    const list = '{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}';
    const d = new SchemaDecoder([
      schema(1, 'AVRO', '{"type":"array","items":"long"}'),
      schema(2, 'AVRO', '{"type":"map","values":"null"}'),
      schema(3, 'AVRO', list),
      schema(4, 'AVRO', '{"type":"array","items":"null"}'),
    ]);
    const longs = Array.from({ length: 100_000 }, (_, i) => BigInt(i - 50_000));
    const a = d.decode(framed(1, Buffer.concat([zz(BigInt(longs.length)), ...longs.map(zz), zz(0n)])));
    expect('decoded' in a && JSON.parse(a.decoded)).toEqual(longs.map(Number));
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    const m = d.decode(framed(2, Buffer.concat([zz(1000n), ...keys.map((k) => Buffer.concat([zz(BigInt(k.length)), Buffer.from(k)])), zz(0n)])));
    expect('decoded' in m && Object.keys(JSON.parse(m.decoded))).toEqual(keys);
    // 45 nodes: 90 levels (each node is a record and a union level), under the limit of 100.
    const list45 = (k: number): Buffer => Buffer.concat(Array.from({ length: k }, (_, i) => Buffer.concat([zz(BigInt(i)), zz(i < k - 1 ? 1n : 0n)])));
    const l = d.decode(framed(3, list45(45)));
    let node = 'decoded' in l ? (JSON.parse(l.decoded) as { v: number; next: unknown }) : null;
    let depth = 0;
    while (node !== null) {
      expect(node.v).toBe(depth++);
      node = node.next as typeof node;
    }
    expect(depth).toBe(45);
    // 60 nodes: 120 levels, refused by the walk before avsc recurses.
    expect(d.decode(framed(3, list45(60)))).toMatchObject({ error: 'cannot decode with schema 3: nested deeper than 100 levels (at payload byte 100)' });
    // Nulls take no bytes: up to the fixed allowance, an array of them is fine.
    const nulls = d.decode(framed(4, Buffer.concat([zz(60_000n), zz(0n)])));
    expect('decoded' in nulls && JSON.parse(nulls.decoded)).toHaveLength(60_000);
  });

  it('resolves each referenced schema once: exponential references build in linear time', () => {
    // s0 references s1 twice, s1 references s2 twice, ... : 2^24 paths, 25 schemas.
    const n = 25;
    const schemas = Array.from({ length: n }, (_, i) => {
      const type = i === n - 1 ? '"int"' : `"R${i + 1}"`;
      const refs: Array<[string, number]> =
        i === n - 1
          ? []
          : [
              [`s${i + 1}`, 1],
              [`s${i + 1}`, 1],
            ];
      return schema(i, 'AVRO', `{"type":"record","name":"R${i}","fields":[{"name":"f","type":${type}}]}`, refs);
    });
    const spy = jest.spyOn(avro.Type, 'forSchema');
    const d = new SchemaDecoder(schemas);
    const r = d.decode(framed(0, zz(7n)));
    expect(r).toHaveProperty('decoded');
    let v: unknown = JSON.parse((r as { decoded: string }).decoded);
    for (let i = 0; i < n - 1; i++) v = (v as { f: unknown }).f;
    expect(v).toEqual({ f: 7 });
    // avsc calls forSchema for nested types too; each record schema is built exactly once.
    expect(spy.mock.calls.filter((c) => (c[0] as { type?: unknown }).type === 'record')).toHaveLength(n);
  });

  it('builds a failing schema once, refuses reference cycles and oversized closures', () => {
    const spy = jest.spyOn(avro.Type, 'forSchema');
    const big = `{"type":"record","name":"Big","doc":"${'x'.repeat(1024 * 1024)}","fields":[]}`;
    const d = new SchemaDecoder([
      schema(1, 'AVRO', '{"type":"no-such-type"}'),
      schema(2, 'AVRO', '"int"', [['s3', 1]]),
      schema(3, 'AVRO', '"int"', [['s2', 1]]),
      schema(4, 'AVRO', '"int"', [
        ['b5', 1],
        ['b6', 1],
        ['b7', 1],
        ['b8', 1],
        ['b9', 1],
      ]),
      ...[5, 6, 7, 8, 9].map((i) => schema(i, 'AVRO', big.replace('Big', `Big${i}`), [], `b${i}`)),
    ]);
    for (let i = 0; i < 1000; i++) expect(d.decode(framed(1, zz(1n)))).toMatchObject({ error: expect.stringMatching(/^cannot build schema 1: /) });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(d.decode(framed(2, zz(1n)))).toMatchObject({ error: expect.stringMatching(/reference cycle/) });
    expect(d.decode(framed(4, zz(1n)))).toMatchObject({ error: expect.stringMatching(/references more than .* bytes of schema text/) });
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('shows JSON nested 10 000 deep raw (depth limit 100) and decodes JSON at the limit', () => {
    const d = new SchemaDecoder([schema(1, 'JSON', '{}')]);
    const deep = d.decode(framed(1, Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)));
    expect(deep).toMatchObject({ schemaId: 1, error: `cannot decode with schema 1: nested deeper than ${DECODE_LIMITS.maxDepth} levels` });
    const atLimit = d.decode(framed(1, Buffer.from(`${'{"a":['.repeat(50)}1${']}'.repeat(50)}`)));
    expect(atLimit).toHaveProperty('decoded');
    // Brackets inside strings are not nesting.
    expect(d.decode(framed(1, Buffer.from(JSON.stringify({ s: '['.repeat(500), t: '\\"[' }))))).toHaveProperty('decoded');
  });

  it("shows Protobuf nested past protobufjs's limit raw, and a payload above the size limit raw", () => {
    const d = new SchemaDecoder([schema(1, 'PROTOBUF', 'syntax = "proto3";\nmessage N { N child = 1; int32 v = 2; }\n'), schema(2, 'JSON', '{}')]);
    const varint = (n: number): Buffer =>
      zz(BigInt(n) * 2n).length === 1 && n < 128
        ? Buffer.from([n])
        : Buffer.from([(n & 0x7f) | 0x80, ...(n >> 7 < 128 ? [n >> 7] : [((n >> 7) & 0x7f) | 0x80, n >> 14])]);
    let msg = Buffer.from([0x10, 0x01]); // v = 1
    for (let i = 0; i < 150; i++) msg = Buffer.concat([Buffer.from([0x0a]), varint(msg.length), msg]); // child (field 1, length-delimited)
    const deep = d.decode(framed(1, Buffer.concat([Buffer.from([0]), msg])));
    expect(deep).toMatchObject({ schemaId: 1, error: expect.stringMatching(/nesting depth|index out of range/) });
    const huge = Buffer.alloc(DECODE_LIMITS.maxPayloadBytes + 1, 0x20);
    huge[5] = 0x31;
    expect(d.decode(framed(2, huge.subarray(5)))).toMatchObject({
      schemaId: 2,
      error: `not decoded: the payload is ${huge.length} bytes, more than the ${DECODE_LIMITS.maxPayloadBytes} --decode decodes`,
    });
  });

  it('kbak cat --decode prints every hostile payload raw with its reason and exits 0', async () => {
    const schemas = [schema(1, 'AVRO', '{"type":"array","items":"null"}'), schema(2, 'JSON', '{}')];
    const values = [framed(1, Buffer.concat([zz(400_000_000n), zz(0n)])), framed(2, Buffer.from('['.repeat(10_000))), framed(2, Buffer.from('{"ok":true}'))];
    const root = oneSegmentBackup(
      values.map((value, i) => rec(i, { value })),
      schemas,
    );
    const r = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't', '--decode']);
    expect(r.code).toBe(0);
    const got = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // Shown raw (framed payloads start with a 0 byte: base64) with the schema ID and the reason.
    expect(got.map((g) => [g.valueEncoding, g.value, g.valueSchemaId])).toEqual([
      ['base64', values[0]!.toString('base64'), 1],
      ['base64', values[1]!.toString('base64'), 2],
      ['json-schema', { ok: true }, 2],
    ]);
    expect(got[0]!.valueDecodeError).toMatch(/more than a payload/);
    expect(got[1]!.valueDecodeError).toMatch(/nested deeper than 100 levels/);
    expect(got[2]).not.toHaveProperty('valueDecodeError');
  });
});

describe('defect 5: cat verifies a segment before its first record is printed', () => {
  /** Two records; record 0's value changed in the file and the block CRC recomputed, the manifest keeps the true SHA-256. */
  function forged(): string {
    const records = [rec(0, { value: Buffer.from('genuine') }), rec(1, { value: Buffer.from('second') })];
    const honest = storedSegment([records]);
    const bytes = Buffer.from(honest.bytes);
    const at = bytes.indexOf('genuine');
    bytes.write('FORGED!', at);
    const body = bytes.subarray(16 + 20);
    bytes.writeUInt32BE(crc32(body) >>> 0, 16 + 16);
    const seg: CraftedSegment = { ...honest, bytes, sha256: createHash('sha256').update(honest.bytes).digest('hex') };
    const root = tmp();
    writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [seg] }] });
    return root;
  }

  it('--limit 1 prints nothing and exits 5 on a record changed with its CRC recomputed', async () => {
    const r = await runInProcess(['cat', 'latest', '--source', forged(), '--topic', 't', '--limit', '1']);
    expect({ code: r.code, lines: r.lines }).toEqual({ code: 5, lines: [] });
    expect(r.stderr.join('\n')).toMatch(/SHA-256 mismatch/);
  });

  it('--unverified streams without the check and says so on stderr; a full read still fails', async () => {
    const root = forged();
    const limited = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't', '--limit', '1', '--unverified']);
    expect(limited.code).toBe(0);
    expect(limited.lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((l) => [l.valueEncoding, l.value])).toEqual([['text', 'FORGED!']]);
    expect(limited.stderr.join('\n')).toMatch(/--unverified: records are printed before their segment's SHA-256 is checked/);
    const full = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't', '--unverified']);
    expect(full.code).toBe(5);
  });

  it('hashes a segment in one streaming pass before reading it, only for segments it prints from', async () => {
    const store = new MemoryStore();
    const segs = [storedSegment([[rec(0), rec(1)]]), storedSegment([[rec(2)]])];
    const root = tmp();
    const m = writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: segs }] });
    for (const s of m.topics[0]!.partitions[0]!.segments)
      await store.put(`${CRAFTED_CLUSTER}/${s.key}`, readFileSync(join(root, CRAFTED_CLUSTER, ...s.key.split('/'))));
    const reads = jest.spyOn(store, 'read');
    const backup = new Backup(store, { cluster: CRAFTED_CLUSTER, backupId: CRAFTED_BACKUP }, m);
    const got: bigint[] = [];
    for await (const r of backup.records('t', 0, 2n, { verifyFirst: true })) got.push(r.offset);
    expect(got).toEqual([2n]);
    // Segment 1 only (segment 0 ends before offset 2): once to hash, once to read.
    expect(reads.mock.calls.map((c) => c[0])).toEqual([
      `${CRAFTED_CLUSTER}/${m.topics[0]!.partitions[0]!.segments[1]!.key}`,
      `${CRAFTED_CLUSTER}/${m.topics[0]!.partitions[0]!.segments[1]!.key}`,
    ]);
  });
});

describe('defect 4: cat over many partitions is linear', () => {
  it('looks a partition up without scanning the others', () => {
    const n = 3000;
    let visits = 0;
    const partitions = Array.from({ length: n }, (_, p) => ({
      partition: p,
      logStartOffset: '0',
      startOffset: '0',
      endOffset: '0',
      records: 0,
      segments: [],
      basedOn: null,
      gaps: [],
    }));
    const counted = new Proxy(partitions, {
      get(target, prop, recv) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) visits++;
        return Reflect.get(target, prop, recv) as unknown;
      },
    });
    const manifest = { topics: [{ name: 't', partitions: counted }] } as unknown as Manifest;
    const backup = new Backup(new MemoryStore(), { cluster: 'c', backupId: CRAFTED_BACKUP }, manifest);
    for (let p = 0; p < n; p++) expect(backup.partition('t', p).partition).toBe(p);
    // A scan per lookup visited n²/2 = 4.5 million entries; an index visits each once.
    expect(visits).toBeLessThanOrEqual(2 * n);
  });

  it('kbak cat over 20 000 partitions reads them all', async () => {
    const root = tmp();
    const partitions = Array.from({ length: 20_000 }, (_, p) => ({
      partition: p,
      segments: p % 5000 === 0 ? [storedSegment([[rec(0, { value: Buffer.from(`p${p}`) })]])] : [],
    }));
    writeCraftedBackup(root, { topic: 't', partitions });
    const r = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't']);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => JSON.parse(l).partition)).toEqual([0, 5000, 10000, 15000]);
  });
});

describe('defect 7: a record of a million headers costs its own bytes, not an object per header', () => {
  const count = 1_000_000;
  /** One record of `count` empty headers (8 bytes each): a stored block above 4 MiB, read record by record. */
  function manyHeaders(): string {
    const body = Buffer.alloc(33 + 8 * count);
    body.writeUInt32BE(body.length - 4, 0);
    body.writeBigInt64BE(0n, 4);
    body.writeBigInt64BE(5n, 12);
    body.writeUInt8(0, 20);
    body.writeInt32BE(-1, 21);
    body.writeInt32BE(-1, 25);
    body.writeUInt32BE(count, 29);
    for (let i = 0; i < count; i++) body.writeInt32BE(-1, 33 + 8 * i + 4); // key length 0, value null
    const bytes = Buffer.concat([encodeFileHeader(), block(Codec.Stored, body, body, 1)]);
    const root = tmp();
    writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [describeSegment(bytes, [rec(0, { timestamp: 5n })])] }] });
    return root;
  }

  it('verify and cat read it without decoding it into objects; cat writes the line in pieces', async () => {
    const root = manyHeaders();
    const decode = jest.spyOn(format, 'decodeRecordAt');
    const v = await verifyBackup(new DiskStore(root), { cluster: CRAFTED_CLUSTER, backupId: CRAFTED_BACKUP }, { quick: false });
    expect(v).toMatchObject({ ok: true, records: 1 });
    const r = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't']);
    expect(r.code).toBe(0);
    expect(decode).not.toHaveBeenCalled();
    decode.mockRestore();
    const line = r.pieces.join('');
    expect(line.length).toBeGreaterThan(24 * count);
    // About 1 MiB per write, never the whole line at once.
    expect(r.pieces.length).toBeGreaterThan(20);
    expect(Math.max(...r.pieces.map((p) => p.length))).toBeLessThan(1.1 * 2 ** 20);
    const headers = (JSON.parse(line) as { headers: Array<{ key: string; value: null }> }).headers;
    expect(headers.length).toBe(count);
    expect(headers.every((h) => h.key === '' && h.value === null)).toBe(true);
  });

  it('cat prints a 3 MiB non-ASCII header key (with a leading BOM) whole', async () => {
    const key = `\uFEFF${'é'.repeat(1_600_000)}🎉`;
    const root = oneSegmentBackup([rec(0, { headers: [{ key, value: Buffer.from('v') }] })]);
    const r = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.lines[0]!) as { headers: Array<{ key: string }> }).headers[0]!.key).toBe(key);
  });
});

describe('defect 9: zstd work is bounded by the declared raw bytes; one frame per payload', () => {
  /** `n` zstd blocks of one 4 MiB record of zeros: about 200 stored bytes per 4 MiB. */
  async function bomb(n: number): Promise<{ bytes: Buffer; records: BackupRecord[] }> {
    const z = await zstd.getZstd();
    const blocks: Buffer[] = [];
    const records: BackupRecord[] = [];
    for (let i = 0; i < n; i++) {
      const r = rec(i, { value: Buffer.alloc(4 * 1024 * 1024 - 33) });
      const body = encodeRecord(r);
      blocks.push(block(Codec.Zstd, body, z.compress(body, 3), 1));
      records.push(r);
    }
    return { bytes: Buffer.concat([encodeFileHeader(), ...blocks]), records };
  }
  afterEach(() => jest.restoreAllMocks());

  it("refuses a block that takes the raw total past the manifest's rawBytes before decompressing it", async () => {
    const { bytes, records } = await bomb(8);
    expect(bytes.length).toBeLessThan(8 * 1024);
    const root = tmp();
    // The manifest declares the stored size as raw size: the first block already exceeds it.
    writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [describeSegment(bytes, records, bytes.length)] }] });
    const decompress = jest.spyOn(zstd, 'decompressBlock');
    for (const cmd of [
      ['cat', 'latest', '--topic', 't'],
      ['verify', 'latest'],
    ]) {
      const r = await runInProcess([...cmd, '--source', root]);
      expect(r.code).toBe(5);
      expect(r.stderr.join('\n') + r.lines.join('\n')).toMatch(/the blocks declare more than the \d+ raw bytes its manifest entry says/);
    }
    expect(decompress).not.toHaveBeenCalled();
  });

  it('reads the same blocks when the manifest declares their raw size (cost linear in what it declares)', async () => {
    const { bytes, records } = await bomb(3);
    const root = tmp();
    writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [describeSegment(bytes, records)] }] });
    const decompress = jest.spyOn(zstd, 'decompressBlock');
    const r = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't']);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(3);
    expect(decompress).toHaveBeenCalledTimes(3);
  });

  it("refuses a skippable frame after the block's frame (exit 5), on both zstd paths", async () => {
    const z = await zstd.getZstd();
    const r0 = rec(0, { value: Buffer.alloc(1000, 'a') });
    const body = encodeRecord(r0);
    const frame = z.compress(body, 3);
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
    const payload = Buffer.concat([frame, skippable]);
    expect(() => z.decompress(payload, body.length)).toThrow(/bytes after the zstd frame \(a skippable frame/);
    await expect(zstd.decompressBlock(payload, body.length)).rejects.toThrow(/bytes after the zstd frame \(a skippable frame/);
    const bytes = Buffer.concat([encodeFileHeader(), block(Codec.Zstd, body, payload, 1)]);
    await expect(
      (async () => {
        for await (const x of readSegment(
          (async function* () {
            yield bytes;
          })(),
          { name: 'skip.kseg' },
        ))
          void x;
      })(),
    ).rejects.toThrow(IntegrityError);
    const root = tmp();
    writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [describeSegment(bytes, [r0])] }] });
    const r = await runInProcess(['cat', 'latest', '--source', root, '--topic', 't']);
    expect(r.code).toBe(5);
    expect(r.stderr.join('\n')).toMatch(/zstd payload at byte 36: 12 bytes after the zstd frame \(a skippable frame/);
  });
});

describe('never exit 70 on these inputs', () => {
  it('a truncated segment, a bad header key, a huge header count: exit 5 with one line', async () => {
    const good = storedSegment([[rec(0, { headers: [{ key: 'k', value: null }] })]]);
    const badKey = Buffer.from(good.bytes);
    badKey[badKey.indexOf('k', 16 + 20 + 33)] = 0xff;
    badKey.writeUInt32BE(crc32(badKey.subarray(36)) >>> 0, 32);
    const hugeCount = Buffer.from(good.bytes);
    hugeCount.writeUInt32BE(0xffffffff, 36 + 29);
    hugeCount.writeUInt32BE(crc32(hugeCount.subarray(36)) >>> 0, 32);
    for (const bytes of [good.bytes.subarray(0, good.bytes.length - 3), badKey, hugeCount]) {
      const root = tmp();
      writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [{ ...good, bytes }] }] });
      for (const args of [
        ['cat', 'latest', '--topic', 't'],
        ['cat', 'latest', '--topic', 't', '--decode', '--unverified'],
      ]) {
        const r = await runInProcess([...args, '--source', root]);
        expectNot70(r.code);
        expect(r.code).toBe(5);
      }
    }
  });

  it('builds the same crafted backup byte for byte every time', () => {
    const [a, b] = [tmp(), tmp()];
    for (const d of [a, b]) writeCraftedBackup(d, { topic: 't', partitions: [{ partition: 0, segments: [storedSegment([[rec(0)]])] }] });
    const file = (d: string): Buffer => readFileSync(join(d, CRAFTED_CLUSTER, CRAFTED_BACKUP, 'manifest.json'));
    expect(file(a).equals(file(b))).toBe(true);
  });
});
