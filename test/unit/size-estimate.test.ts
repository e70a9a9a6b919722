/**
 * The sharded dump's partition sizes (src/dump/size-estimate.ts): from the brokers' log dirs
 * where the cluster says (scaled to the offsets read), else offsets × a record size sampled per
 * topic. On MemoryKafka, whose log-dir sizes are its records' bytes and which can refuse them as
 * a principal without DESCRIBE on the cluster is refused.
 */
import { estimatePartitionBytes } from '../../src/dump/size-estimate';
import { MemoryKafka } from '../../src/kafka/memory';
import { partitionKey } from '../../src/model/partition-key';

function cluster(): MemoryKafka {
  const k = new MemoryKafka();
  // small: 3 partitions of 100-byte values; big: 1 partition of 2000-byte values.
  k.topics.set('small', { partitions: [], replicationFactor: 1, configs: {} });
  k.topics.set('big', { partitions: [], replicationFactor: 1, configs: {} });
  for (let p = 0; p < 3; p++) k.topics.get('small')!.partitions.push({ records: [], logStart: 0n, next: 0n });
  k.topics.get('big')!.partitions.push({ records: [], logStart: 0n, next: 0n });
  for (let i = 0; i < 300; i++) k.append('small', i % 3, [{ timestamp: 1n, key: null, value: Buffer.alloc(100), headers: [] }]);
  for (let i = 0; i < 100; i++) k.append('big', 0, [{ timestamp: 1n, key: null, value: Buffer.alloc(2000), headers: [] }]);
  return k;
}

const targets = [
  ...[0, 1, 2].map((partition) => ({ topic: 'small', partition, start: 0n, end: 100n, logStart: 0n })),
  { topic: 'big', partition: 0, start: 50n, end: 100n, logStart: 0n },
];

describe('estimatePartitionBytes', () => {
  it("takes the log dirs' sizes where the cluster gives them, scaled to the offsets read", async () => {
    const k = cluster();
    const e = await estimatePartitionBytes(k, targets, 10_000);
    expect(e.source).toBe('log-dirs');
    const sizes = (await k.partitionSizes(['small', 'big']))!;
    expect(e.bytes.get(partitionKey('small', 1))).toBe(Number(sizes.get(partitionKey('small', 1))));
    // Half of big's offsets are read: half its bytes.
    expect(e.bytes.get(partitionKey('big', 0))).toBe(Math.round(Number(sizes.get(partitionKey('big', 0))) / 2));
    expect(e.bytes.get(partitionKey('big', 0))).toBeGreaterThan(e.bytes.get(partitionKey('small', 0))! * 5);
  });

  it('samples record sizes per topic when the cluster does not say, with the same proportions', async () => {
    const k = cluster();
    k.reportsPartitionSizes = false;
    const e = await estimatePartitionBytes(k, targets, 10_000);
    expect(e.source).toBe('sampled');
    const small = e.bytes.get(partitionKey('small', 0))!;
    const big = e.bytes.get(partitionKey('big', 0))!;
    // 100 offsets × ~100 B against 50 offsets × ~2000 B.
    expect(small).toBeGreaterThanOrEqual(100 * 100);
    expect(small).toBeLessThan(100 * 150);
    expect(big).toBeGreaterThanOrEqual(50 * 2000);
    expect(big).toBeLessThan(50 * 2100);
  });

  it('an empty range weighs nothing either way', async () => {
    const k = cluster();
    const empty = [{ topic: 'small', partition: 0, start: 100n, end: 100n, logStart: 100n }];
    expect((await estimatePartitionBytes(k, empty, 10_000)).bytes.get(partitionKey('small', 0))).toBe(0);
    k.reportsPartitionSizes = false;
    expect((await estimatePartitionBytes(k, empty, 10_000)).bytes.get(partitionKey('small', 0))).toBe(0);
  });
});
