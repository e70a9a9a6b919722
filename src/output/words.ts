/** Counted nouns as people write them: "1 backup", "2 backups", "1 new version". Pure. */

/** `n` and the noun, plural unless n is 1 (`plural(2, 'entry', 'entries')` for irregular ones). */
export function plural(n: number | bigint, noun: string, many = `${noun}s`): string {
  return `${n} ${n === 1 || n === 1n ? noun : many}`;
}

/** At most `max` names joined with ", ", then "and N more": a list from untrusted input stays one bounded line. */
export function someOf(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
