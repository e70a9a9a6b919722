/**
 * How the CLI shows a failure: one line `kbak: <message> (<hint>; <flags>)` on stderr and
 * the exit code from the table in src/errors.ts. Core errors name library option paths;
 * this is the one place that knows which flag and environment variable set each of them.
 */
import { InternalError, InvalidOptionError, KbakError } from '../errors';

/** Library option path → how a CLI user sets it. */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  'kafka.brokers': '--brokers / KBAK_BROKERS',
  'kafka.clientId': '--client-id / KBAK_CLIENT_ID',
  'kafka.tls': '--tls, --tls-ca, --tls-cert, --tls-key',
  'kafka.sasl': '--sasl-mechanism, --sasl-username, --sasl-password',
  'registry.url': '--schema-registry-url / KBAK_SCHEMA_REGISTRY_URL',
  'registry.auth': '--schema-registry-user, --schema-registry-password',
  's3.endpoint': '--s3-endpoint / KBAK_S3_ENDPOINT',
  's3.credentials': 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS credential chain',
  destination: '--to / --source / KBAK_DEST',
  config: '--config / KBAK_CONFIG',
  cluster: '--name',
  backup: '--from',
  topics: '--topic',
  topicsRegex: '--topics-regex',
  at: '--at',
  partitions: '--partitions',
  since: '--since',
  until: '--until',
  maxRecordsPerPartition: '--max-records-per-partition',
  segmentBytes: '--segment-bytes',
  concurrency: '--concurrency',
  stallTimeoutMs: '--stall-timeout',
  replicationFactor: '--replication-factor',
  laneHeader: '--lane-header',
  lane: '--lane',
  topicTemplate: '--topic-template',
  subjectTemplate: '--subject-template',
  groupTemplate: '--group-template',
  compression: '--compression',
  'mode=resume': '--resume',
  'mode=replace': '--replace',
  shard: '--shard',
  backupId: '--backup-id',
  planTtl: '--plan-ttl',
  finalize: '--finalize',
};

export function flagFor(option: string): string {
  return OPTION_FLAGS[option] ?? option;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Option paths that cannot be mistaken for ordinary words in a message (camelCase or dotted). */
const isCodeName = (option: string): boolean => /[A-Z.]/.test(option);

/**
 * The line (without the `kbak: ` prefix) and exit code for any thrown value. Option paths an
 * error names in its text become flags; the others are listed after the hint.
 */
export function renderError(err: unknown): { line: string; exitCode: number; error: KbakError } {
  const e = err instanceof KbakError ? err : new InternalError(err instanceof Error ? err.message : String(err), { cause: err });
  let message = e instanceof InvalidOptionError ? e.describeAs(primaryFlag(e.option)) : e.message;
  let hint = e.hint;
  const unmentioned: string[] = [];
  for (const option of e.options) {
    if (e instanceof InvalidOptionError && option === e.option) continue;
    const re = new RegExp(`(?<![\\w.-])${escape(option)}(?![\\w-])`, 'g');
    if (isCodeName(option) && (re.test(message) || (hint !== undefined && re.test(hint)))) {
      message = message.replace(re, primaryFlag(option));
      hint = hint?.replace(re, primaryFlag(option));
    } else {
      unmentioned.push(flagFor(option));
    }
  }
  const extra = [hint, unmentioned.length > 0 ? `see ${unmentioned.join(', ')}` : undefined].filter((s): s is string => Boolean(s));
  return { line: extra.length > 0 ? `${message} (${extra.join('; ')})` : message, exitCode: e.exitCode, error: e };
}

function primaryFlag(option: string): string {
  return flagFor(option).split(/ \/ |, /)[0]!;
}
