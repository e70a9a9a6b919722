import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { retryDelay, type RetryPolicy } from '../util/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { redactUrl } from '../config/settings';
import { IntegrityError, NotFoundError, ServiceError } from '../errors';
import { joinKey, refuseKey, storeKeyProblem, type ObjectStore, type ObjectWriter } from './store';

export interface S3Location {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Server-side encryption asked of S3 for every object kbak writes. */
  sse?: S3Sse;
}

export const S3_SSE_MODES = ['AES256', 'aws:kms'] as const;
export interface S3Sse {
  mode: (typeof S3_SSE_MODES)[number];
  /** With aws:kms: the KMS key (ID, ARN or alias); the bucket's default key when absent. */
  kmsKeyId?: string;
}

/** Multipart part size: S3's minimum, 5 MiB, keeps memory small (one part filling per open segment, PARTS_IN_FLIGHT uploading) and the 10 000-part limit far away (50 GB). */
const PART_SIZE = 5 * 1024 * 1024;

/**
 * Parts uploading at once, across all objects this store writes: each open object fills
 * one part and waits here to upload it, so a dump's S3 buffers are (open objects +
 * PARTS_IN_FLIGHT) parts, whatever the object sizes.
 */
const PARTS_IN_FLIGHT = 2;

/** A counting semaphore: take() waits while all slots are in use. */
class Slots {
  private waiters: Array<() => void> = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Every request (each PutObject, each multipart part) is retried on network errors,
 * throttling and 5xx with exponential backoff, 0.5 s doubling to 4 s, for 8 attempts: about
 * 20 s of backoff in all, which rides out a restarting server or a short network cut. The
 * SDK's default (3 attempts within a second) turned a 3-second S3 blip into a failed dump.
 * A server that accepts but never answers is cut off by the socket timeouts, so a request
 * gives up after at most 8 × (5 s connect or 15 s silence) plus the backoff.
 */
const S3_RETRY = { initialMs: 500, maxMs: 4000, attempts: 8 } as const satisfies RetryPolicy;
/** The SDK runs the loop (it knows which S3 answers are throttling); the policy sets its waits. SDK attempts count from 1. */
const backoffMs = (attempt: number): number => retryDelay(S3_RETRY, attempt - 1, 0.5);
const CONNECT_TIMEOUT_MS = 5000;
const IDLE_TIMEOUT_MS = 15_000;

function s3Error(err: unknown, loc: string, doing: string): Error {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (name === 'NoSuchBucket')
    return new ServiceError('s3', `bucket of ${loc} does not exist`, 'create the bucket or fix the s3:// destination', { cause: err, retriable: false });
  if (name === 'NoSuchKey' || status === 404) return new NotFoundError(`${doing}: not found in ${loc}`);
  if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'].includes(name) || status === 403) {
    return new ServiceError(
      's3',
      `S3 denied access to ${loc} while ${doing} (${name || status})`,
      'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the credential chain and the bucket policy',
      { cause: err, retriable: false },
    );
  }
  if (/ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|TimeoutError|socket/i.test(`${name} ${e.message ?? ''} ${e.code ?? ''}`)) {
    return new ServiceError('s3', `cannot reach S3 for ${loc} while ${doing}: ${e.message ?? name}`, 'check the S3 endpoint', {
      cause: err,
      options: ['s3.endpoint'],
    });
  }
  return new ServiceError('s3', `S3 failed on ${loc} while ${doing}: ${name} ${e.message ?? ''}`.trim(), undefined, { cause: err });
}

/**
 * S3 (or any S3-compatible) store. Credentials come from the AWS SDK's standard chain
 * (env, shared config/credentials files, SSO, web identity for Kubernetes IRSA, instance
 * metadata); kbak never takes keys as flags so they cannot leak into shell history or logs.
 */
export class S3Store implements ObjectStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly partSlots = new Slots(PARTS_IN_FLIGHT);

  constructor(private readonly loc: S3Location) {
    this.location = `s3://${loc.bucket}/${loc.prefix}`.replace(/\/$/, '');
    const config: S3ClientConfig = {
      region: loc.region ?? 'us-east-1',
      forcePathStyle: loc.forcePathStyle ?? Boolean(loc.endpoint),
      // Checksums on every request: S3-compatible servers differ in what they accept, the
      // SDK's "when required" mode is the interoperable one; kbak checks sha256 itself.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      retryStrategy: new ConfiguredRetryStrategy(S3_RETRY.attempts, backoffMs),
      requestHandler: new NodeHttpHandler({ connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: IDLE_TIMEOUT_MS }),
    };
    if (loc.endpoint) config.endpoint = loc.endpoint;
    this.client = new S3Client(config);
  }

  /**
   * The object key for a store key: the prefix, then the key verbatim. A key S3 or an
   * S3-compatible server could read as another (`a//b`, `a/`, `..`) is refused, never
   * normalised, so a listed name always names exactly the object it was listed as.
   * Called before a request's try, so a refused key stays an IntegrityError, not an S3 failure.
   */
  private key(key: string, folder = false): string {
    if (!(folder && key.length === 0)) {
      const problem = storeKeyProblem(key);
      if (problem !== null) refuseKey(key, this.location, problem);
    }
    return joinKey(this.loc.prefix, key);
  }

  /** The SSE request parameters of PutObject and CreateMultipartUpload. */
  private sseParams(): { ServerSideEncryption?: S3Sse['mode']; SSEKMSKeyId?: string } {
    const sse = this.loc.sse;
    if (!sse) return {};
    return sse.kmsKeyId ? { ServerSideEncryption: sse.mode, SSEKMSKeyId: sse.kmsKeyId } : { ServerSideEncryption: sse.mode };
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.loc.bucket }));
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
        throw new ServiceError(
          's3',
          `bucket "${this.loc.bucket}" does not exist${this.loc.endpoint ? ` at ${redactUrl(this.loc.endpoint)}` : ''}`,
          'create it first or fix the s3:// destination',
          { retriable: false },
        );
      }
      throw s3Error(err, this.location, 'checking the bucket');
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    const Key = this.key(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key, Body: body, ...this.sseParams() }));
    } catch (err) {
      throw s3Error(err, this.location, `writing ${key}`);
    }
  }

  /**
   * A streamed object: small ones become one PutObject, larger ones a multipart upload.
   * Memory is two parts at most (one filling, one uploading; a write waits for the upload
   * before it starts the next), so a dump's S3 buffers follow its open partitions, not
   * the object sizes. lib-storage's Upload held up to four times that (a list of chunks,
   * their concatenation and the remainder views of it, plus the parts in flight).
   */
  create(key: string): ObjectWriter {
    const Bucket = this.loc.bucket;
    const Key = this.key(key);
    const client = this.client;
    const where = `writing ${key}`;
    let part: Buffer | null = null;
    // The buffer of the part uploaded last, reused once that upload is over: a dump's
    // external memory would otherwise grow by 5 MiB per part until V8's next full GC.
    let spare: Buffer | null = null;
    let fill = 0;
    let uploadId: string | null = null;
    const parts: CompletedPart[] = [];
    let inFlight: Promise<void> | null = null;
    let failure: unknown = null;

    const settle = async (): Promise<void> => {
      const p = inFlight;
      inFlight = null;
      if (p) await p;
      if (failure) throw s3Error(failure, this.location, where);
    };
    const sendPart = async (): Promise<void> => {
      await settle();
      if (uploadId === null) {
        try {
          uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket, Key, ...this.sseParams() }))).UploadId ?? null;
        } catch (err) {
          throw s3Error(err, this.location, where);
        }
        if (uploadId === null) throw new ServiceError('s3', `S3 returned no upload ID for ${key} in ${this.location}`);
      }
      const buffer = part!;
      const Body = buffer.subarray(0, fill);
      const PartNumber = parts.length + 1;
      parts.push({ PartNumber });
      part = null;
      fill = 0;
      const UploadId = uploadId;
      const slots = this.partSlots;
      await slots.take();
      const sent = client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body }));
      sent.then(
        () => slots.give(),
        () => slots.give(),
      );
      inFlight = sent.then(
        (r) => {
          parts[PartNumber - 1] = { PartNumber, ETag: r.ETag };
          spare = buffer;
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
    };
    return {
      write: async (chunk) => {
        if (failure) throw s3Error(failure, this.location, where);
        let off = 0;
        while (off < chunk.length) {
          if (part === null) {
            part = spare ?? Buffer.allocUnsafe(PART_SIZE);
            spare = null;
          }
          const n = Math.min(PART_SIZE - fill, chunk.length - off);
          chunk.copy(part, fill, off, off + n);
          fill += n;
          off += n;
          if (fill === PART_SIZE) await sendPart();
        }
      },
      complete: async () => {
        if (uploadId === null) {
          await this.put(key, part ? part.subarray(0, fill) : Buffer.alloc(0));
          part = null;
          return;
        }
        if (fill > 0) await sendPart();
        await settle();
        try {
          await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
        } catch (err) {
          throw s3Error(err, this.location, where);
        }
      },
      abort: async () => {
        part = null;
        spare = null;
        await inFlight;
        inFlight = null;
        // An incomplete multipart upload never becomes an object; aborting it removes its parts.
        if (uploadId !== null) await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => undefined);
      },
    };
  }

  async get(key: string, maxBytes?: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.read(key, maxBytes)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async *read(key: string, maxBytes?: number): AsyncIterable<Buffer> {
    let res;
    const Key = this.key(key);
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key }));
    } catch (err) {
      throw s3Error(err, this.location, `reading ${key}`);
    }
    const stream = res.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (!stream) return;
    const tooBig = (n: number): IntegrityError => new IntegrityError(`${key} in ${this.location} is ${n} bytes or more, more than the limit of ${maxBytes}`);
    if (maxBytes !== undefined && (res.ContentLength ?? 0) > maxBytes) {
      stream.destroy?.();
      throw tooBig(res.ContentLength ?? 0);
    }
    let seen = 0;
    for await (const chunk of stream) {
      seen += chunk.byteLength;
      if (maxBytes !== undefined && seen > maxBytes) throw tooBig(seen);
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const full = this.key(prefix, true);
    const fullPrefix = full.length > 0 ? `${full}/` : '';
    const strip = this.loc.prefix.replace(/^\/+|\/+$/g, '');
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: fullPrefix, ContinuationToken: token }));
      } catch (err) {
        throw s3Error(err, this.location, `listing ${prefix || '/'}`);
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        yield strip.length > 0 ? o.Key.slice(strip.length + 1) : o.Key;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const Key = this.key(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key, Body: body, IfNoneMatch: '*' }));
      return true;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      // 412: the key exists; 409: a concurrent conditional write to the same key won.
      if (e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412 || e.$metadata?.httpStatusCode === 409) return false;
      throw s3Error(err, this.location, `creating ${key}`);
    }
  }

  async size(key: string): Promise<number | null> {
    const Key = this.key(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key }));
      return res.ContentLength ?? 0;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return null;
      throw s3Error(err, this.location, `checking ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.key(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key }));
    } catch (err) {
      throw s3Error(err, this.location, `deleting ${key}`);
    }
  }
}
