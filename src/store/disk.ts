import { constants as fsc } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeDiskCode, diskHint, IntegrityError, NotFoundError, ServiceError } from '../errors';
import { refuseKey, storeKeyProblem, type ObjectStore, type ObjectWriter } from './store';

/** Temporary files carry this marker; list() never shows them. */
const TMP_MARK = '.kbak-tmp-';

/** Backups are private by default: owner-only files, and folders with the matching search bit. */
export const DEFAULT_FILE_MODE = 0o600;

/** A folder mode for a file mode: every class that may read a file may also search its folder. */
export function dirModeFor(fileMode: number): number {
  return fileMode | ((fileMode & 0o444) >> 2);
}

// Reads never follow a symlink and never block on a FIFO (O_NONBLOCK is a no-op on regular files).
const READ_FLAGS = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);
const CREATE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | (fsc.O_NOFOLLOW ?? 0);

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

export interface DiskStoreOptions {
  /** Mode of written files (default 0600); folders kbak creates get dirModeFor(fileMode). */
  fileMode?: number;
}

/**
 * Local-disk store: temp file, fsync, rename: an object is complete or absent. Keys are
 * untrusted: each is split on '/' only, must have only plain components (no `\`), and must
 * resolve inside the root, symlinks included; reads and writes never follow a symlink and
 * refuse anything that is not a regular file. Listing returns every file's own name.
 */
export class DiskStore implements ObjectStore {
  readonly location: string;
  private readonly root: string;
  private readonly fileMode: number;
  private readonly dirMode: number;
  private realRoot: Promise<string> | null = null;

  constructor(root: string, opts: DiskStoreOptions = {}) {
    this.root = resolve(root);
    this.location = root;
    this.fileMode = opts.fileMode ?? DEFAULT_FILE_MODE;
    this.dirMode = dirModeFor(this.fileMode);
  }

  /**
   * Lexical check: the path a key names, always inside the root. Split on '/' only: a
   * component with `\` is refused, never split (on Windows it would name another file, and
   * a listed file named `a\b` must not stand for `a/b`).
   */
  private path(key: string, folder = false): string {
    if (folder && key.length === 0) return this.root;
    const problem =
      storeKeyProblem(key) ??
      (key.includes('\\') ? 'it holds a "\\", which the disk store refuses rather than reading it as a separator' : null) ??
      (key.split('/').some((p) => /^[A-Za-z]:/.test(p) || isAbsolute(p)) ? 'a component is absolute or starts with a drive letter' : null);
    if (problem !== null) refuseKey(key, this.root, problem);
    const full = join(this.root, ...key.split('/'));
    const rel = relative(this.root, full);
    if (rel.startsWith('..') || isAbsolute(rel)) refuseKey(key, this.root, 'it resolves outside the store');
    return full;
  }

  /**
   * Symlink check: `dir`, or its deepest existing ancestor, must really be inside the root.
   * Called before folders are created (so mkdir never runs through a link) and again after.
   */
  private async assertInside(dir: string, key: string): Promise<void> {
    this.realRoot ??= realpath(this.root).catch(() => this.root);
    const root = await this.realRoot;
    let real: string | null = null;
    for (let d = dir; real === null;) {
      try {
        real = await realpath(d);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOENT' && code !== 'ENOTDIR') || d === this.root || dirname(d) === d) return;
        d = dirname(d);
      }
    }
    const rel = relative(root, real);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new IntegrityError(`refusing store key ${JSON.stringify(key)}: its folder resolves outside ${this.root} through a symlink`);
    }
  }

  /** mkdir -p with the folder mode set exactly (umask aside) on the folders it creates. */
  private async ensureDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true, mode: this.dirMode }).catch((err: unknown) => realMkdirError(dir, err, this.dirMode));
    if (first === undefined) return;
    const rel = relative(first, dir);
    let d = first;
    await chmod(d, this.dirMode);
    for (const p of rel.length > 0 ? rel.split(sep) : []) {
      d = join(d, p);
      await chmod(d, this.dirMode);
    }
  }

  async check(): Promise<void> {
    try {
      await this.ensureDir(this.root);
      const st = await stat(this.root);
      if (!st.isDirectory()) throw new Error('not a directory');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const what = code
        ? `${describeDiskCode(code)} (${(err as NodeJS.ErrnoException).syscall ?? 'mkdir'} ${(err as NodeJS.ErrnoException).path ?? this.root})`
        : (err as Error).message;
      throw new ServiceError('disk', `cannot use backup folder ${this.root}: ${what}`, code ? diskHint(code) : 'use a writable folder', {
        cause: err,
        options: ['destination'],
      });
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
      handle ??= (async () => {
        await this.assertInside(dirname(final), key);
        await this.ensureDir(dirname(final));
        await this.assertInside(dirname(final), key);
        const h = await open(tmp, CREATE_FLAGS, this.fileMode);
        await h.chmod(this.fileMode);
        return h;
      })();
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
        // rename replaces a symlink at `final` itself, it never writes through it.
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

  /** Opens a key for reading: no symlinks, no FIFOs or devices, inside the root. */
  private async openForRead(key: string): Promise<{ handle: FileHandle; size: number }> {
    const p = this.path(key);
    await this.assertInside(dirname(p), key);
    let handle: FileHandle;
    try {
      handle = await open(p, READ_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${key} not found in ${this.root}`);
      if (code === 'ELOOP' || code === 'EMLINK')
        throw new IntegrityError(`refusing ${key} in ${this.root}: it is a symlink (kbak never follows symlinks in a backup store)`);
      throw new ServiceError('disk', `cannot read ${key} in ${this.root}: ${code ?? (err as Error).message}`, undefined, { cause: err });
    }
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw new IntegrityError(`refusing ${key} in ${this.root}: it is not a regular file`);
    }
    return { handle, size: st.size };
  }

  async get(key: string, maxBytes?: number): Promise<Buffer> {
    const { handle, size } = await this.openForRead(key);
    try {
      if (maxBytes !== undefined && size > maxBytes) throw new IntegrityError(`${key} in ${this.root} is ${size} bytes, more than the limit of ${maxBytes}`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async *read(key: string): AsyncIterable<Buffer> {
    const { handle } = await this.openForRead(key);
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) yield chunk as Buffer;
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = this.path(prefix, true);
    // A symlinked prefix folder (a cluster folder pointing elsewhere) is not walked.
    if (prefix.length > 0) {
      try {
        if ((await lstat(base)).isSymbolicLink()) return;
      } catch {
        return;
      }
    }
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
    await this.assertInside(dirname(final), key);
    await this.ensureDir(dirname(final));
    await this.assertInside(dirname(final), key);
    const h = await open(tmp, CREATE_FLAGS, this.fileMode);
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
    const p = this.path(key);
    await this.assertInside(dirname(p), key);
    try {
      const st = await lstat(p);
      return st.isFile() ? st.size : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.path(key);
    await this.assertInside(dirname(p), key);
    await rm(p, { force: true });
  }
}

/**
 * Node's recursive mkdir reports ENOENT when a folder cannot be created for another reason (a
 * read-only file system, no permission): the user would look for a missing folder. On
 * ENOENT, the first missing folder below the deepest existing one is created on its own,
 * which fails with the real reason (EROFS, EACCES), thrown instead; when that works (a folder
 * removed meanwhile), the rest is created as before. Returns the first folder created.
 */
async function realMkdirError(dir: string, err: unknown, mode: number): Promise<string | undefined> {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  let missing = dir;
  for (let d = dirname(dir); d !== missing; missing = d, d = dirname(d)) {
    const exists = await stat(d).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (exists) break;
  }
  try {
    await mkdir(missing, { mode });
  } catch (real) {
    if ((real as NodeJS.ErrnoException).code !== 'EEXIST') throw real;
    return mkdir(dir, { recursive: true, mode });
  }
  return (await mkdir(dir, { recursive: true, mode })) ?? missing;
}
