/**
 * kafkajs errors at the adapter boundary (src/kafka/transport/kafkajs-errors.ts): the KafkaServiceError
 * each becomes and its `retriable`, and which failed requests kbak sends again itself. The
 * errors are kbak's private kafkajs copy's own classes, built as kafkajs builds them.
 */
import { KafkaServiceError, RETRIABLE_KAFKA_CODES } from '../../src/kafka/adapter';
import { loadKafkajsModule } from '../../src/kafka/transport/kafkajs';
import { kafkaError, retriableRequest } from '../../src/kafka/transport/kafkajs-errors';
import { ServiceError } from '../../src/errors';

/* eslint-disable @typescript-eslint/no-explicit-any -- kafkajs's error classes have no typings */
const K = loadKafkajsModule('src/errors') as Record<string, new (...args: any[]) => Error & { retriable: boolean }>;
const { createErrorFromCode } = loadKafkajsModule('src/protocol/error') as {
  createErrorFromCode: (code: number) => Error & { type: string; retriable: boolean };
};
/* eslint-enable @typescript-eslint/no-explicit-any */

const brokers = ['b1:9092'];
const exhausted = (cause: Error): Error => new K.KafkaJSNumberOfRetriesExceeded!(cause, { retryCount: 5, retryTime: 5000 });
const refused = (): Error =>
  new K.KafkaJSConnectionError!('Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1', code: 'ECONNREFUSED' });

describe('kafkaError: the retriable of what a kafkajs call finally threw', () => {
  it('is true for a cluster still settling, also after kafkajs gave up on it', () => {
    for (const err of [
      createErrorFromCode(6), // NOT_LEADER_FOR_PARTITION
      exhausted(createErrorFromCode(5)), // LEADER_NOT_AVAILABLE, after kafkajs's own retries
      createErrorFromCode(15), // GROUP_COORDINATOR_NOT_AVAILABLE
      new K.KafkaJSConnectionClosedError!('Closed connection', { host: 'b1', port: 9092 }),
      new K.KafkaJSRequestTimeoutError!('Request Produce(key: 0, version: 7) timed out'),
    ]) {
      const e = kafkaError(err, brokers, 'listing topics');
      expect(e).toBeInstanceOf(KafkaServiceError);
      expect([err.name, e.retriable]).toEqual([err.name, true]);
    }
  });

  it('is false for a broker that cannot be reached through kafkajs connection retries', () => {
    const e = kafkaError(exhausted(refused()), brokers, 'listing topics');
    expect(e.message).toMatch(/^cannot reach Kafka at b1:9092 while listing topics/);
    expect(e.retriable).toBe(false);
  });

  it('is false for denied access, a TLS failure and refused requests', () => {
    const sasl = kafkaError(new K.KafkaJSSASLAuthenticationError!('SASL SCRAM SHA512 authentication failed'), brokers, 'connecting');
    const tls = kafkaError(
      Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      brokers,
      'connecting',
    );
    const acl = kafkaError(createErrorFromCode(29), brokers, 'reading offsets'); // TOPIC_AUTHORIZATION_FAILED
    const exists = kafkaError(createErrorFromCode(36), brokers, 'creating topics'); // TOPIC_ALREADY_EXISTS
    expect([sasl, tls, acl, exists].map((e) => [e.message.split(':')[0], e.retriable])).toEqual([
      ['Kafka denied access while connecting', false],
      ['TLS handshake with Kafka at b1', false],
      ['Kafka denied reading offsets', false],
      ['Kafka failed while creating topics', false],
    ]);
    expect((exists as KafkaServiceError).kafkaCode).toBe('TOPIC_ALREADY_EXISTS');
  });

  it('passes kbak errors through unchanged', () => {
    const own = new ServiceError('kafka', 'no progress', undefined, { retriable: false });
    expect(kafkaError(own, brokers, 'reading')).toBe(own);
  });
});

describe('KafkaServiceError', () => {
  it("is retriable by default exactly for Kafka's retriable codes, and without a code", () => {
    expect(new KafkaServiceError('x', 'NOT_LEADER_OR_FOLLOWER').retriable).toBe(true);
    expect(new KafkaServiceError('x', 'COORDINATOR_LOAD_IN_PROGRESS').retriable).toBe(true);
    expect(new KafkaServiceError('x', 'TOPIC_ALREADY_EXISTS').retriable).toBe(false);
    expect(new KafkaServiceError('x', 'UNKNOWN_MEMBER_ID').retriable).toBe(false);
    expect(new KafkaServiceError('x', undefined).retriable).toBe(true);
    expect(new KafkaServiceError('x', 'LEADER_NOT_AVAILABLE', undefined, { retriable: false }).retriable).toBe(false);
  });

  it("knows every code kafkajs's protocol table marks retriable", () => {
    const table = (loadKafkajsModule('src/protocol/error') as { errorCodes: Array<{ type: string; retriable: boolean }> }).errorCodes;
    const missing = table.filter((c) => c.retriable && !RETRIABLE_KAFKA_CODES.has(c.type)).map((c) => c.type);
    // CORRUPT_MESSAGE (a CRC failure on the wire, as kafkajs sees it) and the election and
    // listener codes of admin calls kbak does not make are left to kafkajs's own flag.
    expect(missing.sort()).toEqual(['CORRUPT_MESSAGE', 'ELECTION_NOT_NEEDED', 'LISTENER_NOT_FOUND']);
  });
});

describe('retriableRequest: a request kbak sent itself, sent again?', () => {
  it("follows kafkajs's own flag", () => {
    expect(retriableRequest(refused())).toBe(true);
    expect(retriableRequest(createErrorFromCode(6))).toBe(true); // NOT_LEADER_FOR_PARTITION
    expect(retriableRequest(createErrorFromCode(45))).toBe(false); // OUT_OF_ORDER_SEQUENCE_NUMBER
    expect(retriableRequest(createErrorFromCode(16))).toBe(true); // NOT_COORDINATOR_FOR_GROUP: group-commit's old list missed it
  });

  it('retries a connection lock timing out while a broker restarts, never a SASL denial', () => {
    expect(retriableRequest(new K.KafkaJSLockTimeout!('Timeout while acquiring lock (1 waiting locks)'))).toBe(true);
    expect(retriableRequest(new K.KafkaJSSASLAuthenticationError!('SASL PLAIN authentication failed: Connection closed'))).toBe(false);
  });

  it("takes kbak errors' own retriable", () => {
    expect(retriableRequest(new KafkaServiceError('the producer was closed', undefined, undefined, { retriable: false }))).toBe(false);
    expect(retriableRequest(new KafkaServiceError('no leader yet', 'LEADER_NOT_AVAILABLE'))).toBe(true);
  });
});
