/** A disk folder and an S3 prefix of the local stack, for tests that run a command against both. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open';
import type { ObjectStore } from '../../src/store/store';
import { stackEnv, uniqueName } from './stack';

export type StoreKind = 'disk' | 's3';

export function newDestination(kind: StoreKind, label: string): { dest: string; store: ObjectStore } {
  const dest = kind === 'disk' ? mkdtempSync(join(tmpdir(), `kbak-${label}-`)) : `s3://${stackEnv().s3Bucket}/${uniqueName(label)}`;
  return { dest, store: openStore(dest, { endpoint: stackEnv().s3Endpoint, forcePathStyle: true, region: 'us-east-1' }) };
}

export async function allKeys(store: ObjectStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.list(prefix)) keys.push(k);
  return keys.sort();
}
