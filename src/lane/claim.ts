/**
 * One restore per lane at a time (LEDGER.md "One restore per lane"). A restore claims a lane
 * by writing a claim record of its own (key `<lane>/claim/<id>`) to the ledger, then reads the
 * ledger back: the earliest claim by offset that is still live wins, and a later one withdraws
 * (a tombstone on its own claim key) without ever writing the lane's entry. The winner writes
 * its intent into the lane's entry and rewrites it every HEARTBEAT_MS while it runs; the intent
 * is live until heartbeatAt + leaseMs, or until its holder is provably gone (util/holder.ts).
 * Pure, apart from reading this host's processes.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors';
import { holderGone, thisProcess } from '../util/holder';
import type { LaneClaim, LaneIntent, LedgerEntry } from './ledger';

/** How often a running restore rewrites its intent. */
export const HEARTBEAT_MS = 5_000;
/** How long an intent stays live without a heartbeat: six heartbeats, so a slow broker or a GC pause does not lose the lane. */
export const LEASE_MS = 6 * HEARTBEAT_MS;

export function newIntent(command: string, now: Date, leaseMs = LEASE_MS): LaneIntent {
  const t = now.toISOString();
  return { id: randomBytes(8).toString('hex'), holder: { ...thisProcess(), command: command.slice(0, 300) }, startedAt: t, heartbeatAt: t, leaseMs };
}

export type Liveness = { live: true } | { live: false; why: string };

/** The intents of the restores running in this process now. */
const runningHere = new Set<string>();

/** Marks an intent as held by a run of this process until the returned function is called. */
export function holdHere(intentId: string): () => void {
  runningHere.add(intentId);
  return () => {
    runningHere.delete(intentId);
  };
}

/** An intent of this very process (a library caller's earlier restore) that no run of it holds any more. */
function endedHere(intent: LaneIntent): boolean {
  const me = thisProcess();
  return intent.holder.host === me.host && intent.holder.pidNamespace === me.pidNamespace && intent.holder.pid === me.pid && !runningHere.has(intent.id);
}

/** Whether an intent still holds its lane at `now`. */
export function intentLiveness(intent: LaneIntent, now: Date): Liveness {
  if (holderGone(intent.holder)) return { live: false, why: `its process ${intent.holder.pid} on ${intent.holder.host} is gone` };
  if (endedHere(intent)) return { live: false, why: `its run in this process (pid ${intent.holder.pid}) ended` };
  const until = Date.parse(intent.heartbeatAt) + intent.leaseMs;
  if (until < now.getTime()) return { live: false, why: `its heartbeat lapsed at ${new Date(until).toISOString()}` };
  return { live: true };
}

/** A claim is live while the lane's intent is its own and live, or (before the winner wrote its intent) while it is fresh. */
export function claimLive(claim: LaneClaim, entry: LedgerEntry | null, now: Date): boolean {
  const intent = entry?.intent?.id === claim.intent.id ? entry.intent : claim.intent;
  return intentLiveness(intent, now).live;
}

export function describeHolder(intent: LaneIntent): string {
  const h = intent.holder;
  return `${h.command} on ${h.host} (pid ${h.pid}) since ${intent.startedAt}`;
}

function conflict(lane: string, intent: LaneIntent): ConflictError {
  return new ConflictError(
    `lane ${lane} is being restored by ${describeHolder(intent)}`,
    `wait for it to finish; kbak restore --resume takes over once it is gone (no heartbeat for ${Math.round(intent.leaseMs / 1000)}s)`,
  );
}

/** Before claiming: refuses when another run holds the lane (a live intent) or is claiming it (a live claim). */
export function assertNoLiveHolder(lane: string, entry: LedgerEntry | null, claims: readonly LaneClaim[], now: Date): void {
  if (entry?.intent && intentLiveness(entry.intent, now).live) throw conflict(lane, entry.intent);
  const other = claims.find((c) => claimLive(c, entry, now));
  if (other) throw conflict(lane, other.intent);
}

/**
 * After writing claim `mine` and reading the ledger back: null when it won (no live claim of
 * another run before it, and no live intent of another run in the lane's entry), else the
 * conflict to report after withdrawing.
 */
export function arbitrate(lane: string, mineId: string, entry: LedgerEntry | null, claims: readonly LaneClaim[], now: Date): ConflictError | null {
  if (entry?.intent && entry.intent.id !== mineId && intentLiveness(entry.intent, now).live) return conflict(lane, entry.intent);
  const own = claims.find((c) => c.intent.id === mineId);
  // Our claim not read back: treated as lost (never acts without seeing its own claim).
  if (!own) return new ConflictError(`lane ${lane}: this run's claim was not found in the ledger after writing it`, 'run the restore again');
  const earlier = claims.find((c) => c.seq < own.seq && claimLive(c, entry, now));
  return earlier ? conflict(lane, earlier.intent) : null;
}

/** The state a lane shows: a `restoring` lane whose intent is gone or missing counts as failed. */
export function effectiveState(entry: LedgerEntry, now: Date): { state: LedgerEntry['state']; reason: string | null } {
  if (entry.state === 'failed') return { state: 'failed', reason: entry.failure?.reason ?? 'unknown' };
  if (entry.state !== 'restoring') return { state: entry.state, reason: null };
  if (!entry.intent) return { state: 'failed', reason: 'the restore stopped without recording why (a kbak before ledger format 2, or killed)' };
  const l = intentLiveness(entry.intent, now);
  return l.live ? { state: 'restoring', reason: null } : { state: 'failed', reason: `the restore by ${describeHolder(entry.intent)} stopped: ${l.why}` };
}

/** What to do about a failed lane, for lane list/describe. */
export function failedHint(lane: string): string {
  return `resume it with kbak restore --lane ${lane} --resume (same backup), or remove it with kbak lane delete ${lane} --yes`;
}
