/**
 * The one way to stderr while a live display (progress bars) owns the terminal's last
 * lines: a line written under the bars would glue onto them (`…234271 rec/s^Ckbak: stopped`)
 * and be drawn over at the next refresh. A display that draws registers itself here; every
 * stderr line (log lines, the interrupt line) then goes through it, and it prints the line
 * above its bars. With no display, lines go straight to stderr.
 */

export interface LiveDisplay {
  /** Prints `text` (whole lines) above the display, now. */
  log(text: string): void;
  /** Draws its final state, ends its lines and lets go of the terminal (idempotent). */
  stop(): void;
}

let active: LiveDisplay | null = null;

/** Makes `display` the owner of stderr's last lines until the returned function is called. */
export function claimStderr(display: LiveDisplay): () => void {
  active = display;
  return () => {
    if (active === display) active = null;
  };
}

/** Writes whole lines to stderr, above the live display when one is drawn. `direct` writes when none is. */
export function writeStderr(text: string, direct: (s: string) => void = (s) => process.stderr.write(s)): void {
  if (active) active.log(text);
  else direct(text);
}

/** Takes the live display down (its last state stays on screen), so what follows starts on a line of its own. */
export function stopLiveDisplay(): void {
  const d = active;
  active = null;
  d?.stop();
}
