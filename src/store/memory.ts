/**
 * An ObjectStore in memory, for tests and for programs that assemble a backup before
 * uploading it. Same contract as disk and S3 (test/unit/store-conformance.test.ts): an
 * object is visible only once complete, `list(prefix)` lists keys under the folder `prefix`,
 * a key is a name (any string storeKeyProblem accepts, `\` included) and never normalised.
 */
/* eslint-disable @typescript-eslint/require-await -- the ObjectStore's methods are async; in memory
   nothing needs awaiting, and `async` still turns a throw into a rejection, as disk and S3 do. */
import { IntegrityError, NotFoundError } from '../errors';
import { refuseKey, storeKeyProblem, type ObjectStore, type ObjectWriter } from './store';

export class MemoryStore implements ObjectStore {
  readonly location: string;
  private readonly objects = new Map<string, Buffer>();

  constructor(name = 'memory') {
    this.location = `memory://${name}`;
  }

  async check(): Promise<void> {}

  private checked(key: string): string {
    const problem = storeKeyProblem(key);
    if (problem !== null) refuseKey(key, this.location, problem);
    return key;
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.objects.set(this.checked(key), Buffer.from(body));
  }

  create(key: string): ObjectWriter {
    this.checked(key);
    let chunks: Buffer[] | null = [];
    return {
      write: async (chunk) => {
        if (!chunks) throw new Error(`write after complete/abort of ${key}`);
        chunks.push(Buffer.from(chunk));
      },
      complete: async () => {
        if (!chunks) throw new Error(`complete after complete/abort of ${key}`);
        this.objects.set(key, Buffer.concat(chunks));
        chunks = null;
      },
      abort: async () => {
        chunks = null;
      },
    };
  }

  async get(key: string, maxBytes?: number): Promise<Buffer> {
    const b = this.objects.get(this.checked(key));
    if (!b) throw new NotFoundError(`${key} not found in ${this.location}`);
    if (maxBytes !== undefined && b.length > maxBytes)
      throw new IntegrityError(`${key} in ${this.location} is ${b.length} bytes, more than the limit of ${maxBytes}`);
    return Buffer.from(b);
  }

  async *read(key: string): AsyncIterable<Buffer> {
    yield await this.get(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    const folder = prefix === '' ? '' : this.checked(prefix);
    for (const key of [...this.objects.keys()]) if (folder === '' || key.startsWith(`${folder}/`)) yield key;
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    if (this.objects.has(this.checked(key))) return false;
    this.objects.set(key, Buffer.from(body));
    return true;
  }

  async size(key: string): Promise<number | null> {
    return this.objects.get(this.checked(key))?.length ?? null;
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(this.checked(key));
  }
}
