/**
 * A backup folder that cannot be created says why: Node's recursive mkdir reports ENOENT for a
 * read-only file system or a folder the user may not write, so the disk store asks the file
 * system again, one folder at a time, and names EROFS/EACCES with what to do. The file system
 * is a fake here (the codes a read-only mount and a denied parent give, as measured on Linux);
 * test/integration/disk-errors.test.ts does the same against a real read-only mount.
 */
import { ServiceError, classifyError } from '../../src/errors';

const calls: string[] = [];
let plainMkdirCode: string | null = 'EROFS';

jest.mock('node:fs/promises', () => {
  const real = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');
  return {
    ...real,
    mkdir: jest.fn(async (path: string, opts?: { recursive?: boolean }) => {
      calls.push(`${opts?.recursive ? 'mkdir -p' : 'mkdir'} ${path}`);
      if (path.startsWith('/fake-ro')) {
        if (opts?.recursive) throw Object.assign(new Error(`ENOENT: no such file or directory, mkdir '${path}'`), { code: 'ENOENT', syscall: 'mkdir', path });
        if (plainMkdirCode) throw Object.assign(new Error(`${plainMkdirCode}: mkdir '${path}'`), { code: plainMkdirCode, syscall: 'mkdir', path });
        return undefined;
      }
      return real.mkdir(path, opts);
    }),
    stat: jest.fn(async (path: string) => {
      if (path === '/fake-ro') return { isDirectory: (): boolean => true };
      if (path.startsWith('/fake-ro/')) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return real.stat(path);
    }),
  };
});

// Imported after the mock is set up (jest hoists jest.mock above imports anyway).
import { DiskStore } from '../../src/store/disk';

beforeEach(() => {
  calls.length = 0;
  plainMkdirCode = 'EROFS';
});

describe('a backup folder that cannot be created', () => {
  it('on a read-only file system: EROFS named, with what to do, not ENOENT', async () => {
    const err = await new DiskStore('/fake-ro/backups/prod').check().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).exitCode).toBe(4);
    expect((err as Error).message).toBe('cannot use backup folder /fake-ro/backups/prod: EROFS, the file system is read-only (mkdir /fake-ro/backups)');
    expect((err as ServiceError).hint).toMatch(/^use a folder on a writable disk, or mount this one read-write/);
    // The second look creates only the first missing folder, below the one that exists.
    expect(calls).toEqual(['mkdir -p /fake-ro/backups/prod', 'mkdir /fake-ro/backups']);
  });

  it('without permission: EACCES named, with what to do', async () => {
    plainMkdirCode = 'EACCES';
    const err = await new DiskStore('/fake-ro/b').check().catch((e: unknown) => e);
    expect((err as Error).message).toBe('cannot use backup folder /fake-ro/b: EACCES, permission denied (mkdir /fake-ro/b)');
    expect((err as ServiceError).hint).toMatch(/^give the user kbak runs as access to the folder/);
  });

  it('when the second look succeeds (the folder really was missing), the rest is created as asked', async () => {
    plainMkdirCode = null;
    // The recursive mkdir keeps failing in this fake: its ENOENT then stands, nothing is hidden.
    const err = await new DiskStore('/fake-ro/x/y').check().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ENOENT/);
    expect(calls).toEqual(['mkdir -p /fake-ro/x/y', 'mkdir /fake-ro/x', 'mkdir -p /fake-ro/x/y']);
  });
});

describe('classifyError of a file-system error during a run', () => {
  it.each([
    ['EROFS', 'EROFS, the file system is read-only', /read-write/, false],
    ['EACCES', 'EACCES, permission denied', /access to the folder/, false],
    ['ENOSPC', 'ENOSPC, no space left on the device', /free space/, true],
  ])('%s: named with its meaning and what to do', (code, words, hint, retriable) => {
    const e = classifyError(Object.assign(new Error(code), { code, syscall: 'open', path: '/b/x' }), 'dumping');
    expect(e.message).toBe(`disk failed while dumping: ${words} (/b/x)`);
    expect(e.hint).toMatch(hint);
    expect(e.exitCode).toBe(4);
    expect((e as ServiceError).retriable).toBe(retriable);
  });
});
