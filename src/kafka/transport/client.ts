/**
 * Builds the kafkajs client from validated settings (TLS, SASL); the errors kafkajs throws
 * are mapped in kafkajs-errors.ts.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from './kafkajs';
import type { Settings } from '../../config/settings';
import { UsageError } from '../../errors';
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
