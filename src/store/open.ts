import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors';
import type { Settings } from '../config/settings';
import { DiskStore } from './disk';
import type * as S3Module from './s3';
import type { S3Sse } from './s3';
import type { ObjectStore } from './store';

/**
 * The S3 store (and with it the AWS SDK, ~30 MiB of resident memory) is loaded only when a
 * destination or option is S3's: a dump to disk or a restore from disk does without it.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const s3Module = (): typeof S3Module => require('./s3') as typeof S3Module;

/**
 * Destination syntax: a plain path or file:///abs/path for local disk, or
 * s3://bucket[/prefix] for S3 (endpoint/region/path-style from settings).
 */
export interface WriteOptions {
  /** Disk only: mode of written files (default 0600). */
  fileMode?: number;
  /** S3 only: server-side encryption. */
  sse?: S3Sse;
}

/** `--file-mode OCTAL`: three octal digits that keep the owner's read and write. */
export function parseFileMode(v: string): number {
  if (!/^0?[0-7]{3}$/.test(v)) throw new UsageError(`--file-mode "${v}" is not an octal mode like 600 or 640`, 'pass three octal digits');
  const mode = parseInt(v, 8);
  if ((mode & 0o600) !== 0o600)
    throw new UsageError(`--file-mode ${v} takes the owner's read or write permission away`, 'keep 6 in the first digit, e.g. 600 or 640');
  return mode;
}

/** `--s3-sse MODE [--s3-sse-kms-key-id ID]`. */
export function parseS3Sse(mode: string | undefined, kmsKeyId: string | undefined): S3Sse | undefined {
  if (mode === undefined) {
    if (kmsKeyId !== undefined) throw new UsageError('--s3-sse-kms-key-id needs --s3-sse aws:kms', 'add --s3-sse aws:kms');
    return undefined;
  }
  const { S3_SSE_MODES } = s3Module();
  if (!(S3_SSE_MODES as readonly string[]).includes(mode)) throw new UsageError(`--s3-sse "${mode}" is not supported`, `use ${S3_SSE_MODES.join(' or ')}`);
  if (kmsKeyId !== undefined && mode !== 'aws:kms')
    throw new UsageError('--s3-sse-kms-key-id only applies to --s3-sse aws:kms', 'drop it or use --s3-sse aws:kms');
  return { mode: mode as S3Sse['mode'], kmsKeyId };
}

export function openStore(dest: string, s3: Settings['s3'], write: WriteOptions = {}): ObjectStore {
  const isS3 = dest.startsWith('s3://');
  if (isS3 && write.fileMode !== undefined)
    throw new UsageError('--file-mode applies to disk destinations only', 'drop --file-mode for s3:// (use bucket policies and --s3-sse)');
  if (!isS3 && write.sse !== undefined) throw new UsageError('--s3-sse applies to s3:// destinations only', 'drop --s3-sse or write to s3://bucket/prefix');
  if (isS3) {
    const rest = dest.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new UsageError(`invalid S3 bucket name "${bucket}" in ${dest}`, 'use s3://bucket/prefix');
    }
    return new (s3Module().S3Store)({ bucket, prefix, endpoint: s3.endpoint, region: s3.region, forcePathStyle: s3.forcePathStyle, sse: write.sse });
  }
  if (dest.startsWith('file://')) {
    try {
      return new DiskStore(fileURLToPath(dest), { fileMode: write.fileMode });
    } catch {
      throw new UsageError(`invalid file URL ${dest}`, 'use file:///absolute/path or a plain path');
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) {
    throw new UsageError(`unsupported destination scheme in ${dest}`, 'use a path, file:///path or s3://bucket/prefix');
  }
  return new DiskStore(resolve(dest), { fileMode: write.fileMode });
}
