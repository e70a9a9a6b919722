/**
 * A dump records `cut.time` (FORMAT.md settled point 24): the clock read just before its first
 * ListOffsets, so every record committed before that instant lies below every partition's cut.
 * The clock here ticks one second per reading and notes how many Kafka calls were made by then.
 */
import { openBackup } from '../../src/backup/catalog';
import { MemoryKafka } from '../../src/kafka/memory';
import { MemoryStore } from '../../src/store/memory';
import { dumpTopics } from '../support/memory-backup';

it('a dump writes cut.time: the reading of its clock right before the first ListOffsets, between startedAt and completedAt', async () => {
  const kafka = new MemoryKafka();
  for (const t of ['a', 'b']) {
    await kafka.createTopics([{ topic: t, partitions: 2, replicationFactor: 1, configs: {} }]);
    kafka.append(t, 0, [{ timestamp: 1n, key: null, value: Buffer.from('x'), headers: [] }]);
  }
  const readings: Array<{ at: Date; callsBefore: number }> = [];
  let tick = Date.UTC(2026, 11, 6, 7, 0, 0);
  const now = (): Date => {
    const at = new Date((tick += 1000));
    readings.push({ at, callsBefore: kafka.calls.length });
    return at;
  };
  const store = new MemoryStore();
  const { manifest } = await dumpTopics(kafka, store, ['a', 'b'], { now });
  const firstListOffsets = kafka.calls.indexOf('listOffsets');
  const cut = readings.find((r) => r.at.toISOString() === manifest.cut.time);
  expect(cut).toBeDefined();
  // Nothing between the reading and the first ListOffsets: the reading is the last before it.
  expect(cut!.callsBefore).toBe(firstListOffsets);
  expect(readings.filter((r) => r.callsBefore <= firstListOffsets).at(-1)).toBe(cut);
  expect(manifest.cut.time! > manifest.startedAt).toBe(true);
  expect(manifest.cut.time! < manifest.completedAt).toBe(true);
  // As written, and as a reader takes it.
  const back = await openBackup(store, manifest.backupId);
  expect(back.manifest.cut.time).toBe(manifest.cut.time);
});
