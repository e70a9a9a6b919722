/**
 * Store locks, as restic does them: every holder writes its own lock object under
 * `<cluster>/locks/` (never overwriting another's: created with If-None-Match: * on S3,
 * an exclusive link on disk), refreshes it while it runs, and deletes it at the end.
 * Dumps hold shared locks and run side by side; prune holds an exclusive one, because it
 * deletes segments that no manifest names yet, which is exactly what a running dump has
 * written. A lock not refreshed before its expiry is stale: reported (owner, age) and
 * ignored; a holder whose own lock could not be refreshed in time stops before it commits.
 * A lock of this host whose process is gone is stale at once (restic does this) and is
 * removed, so a killed dump does not hold up the next prune for the lock's TTL and the
 * locks of killed runs do not pile up; locks of other hosts, of another PID namespace (a
 * container sharing the host name) and of live processes keep the expiry rule. A lock
 * whose expiry cannot be read counts as live.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors';
import type { Logger } from '../output/logger';
import { keySyntaxProblem } from './keys';
import { LOCKS_DIR } from './layout';
import type { ObjectStore } from '../store/store';
import { onInterrupt } from '../util/interrupt';
import { realClock, retry, type RetryPolicy } from '../util/retry';
import { holderGone, PID_NAMESPACE } from '../util/holder';

export { holderGone };

export type LockKind = 'shared' | 'exclusive';

const lockSchema = z.object({
  kind: z.enum(['shared', 'exclusive']),
  holder: z.string(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  refreshedAt: z.string(),
  expiresAt: z.string(),
  /** Linux: the holder's PID namespace (`pid:[4026531836]`), so a container sharing the host name is not judged by this host's PIDs. */
  pidNamespace: z.string().optional(),
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
/** A held lock is looked at again every 0.5 to 1.5 s (at random, so that waiting runs spread out) until --lock-wait runs out. */
const LOCK_WAIT: RetryPolicy = { initialMs: 1000, maxMs: 1000, factor: 1, jitter: 0.5 };
/** A lock object is a few hundred bytes; a larger one is not read whole (it counts as unreadable). */
const MAX_LOCK_BYTES = 64 * 1024;

export function locksPrefix(cluster: string): string {
  return `${cluster}/${LOCKS_DIR}`;
}

/** Stale: expired, or its holder on this host is gone. An unreadable expiry is never stale. */
export function isStale(l: LockInfo, now: number): boolean {
  return Date.parse(l.expiresAt) < now || holderGone(l);
}

const unreadable = (key: string): LockInfo => ({
  kind: 'exclusive',
  holder: 'unknown (unreadable lock)',
  host: '?',
  pid: 0,
  startedAt: '',
  refreshedAt: '',
  expiresAt: new Date(8.64e15).toISOString(),
  key,
});

export async function listLocks(store: ObjectStore, cluster: string): Promise<LockInfo[]> {
  const out: LockInfo[] = [];
  for await (const key of store.list(locksPrefix(cluster))) {
    // Lock names are `<time>-<hex>.json`; a listed name that is no valid key was not
    // written by a lock holder and cannot be opened by its name: not a lock.
    if (!key.endsWith('.json') || keySyntaxProblem(key) !== null) continue;
    let body: Buffer;
    try {
      body = await store.get(key, MAX_LOCK_BYTES);
    } catch (err) {
      if (err instanceof NotFoundError) continue; // released meanwhile
      out.push(unreadable(key));
      continue;
    }
    let parsed;
    try {
      parsed = lockSchema.safeParse(JSON.parse(body.toString('utf8')));
    } catch {
      parsed = null;
    }
    out.push(parsed?.success ? { ...parsed.data, key } : unreadable(key));
  }
  return out;
}

export function describeLock(l: LockInfo, now: number): string {
  const age = l.startedAt ? Math.round((now - Date.parse(l.startedAt)) / 1000) : NaN;
  const stale = Date.parse(l.expiresAt) < now ? `, stale since ${l.expiresAt}` : holderGone(l) ? ', stale: its process is gone' : '';
  return `${l.kind} lock of ${l.holder} on ${l.host} (pid ${l.pid}), started ${Number.isNaN(age) ? '?' : `${age}s`} ago${stale} [${l.key}]`;
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
    throw new ConflictError(
      `${store.location} does not honour conditional writes (If-None-Match: *), so kbak cannot lock it safely`,
      'use an S3 service that supports conditional writes (AWS S3 does since 2024), or a disk store',
    );
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
    const waitMs = opts.waitMs ?? 0;
    const deadline = now() + waitMs;
    await checkConditionalWrites(store, cluster);
    const reported = new Set<string>();
    const attempt = async (n: number): Promise<StoreLock> => {
      let key: string;
      let info: Omit<LockInfo, 'key'>;
      let unregisterPending: () => void;
      for (;;) {
        const t = now();
        info = {
          kind,
          holder: opts.holder,
          host: hostname(),
          pid: process.pid,
          startedAt: new Date(t).toISOString(),
          refreshedAt: new Date(t).toISOString(),
          expiresAt: new Date(t + ttlMs).toISOString(),
          pidNamespace: PID_NAMESPACE,
        };
        const candidate = `${locksPrefix(cluster)}/${new Date(t).toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}.json`;
        // The object may exist on the server before the PUT's answer arrives: a signal from here
        // on must remove it even before it is ours.
        unregisterPending = onInterrupt(() => store.delete(candidate));
        if (await store.putIfAbsent(candidate, Buffer.from(JSON.stringify(info)))) {
          key = candidate;
          break;
        }
        unregisterPending(); // 48 random bits collided: try another name
      }
      const others = (await listLocks(store, cluster)).filter((l) => l.key !== key);
      const stale = others.filter((l) => isStale(l, now()));
      for (const l of stale) {
        if (reported.has(l.key)) continue;
        reported.add(l.key);
        if (holderGone(l)) {
          // Its holder cannot come back, so nothing waits for this lock: remove it rather than
          // let every later run read it again. (Were the judgement ever wrong, the holder's
          // check before it commits would most likely find its lock gone and commit nothing;
          // only a refresh landing in between would put it back.)
          opts.logger?.warn({ lock: l }, `removing a stale ${describeLock(l, now())}`);
          await store.delete(l.key).catch(() => undefined);
        } else {
          opts.logger?.warn({ lock: l }, `ignoring a stale ${describeLock(l, now())}; remove it with --break-lock`);
        }
      }
      const conflicts = others.filter((l) => !isStale(l, now()) && (kind === 'exclusive' || l.kind === 'exclusive'));
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
      if (n === 1 && now() < deadline) opts.logger?.info({ conflicts: conflicts.map((c) => c.key) }, `waiting for ${describeLock(conflicts[0]!, now())}`);
      throw new ConflictError(
        `${store.location} cluster ${cluster} is locked: ${describeLock(conflicts[0]!, now())}`,
        opts.waitMs
          ? `waited ${Math.round(opts.waitMs / 1000)}s; try later, or remove a lock you know is dead with --break-lock`
          : 'try later, pass --lock-wait, or remove a lock you know is dead with --break-lock',
      );
    };
    // Only a conflict is waited out; a failure of the store itself is thrown as it is.
    return retry(attempt, { ...LOCK_WAIT, deadlineMs: waitMs }, { retriable: (e) => e instanceof ConflictError, clock: { ...realClock, now } });
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
      throw new ConflictError(
        `lost the lock ${this.key}${this.refreshError ? ` (refresh failed: ${this.refreshError.message})` : exists ? ' (it expired before it could be refreshed)' : ' (someone removed it)'}`,
        'nothing was committed; run the command again',
      );
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
