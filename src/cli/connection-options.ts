/**
 * Flags shared by the commands that talk to Kafka, the registry or S3: each command offers
 * those of the services it uses. Each flag has a KBAK_* environment variable (see
 * src/config/settings.ts); flags win.
 */
import { Option, type Command } from 'commander';
import type { KafkaOptions } from '../api';
import { DEFAULT_BROKERS, DEFAULT_CLIENT_ID } from '../config/defaults';
import { SASL_MECHANISMS, type Settings } from '../config/settings';
import { GROUP } from './help';

/** Which services a command talks to: it offers the flags of those only. */
export interface ConnectionScope {
  kafka?: boolean;
  registry?: boolean;
  s3?: boolean;
}

/** Every service: what `kbak help connection` lists. */
export const ALL_SERVICES: Required<ConnectionScope> = { kafka: true, registry: true, s3: true };

/**
 * The connection flags of the services in `scope`, and --config, in the "Connection options:"
 * group: help summarises them in one line (src/cli/help.ts) and `kbak help connection` lists
 * them all; they stay ordinary options, so a mistyped one still gets "did you mean".
 */
export function addServiceOptions(cmd: Command, scope: ConnectionScope): Command {
  const previous = cmd.optionsGroup();
  cmd.optionsGroup(GROUP.connection);
  if (scope.kafka)
    cmd
      .option('--brokers <list>', `comma-separated bootstrap brokers (env KBAK_BROKERS, default ${DEFAULT_BROKERS})`)
      .option('--client-id <id>', `Kafka client id (env KBAK_CLIENT_ID, default ${DEFAULT_CLIENT_ID})`)
      .option('--tls', 'connect to Kafka with TLS (env KBAK_TLS)')
      .option('--tls-ca <file>', 'PEM CA bundle for Kafka TLS (env KBAK_TLS_CA)')
      .option('--tls-cert <file>', 'PEM client certificate for mutual TLS (env KBAK_TLS_CERT)')
      .option('--tls-key <file>', 'PEM client key for mutual TLS (env KBAK_TLS_KEY)')
      .option('--tls-insecure', 'do not verify the broker certificate (testing only; env KBAK_TLS_INSECURE)')
      .addOption(new Option('--sasl-mechanism <m>', 'SASL mechanism (env KBAK_SASL_MECHANISM)').choices([...SASL_MECHANISMS]))
      .option('--sasl-username <user>', 'SASL user (env KBAK_SASL_USERNAME)')
      .option('--sasl-password <password>', 'SASL password; prefer env KBAK_SASL_PASSWORD, flags show in ps');
  if (scope.registry)
    cmd
      .option('--schema-registry-url <url>', 'Confluent-compatible schema registry (env KBAK_SCHEMA_REGISTRY_URL)')
      .option('--schema-registry-user <user>', 'registry basic-auth user (env KBAK_SCHEMA_REGISTRY_USER)')
      .option('--schema-registry-password <password>', 'registry basic-auth password; prefer env KBAK_SCHEMA_REGISTRY_PASSWORD');
  if (scope.s3)
    cmd
      .option('--s3-endpoint <url>', 'S3-compatible endpoint (env KBAK_S3_ENDPOINT; AWS when unset)')
      .option('--s3-region <region>', 'S3 region (env AWS_REGION)')
      .option('--s3-force-path-style', 'path-style S3 addressing (env KBAK_S3_FORCE_PATH_STYLE; on when --s3-endpoint is set)');
  cmd.option('--config <file>', 'JSON config file with kafka/registry/s3 sections (env KBAK_CONFIG)');
  return cmd.optionsGroup(previous);
}

/** The library's Kafka options from validated settings (flags, KBAK_* variables, config file). */
export function kafkaOptions(k: Settings['kafka']): KafkaOptions {
  const { enabled, ...tls } = k.tls;
  return {
    brokers: k.brokers,
    clientId: k.clientId,
    tls: enabled ? tls : false,
    sasl: k.sasl,
    connectionTimeoutMs: k.connectionTimeoutMs,
    requestTimeoutMs: k.requestTimeoutMs,
  };
}
