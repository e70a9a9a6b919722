/**
 * Connection settings for Kafka, the schema registry and S3, merged from three sources:
 * command-line flags win over KBAK_* environment variables, which win over a JSON config
 * file (`--config`). The result is validated once, here, so the rest of the code can
 * trust it. Secrets are never printed: `redact()` is what logs see.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors';
import { DEFAULT_BROKERS, DEFAULT_CLIENT_ID, DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './defaults';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const csv = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes'].includes(v)));

const brokerAddress = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port');

export const settingsSchema = z.object({
  kafka: z.object({
    brokers: csv.pipe(z.array(brokerAddress).min(1, 'at least one broker is needed')),
    clientId: z.string().min(1).default(DEFAULT_CLIENT_ID),
    tls: z
      .object({
        enabled: bool.default(false),
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        insecureSkipVerify: bool.default(false),
      })
      .default({ enabled: false, insecureSkipVerify: false }),
    sasl: z
      .object({
        mechanism: z.enum(SASL_MECHANISMS),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    connectionTimeoutMs: z.coerce.number().int().positive().default(DEFAULT_CONNECTION_TIMEOUT_MS),
    requestTimeoutMs: z.coerce.number().int().positive().default(DEFAULT_REQUEST_TIMEOUT_MS),
  }),
  registry: z
    .object({
      url: z.url({ message: 'expected an http(s) URL' }),
      username: z.string().optional(),
      password: z.string().optional(),
    })
    .optional(),
  s3: z.object({
    endpoint: z.url({ message: 'expected an http(s) URL' }).optional(),
    region: z.string().min(1).optional(),
    forcePathStyle: bool.optional(),
  }),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Flags as commander hands them over (all optional strings/booleans). */
export interface ConnectionFlags {
  config?: string;
  brokers?: string;
  clientId?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsInsecure?: boolean;
  saslMechanism?: string;
  saslUsername?: string;
  saslPassword?: string;
  schemaRegistryUrl?: string;
  schemaRegistryUser?: string;
  schemaRegistryPassword?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle?: boolean;
}

type Env = Record<string, string | undefined>;

/** Drops undefined so that a missing higher-priority value never hides a lower one. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'check --config / KBAK_CONFIG');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error, which may be a password: give only where.
    const pos = /position (\d+)/.exec((err as Error).message)?.[1];
    const where = pos === undefined ? '' : ` at line ${text.slice(0, Number(pos)).split('\n').length}`;
    throw new UsageError(`config file ${path} is not valid JSON${where}`, 'fix its syntax; see README "Configuration"');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`config file ${path} is not a JSON object`, 'see README "Configuration"');
  }
  return parsed as Record<string, unknown>;
}

function section(file: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = file[name];
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

/** The flag each settings path is set by, for error messages. */
const FLAG_FOR: Record<string, string> = {
  'kafka.brokers': '--brokers / KBAK_BROKERS',
  'kafka.sasl.mechanism': '--sasl-mechanism / KBAK_SASL_MECHANISM',
  'kafka.sasl.username': '--sasl-username / KBAK_SASL_USERNAME',
  'kafka.sasl.password': '--sasl-password / KBAK_SASL_PASSWORD',
  'registry.url': '--schema-registry-url / KBAK_SCHEMA_REGISTRY_URL',
  's3.endpoint': '--s3-endpoint / KBAK_S3_ENDPOINT',
};

export function loadSettings(flags: ConnectionFlags, env: Env = process.env): Settings {
  const configPath = flags.config ?? env.KBAK_CONFIG;
  const file = configPath ? readConfigFile(configPath) : {};
  const fileKafka = section(file, 'kafka');
  const fileRegistry = section(file, 'registry');

  const saslRaw = {
    ...section(fileKafka, 'sasl'),
    ...defined({ mechanism: env.KBAK_SASL_MECHANISM, username: env.KBAK_SASL_USERNAME, password: env.KBAK_SASL_PASSWORD }),
    ...defined({ mechanism: flags.saslMechanism, username: flags.saslUsername, password: flags.saslPassword }),
  };
  if (typeof saslRaw.mechanism === 'string') saslRaw.mechanism = saslRaw.mechanism.toLowerCase();

  const registryRaw = {
    ...fileRegistry,
    ...defined({ url: env.KBAK_SCHEMA_REGISTRY_URL, username: env.KBAK_SCHEMA_REGISTRY_USER, password: env.KBAK_SCHEMA_REGISTRY_PASSWORD }),
    ...defined({ url: flags.schemaRegistryUrl, username: flags.schemaRegistryUser, password: flags.schemaRegistryPassword }),
  };

  const raw = {
    kafka: {
      brokers: DEFAULT_BROKERS,
      ...fileKafka,
      ...defined({
        brokers: env.KBAK_BROKERS,
        clientId: env.KBAK_CLIENT_ID,
      }),
      ...defined({ brokers: flags.brokers, clientId: flags.clientId }),
      tls: {
        ...section(fileKafka, 'tls'),
        ...defined({
          enabled: env.KBAK_TLS,
          caFile: env.KBAK_TLS_CA,
          certFile: env.KBAK_TLS_CERT,
          keyFile: env.KBAK_TLS_KEY,
          insecureSkipVerify: env.KBAK_TLS_INSECURE,
        }),
        ...defined({
          enabled: flags.tls,
          caFile: flags.tlsCa,
          certFile: flags.tlsCert,
          keyFile: flags.tlsKey,
          insecureSkipVerify: flags.tlsInsecure,
        }),
      },
      sasl: Object.keys(saslRaw).length > 0 ? saslRaw : undefined,
    },
    registry: registryRaw.url !== undefined || Object.keys(registryRaw).length > 0 ? registryRaw : undefined,
    s3: {
      ...section(file, 's3'),
      ...defined({ endpoint: env.KBAK_S3_ENDPOINT, region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION, forcePathStyle: env.KBAK_S3_FORCE_PATH_STYLE }),
      ...defined({ endpoint: flags.s3Endpoint, region: flags.s3Region, forcePathStyle: flags.s3ForcePathStyle }),
    },
  };

  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.');
    // An issue inside a list (kafka.brokers.0) is about the setting that holds the list.
    const source = FLAG_FOR[path] ?? FLAG_FOR[issue.path.filter((p) => typeof p !== 'number').join('.')] ?? path;
    throw new UsageError(`invalid setting ${source}: ${issue.message}`, 'fix the flag, KBAK_* variable or config file');
  }
  const settings = parsed.data;
  // TLS material implies TLS: a CA file without TLS would be silently ignored otherwise.
  if (settings.kafka.tls.caFile || settings.kafka.tls.certFile) settings.kafka.tls.enabled = true;
  if (Boolean(settings.kafka.tls.certFile) !== Boolean(settings.kafka.tls.keyFile)) {
    throw new UsageError('a TLS client certificate needs both --tls-cert and --tls-key', 'pass both files or neither');
  }
  if (settings.registry && Boolean(settings.registry.username) !== Boolean(settings.registry.password)) {
    throw new UsageError(
      'schema registry basic auth needs both a user and a password',
      'set --schema-registry-user and --schema-registry-password (or KBAK_SCHEMA_REGISTRY_USER/PASSWORD)',
    );
  }
  return settings;
}

/** What may be shown in logs and summaries: no passwords, no keys, no credentials in URLs. */
export function redact(settings: Settings): Record<string, unknown> {
  return {
    brokers: settings.kafka.brokers,
    clientId: settings.kafka.clientId,
    tls: settings.kafka.tls.enabled,
    sasl: settings.kafka.sasl ? { mechanism: settings.kafka.sasl.mechanism, username: settings.kafka.sasl.username } : undefined,
    registry: settings.registry
      ? { url: redactUrl(settings.registry.url), basicAuth: Boolean(settings.registry.username) || hasUserInfo(settings.registry.url) }
      : undefined,
    s3Endpoint: settings.s3.endpoint === undefined ? undefined : redactUrl(settings.s3.endpoint),
  };
}

function hasUserInfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

/**
 * A URL as it may be printed: user and password removed, and the query dropped (tokens
 * travel there). Something that does not parse as a URL is not printed at all.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}
