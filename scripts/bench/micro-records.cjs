#!/usr/bin/env node
/**
 * Micro-measurement of the record hot paths (issue 16: one walker and one writer per
 * format must not add work or allocation per record). Runs on a build (`npm run build`):
 *
 *   node --max-semi-space-size=256 --min-semi-space-size=256 scripts/bench/micro-records.cjs [distDir]
 *
 * Per path: nanoseconds per record (fastest pass, median) and bytes allocated per record
 * (see micro-measure.cjs).
 *
 * - dump-transcode: BatchTranscoder over a Kafka batch, records written into a block
 *   (writePending): the dump's fast path.
 * - segment-encode: checkedRecordSize + encodeRecordInto per record object (SegmentWriter.append).
 * - segment-scan: scanRecordAt over a block body (verify, cat).
 * - segment-decode: decodeRecords with views (the object path: restore with filters).
 * - segment-raw-read: readSegmentRawBlocks over a stored segment (framing walk, CRC, SHA-256).
 * - restore-transcode: RecordSetBuilder.transcode over a block body (restore's fast path).
 * - walker-walk: SegmentRecordWalker.walk with header positions (when the build has it).
 */
const path = require('node:path');
const { measure } = require('./micro-measure.cjs');

const dist = path.resolve(process.argv[2] ?? 'dist');
const load = (m) => require(path.join(dist, m));
const { encodeRecordSet } = load('kafka/record-batch.js');
const { BatchTranscoder } = load('dump/transcode.js');
const format = load('segment/format.js');
const { readSegmentRawBlocks } = load('segment/reader.js');
const { RecordSetBuilder } = load('restore/record-transcoder.js');
let walkerModule = null;
try {
  walkerModule = load('segment/record-walker.js');
} catch {
  walkerModule = null;
}

const RECORDS = 5000;
const PASSES = 25;

function record(i) {
  return {
    offset: BigInt(1_000_000 + i),
    timestamp: BigInt(1_700_000_000_000 + i * 3),
    timestampType: 0,
    key: Buffer.from(`key-${i}`.padEnd(16, '.')),
    value: Buffer.alloc(200, i & 0xff),
    headers: [
      { key: 'traceparent', value: Buffer.from(`00-${i}`.padEnd(55, '0')) },
      { key: 'b3', value: null },
    ],
  };
}

const records = Array.from({ length: RECORDS }, (_, i) => record(i));

// A Kafka batch's records section and header, as the fetch reader hands them to the dump.
const set = encodeRecordSet(records);
const batchHeader = {
  baseOffset: records[0].offset,
  lastOffset: records[RECORDS - 1].offset,
  magic: 2,
  codec: 0,
  timestampType: 0,
  isTransactional: false,
  isControl: false,
  baseTimestamp: records[0].timestamp,
  maxTimestamp: records[RECORDS - 1].timestamp,
  producerId: -1n,
  recordCount: RECORDS,
};
const noWindow = { since: null, until: null };
const schemas = { observeId() {} };

// A segment block body of the same records, and a stored segment file of it.
const body = Buffer.concat(records.map((r) => format.encodeRecord(r)));
const ctx = { name: 'bench.kseg', blockIndex: 0, position: 16 };
const { crc32 } = require('node:zlib');
const segment = Buffer.concat([
  format.encodeFileHeader(),
  format.encodeBlockHeader({ codec: format.Codec.Stored, rawLength: body.length, storedLength: body.length, recordCount: RECORDS, crc32: crc32(body) }),
  body,
]);

const block = Buffer.allocUnsafe(body.length + 1024);

const paths = {
  'dump-transcode': () => {
    const t = new BatchTranscoder(batchHeader, set.records, 0n, 2n ** 62n, noWindow, schemas);
    let pos = 0;
    for (let more = t.advance(); more; more = t.advance()) {
      t.writePending(block, pos);
      pos += t.size;
    }
    if (pos !== body.length) throw new Error(`dump-transcode wrote ${pos} bytes, expected ${body.length}`);
  },
  'segment-encode': () => {
    let pos = 0;
    for (const r of records) {
      const size = format.checkedRecordSize(r);
      pos = format.encodeRecordInto(r, block, pos, size);
    }
    if (pos !== body.length) throw new Error('segment-encode');
  },
  'segment-scan': () => {
    let p = 0;
    for (let i = 0; i < RECORDS; i++) p = format.scanRecordAt(body, p, body.length, i, ctx).next;
  },
  'segment-decode': () => {
    if (format.decodeRecords(body, RECORDS, ctx, true).length !== RECORDS) throw new Error('decode');
  },
  'segment-raw-read': async () => {
    async function* one() {
      yield segment;
    }
    for await (const b of readSegmentRawBlocks(one(), { name: 'bench.kseg' })) if (b.count !== RECORDS) throw new Error('raw');
  },
  'restore-transcode': () => {
    const b = new RecordSetBuilder(64, body.length * 2, { ids: null, laneTopic: 't' });
    const r = b.transcode(body, 0, body.length, 0, ctx, 0, { maxRecords: RECORDS, maxBytes: 2 ** 30 });
    if (r.records !== RECORDS) throw new Error('restore-transcode');
  },
};
if (walkerModule) {
  const w = new walkerModule.SegmentRecordWalker();
  paths['walker-walk'] = () => {
    let p = 0;
    for (let i = 0; i < RECORDS; i++) {
      if (!w.walk(body, p, body.length, true)) throw w.error(ctx, i);
      p = w.next;
    }
  };
}

(async () => {
  console.log(`dist: ${dist}, ${RECORDS} records of ${body.length / RECORDS} bytes per pass, ${PASSES} passes`);
  for (const [name, fn] of Object.entries(paths)) await measure(name, fn, { per: RECORDS, passes: PASSES, warmups: 30 });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
