/**
 * kbak dump --incremental: a chain of three dumps with a producer writing in between; each
 * backup is complete on its own (restored alone, read back with kcat, exactly the source's
 * records up to its cut), later backups share the earlier segments and write only new
 * ones; a gap after retention and a recreated topic are recognised.
 */
import { listBackups, openBackup } from '../../src/backup/catalog';
import { runKbak } from '../support/kbak-cli';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { javaTopicId, kcatConsume, type PeerRecord } from '../support/peers';
import { createTopic, produce } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';
import { allKeys, newDestination, type StoreKind } from '../support/stores';

const kafka = testKafka();

const comparable = (r: PeerRecord): Omit<PeerRecord, 'offset'> => ({
  partition: r.partition,
  timestamp: r.timestamp,
  key: r.key,
  value: r.value,
  headers: r.headers,
});

async function write(topic: string, from: number, n: number): Promise<void> {
  await produce(
    kafka,
    topic,
    Array.from({ length: n }, (_, j) => ({
      partition: (from + j) % 2,
      key: Buffer.from(`k${from + j}`),
      value: Buffer.from(`v${from + j}`),
      headers: [{ key: 'n', value: Buffer.from(String(from + j)) }],
      timestamp: String(Date.now()),
    })),
  );
}

/**
 * Deletes the topic and creates it again under the same name (a new topic ID), empty, with 2
 * partitions. Deletion completes after deleteTopics returns: wait until the broker no longer
 * lists the topic (a fixed pause raced with a slow broker), and create again while it still
 * answers that the topic exists.
 */
async function recreateTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
    const deadline = Date.now() + 60_000;
    while ((await admin.listTopics()).includes(topic)) {
      if (Date.now() > deadline) throw new Error(`topic ${topic} was still listed 60 s after its deletion`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await createTopic(kafka, topic, 2);
      return;
    } catch (err) {
      if (attempt >= 50 || !/already exists|marked for deletion/i.test(String((err as Error).message))) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function dumpIncremental(
  topic: string,
  dest: string,
): Promise<{ backupId: string; records: number; backupRecords: number; incremental: boolean; gaps: unknown[]; recreatedTopics: string[] }> {
  const r = await runKbak(['dump', '--incremental', '--topic', topic, '--to', dest, '--name', 'inc', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe.each<StoreKind>(['disk', 's3'])('incremental chain on %s', (kind) => {
  it('three dumps, each restorable alone with exactly the records up to its cut', async () => {
    const topic = uniqueName('inc');
    await createTopic(kafka, topic, 2);
    const { dest, store } = newDestination(kind, 'inc');
    const expected: PeerRecord[][] = [];
    const summaries: Array<Awaited<ReturnType<typeof dumpIncremental>>> = [];
    for (const [from, n] of [
      [0, 30],
      [30, 20],
      [50, 10],
    ] as const) {
      await write(topic, from, n);
      expected.push(kcatConsume(topic));
      summaries.push(await dumpIncremental(topic, dest));
    }
    expect(summaries.map((s) => [s.records, s.backupRecords, s.incremental])).toEqual([
      [30, 30, false],
      [20, 50, true],
      [10, 60, true],
    ]);

    // Segments are shared, not copied: the store holds each record once.
    const segs = (await allKeys(store, 'inc/segments')).filter((k) => k.endsWith('.kseg'));
    const backups = await Promise.all(summaries.map((s) => openBackup(store, s.backupId, 'inc')));
    const keysOf = (i: number): string[] => backups[i]!.manifest.topics[0]!.partitions.flatMap((p) => p.segments.map((s) => backups[i]!.storeKey(s)));
    expect(new Set(keysOf(2))).toEqual(new Set(segs));
    expect(keysOf(0).every((k) => keysOf(1).includes(k) && keysOf(2).includes(k))).toBe(true);
    expect(backups[2]!.manifest.topics[0]!.partitions.every((p) => p.basedOn === summaries[1]!.backupId && p.startOffset === '0')).toBe(true);

    for (const [i, s] of summaries.entries()) {
      const verify = await runKbak(['verify', s.backupId, '--source', dest]);
      expect(verify.code).toBe(0);
      const lane = uniqueName(`l${i}`).slice(0, 20);
      const r = await runKbak(['restore', '--lane', lane, '--source', dest, '--from', s.backupId, '--json', '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(kcatConsume(`${lane}.${topic}`).map(comparable)).toEqual(expected[i]!.map(comparable));
    }
  });
});

describe('incremental edge cases (disk)', () => {
  it('records a gap when the source deleted records past the previous end', async () => {
    const topic = uniqueName('gap');
    await createTopic(kafka, topic, 2);
    const { dest } = newDestination('disk', 'gap');
    await write(topic, 0, 10); // 5 per partition, offsets 0..4
    await dumpIncremental(topic, dest);
    await write(topic, 10, 10); // offsets 5..9
    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs needs the leaders known first
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '8' }] });
    await admin.disconnect();
    const r = await runKbak(['dump', '--incremental', '--topic', topic, '--to', dest, '--name', 'inc']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`warning: gap in ${topic}/0: offsets 5..7 were deleted`);
    const b = await openBackup(new (await import('../../src/store/disk')).DiskStore(dest), 'latest');
    const p0 = b.partition(topic, 0);
    expect(p0.gaps).toEqual([{ startOffset: '5', endOffset: '8' }]);
    expect([p0.startOffset, p0.logStartOffset, p0.endOffset, p0.records]).toEqual(['0', '8', '10', 7]);
    expect(b.partition(topic, 1).records).toBe(10);
    expect((await runKbak(['verify', 'latest', '--source', dest])).code).toBe(0);
  });

  it('backs a deleted and recreated topic up in full', async () => {
    const topic = uniqueName('recr');
    await createTopic(kafka, topic, 2);
    const { dest, store } = newDestination('disk', 'recr');
    await write(topic, 0, 20);
    await dumpIncremental(topic, dest);
    await recreateTopic(topic);
    await write(topic, 100, 6);
    const s = await dumpIncremental(topic, dest);
    expect(s.recreatedTopics).toEqual([topic]);
    expect([s.incremental, s.records, s.backupRecords]).toEqual([false, 6, 6]);
    expect((await listBackups(store, 'inc')).length).toBe(2);
  });

  it('backs a recreated topic up in full even when it has grown past the previous end (topic IDs)', async () => {
    const topic = uniqueName('regrown');
    await createTopic(kafka, topic, 2);
    const { dest } = newDestination('disk', 'regrown');
    await write(topic, 0, 4);
    await dumpIncremental(topic, dest);
    await recreateTopic(topic);
    // More records than before on every partition: offsets alone cannot tell the topic is new.
    await write(topic, 100, 12);
    const s = await dumpIncremental(topic, dest);
    expect(s.recreatedTopics).toEqual([topic]);
    expect([s.incremental, s.records, s.backupRecords]).toEqual([false, 12, 12]);
    // The manifest names the topic ID, read as plain JSON and compared with Kafka's own tool.
    const manifest = JSON.parse(readFileSync(join(dest, 'inc', s.backupId, 'manifest.json'), 'utf8')) as { topics: Array<{ name: string; topicId?: string }> };
    expect(manifest.topics.find((t) => t.name === topic)?.topicId).toBe(javaTopicId(topic));
  });
});
