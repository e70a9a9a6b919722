/**
 * Store locks, as restic does them: every holder writes its own lock object under
 * `<cluster>/locks/` (never overwriting another's: created with If-None-Match: * on S3,
 * an exclusive link on disk), refreshes it while it runs, and deletes it at the end.
 * Dumps hold shared locks and run side by side; prune holds an exclusive one, because it
 * deletes segments that no manifest names yet, which is exactly what a running dump has
 * written. A lock not refreshed before its expiry is stale: reported (owner, age) and
 * ignored; a holder whose own lock could not be refreshed in time stops before it commits.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConflictError } from '../errors';
import type { Logger } from '../output/logger';
import { LOCKS_DIR } from '../backup/layout';
import type { ObjectStore } from './store';
import { onInterrupt } from '../util/interrupt';

export type LockKind = 'shared' | 'exclusive';

const lockSchema = z.object({
  kind: z.enum(['shared', 'exclusive']),
  holder: z.string(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  refreshedAt: z.string(),
  expiresAt: z.string(),
});
export type LockInfo = z.infer<typeof lockSchema> & { key: string };

export interface LockOptions {
  /** What holds the lock, for messages ("kbak dump"). */
  holder: string;
  /** How long a lock stays valid without a refresh. */
  ttlMs?: number;
  /** How long to wait for conflicting locks to go away; 0 refuses at once. */
  waitMs?: number;
  logger?: Logger;
  now?: () => number;
}

const DEFAULT_TTL_MS = 5 * 60_000;

export function locksPrefix(cluster: string): string {
  return `${cluster}/${LOCKS_DIR}`;
}

export async function listLocks(store: ObjectStore, cluster: string): Promise<LockInfo[]> {
  const out: LockInfo[] = [];
  for await (const key of store.list(locksPrefix(cluster))) {
    if (!key.endsWith('.json')) continue;
    let parsed;
    try {
      parsed = lockSchema.safeParse(JSON.parse((await store.get(key)).toString('utf8')));
    } catch {
      continue; // deleted meanwhile, or unreadable: handled below as a lock we cannot judge
    }
    if (parsed.success) out.push({ ...parsed.data, key });
    else out.push({ kind: 'exclusive', holder: 'unknown (unreadable lock)', host: '?', pid: 0, startedAt: '', refreshedAt: '', expiresAt: new Date(8.64e15).toISOString(), key });
  }
  return out;
}

export function describeLock(l: LockInfo, now: number): string {
  const age = l.startedAt ? Math.round((now - Date.parse(l.startedAt)) / 1000) : NaN;
  return `${l.kind} lock of ${l.holder} on ${l.host} (pid ${l.pid}), started ${Number.isNaN(age) ? '?' : `${age}s`} ago${Date.parse(l.expiresAt) < now ? `, stale since ${l.expiresAt}` : ''} [${l.key}]`;
}

/**
 * A store whose S3 service ignores If-None-Match would let two lock objects share a key
 * silently; probe once (two conditional PUTs on a fresh key) and refuse such a store.
 */
async function checkConditionalWrites(store: ObjectStore, cluster: string): Promise<void> {
  const key = `${locksPrefix(cluster)}/probe-${randomBytes(8).toString('hex')}.tmp`;
  const unregister = onInterrupt(() => store.delete(key));
  const first = await store.putIfAbsent(key, Buffer.from('probe'));
  const second = first ? await store.putIfAbsent(key, Buffer.from('probe')) : true;
  await store.delete(key).catch(() => undefined);
  unregister();
  if (!first || second) {
    throw new ConflictError(`${store.location} does not honour conditional writes (If-None-Match: *), so kbak cannot lock it safely`, 'use an S3 service that supports conditional writes (AWS S3 does since 2024), or a disk store');
  }
}

export class StoreLock {
  private timer: NodeJS.Timeout | null = null;
  private validUntil = 0;
  private refreshError: Error | null = null;
  private unregisterInterrupt: (() => void) | null = null;

  private constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private readonly info: Omit<LockInfo, 'key'>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {
    this.validUntil = Date.parse(info.expiresAt);
  }

  /** Takes a lock on `cluster`, waiting up to waitMs for conflicting ones; ConflictError otherwise. */
  static async acquire(store: ObjectStore, cluster: string, kind: LockKind, opts: LockOptions): Promise<StoreLock> {
    const now = opts.now ?? Date.now;
    const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    const deadline = now() + (opts.waitMs ?? 0);
    await checkConditionalWrites(store, cluster);
    const reported = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const t = now();
      const info = { kind, holder: opts.holder, host: hostname(), pid: process.pid, startedAt: new Date(t).toISOString(), refreshedAt: new Date(t).toISOString(), expiresAt: new Date(t + ttlMs).toISOString() };
      const key = `${locksPrefix(cluster)}/${new Date(t).toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}.json`;
      // The object may exist on the server before the PUT's answer arrives: a signal from here
      // on must remove it even before it is ours.
      const unregisterPending = onInterrupt(() => store.delete(key));
      if (!(await store.putIfAbsent(key, Buffer.from(JSON.stringify(info))))) {
        unregisterPending();
        continue; // 48 random bits collided: try another name
      }
      const others = (await listLocks(store, cluster)).filter((l) => l.key !== key);
      const stale = others.filter((l) => Date.parse(l.expiresAt) < now());
      for (const l of stale) {
        if (!reported.has(l.key)) opts.logger?.warn({ lock: l }, `ignoring a stale ${describeLock(l, now())}; remove it with --break-lock`);
        reported.add(l.key);
      }
      const conflicts = others.filter((l) => Date.parse(l.expiresAt) >= now() && (kind === 'exclusive' || l.kind === 'exclusive'));
      if (conflicts.length === 0) {
        const lock = new StoreLock(store, key, info, ttlMs, now);
        lock.startRefresh();
        unregisterPending();
        lock.unregisterInterrupt = onInterrupt(() => lock.release());
        return lock;
      }
      // Step back so that two contenders that saw each other do not both wait forever.
      await store.delete(key);
      unregisterPending();
      if (now() >= deadline) {
        throw new ConflictError(`${store.location} cluster ${cluster} is locked: ${describeLock(conflicts[0]!, now())}`, opts.waitMs ? `waited ${Math.round(opts.waitMs / 1000)}s; try later, or remove a lock you know is dead with --break-lock` : 'try later, pass --lock-wait, or remove a lock you know is dead with --break-lock');
      }
      if (attempt === 0) opts.logger?.info({ conflicts: conflicts.map((c) => c.key) }, `waiting for ${describeLock(conflicts[0]!, now())}`);
      await new Promise((r) => setTimeout(r, 500 + Math.floor(Math.random() * 1000)));
    }
  }

  /** Deletes every lock of the cluster (for --break-lock); returns what it removed. */
  static async breakAll(store: ObjectStore, cluster: string): Promise<LockInfo[]> {
    const locks = await listLocks(store, cluster);
    for (const l of locks) await store.delete(l.key);
    return locks;
  }

  private startRefresh(): void {
    const every = Math.max(1000, Math.floor(this.ttlMs / 4));
    this.timer = setInterval(() => {
      const t = this.now();
      const next = { ...this.info, refreshedAt: new Date(t).toISOString(), expiresAt: new Date(t + this.ttlMs).toISOString() };
      this.store.put(this.key, Buffer.from(JSON.stringify(next))).then(
        () => {
          this.validUntil = t + this.ttlMs;
        },
        (err: unknown) => {
          this.refreshError = err as Error;
        },
      );
    }, every);
    this.timer.unref();
  }

  /**
   * Throws unless the lock is still ours and unexpired: called right before a commit
   * (manifest write, deletes) so that a holder that stalled past its expiry, when others
   * may have treated it as stale, never commits.
   */
  async check(): Promise<void> {
    const exists = (await this.store.size(this.key)) !== null;
    if (!exists || this.now() > this.validUntil) {
      throw new ConflictError(`lost the lock ${this.key}${this.refreshError ? ` (refresh failed: ${this.refreshError.message})` : exists ? ' (it expired before it could be refreshed)' : ' (someone removed it)'}`, 'nothing was committed; run the command again');
    }
  }

  async release(): Promise<void> {
    this.unregisterInterrupt?.();
    this.unregisterInterrupt = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.store.delete(this.key).catch(() => undefined);
  }
}
