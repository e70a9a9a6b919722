/**
 * The tests' kafkajs: a private copy of its own (src/kafka/transport/private-kafkajs.ts)
 * with production's patches (src/kafka/transport/patches.ts) and the test-only ones on
 * top: the wire patch (headers in wire order, emptied batches crossed;
 * kafkajs-wire-patch.ts), the lean kafkajs producer (kafkajs-produce-patch.ts) and every
 * compression codec kbak reads registered in kafkajs's codec table. Tests seed and read
 * topics with its producer and consumer; kbak itself never loads it (its own copy,
 * src/kafka/transport/kafkajs.ts, has none of these). Same exports as that door.
 */
import type * as KafkaJS from 'kafkajs';
import { codecs, type Codec } from '../../src/kafka/protocol/codecs';
import { productionPatches } from '../../src/kafka/transport/patches';
import { loadPrivateKafkajs } from '../../src/kafka/transport/private-kafkajs';
import { producePatch } from './kafkajs-produce-patch';
import { wirePatch } from './kafkajs-wire-patch';

const copy = loadPrivateKafkajs({ ...productionPatches(), ...wirePatch(), ...producePatch() });

/** The tests' kafkajs module (same shape as `require('kafkajs')`). */
export const kafkajs = copy.exports as typeof KafkaJS;
/** A module of this copy, for the patch tests. */
export const loadKafkajsModule = copy.load;

// Each value also names its type, as the class and enums of the package do.
export const Kafka = kafkajs.Kafka;
export type Kafka = KafkaJS.Kafka;
export const logLevel = kafkajs.logLevel;
export type logLevel = KafkaJS.logLevel;
export const ConfigResourceTypes = kafkajs.ConfigResourceTypes;
export type ConfigResourceTypes = KafkaJS.ConfigResourceTypes;
export const CompressionTypes = kafkajs.CompressionTypes;
export type CompressionTypes = KafkaJS.CompressionTypes;
export const CompressionCodecs = kafkajs.CompressionCodecs;
export type * from 'kafkajs';

/** kafkajs's codec shape: compress gets its Encoder, decompress a Buffer. */
function asKafkajsCodec(c: Codec): () => { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(data: Buffer): Promise<Buffer> } {
  const impl = {
    compress: (encoder: { buffer: Buffer }) => c.compress(encoder.buffer),
    decompress: (data: Buffer) => c.decompress(data),
  };
  return () => impl;
}

// kafkajs ships gzip only.
CompressionCodecs[CompressionTypes.GZIP] = asKafkajsCodec(codecs.gzip);
CompressionCodecs[CompressionTypes.Snappy] = asKafkajsCodec(codecs.snappy);
CompressionCodecs[CompressionTypes.LZ4] = asKafkajsCodec(codecs.lz4);
CompressionCodecs[CompressionTypes.ZSTD] = asKafkajsCodec(codecs.zstd);
