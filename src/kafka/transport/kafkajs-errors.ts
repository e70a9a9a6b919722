/**
 * kafkajs's errors, the one place that reads their names and flags: whether a failure is
 * worth retrying (at the adapter boundary, and for a request kbak sent itself), and the
 * one-line KafkaServiceError (Kafka's error code, `retriable`) a user can act on. Nothing
 * outside src/kafka sees a kafkajs error.
 */
import { KbakError } from '../../errors';
import { KafkaServiceError, RETRIABLE_KAFKA_CODES } from '../adapter';

/**
 * Whether a failure the adapter reports (what a kafkajs call finally threw) is worth
 * retrying: the `retriable` of the KafkaServiceError it becomes. kafkajs retries requests
 * itself (the `retry` setting in client.ts) and then throws KafkaJSNumberOfRetriesExceeded, which it marks not
 * retriable; kbak looks through that wrapper (and any error's cause) to what failed:
 * - a cluster still settling (a retriable Kafka error code, or every one of several), a
 *   connection closed under a request, a request timing out: retriable, as these can
 *   outlast kafkajs's short budget (leader elections, coordinators loading);
 * - a broker kafkajs could not connect to through its connection retries (~10 s): not
 *   retriable. Mostly a wrong address: the user should hear about it now, not a minute later.
 * - anything else (authorization, authentication, a refused request): not retriable.
 */
export function retriableFailure(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  const e = err as { type?: string; kafkaCode?: string; retriable?: boolean; name?: string; originalError?: unknown; cause?: unknown; errors?: unknown[] };
  for (const code of [e.type, e.kafkaCode]) if (code !== undefined && RETRIABLE_KAFKA_CODES.has(code)) return true;
  if (e.name === 'KafkaJSProtocolError' && e.retriable === true) return true;
  if (e.name === 'KafkaJSConnectionClosedError' || e.name === 'KafkaJSRequestTimeoutError') return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => retriableFailure(x, depth + 1))) return true;
  return retriableFailure(e.originalError, depth + 1) || retriableFailure(e.cause, depth + 1);
}

/**
 * Whether one request kbak sent itself through kafkajs's connections (fetch, produce,
 * InitProducerId, OffsetCommit, Metadata) can be sent again: kafkajs's own `retriable` (its
 * protocol errors per Kafka's error table, connection errors, request timeouts), plus a
 * connection's lock timing out while the broker restarts, which kafkajs files under its
 * non-retriable timeouts. kbak's own errors say it themselves.
 */
export function retriableRequest(err: unknown): boolean {
  if (err instanceof KbakError) return err.retriable;
  const e = err as { retriable?: boolean; name?: string; message?: string } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'KafkaJSSASLAuthenticationError') return false;
  return e.retriable === true || /Connection|Timeout|LockTimeout|BrokerNotFound|ECONNRESET|ECONNREFUSED|EPIPE/.test(`${e.name ?? ''} ${e.message ?? ''}`);
}

/** Turns a kafkajs failure into an error a user can act on, with Kafka's error code and whether it is retriable. */
export function kafkaError(err: unknown, brokers: string[], doing: string): KbakError {
  if (err instanceof KbakError) return err;
  const e = err as { name?: string; message?: string; type?: string; errors?: Array<{ type?: string }>; groups?: Array<{ error?: { type?: string } }> };
  const name = e.name ?? 'Error';
  // OpenSSL messages can span lines; the user gets one line.
  const msg = (e.message ?? String(err)).replace(/\s*\n\s*/g, ' ');
  // Per-item failures: CreateTopics and the like report `errors`, DeleteGroups `groups`.
  const code = e.type ?? e.errors?.find((x) => x.type)?.type ?? e.groups?.find((g) => g.error?.type)?.error?.type;
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL|authenticat/i.test(msg)) {
    return new KafkaServiceError(`Kafka denied access while ${doing}: ${msg}`, code, 'check the SASL mechanism, user and password', {
      cause: err,
      options: ['kafka.sasl'],
      retriable: false,
    });
  }
  // A TLS handshake failure is a connection error to kafkajs, but "is the broker up?" would
  // send the user the wrong way: the broker answered and one side refused the other's certificate.
  if (/certificate|self[- ]signed|SSL|TLS|handshake|ERR_TLS/i.test(`${msg} ${(err as { code?: string }).code ?? ''}`)) {
    return new KafkaServiceError(
      `TLS handshake with Kafka at ${brokers.join(',')} failed while ${doing}: ${msg}`,
      code,
      'check the CA that signed the broker certificate and, if the listener requires client certificates, the client certificate and key',
      { cause: err, options: ['kafka.tls'], retriable: false },
    );
  }
  if (
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSNumberOfRetriesExceeded' ||
    name === 'KafkaJSNonRetriableError' ||
    /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|Connection/i.test(msg)
  ) {
    return new KafkaServiceError(
      `cannot reach Kafka at ${brokers.join(',')} while ${doing}: ${msg}`,
      code,
      'check the broker addresses and that the brokers are up',
      { cause: err, options: ['kafka.brokers'], retriable: retriableFailure(err) },
    );
  }
  if (code === 'TOPIC_AUTHORIZATION_FAILED' || code === 'GROUP_AUTHORIZATION_FAILED' || code === 'CLUSTER_AUTHORIZATION_FAILED') {
    return new KafkaServiceError(`Kafka denied ${doing}: ${msg}`, code, 'grant the kbak principal the ACLs it needs on the topics and groups', {
      cause: err,
      retriable: false,
    });
  }
  return new KafkaServiceError(`Kafka failed while ${doing}: ${msg}`, code, undefined, { cause: err, retriable: retriableFailure(err) });
}
