import { installSignalHandlers, onInterrupt, pendingInterruptCleanups, runInterruptCleanups } from '../../src/util/interrupt';

const never = (): Promise<void> => new Promise(() => undefined);

describe('interrupt cleanups', () => {
  it('runs what is registered, not what was unregistered, and only once', async () => {
    const ran: string[] = [];
    onInterrupt(async () => void ran.push('a'));
    const off = onInterrupt(async () => void ran.push('b'));
    off();
    expect(await runInterruptCleanups(1000)).toBe(0);
    expect(ran).toEqual(['a']);
    expect(await runInterruptCleanups(1000)).toBe(0);
    expect(ran).toEqual(['a']);
  });

  it('gives up on a cleanup that hangs and reports it, while the others finish', async () => {
    let done = false;
    onInterrupt(never);
    onInterrupt(async () => {
      await new Promise((r) => setTimeout(r, 10));
      done = true;
    });
    expect(await runInterruptCleanups(100)).toBe(1);
    expect(done).toBe(true);
    expect(pendingInterruptCleanups()).toBe(0);
  });

  it('a failing cleanup does not stop the others', async () => {
    let done = false;
    onInterrupt(async () => {
      throw new Error('store unreachable');
    });
    onInterrupt(async () => {
      done = true;
    });
    expect(await runInterruptCleanups(1000)).toBe(0);
    expect(done).toBe(true);
  });
});

describe('signal handlers', () => {
  it('SIGTERM releases what is held, says so in one line, and exits with the given code', async () => {
    const lines: string[] = [];
    const exits: number[] = [];
    let released = 0;
    onInterrupt(async () => void released++);
    const uninstall = installSignalHandlers({ say: (l) => lines.push(l), exit: (c) => exits.push(c), exitCode: 130, timeoutMs: 1000 });
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setTimeout(r, 20));
      expect(released).toBe(1);
      expect(exits).toEqual([130]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^kbak: stopped by SIGTERM \(1 store lock released\); .*run the command again/);
    } finally {
      uninstall();
    }
  });

  it('a second signal while cleanups run exits at once', async () => {
    const exits: number[] = [];
    onInterrupt(never);
    const uninstall = installSignalHandlers({ say: () => undefined, exit: (c) => exits.push(c), exitCode: 130, timeoutMs: 60_000 });
    try {
      process.emit('SIGINT', 'SIGINT');
      await new Promise((r) => setTimeout(r, 10));
      expect(exits).toEqual([]);
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([130]);
    } finally {
      uninstall();
      await runInterruptCleanups(1);
    }
  });
});
