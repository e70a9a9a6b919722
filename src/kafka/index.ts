/**
 * The Kafka layer's public face: the adapter interface and the ways to get one. Nothing
 * above src/kafka imports a Kafka client library.
 */
import type { Logger } from '../output/logger';
import type { KafkaAdapter } from './adapter';
import type { KafkaConnection } from './transport/client';
import { KafkajsAdapter } from './kafkajs-adapter';

export * from './adapter';
export type { KafkaConnection } from './transport/client';
export { CODEC_NAMES, isCodecName, type CodecName } from './protocol/codecs';

/** A KafkaAdapter for a real cluster (kbak's kafkajs-based client). */
export function openKafka(connection: KafkaConnection, logger: Logger): KafkaAdapter {
  return new KafkajsAdapter(connection, logger);
}
