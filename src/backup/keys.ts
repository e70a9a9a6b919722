/**
 * Key safety: every key kbak takes from outside (a manifest, a broker's topic list) before
 * it becomes a store key or a file path. One rule for both format versions (FORMAT.md,
 * "Key safety"), decided with format v2's shared segments in mind:
 *
 * - a manifest key is relative, its components match [A-Za-z0-9._=-]+ and are never `.`
 *   or `..`, separated by single `/`;
 * - it must resolve inside the backup's cluster folder `<cluster>/`; a v1 manifest's keys
 *   must resolve inside the backup's own folder `<cluster>/<backupId>/` (v1 resolves them
 *   against that folder, so the component rule already keeps them there).
 *
 * Topic names from a broker follow Kafka's own rule before they name a folder.
 */
import { IntegrityError, ServiceError } from '../errors';

const KEY_COMPONENT = /^[A-Za-z0-9._=-]+$/;
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

export interface SegmentKeyContext {
  /** `<cluster>/<backupId>`: the folder of the manifest that names the key. */
  backupPrefix: string;
  /** `<cluster>`: the folder every key of this backup must stay inside. */
  clusterPrefix: string;
  /** The manifest's formatVersion. */
  formatVersion: number;
  /**
   * What the key is resolved against: v1 keys are relative to the backup folder (the
   * default for v1); format v2 decides its own base (the backup or the cluster folder).
   */
  base?: 'backup' | 'cluster';
}

/** Why `key` is not a safe relative key, or null when it is. */
export function keySyntaxProblem(key: string): string | null {
  if (key.length === 0) return 'it is empty';
  if (key.length > 4096) return `it is ${key.length} characters long (at most 4096)`;
  const parts = key.split('/');
  for (const p of parts) {
    if (p === '') return key.startsWith('/') ? 'it is absolute' : 'it has an empty component';
    if (p === '.' || p === '..') return `it has a ${JSON.stringify(p)} component`;
    if (!KEY_COMPONENT.test(p)) return `component ${JSON.stringify(p)} has characters outside [A-Za-z0-9._=-]`;
  }
  return null;
}

/** Whether `full` is `folder` itself or inside it, as '/'-separated keys. */
function inside(full: string, folder: string): boolean {
  return full.startsWith(`${folder}/`);
}

/**
 * Checks a key a manifest names and returns the store key it resolves to. Throws
 * IntegrityError (a corrupt or hostile backup) when the key breaks the rule.
 */
export function checkSegmentKey(key: string, ctx: SegmentKeyContext): string {
  const where = `manifest of ${ctx.backupPrefix} names segment key ${JSON.stringify(key)}`;
  const syntax = keySyntaxProblem(key);
  if (syntax !== null)
    throw new IntegrityError(`${where}, which is not a safe key: ${syntax}`, 'the backup is corrupt or was not written by kbak; do not use it');
  for (const [what, prefix] of [
    ['backup folder', ctx.backupPrefix],
    ['cluster folder', ctx.clusterPrefix],
  ] as const) {
    if (keySyntaxProblem(prefix) !== null) throw new IntegrityError(`${what} ${JSON.stringify(prefix)} is not a safe key`);
  }
  if (!inside(ctx.backupPrefix, ctx.clusterPrefix)) {
    throw new IntegrityError(`backup folder ${ctx.backupPrefix} is not inside cluster folder ${ctx.clusterPrefix}`);
  }
  const base = ctx.base ?? (ctx.formatVersion <= 1 ? 'backup' : 'cluster');
  const full = `${base === 'backup' ? ctx.backupPrefix : ctx.clusterPrefix}/${key}`;
  if (!inside(full, ctx.clusterPrefix)) throw new IntegrityError(`${where}, which resolves outside the cluster folder ${ctx.clusterPrefix}/`);
  if (ctx.formatVersion <= 1 && !inside(full, ctx.backupPrefix)) {
    throw new IntegrityError(`${where}, which resolves outside the backup folder ${ctx.backupPrefix}/ (format v1 keeps every segment there)`);
  }
  return full;
}

export function isKafkaTopicName(name: string): boolean {
  return KAFKA_TOPIC.test(name) && name !== '.' && name !== '..';
}

/**
 * A topic name reported by a broker becomes a folder name on dump: anything Kafka itself
 * would not allow (a path separator, `..`, control characters) is refused, never mapped.
 */
export function checkBrokerTopicName(name: string): string {
  if (!isKafkaTopicName(name)) {
    throw new ServiceError(
      'kafka',
      `the broker reported a topic named ${JSON.stringify(name)}, which is not a legal Kafka topic name ([A-Za-z0-9._-], 1 to 249 characters, not "." or "..")`,
      'kbak refuses to turn it into a backup path; check that --brokers points at a real Kafka cluster',
    );
  }
  return name;
}

/** The store key of a segment entry of backup `ref` (v1: in its folder, v2: in its cluster's), after the checks above. */
export function resolveSegmentKey(ref: { cluster: string; backupId: string }, formatVersion: number, key: string): string {
  return checkSegmentKey(key, { backupPrefix: `${ref.cluster}/${ref.backupId}`, clusterPrefix: ref.cluster, formatVersion });
}
