/**
 * "Did you mean": the names closest to a mistyped one, by edit distance (Levenshtein with
 * adjacent transpositions, the optimal string alignment form: `restroe` is one edit from
 * `restore`). Names come from brokers, registries and stores, so the cost is bounded: only
 * names of a similar length are compared, each comparison stops once it exceeds the
 * largest distance worth suggesting, and over-long names are never compared. Pure.
 */

/** Names longer than this are not compared (Kafka topic names stop at 249). */
const MAX_NAME = 256;

/** The largest distance worth suggesting for a name of this length: 1 for short names, 3 at most. */
export function maxSuggestDistance(length: number): number {
  return Math.min(3, Math.max(1, Math.floor(length / 4)));
}

// Three rows of the table, reused by every comparison (one thread; no allocation per name).
const ROWS = [new Int32Array(MAX_NAME + 2), new Int32Array(MAX_NAME + 2), new Int32Array(MAX_NAME + 2)];

/**
 * The edit distance of a and b, or `limit + 1` as soon as it is known to exceed `limit`.
 * Only the band of cells within `limit` of the diagonal is computed (a cell outside it is
 * above the limit anyway): O(a.length * (2 * limit + 1)), with an early stop per row.
 * Strings longer than MAX_NAME are compared in full (tests), by a fresh table.
 */
export function editDistance(a: string, b: string, limit = Math.max(a.length, b.length)): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const over = limit + 1;
  const m = b.length;
  const [r0, r1, r2] = m <= MAX_NAME ? ROWS : [new Int32Array(m + 2), new Int32Array(m + 2), new Int32Array(m + 2)];
  let prev2 = r0!;
  let prev = r1!;
  let cur = r2!;
  for (let j = 0; j <= m; j++) prev[j] = j <= limit ? j : over;
  for (let i = 1; i <= a.length; i++) {
    const lo = Math.max(1, i - limit);
    const hi = Math.min(m, i + limit);
    cur[0] = i <= limit ? i : over;
    if (lo > 1) cur[lo - 1] = over;
    if (hi < m) cur[hi + 1] = over;
    let rowMin = cur[0];
    for (let j = lo; j <= hi; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) d = Math.min(d, prev2[j - 2]! + 1);
      if (d > over) d = over;
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return over;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return Math.min(prev[m]!, over);
}

/**
 * Up to `max` names from `candidates` close to `name`, closest first (then in the order
 * given). A name that differs only in case is closest of all. Only the best `max` are kept,
 * and once there are `max` of them a candidate must beat the worst: the limit shrinks.
 */
export function nearNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  if (name.length === 0 || name.length > MAX_NAME || max < 1) return [];
  let limit = maxSuggestDistance(name.length);
  const lower = name.toLowerCase();
  const best: Array<{ name: string; d: number }> = [];
  for (const c of candidates) {
    if (c === name || c.length > MAX_NAME || Math.abs(c.length - name.length) > limit) continue;
    const cl = c.toLowerCase();
    const d = cl === lower ? 0 : editDistance(lower, cl, limit);
    if (d > limit || best.some((b) => b.name === c)) continue;
    // Stable: after the last one at the same distance.
    let at = best.length;
    while (at > 0 && best[at - 1]!.d > d) at--;
    best.splice(at, 0, { name: c, d });
    if (best.length > max) best.pop();
    if (best.length === max) {
      limit = best[max - 1]!.d - 1;
      if (limit < 0) break;
    }
  }
  return best.map((b) => b.name);
}

/** "did you mean orders?" / "did you mean orders or order?", or null when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string | null {
  const near = nearNames(name, candidates);
  if (near.length === 0) return null;
  return `did you mean ${near.length === 1 ? near[0] : `${near.slice(0, -1).join(', ')} or ${near[near.length - 1]}`}?`;
}

/** ": did you mean X?" to append to a not-found message, or nothing when no name is close. */
export function didYouMeanSuffix(name: string, candidates: Iterable<string>): string {
  const near = didYouMean(name, candidates);
  return near ? `: ${near}` : '';
}
