/**
 * The summarise phase of a dump (src/dump/summary.ts): this run's records and bytes next to
 * the whole backup's (an incremental backup also names its base's segments), per topic.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeManifest } from '../../src/backup/manifest';
import { summariseDump } from '../../src/dump/summary';

const incremental = decodeManifest(
  readFileSync(join(__dirname, '..', 'vectors', 'backup-v2', 'sample', '20261127T120000000Z', 'manifest.json')),
  'sample/20261127T120000000Z',
);

describe('summariseDump', () => {
  it("counts this run's records and bytes, and the backup's from its manifest", () => {
    const s = summariseDump({
      manifest: incremental,
      location: 'file:///backups/sample/20261127T120000000Z',
      partitions: 2,
      written: { records: 3, rawBytes: 390, storedBytes: 400, segments: 2 },
      writtenByTopic: (topic) =>
        topic === 'orders' ? { records: 3, rawBytes: 390, storedBytes: 400, segments: 2 } : { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 },
      continued: { newGaps: [{ topic: 'orders', partition: 1, startOffset: '2', endOffset: '4' }], recreatedTopics: [] },
      durationMs: 1500,
    });
    expect(s).toEqual({
      backupId: '20261127T120000000Z',
      cluster: 'sample',
      location: 'file:///backups/sample/20261127T120000000Z',
      topics: 1,
      partitions: 2,
      records: 3,
      rawBytes: 390,
      storedBytes: 400,
      compressionRatio: 390 / 400,
      segments: 2,
      schemas: 1,
      consumerGroups: 1,
      // The vector's manifest has no acls: not captured.
      acls: null,
      unknownSchemaIds: [],
      framedPayloadsWithUnknownId: 0,
      durationMs: 1500,
      recordsPerSecond: 2,
      incremental: true,
      backupRecords: 8,
      backupStoredBytes: 847,
      perTopic: [{ topic: 'orders', records: 3, rawBytes: 390, storedBytes: 400, basedOn: '20261126T120000000Z' }],
      gaps: [{ topic: 'orders', partition: 1, startOffset: '2', endOffset: '4' }],
      recreatedTopics: [],
    });
  });

  it('a run that wrote nothing and took no time: ratio 0, no division by zero', () => {
    const s = summariseDump({
      manifest: {
        ...incremental,
        incremental: false,
        topics: incremental.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, basedOn: null })) })),
      },
      location: 'x',
      partitions: 2,
      written: { records: 0, rawBytes: 0, storedBytes: 0, segments: 0 },
      writtenByTopic: () => ({ records: 0, rawBytes: 0, storedBytes: 0, segments: 0 }),
      continued: { newGaps: [], recreatedTopics: ['orders'] },
      durationMs: 0,
    });
    expect([s.compressionRatio, s.recordsPerSecond, s.incremental, s.perTopic[0]!.basedOn, s.recreatedTopics]).toEqual([0, 0, false, null, ['orders']]);
  });
});
