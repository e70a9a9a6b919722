import { InvalidArgumentError } from 'commander';
import type { Logger } from '../output/logger';

/** What commands need from the outside world; tests pass their own. */
export interface CommandEnv {
  env: Record<string, string | undefined>;
  isTTY: boolean;
  // Properties, not methods: commands pass them on unbound (env.write ?? ...).
  stdout: (line: string) => void;
  /**
   * Text without a line end added (a long line in pieces, `kbak cat`); where absent, a
   * command collects the pieces of a line and prints it with `stdout`.
   */
  write?: (text: string) => void;
  /**
   * Bytes to stdout as they are, past the escaping of `stdout` and `write`: only `kbak cat -f`,
   * which writes records' bytes unchanged when stdout is not a terminal (as kcat does) and
   * escapes them itself when it is (cat-format.ts).
   */
  writeBytes?: (bytes: Buffer) => void;
  /** Whether stdout is a terminal (isTTY is stderr's). */
  stdoutIsTTY?: boolean;
  /** Resolves once stdout has taken what was written (at once unless a slow reader filled its buffer). */
  stdoutDrained?: () => Promise<void>;
  logger(quiet?: boolean): Logger;
  /** --log-format, when given (before the command: `kbak --log-format json dump ...`). */
  logFormat?: string;
  /** Handed to every library call: aborted on SIGINT/SIGTERM (see src/util/interrupt.ts). */
  signal?: AbortSignal;
}

export function positiveInt(flag: string): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
      throw new InvalidArgumentError(`${flag} must be a positive integer, got "${v}"`);
    }
    return Number(v);
  };
}
