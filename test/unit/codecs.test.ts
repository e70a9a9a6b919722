import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import snappy from 'snappyjs';
import { CodecError, codecs, hasNativeZstd, snappyCompress, snappyDecompress, zstdCodec } from '../../src/kafka/protocol/codecs';
import { restoreCodec } from '../../src/restore/plan';
import { parseFrameHeader } from '../../src/segment/zstd';

const samples: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([0x42])],
  ['random 100 KiB', randomBytes(100 * 1024)],
  ['repetitive 300 KiB', Buffer.from('{"order":1234,"status":"NEW"}'.repeat(10_000))],
];

describe.each(Object.keys(codecs) as Array<keyof typeof codecs>)('%s', (name) => {
  test.each(samples)('round trip of %s', async (_label, raw) => {
    const c = codecs[name];
    const packed = await c.compress(raw);
    expect((await c.decompress(packed)).equals(raw)).toBe(true);
  });
});

test('gzip batches from other producers decode (kafkajs and Java use plain gzip streams)', async () => {
  const raw = Buffer.from('hello kafka '.repeat(100));
  expect((await codecs.gzip.decompress(gzipSync(raw))).equals(raw)).toBe(true);
});

describe('snappy framing', () => {
  const raw = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));

  test('kbak writes the xerial framing Java uses: magic, versions, 32 KiB chunks', () => {
    const out = snappyCompress(raw);
    expect(out.subarray(0, 8).toString('hex')).toBe('82534e4150505900');
    expect(out.readInt32BE(8)).toBe(1);
    expect(out.readInt32BE(12)).toBe(1);
    // Walk the chunks by hand: each is a length and a raw snappy block of at most 32 KiB.
    const parts: Buffer[] = [];
    for (let p = 16; p < out.length;) {
      const len = out.readUInt32BE(p);
      parts.push(Buffer.from(snappy.uncompress(out.subarray(p + 4, p + 4 + len))));
      p += 4 + len;
    }
    expect(parts.map((b) => b.length)).toEqual([32768, 32768, 32768, 100_000 - 3 * 32768]);
    expect(Buffer.concat(parts).equals(raw)).toBe(true);
  });

  test('a raw snappy block (librdkafka) decodes', () => {
    expect(snappyDecompress(Buffer.from(snappy.compress(raw))).equals(raw)).toBe(true);
  });

  test('a hand-built xerial stream with uneven chunks decodes', () => {
    const a = Buffer.from(snappy.compress(raw.subarray(0, 1000)));
    const b = Buffer.from(snappy.compress(raw.subarray(1000)));
    const head = Buffer.from('82534e41505059000000000100000001', 'hex');
    const len = (n: number): Buffer => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    expect(snappyDecompress(Buffer.concat([head, len(a.length), a, len(b.length), b])).equals(raw)).toBe(true);
  });

  test('a chunk running past the batch is refused', () => {
    const out = snappyCompress(raw);
    expect(() => snappyDecompress(out.subarray(0, out.length - 10))).toThrow(CodecError);
  });

  test('garbage is refused, not decoded into something', () => {
    expect(() => snappyDecompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow();
  });
});

describe('zstd', () => {
  const raw = Buffer.from('kafka zstd batch '.repeat(5000));
  const fallback = zstdCodec(false);

  test('the wasm fallback decodes frames without a content size (as Java producers write them)', async () => {
    const frame = await fallback.compress(raw);
    expect(parseFrameHeader(frame).contentSize).toBeNull();
    expect((await fallback.decompress(frame)).equals(raw)).toBe(true);
  });

  test('a corrupt frame is refused', async () => {
    const frame = Buffer.from(await fallback.compress(raw));
    frame[frame.length - 5]! ^= 0xff;
    await expect(fallback.decompress(frame)).rejects.toThrow();
  });

  (hasNativeZstd ? test : test.skip)('native and wasm zstd read each other', async () => {
    const native = zstdCodec(true);
    expect((await native.decompress(await fallback.compress(raw))).equals(raw)).toBe(true);
    expect((await fallback.decompress(await native.compress(raw))).equals(raw)).toBe(true);
  });
});

describe('restoreCodec', () => {
  test('the asked codec wins', () => expect(restoreCodec('gzip', { 'compression.type': 'zstd' })).toBe('gzip'));
  test("the source topic's codec is kept", () => expect(restoreCodec(null, { 'compression.type': 'zstd' })).toBe('zstd'));
  test('uncompressed topics stay uncompressed', () => expect(restoreCodec(null, { 'compression.type': 'uncompressed' })).toBe('none'));
  test('producer (the default) and unset mean lz4', () => {
    expect(restoreCodec(null, { 'compression.type': 'producer' })).toBe('lz4');
    expect(restoreCodec(undefined, {})).toBe('lz4');
  });
});
