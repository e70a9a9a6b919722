/**
 * Cancellation (src/util/interrupt.ts): a cancellable call owns the cleanups registered
 * while it runs, runs them when its AbortSignal aborts and ends with InterruptedError; the
 * CLI's signal handler aborts the one controller it hands to every call and reports what
 * those calls released.
 */
import { ExitCode, InterruptedError } from '../../src/errors';
import { cancellable, installSignalHandlers, onInterrupt, pendingInterruptCleanups, signalReported } from '../../src/util/interrupt';

/** Work that holds one "lock" (a registered cleanup) until it is released or the test ends. */
function holdLock(released: string[], name: string): { work: () => Promise<string>; finish: () => void } {
  let finish: () => void = () => undefined;
  const work = async (): Promise<string> => {
    const unregister = onInterrupt(async () => void released.push(name));
    await new Promise<void>((r) => (finish = r));
    unregister();
    return name;
  };
  return { work, finish: () => finish() };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('cancellable', () => {
  it('without a signal, cleanups go where they went before (the signal handler runs them)', async () => {
    const released: string[] = [];
    const held = holdLock(released, 'a');
    const call = cancellable(undefined, 1000, held.work);
    await tick();
    expect(pendingInterruptCleanups()).toBe(1);
    held.finish();
    expect(await call).toBe('a');
    expect(pendingInterruptCleanups()).toBe(0);
  });

  it('runs only the aborted call’s cleanups and ends it with InterruptedError; the other call keeps its lock', async () => {
    const released: string[] = [];
    const a = holdLock(released, 'a');
    const b = holdLock(released, 'b');
    const stopA = new AbortController();
    const callA = cancellable(stopA.signal, 1000, a.work);
    const callB = cancellable(new AbortController().signal, 1000, b.work);
    await tick();
    expect(pendingInterruptCleanups()).toBe(0);
    stopA.abort('SIGINT');
    const err = await callA.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(ExitCode.INTERRUPTED);
    expect((err as InterruptedError).message).toBe('stopped by SIGINT (1 store lock released); nothing incomplete became visible');
    expect(released).toEqual(['a']);
    b.finish();
    expect(await callB).toBe('b');
    expect(released).toEqual(['a']);
  });

  it('a cleanup that hangs is given up after the timeout and reported', async () => {
    const stop = new AbortController();
    const call = cancellable(stop.signal, 50, async () => {
      onInterrupt(() => new Promise(() => undefined));
      await new Promise(() => undefined);
    });
    await tick();
    stop.abort('SIGTERM');
    await expect(call).rejects.toThrow(/^stopped by SIGTERM \(1 store lock could not be released in time: it expires by itself, or use breakLocks\)/);
  });

  it('a call whose work fails because of the abort still waits for its cleanups before it ends', async () => {
    const released: string[] = [];
    const stop = new AbortController();
    const call = cancellable(stop.signal, 1000, async () => {
      onInterrupt(async () => {
        await tick();
        released.push('lock');
      });
      await new Promise<void>((_, reject) => stop.signal.addEventListener('abort', () => reject(new Error('refused'))));
    });
    await tick();
    stop.abort();
    await expect(call).rejects.toBeInstanceOf(InterruptedError);
    expect(released).toEqual(['lock']);
  });
});

describe('the CLI signal handler and the AbortSignal', () => {
  it('SIGTERM aborts the controller; the calls release their locks and the one line counts them', async () => {
    const lines: string[] = [];
    const exits: number[] = [];
    const released: string[] = [];
    const controller = new AbortController();
    const uninstall = installSignalHandlers({ say: (l) => lines.push(l), exit: (c) => exits.push(c), exitCode: 130, timeoutMs: 1000, controller });
    try {
      const calls = [holdLock(released, 'a'), holdLock(released, 'b')].map((h) => cancellable(controller.signal, 1000, h.work).catch((e: unknown) => e));
      await tick();
      expect(signalReported()).toBeNull();
      process.emit('SIGTERM', 'SIGTERM');
      expect(controller.signal.aborted).toBe(true);
      await signalReported();
      expect(released.sort()).toEqual(['a', 'b']);
      expect(exits).toEqual([130]);
      expect(lines).toEqual([
        'kbak: stopped by SIGTERM (2 store locks released); nothing incomplete became visible: run the command again (a restore: with --resume)',
      ]);
      for (const e of await Promise.all(calls)) expect(e).toBeInstanceOf(InterruptedError);
    } finally {
      uninstall();
    }
  });
});
