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

/**
 * A one-partition topic whose `records` values are Confluent-framed Avro records `{n: "n<i>"}` of
 * a schema registered (in the stack's registry) under `<topic>-value`; resolves to the schema ID.
 */
export async function framedAvroTopic(kafka: Kafka, topic: string, records: number, registryUrl: string, namespace: string): Promise<number> {
  const res = await fetch(`${registryUrl}/subjects/${topic}-value/versions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'S', namespace, fields: [{ name: 'n', type: 'string' }] }) }),
  });
  if (!res.ok) throw new Error(`registering the schema of ${topic}: HTTP ${res.status}`);
  const schemaId = ((await res.json()) as { id: number }).id;
  await createTopic(kafka, topic, 1);
  const frame = (i: number): Buffer => {
    const s = Buffer.from(`n${i}`);
    const head = Buffer.alloc(6);
    head.writeUInt8(0, 0);
    head.writeUInt32BE(schemaId, 1);
    head.writeUInt8(s.length * 2, 5); // Avro zigzag length of the string
    return Buffer.concat([head, s]);
  };
  await produce(
    kafka,
    topic,
    Array.from({ length: records }, (_, i) => ({ partition: 0, key: Buffer.from(`k${i}`), value: frame(i), headers: [], timestamp: String(Date.now()) })),
  );
  return schemaId;
}
