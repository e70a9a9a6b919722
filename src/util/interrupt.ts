/**
 * What a run must undo when it is stopped by a signal. Kubernetes stops a CronJob's pod
 * with SIGTERM (then SIGKILL after the grace period, 30 s by default), people with Ctrl-C:
 * in both cases a store lock left behind would make the next `kbak prune` wait for it to
 * expire or need --break-lock. Holders register a cleanup while they hold something; only
 * the CLI installs the signal handlers, so a program using kbak as a library keeps its own.
 *
 * Nothing here makes a run resumable: a backup is visible only once its manifest is written
 * and a restore resumes from its intent record, so stopping anywhere is already safe.
 */
type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();

/** Registers a cleanup to run on interrupt; the returned function unregisters it. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Number of cleanups registered now (for tests). */
export function pendingInterruptCleanups(): number {
  return cleanups.size;
}

/**
 * Runs every registered cleanup at once and resolves when all settled or after timeoutMs,
 * whichever is first: a cleanup that hangs (an unreachable store) must not keep a stopped
 * process alive. Returns how many did not finish in time.
 */
export async function runInterruptCleanups(timeoutMs: number): Promise<number> {
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
  return unfinished;
}

export interface SignalHandlerOptions {
  /** Writes one line to stderr. */
  say(line: string): void;
  /** Ends the process (process.exit in the CLI). */
  exit(code: number): void;
  exitCode: number;
  timeoutMs: number;
}

/**
 * SIGINT and SIGTERM: the first runs the cleanups and exits with `exitCode`; a second
 * signal while they run exits at once.
 */
export function installSignalHandlers(opts: SignalHandlerOptions): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      opts.exit(opts.exitCode);
      return;
    }
    stopping = true;
    const held = cleanups.size;
    const finish = (unfinished: number): void => {
      const released = held - unfinished;
      const what =
        held === 0
          ? ''
          : unfinished === 0
            ? ` (${released} store lock${released === 1 ? '' : 's'} released)`
            : ` (${unfinished} store lock${unfinished === 1 ? '' : 's'} could not be released in time: it expires by itself, or use --break-lock)`;
      opts.say(`kbak: stopped by ${signal}${what}; nothing incomplete became visible: run the command again (a restore: with --resume)`);
      opts.exit(opts.exitCode);
    };
    runInterruptCleanups(opts.timeoutMs).then(finish, () => finish(held));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
