/** The error a call throws or a promise rejects with, for tests of refusals (it must fail: a return fails the test). */
import type { KbakError } from '../../src/errors';

/** The error `fn` throws (typed as kbak's: the test checks its class). */
export function thrown(fn: () => unknown): KbakError {
  try {
    fn();
  } catch (err) {
    return err as KbakError;
  }
  throw new Error('expected a throw');
}

/** The error `p` rejects with. */
export async function rejection(p: Promise<unknown>): Promise<KbakError> {
  try {
    await p;
  } catch (err) {
    return err as KbakError;
  }
  throw new Error('expected a rejection');
}
