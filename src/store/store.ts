/**
 * Where backups live. One narrow interface, two implementations (disk, S3), in the
 * spirit of restic's backend: keys are '/'-separated relative paths; an object is either
 * fully there or not there at all, which is what lets the manifest-last rule make a
 * whole backup appear atomically.
 *
 * A key is a name, never re-split or normalised: `list` returns every object under its own
 * name, and every other method either acts on exactly the object a key names or refuses
 * the key (IntegrityError, see storeKeyProblem). A listed name may be one the store refuses
 * (a file named `a\b` on disk); callers check listed names before they use them.
 */
import { IntegrityError } from '../errors';

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
  /**
   * Keys under a prefix (a folder: '' or a valid key), in no guaranteed order, each exactly
   * as stored. Incomplete objects are never listed.
   */
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
  return parts
    .filter((p) => p.length > 0)
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p.length > 0)
    .join('/');
}

/**
 * Why `key` cannot name an object in any store, or null. A key is '/'-separated components,
 * none empty, `.` or `..`, none holding NUL: anything else would be normalised by some store
 * (S3 servers, path APIs) into another key, so stores refuse it instead of mapping it.
 * Stores may refuse more (the disk store: `\`, which Windows reads as a separator).
 */
export function storeKeyProblem(key: string): string | null {
  if (key.length === 0) return 'it is empty';
  for (const p of key.split('/')) {
    if (p === '') return key.startsWith('/') ? 'it is absolute' : key.endsWith('/') ? 'it ends with "/"' : 'it has an empty component';
    if (p === '.' || p === '..') return `it has a ${JSON.stringify(p)} component`;
    if (p.includes('\0')) return 'it holds a NUL character';
  }
  return null;
}

/** Throws IntegrityError for a key a store refuses (`problem`: storeKeyProblem or the store's own rule). */
export function refuseKey(key: string, location: string, problem: string): never {
  throw new IntegrityError(
    `refusing store key ${JSON.stringify(key)} in ${location}: ${problem}`,
    'a key names exactly one object: kbak refuses a key that a store could read as another name',
  );
}
