/**
 * The only door to kafkajs: kbak's private copy (private-kafkajs.ts) with production's two
 * patches (patches.ts: requests framed in one buffer, admins handing out their cluster).
 * kbak uses kafkajs for connections (TLS, SASL, framing, correlation), metadata and admin
 * requests; records are encoded and decoded by src/kafka/protocol, never by kafkajs.
 * Values come from the copy; types from the package's declarations.
 */
import type * as KafkaJS from 'kafkajs';
import { ServiceError } from '../../errors';
import { productionPatches } from './patches';
import { loadPrivateKafkajs } from './private-kafkajs';

const copy = loadPrivateKafkajs(productionPatches());

/** kbak's kafkajs module (same shape as `require('kafkajs')`). */
export const kafkajs = copy.exports as typeof KafkaJS;
/** A module of the private copy (kafkajs's request encoders, protocol errors, Encoder). */
export const loadKafkajsModule = copy.load;

// Each value also names its type, as the class and enums of the package do.
export const Kafka = kafkajs.Kafka;
export type Kafka = KafkaJS.Kafka;
export const logLevel = kafkajs.logLevel;
export type logLevel = KafkaJS.logLevel;
export const ConfigResourceTypes = kafkajs.ConfigResourceTypes;
export type ConfigResourceTypes = KafkaJS.ConfigResourceTypes;
export type * from 'kafkajs';

/** The slice of kafkajs's Cluster every direct request needs: connecting and a broker to send through. */
export interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: {
    versions: Record<number, { minVersion: number; maxVersion: number }> | null;
    seedBroker: { connectionPool: { send(req: unknown): Promise<unknown> } };
  };
}

/** kafkajs keeps its cluster factory behind a private symbol; it carries the TLS/SASL settings. */
export function createCluster(kafka: Kafka): KafkajsCluster {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = sym ? (kafka as unknown as Record<symbol, unknown>)[sym] : undefined;
  if (typeof factory !== 'function')
    throw new ServiceError('kafka', 'cannot read topic IDs: this kafkajs version is not supported', 'use the kafkajs version in package-lock.json', {
      retriable: false,
    });
  return (factory as (o: object) => KafkajsCluster)({ allowAutoTopicCreation: false });
}
