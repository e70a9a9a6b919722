/**
 * Which store key a segment entry of a manifest points at, and the rule that keeps a
 * manifest from pointing anywhere else (FORMAT.md, "Segment keys"): a key is relative,
 * '/'-separated, each component [A-Za-z0-9._=-]+ and never '.' or '..'. Version 1 keys
 * resolve against the backup prefix `<cluster>/<backupId>/`, version 2 keys against the
 * cluster folder `<cluster>/`, so a v2 backup can share segments with older backups of
 * the same cluster but never reach another cluster's objects.
 */
import { IntegrityError } from '../errors';

const COMPONENT = /^[A-Za-z0-9._=-]+$/;

/** Throws IntegrityError naming the manifest when `key` breaks the key rule. */
export function checkSegmentKey(key: string, where: string): void {
  const parts = key.split('/');
  const bad = key.length === 0 || key.length > 1024 || parts.some((p) => p === '' || p === '.' || p === '..' || !COMPONENT.test(p));
  if (bad) throw new IntegrityError(`manifest ${where} names an invalid segment key ${JSON.stringify(key)}`, 'the manifest is corrupt or was not written by kbak');
}

/** The store key of a segment entry, after checking the key rule. */
export function resolveSegmentKey(ref: { cluster: string; backupId: string }, formatVersion: number, key: string): string {
  checkSegmentKey(key, `${ref.cluster}/${ref.backupId}`);
  return formatVersion === 1 ? `${ref.cluster}/${ref.backupId}/${key}` : `${ref.cluster}/${key}`;
}
