/**
 * kbak list / inspect / verify as a user runs them, on disk and on S3: verify must catch a
 * flipped byte, a truncated segment, a missing segment and a manifest that breaks the
 * partition rules, name the bad object and exit with code 3.
 */
import { randomBytes } from 'node:crypto';
import { manifestKey } from '../../src/backup/layout';
import type { ObjectStore } from '../../src/store/store';
import { runKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';
import { allKeys, newDestination, type StoreKind } from '../support/stores';

const kafka = testKafka();
let topic: string;
const PER_PARTITION = [180, 40];

beforeAll(async () => {
  topic = uniqueName('verify');
  await createTopic(kafka, topic, 2);
  // Incompressible 1 KiB values so that --segment-bytes 65536 rolls partition 0 over several segments.
  const records = PER_PARTITION.flatMap((n, partition) =>
    Array.from({ length: n }, (_, i) => ({ partition, key: Buffer.from(`k${i}`), value: randomBytes(1024), headers: [], timestamp: String(Date.now()) })),
  );
  await produce(kafka, topic, records);
});

async function expectVerifyFails(dest: string, object: string, why: RegExp): Promise<void> {
  const r = await runKbak(['verify', 'latest', '--source', dest]);
  expect(r.code).toBe(5); // ExitCode.CORRUPT
  const failed = r.stdout.split('\n').find((l) => l.startsWith('FAILED'));
  expect(failed).toContain(object);
  expect(failed).toMatch(why);
  expect(r.stderr).toMatch(/^kbak: 1 of 1 backups failed verification: first bad object .*\n$/);
}

async function withChanged(store: ObjectStore, key: string, change: (b: Buffer) => Buffer | null, body: () => Promise<void>): Promise<void> {
  const original = await store.get(key);
  const changed = change(Buffer.from(original));
  if (changed === null) await store.delete(key);
  else await store.put(key, changed);
  try {
    await body();
  } finally {
    await store.put(key, original);
  }
}

describe.each<StoreKind>(['disk', 's3'])('list, inspect, verify on %s', (kind) => {
  const { dest, store } = newDestination(kind, 'verify');
  let backupId: string;
  let segKeys: string[];

  beforeAll(async () => {
    const r = await runKbak(['dump', '--topic', topic, '--to', dest, '--name', 'vt', '--segment-bytes', '65536', '--block-bytes', '16384', '--json']);
    expect(r.code).toBe(0);
    backupId = JSON.parse(r.stdout).backupId;
    segKeys = (await allKeys(store, 'vt')).filter((k) => k.endsWith('.kseg'));
    expect(segKeys.length).toBeGreaterThan(2);
  });

  it('lists the backup as a table and as JSON', async () => {
    const json = await runKbak(['list', '--source', dest, '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout);
    expect(rows).toEqual([
      expect.objectContaining({ id: backupId, cluster: 'vt', kind: 'full', topics: [topic], records: 220, sharedBytes: 0, formatVersion: 2 }),
    ]);
    const sizes = await Promise.all(segKeys.map((k) => store.size(k)));
    expect(rows[0].storedBytes).toBe(sizes.reduce((a, b) => a! + b!, 0));
    const human = await runKbak(['list', '--source', dest]);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+TIME\s+AGE\s+CLUSTER\s+KIND\s+TOPICS\s+RECORDS\s+STORED\s+SHARED$/);
    expect(human.stdout).toContain(`${backupId}  `);
  });

  it('inspects offsets, counts and time ranges per partition', async () => {
    const r = await runKbak(['inspect', 'latest', '--source', dest, '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(
      d.topics[0].partitions.map((p: { partition: number; records: number; endOffset: string; startOffset: string }) => [
        p.partition,
        p.records,
        p.startOffset,
        p.endOffset,
      ]),
    ).toEqual(offsets.sort((a, b) => a.partition - b.partition).map((o) => [o.partition, PER_PARTITION[o.partition], o.low, o.high]));
    expect(Number(d.topics[0].partitions[0].minTimestamp)).toBeGreaterThan(Date.now() - 3_600_000);
    const human = await runKbak(['inspect', backupId, '--source', dest]);
    expect(human.stdout).toContain(`topic ${topic}: 2 partitions`);
  });

  it('verifies a good backup (full and --quick)', async () => {
    const full = await runKbak(['verify', 'latest', '--source', dest]);
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(new RegExp(`^ok\\s+vt/${backupId}: ${segKeys.length} segments, 220 records`));
    expect((await runKbak(['verify', '--all', '--quick', '--source', dest])).code).toBe(0);
  });

  it('catches a flipped byte (which --quick, checking sizes only, does not)', async () => {
    const key = segKeys[1]!;
    await withChanged(
      store,
      key,
      (b) => {
        const at = Math.floor(b.length / 2);
        b[at] = b[at]! ^ 0x01;
        return b;
      },
      async () => {
        await expectVerifyFails(dest, key, /CRC-32 mismatch|SHA-256|zstd/);
        expect((await runKbak(['verify', 'latest', '--quick', '--source', dest])).code).toBe(0);
      },
    );
  });

  it('catches a truncated segment', async () => {
    const key = segKeys[0]!;
    await withChanged(
      store,
      key,
      (b) => b.subarray(0, b.length - 100),
      () => expectVerifyFails(dest, key, /size is \d+ bytes, the manifest says/),
    );
  });

  it('catches a missing segment, also with --quick', async () => {
    const key = segKeys[segKeys.length - 1]!;
    await withChanged(
      store,
      key,
      () => null,
      async () => {
        await expectVerifyFails(dest, key, /missing/);
        expect((await runKbak(['verify', 'latest', '--quick', '--source', dest])).code).toBe(5);
      },
    );
  });

  it('catches a manifest whose segments overlap', async () => {
    const key = manifestKey('vt', backupId);
    await withChanged(
      store,
      key,
      (b) => {
        const m = JSON.parse(b.toString('utf8'));
        const segs = m.topics[0].partitions.find((p: { partition: number }) => p.partition === 0).segments;
        segs[1].firstOffset = segs[0].lastOffset;
        return Buffer.from(JSON.stringify(m));
      },
      () => expectVerifyFails(dest, key, /overlaps the previous segment/),
    );
  });

  it('catches a manifest whose record totals do not add up', async () => {
    const key = manifestKey('vt', backupId);
    await withChanged(
      store,
      key,
      (b) => {
        const m = JSON.parse(b.toString('utf8'));
        m.topics[0].partitions[1].records += 1;
        return Buffer.from(JSON.stringify(m));
      },
      () => expectVerifyFails(dest, key, /segments hold 40 records but the partition says 41/),
    );
  });
});
