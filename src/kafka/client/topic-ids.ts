/**
 * Kafka topic IDs through Metadata v10-v12 on the wire (protocol/metadata.ts): kafkajs
 * 2.2.4 speaks Metadata up to v6, which has no topic IDs. The request goes through
 * kafkajs's own connection (TLS, SASL, framing) of kbak's private copy; only the body is
 * encoded and decoded by kbak.
 */
import { ServiceError } from '../../errors';
import { decodeMetadataResponse, encodeMetadataRequest, METADATA_API_KEY, type TopicMetadataWithId } from '../protocol/metadata';
import { createCluster, loadKafkajsModule, type Kafka } from '../transport/kafkajs';
import { retriableRequest } from '../transport/kafkajs-errors';
import { retry, type RetryPolicy } from '../../util/retry';
import { KafkaServiceError } from '../adapter';

/** A just-created topic without a leader yet (LEADER_NOT_AVAILABLE), a connection dropping: asked again every 250 ms for up to 30 s. */
const TOPIC_IDS_RETRY: RetryPolicy = { initialMs: 250, maxMs: 250, factor: 1, deadlineMs: 30_000 };

// kafkajs's request framing only accepts its own Encoder, from kbak's private copy (see transport/kafkajs.ts).
const KafkajsEncoder = loadKafkajsModule('src/protocol/encoder') as new () => { writeBuffer(b: Buffer): unknown };

/**
 * Topic name → Kafka topic ID for the topics that exist (absent ones are left out).
 * Throws when the broker is older than Kafka 2.8 (no Metadata v10): ownership by topic ID
 * is then impossible and kbak says so instead of guessing.
 */
export async function fetchTopicIds(kafka: Kafka, topics: string[]): Promise<Map<string, TopicMetadataWithId>> {
  const out = new Map<string, TopicMetadataWithId>();
  for (const t of await fetchTopicMetadata(kafka, topics)) if (t.errorCode === 0) out.set(t.name, t);
  return out;
}

/**
 * Metadata v10-v12 of the topics, one entry per topic the broker answered for, with its error
 * code (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED, ...); with
 * `authorizedOperations`, each existing topic's operations the principal may perform.
 */
export async function fetchTopicMetadata(kafka: Kafka, topics: string[], opts: { authorizedOperations?: boolean } = {}): Promise<TopicMetadataWithId[]> {
  if (topics.length === 0) return [];
  const cluster = createCluster(kafka);
  try {
    await cluster.connect();
    const max = cluster.brokerPool.versions?.[METADATA_API_KEY]?.maxVersion ?? 0;
    if (max < 10)
      throw new ServiceError(
        'kafka',
        `the target broker speaks Metadata up to v${max}: kbak needs topic IDs (Kafka 2.8 or newer) to know which topics a lane owns`,
        undefined,
        { retriable: false },
      );
    const version = Math.min(max, 12);
    return await retry(
      async () => {
        const resp = (await cluster.brokerPool.seedBroker.connectionPool.send({
          request: {
            apiKey: METADATA_API_KEY,
            apiVersion: version,
            apiName: 'Metadata',
            // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs awaits these; `async` makes a throw the rejection it expects
            encode: async () => new KafkajsEncoder().writeBuffer(encodeMetadataRequest(version, topics, opts)),
          },
          // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs awaits these; `async` makes a throw the rejection it expects
          response: { decode: async (payload: Buffer) => decodeMetadataResponse(payload), parse: async (d: unknown) => d },
        })) as TopicMetadataWithId[];
        const leaderless = resp.find((t) => t.errorCode === 5 /* LEADER_NOT_AVAILABLE */);
        if (leaderless) throw new KafkaServiceError(`topic ${leaderless.name} has no leader yet`, 'LEADER_NOT_AVAILABLE', 'check the broker logs and retry');
        return resp;
      },
      TOPIC_IDS_RETRY,
      { retriable: retriableRequest },
    );
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
