/**
 * Kafka topic IDs through Metadata v10-v12 on the wire (protocol/metadata.ts): kafkajs
 * 2.2.4 speaks Metadata up to v6, which has no topic IDs. The request goes through
 * kafkajs's own connection (TLS, SASL, framing) of kbak's private copy; only the body is
 * encoded and decoded by kbak.
 */
import { ServiceError } from '../../errors';
import { decodeMetadataResponse, encodeMetadataRequest, METADATA_API_KEY, type TopicMetadataWithId } from '../protocol/metadata';
import { createCluster, loadKafkajsModule, type Kafka } from '../transport/kafkajs';

// kafkajs's request framing only accepts its own Encoder, from kbak's private copy (see transport/kafkajs.ts).
const KafkajsEncoder = loadKafkajsModule('src/protocol/encoder') as unknown as new () => { writeBuffer(b: Buffer): unknown };

/**
 * Topic name → Kafka topic ID for the topics that exist (absent ones are left out).
 * Throws when the broker is older than Kafka 2.8 (no Metadata v10): ownership by topic ID
 * is then impossible and kbak says so instead of guessing.
 */
export async function fetchTopicIds(kafka: Kafka, topics: string[]): Promise<Map<string, TopicMetadataWithId>> {
  const out = new Map<string, TopicMetadataWithId>();
  if (topics.length === 0) return out;
  const cluster = createCluster(kafka);
  try {
    await cluster.connect();
    const max = cluster.brokerPool.versions?.[METADATA_API_KEY]?.maxVersion ?? 0;
    if (max < 10)
      throw new ServiceError(
        'kafka',
        `the target broker speaks Metadata up to v${max}: kbak needs topic IDs (Kafka 2.8 or newer) to know which topics a lane owns`,
      );
    const version = Math.min(max, 12);
    const topicsResp = await retryLeaderless(async () => {
      const resp = (await cluster.brokerPool.seedBroker.connectionPool.send({
        request: {
          apiKey: METADATA_API_KEY,
          apiVersion: version,
          apiName: 'Metadata',
          encode: async () => new KafkajsEncoder().writeBuffer(encodeMetadataRequest(version, topics)),
        },
        response: { decode: async (payload: Buffer) => decodeMetadataResponse(payload), parse: async (d: unknown) => d },
      })) as TopicMetadataWithId[];
      const leaderless = resp.find((t) => t.errorCode === 5 /* LEADER_NOT_AVAILABLE */);
      if (leaderless)
        throw Object.assign(new ServiceError('kafka', `topic ${leaderless.name} has no leader yet`, 'check the broker logs and retry'), {
          type: 'LEADER_NOT_AVAILABLE',
        });
      return resp;
    });
    for (const t of topicsResp) if (t.errorCode === 0) out.set(t.name, t);
    return out;
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** Retries while a just-created topic has no leader yet (LEADER_NOT_AVAILABLE), for up to 30 s. */
async function retryLeaderless<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { type?: string }).type !== 'LEADER_NOT_AVAILABLE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
