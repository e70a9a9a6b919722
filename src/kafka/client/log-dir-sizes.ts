/**
 * The bytes each partition takes on disk, from DescribeLogDirs v1 (protocol/describe-log-dirs.ts),
 * which kafkajs 2.2.4 does not have. A broker answers only for the replicas in its own log
 * directories, so the request goes to every broker of the cluster, through kafkajs's own
 * connections (TLS, SASL, framing) of kbak's private copy; only the body is kbak's.
 *
 * DescribeLogDirs needs DESCRIBE on the cluster. v1 has no top-level error code (v3 added
 * one): a broker answers a principal without it with no log directories at all (Kafka 4.4
 * does, test/integration/log-dir-sizes.test.ts); CLUSTER_AUTHORIZATION_FAILED on a directory
 * is read the same way. Both, and a broker that does not speak v1, mean "the cluster does not
 * say": null, never an error, so the caller falls back to an estimate. Anything else that
 * fails is thrown.
 */
import { partitionKey } from '../../model/partition-key';
import { retry, type RetryPolicy } from '../../util/retry';
import { KafkaServiceError } from '../adapter';
import {
  decodeDescribeLogDirsResponse,
  DESCRIBE_LOG_DIRS_API_KEY,
  DESCRIBE_LOG_DIRS_VERSION,
  DescribeLogDirsResponseError,
  encodeDescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  type LogDirTopicRequest,
} from '../protocol/describe-log-dirs';
import { createCluster, loadKafkajsModule, type Kafka, type KafkajsCluster } from '../transport/kafkajs';
import { retriableRequest } from '../transport/kafkajs-errors';

/** A connection dropping, a broker restarting: 6 attempts, 200 ms doubling to 2 s. */
const LOG_DIRS_RETRY: RetryPolicy = { initialMs: 200, maxMs: 2000, attempts: 6 };

/** Kafka's error codes a log directory's result can carry that are not failures of the request. */
const CLUSTER_AUTHORIZATION_FAILED = 31;
/** An offline directory: its replicas are served elsewhere or not at all; it has no sizes to give. */
const KAFKA_STORAGE_ERROR = 56;

// kafkajs's request framing only accepts its own Encoder, from kbak's private copy (see transport/kafkajs.ts).
const KafkajsEncoder = loadKafkajsModule('src/protocol/encoder') as new () => { writeBuffer(b: Buffer): unknown };
const { createErrorFromCode } = loadKafkajsModule('src/protocol/error') as { createErrorFromCode: (code: number) => Error };

/** The slice of kafkajs's Cluster (after a metadata refresh) this request uses. */
interface LogDirsCluster extends KafkajsCluster {
  refreshMetadata(): Promise<void>;
  findBroker(q: { nodeId: number }): Promise<{ connectionPool: { send(req: unknown): Promise<unknown> } }>;
  brokerPool: KafkajsCluster['brokerPool'] & { metadata: { brokers: Array<{ nodeId: number }> } | null };
}

/** A partition's size is its largest replica's: replicas lagging behind or not yet compacted differ. */
function keepLargest(sizes: Map<string, bigint>, key: string, size: bigint): void {
  const prev = sizes.get(key);
  if (prev === undefined || size > prev) sizes.set(key, size);
}

/** One broker's answer: its replicas' sizes, or null when it does not tell this principal. */
export function replicaSizes(resp: DescribeLogDirsResponse, asked: ReadonlySet<string>): Map<string, bigint> | null {
  if (resp.results.length === 0) return null;
  const out = new Map<string, bigint>();
  for (const dir of resp.results) {
    if (dir.errorCode === CLUSTER_AUTHORIZATION_FAILED) return null;
    if (dir.errorCode === KAFKA_STORAGE_ERROR) continue;
    if (dir.errorCode !== 0) throw createErrorFromCode(dir.errorCode);
    for (const t of dir.topics) {
      for (const p of t.partitions) {
        // A future replica is a copy being moved between this broker's directories: the current one counts.
        if (p.isFuture) continue;
        const key = partitionKey(t.name, p.partition);
        // Only what was asked for: the names come from a broker, and a map keyed by them stays bounded by the request.
        if (!asked.has(key)) continue;
        keepLargest(out, key, p.size);
      }
    }
  }
  return out;
}

/** Whether a broker's ApiVersions (by API key) include DescribeLogDirs v1: Kafka 1.1 to 4.x do; older ones, and a broker that dropped it, do not. */
export function speaksDescribeLogDirsV1(versions: Record<number, { minVersion: number; maxVersion: number }> | null): boolean {
  const range = versions?.[DESCRIBE_LOG_DIRS_API_KEY];
  return range !== undefined && range.minVersion <= DESCRIBE_LOG_DIRS_VERSION && range.maxVersion >= DESCRIBE_LOG_DIRS_VERSION;
}

/**
 * Each broker's DescribeLogDirs v1 answer for the topic-partitions (null: every partition it
 * hosts), by broker id; null when the brokers do not speak v1.
 */
export async function describeLogDirs(kafka: Kafka, topics: readonly LogDirTopicRequest[] | null): Promise<Map<number, DescribeLogDirsResponse> | null> {
  const body = encodeDescribeLogDirsRequest(topics);
  const cluster = createCluster(kafka) as LogDirsCluster;
  try {
    await cluster.connect();
    if (!speaksDescribeLogDirsV1(cluster.brokerPool.versions)) return null;
    await cluster.refreshMetadata();
    const nodeIds = (cluster.brokerPool.metadata?.brokers ?? []).map((b) => b.nodeId);
    if (nodeIds.length === 0) throw new KafkaServiceError('the cluster listed no brokers to ask for log directory sizes', undefined);
    const ask = (nodeId: number): Promise<DescribeLogDirsResponse> =>
      retry(
        async () => {
          const broker = await cluster.findBroker({ nodeId });
          return (await broker.connectionPool.send({
            request: {
              apiKey: DESCRIBE_LOG_DIRS_API_KEY,
              apiVersion: DESCRIBE_LOG_DIRS_VERSION,
              apiName: 'DescribeLogDirs',
              // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs awaits these; `async` makes a throw the rejection it expects
              encode: async () => new KafkajsEncoder().writeBuffer(body),
            },
            // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs awaits these; `async` makes a throw the rejection it expects
            response: { decode: async (payload: Buffer) => decodeDescribeLogDirsResponse(payload), parse: async (d: unknown) => d },
          })) as DescribeLogDirsResponse;
        },
        LOG_DIRS_RETRY,
        { retriable: retriableRequest },
      ).catch((err: unknown) => {
        if (err instanceof DescribeLogDirsResponseError)
          throw new KafkaServiceError(`broker ${nodeId} sent a DescribeLogDirs response kbak cannot read: ${err.message}`, undefined, undefined, {
            cause: err,
            retriable: false,
          });
        throw err;
      });
    const answers = await Promise.all(nodeIds.map(ask));
    return new Map(nodeIds.map((id, i) => [id, answers[i]!]));
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/**
 * Per partition (partitionKey), the bytes on disk of its largest replica, for the asked
 * topic-partitions that some broker hosts; null when the cluster does not say (see above).
 */
export async function fetchLogDirSizes(kafka: Kafka, topics: readonly LogDirTopicRequest[]): Promise<Map<string, bigint> | null> {
  const answers = await describeLogDirs(kafka, topics);
  if (answers === null) return null;
  return largestReplicaSizes([...answers.values()], new Set(topics.flatMap((t) => t.partitions.map((p) => partitionKey(t.topic, p)))));
}

/** Every broker's answer as one size per asked partition, its largest replica's; null when any broker does not say. */
export function largestReplicaSizes(answers: readonly DescribeLogDirsResponse[], asked: ReadonlySet<string>): Map<string, bigint> | null {
  const out = new Map<string, bigint>();
  for (const answer of answers) {
    const sizes = replicaSizes(answer, asked);
    if (sizes === null) return null;
    for (const [key, size] of sizes) keepLargest(out, key, size);
  }
  return out;
}
