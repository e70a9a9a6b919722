/**
 * Store locks (issue 15, "Decisions written down"): a lock of this host whose process is gone
 * is stale at once; other hosts' locks, other PID namespaces' and live processes' keep the
 * expiry rule; a lock whose expiry cannot be read counts as live. The processes are real:
 * a child that has exited (and was reaped) and one that is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ConflictError } from '../../src/errors';
import { holderGone, listLocks, StoreLock } from '../../src/backup/lock';
import { DiskStore } from '../../src/store/disk';
import { MemoryStore } from '../../src/store/memory';
import type { ObjectStore } from '../../src/store/store';

const ownNamespace = ((): string | undefined => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/** The PID of a process that ran on this host and has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

let sleeper: ChildProcess;
beforeAll(() => {
  sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
});
afterAll(() => {
  sleeper.kill('SIGKILL');
});

const HOUR = 3_600_000;

function lockBody(over: Record<string, unknown>): Buffer {
  const now = Date.now();
  return Buffer.from(
    JSON.stringify({
      kind: 'shared',
      holder: 'kbak dump (test)',
      host: hostname(),
      pid: 1,
      startedAt: new Date(now - 1000).toISOString(),
      refreshedAt: new Date(now - 1000).toISOString(),
      expiresAt: new Date(now + HOUR).toISOString(),
      ...(ownNamespace === undefined ? {} : { pidNamespace: ownNamespace }),
      ...over,
    }),
  );
}

function capture(): { logger: pino.Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) }), warnings };
}

async function tryExclusive(store: ObjectStore): Promise<{ ok: boolean; error?: Error; warnings: string[] }> {
  const { logger, warnings } = capture();
  try {
    const lock = await StoreLock.acquire(store, 'c', 'exclusive', { holder: 'kbak prune (test)', waitMs: 0, logger });
    await lock.release();
    return { ok: true, warnings };
  } catch (err) {
    return { ok: false, error: err as Error, warnings };
  }
}

describe('a lock whose holder is gone', () => {
  it('on this host is stale at once: an exclusive holder proceeds and says why', async () => {
    const store = new MemoryStore();
    const pid = await deadPid();
    await store.put('c/locks/dead.json', lockBody({ pid }));
    const r = await tryExclusive(store);
    expect(r.error).toBeUndefined();
    expect(r.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^removing a stale shared lock of kbak dump \\(test\\) on ${hostname()} \\(pid ${pid}\\), started \\d+s ago, stale: its process is gone \\[c/locks/dead.json\\]`,
        ),
      ),
    ]);
    // Removed, as its holder can never release it (an expired lock of another host stays).
    expect(await store.size('c/locks/dead.json')).toBeNull();
  });

  it('on this host but still running keeps the expiry rule: refused', async () => {
    const store = new MemoryStore();
    await store.put('c/locks/live.json', lockBody({ pid: sleeper.pid }));
    const r = await tryExclusive(store);
    expect(r.error).toBeInstanceOf(ConflictError);
    expect(r.error!.message).toMatch(/cluster c is locked: shared lock of kbak dump \(test\)/);
  });

  it('on another host, in another PID namespace, or with no process ID keeps the expiry rule', async () => {
    const pid = await deadPid();
    for (const over of [{ pid, host: `${hostname()}-other` }, { pid, pidNamespace: 'pid:[1]' }, { pid: 0 }, { pid: -1 }]) {
      const store = new MemoryStore();
      await store.put('c/locks/l.json', lockBody(over));
      const r = await tryExclusive(store);
      expect(r.error).toBeInstanceOf(ConflictError);
    }
    // The same lock, once expired, is stale whatever its host.
    const store = new MemoryStore();
    await store.put('c/locks/l.json', lockBody({ pid, host: `${hostname()}-other`, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    const r = await tryExclusive(store);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([expect.stringMatching(/^ignoring a stale shared lock .* stale since .*; remove it with --break-lock$/)]);
    expect(await store.size('c/locks/l.json')).not.toBeNull();
  });

  it('holderGone compares host, namespace and process', async () => {
    const pid = await deadPid();
    expect(holderGone({ host: hostname(), pid, pidNamespace: ownNamespace })).toBe(true);
    expect(holderGone({ host: hostname(), pid: process.pid, pidNamespace: ownNamespace })).toBe(false);
    expect(holderGone({ host: hostname(), pid: sleeper.pid!, pidNamespace: ownNamespace })).toBe(false);
    expect(holderGone({ host: 'elsewhere', pid, pidNamespace: ownNamespace })).toBe(false);
  });
});

describe('locks that cannot be judged', () => {
  it('an unreadable expiry counts as a live lock', async () => {
    for (const expiresAt of ['x', '', '2026-13-45T99:99:99Z']) {
      const store = new MemoryStore();
      await store.put('c/locks/l.json', lockBody({ host: 'elsewhere', expiresAt }));
      expect((await tryExclusive(store)).error).toBeInstanceOf(ConflictError);
    }
  });

  it('a lock file that is not JSON or too large counts as a live exclusive lock', async () => {
    // The large one is a valid, expired lock padded with spaces: only its size makes it unreadable.
    const padded = Buffer.concat([lockBody({ host: 'elsewhere', expiresAt: new Date(0).toISOString() }), Buffer.alloc(100 * 1024, 0x20)]);
    for (const body of [Buffer.from('not json'), padded]) {
      const store = new MemoryStore();
      await store.put('c/locks/l.json', body);
      const r = await tryExclusive(store);
      expect(r.error).toBeInstanceOf(ConflictError);
      expect(r.error!.message).toMatch(/exclusive lock of unknown \(unreadable lock\)/);
    }
  });

  it('a name in the lock folder that is not a valid key is no lock: neither opened nor in the way', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kbak-locks-'));
    try {
      mkdirSync(join(root, 'c', 'locks'), { recursive: true });
      writeFileSync(join(root, 'c', 'locks', '..\\segments\\x.json'), lockBody({ host: 'elsewhere' }));
      const store = new DiskStore(root);
      expect(await listLocks(store, 'c')).toEqual([]);
      expect((await tryExclusive(store)).ok).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
