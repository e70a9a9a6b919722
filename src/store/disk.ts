import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import { NotFoundError, ServiceError } from '../errors';
import type { ObjectStore, ObjectWriter } from './store';

/** Temporary files carry this marker; list() never shows them. */
const TMP_MARK = '.kbak-tmp-';

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; some filesystems refuse to open a directory, that is fine.
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* best effort */
  }
}

/** Local-disk store: temp file, fsync, rename: an object is complete or absent. */
export class DiskStore implements ObjectStore {
  readonly location: string;
  constructor(private readonly root: string) {
    this.location = root;
  }

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      const st = await stat(this.root);
      if (!st.isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new ServiceError('disk', `cannot use backup folder ${this.root}: ${(err as Error).message}`, 'use a writable folder', { cause: err, options: ['destination'] });
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    const w = this.create(key);
    try {
      await w.write(body);
      await w.complete();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  create(key: string): ObjectWriter {
    const final = this.path(key);
    const tmp = `${final}${TMP_MARK}${randomBytes(6).toString('hex')}`;
    let handle: Promise<FileHandle> | null = null;
    const ensure = (): Promise<FileHandle> => {
      handle ??= mkdir(dirname(final), { recursive: true }).then(() => open(tmp, 'wx'));
      return handle;
    };
    return {
      write: async (chunk) => {
        const h = await ensure();
        await h.write(chunk);
      },
      complete: async () => {
        const h = await ensure();
        await h.sync();
        await h.close();
        await rename(tmp, final);
        await fsyncDir(dirname(final));
      },
      abort: async () => {
        if (!handle) return;
        try {
          (await handle).close().catch(() => undefined);
        } catch {
          /* open failed: nothing to close */
        }
        await rm(tmp, { force: true });
      },
    };
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${key} not found in ${this.root}`);
      throw err;
    }
  }

  async *read(key: string): AsyncIterable<Buffer> {
    const p = this.path(key);
    try {
      await stat(p);
    } catch {
      throw new NotFoundError(`${key} not found in ${this.root}`);
    }
    for await (const chunk of createReadStream(p, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = this.path(prefix);
    let entries;
    try {
      entries = await readdir(base, { recursive: true, withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      if (!e.isFile() || e.name.includes(TMP_MARK)) continue;
      // Node 20 names the folder `parentPath` (newer) or `path` (older 20.x).
      const parent = (e as unknown as { parentPath?: string; path: string }).parentPath ?? (e as unknown as { path: string }).path;
      yield relative(this.root, join(parent, e.name)).split(sep).join('/');
    }
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    // Written completely under a temporary name, then hard-linked: link() fails with EEXIST
    // when the name is taken, so the object appears whole and only once (like O_EXCL).
    const final = this.path(key);
    const tmp = `${final}${TMP_MARK}${randomBytes(6).toString('hex')}`;
    await mkdir(dirname(final), { recursive: true });
    const h = await open(tmp, 'wx');
    try {
      await h.write(body);
      await h.sync();
    } finally {
      await h.close();
    }
    try {
      await link(tmp, final);
      await fsyncDir(dirname(final));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      const st = await stat(this.path(key));
      return st.isFile() ? st.size : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
