/** Test-data producers: records with every shape a backup must keep. */
import type { Kafka } from './kafkajs-copy';
import { orderedHeaders, type WireHeader } from './kafkajs-wire-patch';

export interface TestRecord {
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: WireHeader[];
  timestamp: string;
}

export async function createTopic(kafka: Kafka, topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    });
  } finally {
    await admin.disconnect();
  }
}

export async function produce(kafka: Kafka, topic: string, records: TestRecord[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 200) {
      await producer.send({
        topic,
        acks: -1,
        messages: records
          .slice(i, i + 200)
          .map((r) => ({ partition: r.partition, key: r.key, value: r.value, timestamp: r.timestamp, headers: orderedHeaders(r.headers) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export const TRACE_HEADERS = (i: number): WireHeader[] => [
  { key: 'traceparent', value: Buffer.from(`00-${i.toString(16).padStart(32, '0')}-${(i + 7).toString(16).padStart(16, '0')}-01`) },
  { key: 'tracestate', value: Buffer.from('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7') },
  { key: 'baggage', value: Buffer.from(`userId=alice,lane=baseline,serverNode=DF%2028`) },
  { key: 'b3', value: Buffer.from(`80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90`) },
  { key: 'X-B3-TraceId', value: Buffer.from('80f198ee56343ba864fe8b2a57d3eff7') },
  { key: 'uber-trace-id', value: Buffer.from(`${i.toString(16)}:e457b5a2e4d86bd1:0:1`) },
  // Interleaved duplicates, a binary value, an integer-like key and a null value: the hard cases.
  { key: 'dup', value: Buffer.from('first') },
  { key: '7', value: Buffer.from([0x00, 0xff, 0x10, 0x80]) },
  { key: 'dup', value: Buffer.from('second') },
  { key: 'nullable', value: null },
];
