/**
 * Who runs a piece of work that others must wait for (a store lock, a lane restore), and
 * whether that process provably no longer runs: restic's rule, used by backup/lock.ts and
 * lane/claim.ts. Only a holder of this host (same host name) and of this PID namespace (a
 * container sharing the host name sees other PIDs) can be judged by its PID; any other
 * holder is judged by its expiry alone.
 */
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** This process's PID namespace, or undefined where there is none to read (not Linux). */
function ownPidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}
export const PID_NAMESPACE = ownPidNamespace();

/** Whether process `pid` exists here: signal 0 checks without signalling; EPERM means it exists under another user. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface HolderProcess {
  host: string;
  pid: number;
  /** Absent (or null) where the holder had no PID namespace to read. */
  pidNamespace?: string | null;
}

/** This process as a holder. */
export function thisProcess(): { host: string; pid: number; pidNamespace: string | null } {
  return { host: hostname(), pid: process.pid, pidNamespace: PID_NAMESPACE ?? null };
}

/**
 * Whether the holder is a process of this host (same host name and PID namespace) that no
 * longer runs. PID 0 and negatives name process groups to kill(), never a holder.
 */
export function holderGone(h: HolderProcess): boolean {
  if (h.host !== hostname() || (h.pidNamespace ?? undefined) !== PID_NAMESPACE) return false;
  if (!Number.isSafeInteger(h.pid) || h.pid <= 0 || h.pid === process.pid) return false;
  return !processAlive(h.pid);
}
