/**
 * An ObjectStore in memory, for tests and for programs that assemble a backup before
 * uploading it. Same contract as disk and S3 (test/unit/store-conformance.test.ts): an
 * object is visible only once complete, `list(prefix)` lists keys under the folder `prefix`.
 */
import { NotFoundError } from '../errors';
import type { ObjectStore, ObjectWriter } from './store';

export class MemoryStore implements ObjectStore {
  readonly location: string;
  private readonly objects = new Map<string, Buffer>();

  constructor(name = 'memory') {
    this.location = `memory://${name}`;
  }

  async check(): Promise<void> {}

  async put(key: string, body: Buffer): Promise<void> {
    this.objects.set(key, Buffer.from(body));
  }

  create(key: string): ObjectWriter {
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

  async get(key: string): Promise<Buffer> {
    const b = this.objects.get(key);
    if (!b) throw new NotFoundError(`${key} not found in ${this.location}`);
    return Buffer.from(b);
  }

  async *read(key: string): AsyncIterable<Buffer> {
    yield await this.get(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    const folder = prefix.replace(/^\/+|\/+$/g, '');
    for (const key of [...this.objects.keys()]) if (folder === '' || key.startsWith(`${folder}/`)) yield key;
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    if (this.objects.has(key)) return false;
    this.objects.set(key, Buffer.from(body));
    return true;
  }

  async size(key: string): Promise<number | null> {
    return this.objects.get(key)?.length ?? null;
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
