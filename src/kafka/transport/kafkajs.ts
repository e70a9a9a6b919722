/**
 * The only door to kafkajs: kbak's private, wire-patched copy (private-kafkajs.ts,
 * wire-patch.ts), which decodes every codec a producer may have used (codecs.ts). Values
 * come from that copy; types from the package's declarations.
 */
import type * as KafkaJS from 'kafkajs';
import { loadPrivateKafkajs } from './private-kafkajs';
import { wirePatch } from '../wire-patch';
import { adminClusterPatch } from '../client/group-commit';
import { producePatch } from '../produce-patch';
import { asKafkajsCodec, codecs } from '../protocol/codecs';

const copy = loadPrivateKafkajs({ ...wirePatch(), ...adminClusterPatch(), ...producePatch() });

/** kbak's kafkajs module (same shape as `require('kafkajs')`). */
export const kafkajs = copy.exports as typeof KafkaJS;
/** A module of the private copy, for the codec registry and the wire-patch tests. */
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

CompressionCodecs[CompressionTypes.GZIP] = asKafkajsCodec(codecs.gzip);
CompressionCodecs[CompressionTypes.Snappy] = asKafkajsCodec(codecs.snappy);
CompressionCodecs[CompressionTypes.LZ4] = asKafkajsCodec(codecs.lz4);
CompressionCodecs[CompressionTypes.ZSTD] = asKafkajsCodec(codecs.zstd);
export type * from 'kafkajs';
