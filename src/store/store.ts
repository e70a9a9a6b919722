/**
 * Where backups live. One narrow interface, two implementations (disk, S3), in the
 * spirit of restic's backend: keys are '/'-separated relative paths; an object is either
 * fully there or not there at all, which is what lets the manifest-last rule make a
 * whole backup appear atomically.
 */
export interface ObjectWriter {
  /** Resolves once the chunk is accepted; awaiting it is the back-pressure. */
  write(chunk: Buffer): Promise<void>;
  /** Makes the object visible under its key. */
  complete(): Promise<void>;
  /** Discards everything written; the key stays absent. */
  abort(): Promise<void>;
}

export interface ObjectStore {
  /** Where this store points, for messages (no credentials). */
  readonly location: string;
  /** Writes a small object atomically. */
  put(key: string, body: Buffer): Promise<void>;
  /** Streams a large object; visible only after complete(). */
  create(key: string): ObjectWriter;
  /** A small object whole; with maxBytes, refuses a larger one before reading it. */
  get(key: string, maxBytes?: number): Promise<Buffer>;
  /** Streams an object's bytes. */
  read(key: string): AsyncIterable<Buffer>;
  /** Keys under a prefix, in no guaranteed order. Incomplete objects are never listed. */
  list(prefix: string): AsyncIterable<string>;
  delete(key: string): Promise<void>;
  /**
   * Writes a small object only if the key is absent (S3: If-None-Match: *, disk: an
   * exclusive link); false when it already exists. Locks depend on this being atomic.
   */
  putIfAbsent(key: string, body: Buffer): Promise<boolean>;
  /** The object's size in bytes, or null when it does not exist. */
  size(key: string): Promise<number | null>;
  /** Fails with a clear error when the store cannot be used (missing bucket, no access). */
  check(): Promise<void>;
}

export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p.length > 0).join('/');
}
