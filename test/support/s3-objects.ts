/**
 * Reads a backup out of the stack's S3 server with the AWS SDK directly (not kbak's store),
 * into a local folder that the independent decoder can check.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { stackEnv } from './stack';

export function s3Client(): S3Client {
  const e = stackEnv();
  return new S3Client({ endpoint: e.s3Endpoint, region: e.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true });
}

/** Every key under prefix/ (relative to the prefix). */
export async function listS3(prefix: string): Promise<string[]> {
  const client = s3Client();
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: stackEnv().s3Bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key.slice(prefix.length + 1));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Copies every object under prefix/ to dir, keeping the key paths. */
export async function downloadS3(prefix: string, dir: string): Promise<void> {
  const client = s3Client();
  for (const key of await listS3(prefix)) {
    const res = await client.send(new GetObjectCommand({ Bucket: stackEnv().s3Bucket, Key: `${prefix}/${key}` }));
    const file = join(dir, ...key.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(await res.Body!.transformToByteArray()));
  }
}
