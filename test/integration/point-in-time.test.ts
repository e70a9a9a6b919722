/**
 * Point-in-time recovery's meaning of a time on a log is Kafka's own: ListOffsets by
 * timestamp. firstOffsetAtOrAfter asks a backup of a real topic whose timestamps do not
 * grow with offsets, and kcat asks the broker (librdkafka, no code shared with kbak): the
 * same offset for every time, while at most one segment of the backup is read.
 */
import { randomBytes } from 'node:crypto';
import { openBackup } from '../../src/backup/catalog';
import { firstOffsetAtOrAfter } from '../../src/recover/point-in-time-read';
import { runKbak } from '../support/kbak-cli';
import { kcatOffsetForTime } from '../support/kcat';
import { createTopic, produce } from '../support/produce';
import { testKafka, uniqueName } from '../support/stack';
import { newDestination } from '../support/stores';

const kafka = testKafka();
const BASE = Date.UTC(2026, 10, 1, 0, 0, 0);

/** Record i's timestamp: a second apart; every 7th 50 s late, every 31st 5 minutes early. */
function stamp(i: number): number {
  if (i % 31 === 3) return BASE + (i + 300) * 1000;
  if (i % 7 === 0) return BASE + (i - 50) * 1000;
  return BASE + i * 1000;
}

it('answers as the broker does for every time, reading at most one segment', async () => {
  const topic = uniqueName('pit');
  await createTopic(kafka, topic, 2);
  const n = 300;
  // 600 random bytes a record in 16 KiB blocks: 64 KiB segments hold about 100.
  await produce(
    kafka,
    topic,
    Array.from({ length: n }, (_, i) => ({
      partition: i < n - 20 ? 0 : 1,
      key: Buffer.from(`k${i}`),
      value: randomBytes(600),
      headers: [],
      timestamp: String(stamp(i)),
    })),
  );
  const { dest, store } = newDestination('disk', 'pit');
  const r = await runKbak(['dump', '--topic', topic, '--to', dest, '--name', 'pit', '--segment-bytes', '65536', '--block-bytes', '16384']);
  expect(r.code).toBe(0);
  const backup = await openBackup(store, 'latest');
  expect(backup.partition(topic, 0).segments.length).toBeGreaterThanOrEqual(2);

  let opened = 0;
  const read = store.read.bind(store);
  store.read = (key: string) => {
    opened++;
    return read(key);
  };
  const times = new Set<bigint>([BigInt(BASE - 3_600_000), BigInt(BASE + 3_600_000)]);
  for (let i = 0; i < n; i += 9) for (const d of [-1, 0, 1]) times.add(BigInt(stamp(i) + d));
  let answered = 0;
  for (const at of times)
    for (const p of [0, 1]) {
      opened = 0;
      const ours = await firstOffsetAtOrAfter(backup, topic, p, at);
      const broker = kcatOffsetForTime(topic, p, at);
      expect([p, at, ours]).toEqual([p, at, broker]);
      expect(opened).toBeLessThanOrEqual(1);
      if (ours !== null) answered++;
    }
  // Not vacuous: most times had an answer on some partition.
  expect(answered).toBeGreaterThan(times.size / 2);
});
