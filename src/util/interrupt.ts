/**
 * Stopping a run: what it must undo, and how it is told to stop. Kubernetes stops a
 * CronJob's pod with SIGTERM (then SIGKILL after the grace period, 30 s by default), people
 * with Ctrl-C, a program using kbak as a library with an AbortSignal. In every case a store
 * lock left behind would make the next `kbak prune` wait for it to expire or need
 * --break-lock. Holders register a cleanup while they hold something (`onInterrupt`).
 *
 * A call made `cancellable` with an AbortSignal collects the cleanups registered while it
 * runs (an AsyncLocalStorage scope, so two calls running side by side never undo each
 * other's locks); when the signal aborts, it runs them and ends with InterruptedError. The
 * CLI's SIGINT/SIGTERM handler aborts the one AbortSignal it hands to every library call and
 * reports what those calls released; only the CLI installs signal handlers, so a program
 * using kbak as a library keeps its own.
 *
 * Nothing here makes a run resumable: a backup is visible only once its manifest is written
 * and a restore resumes from its intent record, so stopping anywhere is already safe.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { InterruptedError } from '../errors';

type Cleanup = () => Promise<void>;

/** What a stop undid: the cleanups that were registered, and how many of them did not finish in time. */
export interface InterruptOutcome {
  held: number;
  unfinished: number;
}

interface Scope {
  readonly cleanups: Set<Cleanup>;
  /** Set when the scope's signal aborts: its cleanups running. */
  outcome: Promise<InterruptOutcome> | null;
}

/** Cleanups registered outside any cancellable call (run by the signal handler). */
const processScope: Scope = { cleanups: new Set(), outcome: null };
const currentScope = new AsyncLocalStorage<Scope>();
/** The scopes of cancellable calls running now. */
const running = new Set<Scope>();

/** Registers a cleanup to run on interrupt; the returned function unregisters it. */
export function onInterrupt(cleanup: Cleanup): () => void {
  const scope = currentScope.getStore() ?? processScope;
  scope.cleanups.add(cleanup);
  return () => {
    scope.cleanups.delete(cleanup);
  };
}

/** Number of cleanups registered now outside any cancellable call (for tests). */
export function pendingInterruptCleanups(): number {
  return processScope.cleanups.size;
}

/**
 * Runs every cleanup of `cleanups` at once (and forgets them) and resolves when all settled
 * or after timeoutMs, whichever is first: a cleanup that hangs (an unreachable store) must
 * not keep a stopped run alive.
 */
async function runCleanups(cleanups: Set<Cleanup>, timeoutMs: number): Promise<InterruptOutcome> {
  const pending = [...cleanups];
  cleanups.clear();
  let unfinished = pending.length;
  const all = Promise.all(
    pending.map((c) =>
      c()
        .catch(() => undefined)
        .finally(() => unfinished--),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([all, timeout]);
  clearTimeout(timer);
  return { held: pending.length, unfinished };
}

/** Runs the cleanups registered outside any cancellable call; returns how many did not finish in time. */
export async function runInterruptCleanups(timeoutMs: number): Promise<number> {
  return (await runCleanups(processScope.cleanups, timeoutMs)).unfinished;
}

/**
 * "stopped by SIGINT (1 store lock released)": what stopped the run and what it undid.
 * `breakLock` names the way to remove a lock that could not be released.
 */
export function describeStop(by: string, o: InterruptOutcome, breakLock: string): string {
  const released = o.held - o.unfinished;
  const what =
    o.held === 0
      ? ''
      : o.unfinished === 0
        ? ` (${released} store lock${released === 1 ? '' : 's'} released)`
        : ` (${o.unfinished} store lock${o.unfinished === 1 ? '' : 's'} could not be released in time: it expires by itself, or use ${breakLock})`;
  return `stopped by ${by}${what}`;
}

/** What an abort reason says about who stopped the call: a signal name the CLI gives, or the reason's own words. */
function stoppedBy(reason: unknown): string {
  if (typeof reason === 'string' && reason.length > 0) return reason;
  // A DOMException (AbortSignal's default reason) may come from another realm: look at its message, not its class.
  const message = typeof reason === 'object' && reason !== null ? (reason as { message?: unknown }).message : undefined;
  if (typeof message === 'string' && message.length > 0) return `its AbortSignal (${message})`;
  return 'its AbortSignal';
}

function interrupted(reason: unknown, o: InterruptOutcome): InterruptedError {
  return new InterruptedError(
    `${describeStop(stoppedBy(reason), o, 'breakLocks')}; nothing incomplete became visible`,
    'run it again (a restore: with mode "resume")',
    { cause: reason },
  );
}

/**
 * Runs `work` so that `signal` can stop it: on abort, the cleanups registered during the
 * work (its store locks) run, bounded by timeoutMs, and the call ends with InterruptedError
 * (exit code 130). The work is not awaited after that: whatever it still has in flight (one
 * store or Kafka request) settles in the background, and the stores it was given refuse
 * anything new (see store/abortable.ts), so it cannot commit. Work that completed before the
 * abort was seen keeps its result. Without a signal, `work` runs as is.
 */
export async function cancellable<T>(signal: AbortSignal | undefined, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) throw interrupted(signal.reason, { held: 0, unfinished: 0 });
  const scope: Scope = { cleanups: new Set(), outcome: null };
  let onAbort: () => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => {
      const outcome = runCleanups(scope.cleanups, timeoutMs);
      scope.outcome = outcome;
      void outcome.then((o) => reject(interrupted(signal.reason, o)));
    };
  });
  running.add(scope);
  signal.addEventListener('abort', onAbort, { once: true });
  const done = currentScope.run(scope, work);
  try {
    return await Promise.race([done, stopped]);
  } catch (err) {
    // The work may fail first because of the abort (a store refusing): the cleanups still come first.
    if (scope.outcome) throw interrupted(signal.reason, await scope.outcome);
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    running.delete(scope);
    done.catch(() => undefined);
    stopped.catch(() => undefined);
  }
}

/** The same for a stream: `signal` is checked before each item is handed out. */
export async function* cancellableItems<T>(signal: AbortSignal | undefined, items: AsyncIterable<T>): AsyncGenerator<T> {
  if (signal?.aborted) throw interrupted(signal.reason, { held: 0, unfinished: 0 });
  for await (const item of items) {
    if (signal?.aborted) throw interrupted(signal.reason, { held: 0, unfinished: 0 });
    yield item;
  }
}

/** The error a refused operation throws once `signal` aborted (store/abortable.ts). */
export function interruptedBy(signal: AbortSignal): InterruptedError {
  return interrupted(signal.reason, { held: 0, unfinished: 0 });
}

/** What a signal stopped, for a log line's fields (JSON logs). */
export interface StopReport {
  signal: string;
  locksReleased: number;
  locksNotReleased: number;
}

export interface SignalHandlerOptions {
  /** Called first thing on the first signal: the CLI takes its progress display down, so the line below starts a line of its own. */
  onSignal?(): void;
  /** Writes one line to stderr (`report`: the same as fields, for a JSON log line). */
  say(line: string, report: StopReport): void;
  /** Ends the process (process.exit in the CLI). */
  exit(code: number): void;
  exitCode: number;
  timeoutMs: number;
  /** Aborted on the first signal: the CLI hands its signal to every library call it makes. */
  controller?: AbortController;
}

/** Resolves once the handler has said its line (and called exit); null while no signal came. */
let reported: Promise<void> | null = null;

/** Whether a signal is being handled: then the handler, not the command, reports and exits (see main.ts). */
export function signalReported(): Promise<void> | null {
  return reported;
}

/**
 * SIGINT and SIGTERM: the first aborts `controller` (every cancellable call running with its
 * signal runs its cleanups), runs the cleanups registered outside such calls, says in one line
 * what was released and exits with `exitCode`; a second signal while they run exits at once.
 */
export function installSignalHandlers(opts: SignalHandlerOptions): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      opts.exit(opts.exitCode);
      return;
    }
    stopping = true;
    opts.onSignal?.();
    // Aborting runs the listeners at once: every scope of the signal has its outcome afterwards.
    opts.controller?.abort(signal);
    const outcomes = [runCleanups(processScope.cleanups, opts.timeoutMs), ...[...running].flatMap((s) => (s.outcome ? [s.outcome] : []))];
    reported = Promise.all(outcomes).then((all) => {
      const total = all.reduce((a, o) => ({ held: a.held + o.held, unfinished: a.unfinished + o.unfinished }), { held: 0, unfinished: 0 });
      opts.say(`kbak: ${describeStop(signal, total, '--break-lock')}; nothing incomplete became visible: run the command again (a restore: with --resume)`, {
        signal,
        locksReleased: total.held - total.unfinished,
        locksNotReleased: total.unfinished,
      });
      opts.exit(opts.exitCode);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    reported = null;
  };
}
