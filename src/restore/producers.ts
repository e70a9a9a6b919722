/**
 * The producers of a restore: one idempotent producer per worker (sends within a worker are
 * sequential, workers run in parallel), connected (a few round trips each) while the
 * ledger, the schemas and the lane topics are prepared, and one for the ledger. Every one
 * that connected is closed in the end, whatever happened.
 */
import type { KafkaAdapter, RecordProducer } from '../kafka/adapter';

export class RestoreProducers {
  private connecting: Promise<Array<PromiseSettledResult<RecordProducer>>> | null = null;
  private readonly others: RecordProducer[] = [];

  constructor(private readonly kafka: KafkaAdapter) {}

  /** Starts connecting the workers' producers. */
  connectWorkers(n: number): void {
    this.connecting = Promise.allSettled(Array.from({ length: n }, () => this.kafka.producer()));
  }

  /** The workers' producers once connected; the first failure to connect, if any. */
  async workers(): Promise<RecordProducer[]> {
    const connected = await (this.connecting ?? Promise.resolve([]));
    const failed = connected.find((c) => c.status === 'rejected');
    if (failed) throw failed.reason;
    return connected.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
  }

  /** One more producer (the ledger's), closed with the others. */
  async one(): Promise<RecordProducer> {
    const p = await this.kafka.producer();
    this.others.push(p);
    return p;
  }

  /** Closes every producer that connected, including workers' that connected late. */
  async close(): Promise<void> {
    const workers = this.connecting ? (await this.connecting).flatMap((c) => (c.status === 'fulfilled' ? [c.value] : [])) : [];
    await Promise.all([...new Set([...workers, ...this.others])].map((p) => p.close()));
  }
}
