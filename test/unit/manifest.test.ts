import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupPrefix, isBackupId, manifestKey, newBackupId, segmentKey, segmentKeyV1, validateClusterName } from '../../src/backup/layout';
import { decodeManifest, encodeManifest, manifestV1Schema, MANIFEST_VERSION } from '../../src/backup/manifest';
import { IntegrityError, UsageError } from '../../src/errors';

const samplePath = join(__dirname, '..', 'vectors', 'backup-v1', 'sample', '20261125T120000000Z', 'manifest.json');
const sampleBytes = (): Buffer => readFileSync(samplePath);
const sampleJson = (): Record<string, unknown> => JSON.parse(sampleBytes().toString('utf8')) as Record<string, unknown>;
const bytes = (o: unknown): Buffer => Buffer.from(JSON.stringify(o), 'utf8');

function decodeError(b: Buffer): IntegrityError {
  try {
    decodeManifest(b, 'c/x');
  } catch (err) {
    expect(err).toBeInstanceOf(IntegrityError);
    return err as IntegrityError;
  }
  throw new Error('decodeManifest accepted the input');
}

describe('decodeManifest', () => {
  it('accepts the sample manifest and round-trips it byte for byte', () => {
    const m = decodeManifest(sampleBytes(), 'sample/20261125T120000000Z');
    expect(m.formatVersion).toBe(1);
    expect(m.backupId).toBe('20261125T120000000Z');
    expect(m.topics[0]!.partitions.map((p) => p.partition)).toEqual([0, 1]);
    // Read as the in-memory (v2) form: no incremental parts.
    expect(m.incremental).toBe(false);
    expect(m.topics[0]!.partitions.every((p) => p.basedOn === null && p.gaps.length === 0)).toBe(true);
    expect(encodeManifest(manifestV1Schema.parse(sampleJson())).equals(sampleBytes())).toBe(true);
  });

  it('rejects invalid JSON', () => {
    const e = decodeError(Buffer.from('{"format": "kbak-backup",', 'utf8'));
    expect(e.message).toMatch(/^manifest c\/x is not valid JSON/);
  });

  it('rejects a truncated manifest (a valid prefix is not valid JSON)', () => {
    const b = sampleBytes();
    expect(decodeError(b.subarray(0, b.length - 3)).message).toMatch(/not valid JSON/);
  });

  it('rejects a higher formatVersion and says to upgrade', () => {
    const e = decodeError(bytes({ ...sampleJson(), formatVersion: MANIFEST_VERSION + 1 }));
    expect(e.message).toContain(`format version ${MANIFEST_VERSION + 1}`);
    expect(e.hint).toBe('upgrade kbak');
    expect(e.oneLine()).toMatch(/upgrade/);
  });

  it('refuses a higher version even when the rest of the manifest is unreadable', () => {
    expect(decodeError(bytes({ formatVersion: 7 })).hint).toBe('upgrade kbak');
  });

  it('rejects other formatVersion values and a wrong format', () => {
    expect(decodeError(bytes({ ...sampleJson(), formatVersion: 0 })).message).toMatch(/invalid at formatVersion/);
    expect(decodeError(bytes({ ...sampleJson(), formatVersion: '1' })).message).toMatch(/invalid at formatVersion/);
    expect(decodeError(bytes({ ...sampleJson(), format: 'other' })).message).toMatch(/invalid at format:/);
  });

  it('names the path of a missing field', () => {
    const j = sampleJson();
    delete j.stats;
    expect(decodeError(bytes(j)).message).toMatch(/invalid at stats:/);

    const deep = sampleJson() as { topics: Array<{ partitions: Array<{ segments: Array<Record<string, unknown>> }> }> };
    delete deep.topics[0]!.partitions[1]!.segments[0]!.sha256;
    expect(decodeError(bytes(deep)).message).toMatch(/invalid at topics\.0\.partitions\.1\.segments\.0\.sha256:/);
  });

  it('rejects offsets written as JSON numbers', () => {
    const j = sampleJson() as { topics: Array<{ partitions: Array<Record<string, unknown>> }> };
    j.topics[0]!.partitions[0]!.endOffset = 6;
    expect(decodeError(bytes(j)).message).toMatch(/invalid at topics\.0\.partitions\.0\.endOffset/);
  });

  it('rejects a non-JSON-object root', () => {
    expect(decodeError(bytes(null)).message).toMatch(/invalid at \(root\)/);
  });

  it('ignores unknown fields (and drops them)', () => {
    const j = sampleJson() as Record<string, unknown> & { topics: Array<Record<string, unknown>> };
    j.futureField = { x: 1 };
    j.topics[0]!.futureTopicField = true;
    const m = decodeManifest(bytes(j), 'c/x');
    expect(m).not.toHaveProperty('futureField');
    expect(m.topics[0]).not.toHaveProperty('futureTopicField');
    expect(m.formatVersion).toBe(1);
  });
});

describe('layout', () => {
  it('newBackupId formats a fixed date in UTC with milliseconds', () => {
    expect(newBackupId(new Date('2026-11-25T12:00:00.000Z'))).toBe('20261125T120000000Z');
    expect(newBackupId(new Date('2026-11-25T17:53:58.123Z'))).toBe('20261125T175358123Z');
    expect(newBackupId(new Date('2027-01-02T03:04:05.006+01:00'))).toBe('20270102T020405006Z');
  });

  it('backup IDs sort lexically in time order', () => {
    const dates = ['2026-11-25T12:00:00.000Z', '2026-11-25T12:00:00.001Z', '2026-11-25T12:00:01.000Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'];
    const ids = dates.map((d) => newBackupId(new Date(d)));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it('isBackupId', () => {
    expect(isBackupId('20261125T120000000Z')).toBe(true);
    expect(isBackupId(newBackupId())).toBe(true);
    for (const bad of ['20261125T120000Z', '20261125T1200000000Z', '20261125t120000000z', '2026-11-25T12:00:00.000Z', 'latest', '', '20261125T120000000Z/']) {
      expect(isBackupId(bad)).toBe(false);
    }
  });

  it('segmentKey (v2) lives in the shared pool of the cluster and carries the writer tag', () => {
    expect(segmentKey('orders', 3, 42n, '20261125T120000000Z-0a1b2c3d')).toBe('segments/orders/3/00000000000000000042-20261125T120000000Z-0a1b2c3d.kseg');
  });

  it('segmentKeyV1 pads the first offset to 20 digits', () => {
    const segmentKey = segmentKeyV1;
    expect(segmentKey('orders', 0, 0n)).toBe('topics/orders/0/00000000000000000000.kseg');
    expect(segmentKey('orders', 11, 5n)).toBe('topics/orders/11/00000000000000000005.kseg');
    expect(segmentKey('a.b_c-d', 3, 9223372036854775807n)).toBe('topics/a.b_c-d/3/09223372036854775807.kseg');
    // Padding makes lexical order equal numeric order.
    const keys = [2n, 10n, 100n, 9n].map((o) => segmentKey('t', 0, o));
    expect([...keys].sort()).toEqual([2n, 9n, 10n, 100n].map((o) => segmentKey('t', 0, o)));
  });

  it('backupPrefix and manifestKey', () => {
    expect(backupPrefix('sample', '20261125T120000000Z')).toBe('sample/20261125T120000000Z');
    expect(manifestKey('sample', '20261125T120000000Z')).toBe('sample/20261125T120000000Z/manifest.json');
  });

  it('validateClusterName accepts letters, digits, ".", "_", "-" up to 100 characters', () => {
    for (const ok of ['sample', 'prod-eu', 'a', 'A.b_c-9', '0abc', 'x'.repeat(100)]) expect(validateClusterName(ok)).toBe(ok);
  });

  it('validateClusterName rejects other names with a usage error and a hint', () => {
    for (const bad of ['', '-prod', '.hidden', '_x', 'a/b', 'a b', 'prod:eu', 'é', '..', 'x'.repeat(101)]) {
      let err: unknown;
      try {
        validateClusterName(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toBe(`cluster name "${bad}" is invalid`);
      expect((err as UsageError).hint).toMatch(/letters, digits/);
    }
  });
});
