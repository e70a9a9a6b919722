/**
 * Pins segment format v1 to the committed vectors in test/vectors/segment-v1.
 * UPDATE_VECTORS=1 npx jest test/unit/segment-vectors --selectProjects unit   rewrites them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Codec } from '../../src/segment/format';
import { readSegmentBuffer } from '../../src/segment/reader';
import { blockSummary, buildVectors, encodeSegment, recordFromJson, recordToJson, type RecordsFile } from '../vectors/segment-v1/generate';

const dir = join(__dirname, '..', 'vectors', 'segment-v1');
const update = process.env.UPDATE_VECTORS === '1';

describe('segment v1 test vectors', () => {
  let kseg: Buffer;
  let expected: RecordsFile;
  // With UPDATE_VECTORS=1 the files are rewritten first and every assertion below still runs
  // against what was written, so a regeneration cannot commit vectors that break a rule.
  beforeAll(async () => {
    if (update) {
      const v = await buildVectors();
      writeFileSync(join(dir, 'sample.kseg'), v.kseg);
      writeFileSync(join(dir, 'records.json'), v.recordsJson);
      writeFileSync(join(dir, 'sample.kseg.hex'), v.hex);
    }
    kseg = readFileSync(join(dir, 'sample.kseg'));
    expected = JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8')) as RecordsFile;
  });

  it('covers what the vectors promise: two blocks, one zstd and one stored', () => {
    expect(blockSummary(kseg).map((b) => b.codec)).toEqual([Codec.Zstd, Codec.Stored]);
    expect(expected.file.bytes).toBe(kseg.length);
    const recs = expected.records;
    expect(recs.some((r) => r.key === null)).toBe(true);
    expect(recs.some((r) => r.value === null)).toBe(true);
    expect(recs.some((r) => r.value === '')).toBe(true);
    expect(recs.some((r) => new Set(r.headers.map((h) => h.key)).size < r.headers.length)).toBe(true);
  });

  it('sample.kseg decodes to records.json', async () => {
    const got = await readSegmentBuffer(kseg, {
      name: 'sample.kseg',
      expectedSha256: expected.file.sha256,
      expectedRecords: expected.records.length,
    });
    expect(got.map(recordToJson)).toEqual(expected.records);
  });

  it('records.json re-encodes to byte-identical sample.kseg', async () => {
    const again = await encodeSegment(expected.records.map(recordFromJson), expected.writer.blockBytes, expected.writer.zstdLevel);
    expect(again.equals(kseg)).toBe(true);
  });

  it('the committed files match the generator', async () => {
    const v = await buildVectors();
    expect(v.kseg.equals(kseg)).toBe(true);
    expect(v.recordsJson).toBe(readFileSync(join(dir, 'records.json'), 'utf8'));
    expect(v.hex).toBe(readFileSync(join(dir, 'sample.kseg.hex'), 'utf8'));
  });
});
