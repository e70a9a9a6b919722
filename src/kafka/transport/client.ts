/**
 * Builds the kafkajs client from validated settings (TLS, SASL) and maps the errors
 * kafkajs throws while connecting into one-line ServiceErrors.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from './kafkajs';
import type { Settings } from '../../config/settings';
import { KbakError, UsageError } from '../../errors';
import { KafkaServiceError } from '../adapter';
import type { Logger } from '../../output/logger';

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read TLS ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'check the TLS file settings', {
      options: ['kafka.tls'],
    });
  }
}

function tlsOptions(settings: Settings['kafka']['tls']): ConnectionOptions | boolean {
  if (!settings.enabled) return false;
  const opts: ConnectionOptions = { rejectUnauthorized: !settings.insecureSkipVerify };
  if (settings.caFile) opts.ca = [readPem(settings.caFile, 'CA')];
  if (settings.certFile) opts.cert = readPem(settings.certFile, 'certificate');
  if (settings.keyFile) opts.key = readPem(settings.keyFile, 'key');
  return opts;
}

/** How to reach a Kafka cluster: the `kafka` section of kbak's settings. */
export type KafkaConnection = Settings['kafka'];

export function createKafka(k: KafkaConnection, logger: Logger): Kafka {
  const config: KafkaConfig = {
    clientId: k.clientId,
    brokers: k.brokers,
    ssl: tlsOptions(k.tls),
    connectionTimeout: k.connectionTimeoutMs,
    requestTimeout: k.requestTimeoutMs,
    // kafkajs retries for ~30 s by default; a user waiting on an unreachable broker
    // should hear about it sooner, and the operations kbak runs are idempotent reads
    // or guarded writes that the caller retries at a higher level when it makes sense.
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        // kafkajs logs expected rebalances and retried errors at ERROR; keep them at debug
        // unless the user asked for them, our own errors say what failed.
        if (level <= logLevel.WARN) logger.debug({ kafkajs: rest }, message);
      },
  };
  if (k.sasl) config.sasl = { mechanism: k.sasl.mechanism, username: k.sasl.username, password: k.sasl.password } as SASLOptions;
  return new Kafka(config);
}

/** Turns a kafkajs failure into an error a user can act on, with Kafka's error code. */
export function kafkaError(err: unknown, brokers: string[], doing: string): KbakError {
  if (err instanceof KbakError) return err;
  const e = err as { name?: string; message?: string; type?: string; errors?: Array<{ type?: string }> };
  const name = e.name ?? 'Error';
  // OpenSSL messages can span lines; the user gets one line.
  const msg = (e.message ?? String(err)).replace(/\s*\n\s*/g, ' ');
  const code = e.type ?? e.errors?.find((x) => x.type)?.type;
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL|authenticat/i.test(msg)) {
    return new KafkaServiceError(`Kafka denied access while ${doing}: ${msg}`, code, 'check the SASL mechanism, user and password', {
      cause: err,
      options: ['kafka.sasl'],
    });
  }
  // A TLS handshake failure is a connection error to kafkajs, but "is the broker up?" would
  // send the user the wrong way: the broker answered and one side refused the other's certificate.
  if (/certificate|self[- ]signed|SSL|TLS|handshake|ERR_TLS/i.test(`${msg} ${(err as { code?: string }).code ?? ''}`)) {
    return new KafkaServiceError(
      `TLS handshake with Kafka at ${brokers.join(',')} failed while ${doing}: ${msg}`,
      code,
      'check the CA that signed the broker certificate and, if the listener requires client certificates, the client certificate and key',
      { cause: err, options: ['kafka.tls'] },
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
      { cause: err, options: ['kafka.brokers'] },
    );
  }
  if (code === 'TOPIC_AUTHORIZATION_FAILED' || code === 'GROUP_AUTHORIZATION_FAILED' || code === 'CLUSTER_AUTHORIZATION_FAILED') {
    return new KafkaServiceError(`Kafka denied ${doing}: ${msg}`, code, 'grant the kbak principal the ACLs it needs on the topics and groups', { cause: err });
  }
  return new KafkaServiceError(`Kafka failed while ${doing}: ${msg}`, code, undefined, { cause: err });
}
