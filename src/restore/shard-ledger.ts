/**
 * The ledger records a sharded restore writes besides the lane's entry: a shard's done record
 * under a key of its own (Kafka has no compare-and-set, so completion is never a rewrite of a
 * shared record), and the finaliser's tombstones on them. LEDGER.md "Sharded restores".
 */
import type { RecordProducer } from '../kafka/adapter';
import { withRetry } from '../lane/kafka-ops';
import { encodeShardDone, shardDoneKey, type ShardDone } from '../lane/ledger';

function send(producer: RecordProducer, topic: string, key: Buffer, value: Buffer | null): Promise<unknown> {
  return withRetry(() => producer.send(topic, 0, [{ key, value, timestamp: BigInt(Date.now()), headers: [] }], { compression: 'none' }));
}

/** Writes shard `done.shard`'s done record of plan `done.plan`. */
export async function writeShardDone(producer: RecordProducer, topic: string, done: ShardDone): Promise<void> {
  const { key, value } = encodeShardDone(done);
  await send(producer, topic, key, value);
}

/** Tombstones the done records of shards `shards` of plan `plan` (the plan is finished, or being prepared anew). */
export async function removeShardDone(producer: RecordProducer, topic: string, lane: string, plan: string, shards: Iterable<number>): Promise<void> {
  for (const shard of shards) await send(producer, topic, Buffer.from(shardDoneKey(lane, plan, shard), 'utf8'), null);
}
