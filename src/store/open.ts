import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors';
import type { Settings } from '../config/settings';
import { DiskStore } from './disk';
import { S3Store } from './s3';
import type { ObjectStore } from './store';

export const DEFAULT_DESTINATION = './kbak-backups';

/**
 * Destination syntax: a plain path or file:///abs/path for local disk, or
 * s3://bucket[/prefix] for S3 (endpoint/region/path-style from settings).
 */
export function openStore(dest: string, s3: Settings['s3']): ObjectStore {
  if (dest.startsWith('s3://')) {
    const rest = dest.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new UsageError(`invalid S3 bucket name "${bucket}" in ${dest}`, 'use s3://bucket/prefix');
    }
    return new S3Store({ bucket, prefix, endpoint: s3.endpoint, region: s3.region, forcePathStyle: s3.forcePathStyle });
  }
  if (dest.startsWith('file://')) {
    try {
      return new DiskStore(fileURLToPath(dest));
    } catch {
      throw new UsageError(`invalid file URL ${dest}`, 'use file:///absolute/path or a plain path');
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) {
    throw new UsageError(`unsupported destination scheme in ${dest}`, 'use a path, file:///path or s3://bucket/prefix');
  }
  return new DiskStore(resolve(dest));
}
