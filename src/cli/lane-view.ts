/**
 * What `kbak lane list` and `kbak lane describe` print (without --json): aligned tables
 * through the one table renderer (src/output/table.ts), ages and TTLs as people read them
 * (src/output/human-time.ts). Pure: the clock was read when the overview was made.
 */
import { describeHolder } from '../lane/claim';
import type { LaneDeletePlan } from '../lane/delete-plan';
import type { LaneDeleteResult, LaneOverview } from '../lane/lifecycle';
import type { LedgerEntry } from '../lane/ledger';
import { ago, timeLeft } from '../output/human-time';
import { table } from '../output/table';
import { plural } from '../output/words';

const ttl = (o: LaneOverview): string => (o.ttlLeftMs === null ? 'none' : timeLeft(o.ttlLeftMs));

/** `kbak lane list` (`wide`: -o wide, with when each lane was created and expires): one row per lane, or one line saying there are none. */
export function laneListLines(ledgerTopic: string, lanes: readonly LaneOverview[], wide = false): string[] {
  if (lanes.length === 0) return [`no lanes in this cluster (ledger topic ${ledgerTopic})`];
  return [
    ...table(
      ['LANE', 'STATE', 'SEEDED FROM', 'AGE', 'TTL', 'TOPICS', 'RECORDS', 'SUBJECTS', 'GROUPS', ...(wide ? ['CREATED', 'EXPIRES', 'MASKING'] : [])],
      lanes.map((l) => [
        l.lane,
        l.state,
        l.seededFrom,
        ago(l.ageMs),
        ttl(l),
        String(l.topics),
        String(l.records),
        String(l.subjects),
        String(l.groups),
        ...(wide ? [l.createdAt, l.expiresAt ?? '-', l.masking ? l.masking.policy : 'unmasked'] : []),
      ]),
    ),
    // A failed lane says why and what to do, under the table (a reason does not fit a column).
    ...lanes.filter((l) => l.state === 'failed').map((l) => `lane ${l.lane} failed: ${l.failure}; ${l.next}`),
  ];
}

/** A titled table, or the title with "none" when there are no rows. */
function section(title: string, header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['', `${title}: none`];
  return ['', `${title}:`, ...table(header, rows).map((l) => `  ${l}`)];
}

/** `kbak lane describe`: the lane's facts as label/value rows, then its topics, subjects and groups. */
export function laneDescribeLines(entry: LedgerEntry, o: LaneOverview): string[] {
  const facts = table(null, [
    // The effective state: a restoring lane whose restore is gone reads as failed (lane/claim.ts).
    ['state', o.state],
    ...(o.state === 'failed'
      ? [
          ['failed', o.failure ?? '?'],
          ['next', o.next ?? '?'],
        ]
      : []),
    ...(o.state === 'restoring' && entry.intent ? [['restoring', `${describeHolder(entry.intent)}, last heartbeat ${entry.intent.heartbeatAt}`]] : []),
    ['seeded from', o.seededFrom],
    [
      'masking',
      o.masking
        ? `policy ${o.masking.policy} (sha256 ${o.masking.policySha256}, key fingerprint ${o.masking.keyFingerprint}, ${o.masking.faker})`
        : 'unmasked: records copied as they were',
    ],
    ['created', `${entry.createdAt} (${ago(o.ageMs)}) by kbak ${entry.kbakVersion}`],
    ['TTL', o.ttlLeftMs === null ? 'none (kept until deleted)' : `${ttl(o)} (expires ${o.expiresAt ?? entry.expiresAt ?? '?'})`],
    ['records', String(o.records)],
    ['templates', `topic ${entry.templates.topic}, subject ${entry.templates.subject}, group ${entry.templates.group}`],
  ]);
  return [
    `lane ${entry.lane}`,
    ...facts.map((l) => `  ${l}`),
    ...section(
      'topics',
      ['TOPIC', 'SOURCE', 'TOPIC ID', 'NOTE'],
      entry.topics.map((t) => [t.name, t.source, t.id ?? 'not yet recorded', t.pending ? 'creation in progress' : '']),
    ),
    ...section(
      'subjects',
      ['SUBJECT', 'SOURCE', 'VERSIONS'],
      entry.subjects.map((s) => [s.name, s.source, s.versions.join(', ') || '-']),
    ),
    ...section(
      'consumer groups',
      ['GROUP', 'SOURCE'],
      entry.groups.map((g) => [g.name, g.source]),
    ),
  ];
}

/** The objects of a lane delete as one aligned table (KIND, NAME, and what happens to it), or "nothing" when there are none. */
function objectTable(rows: string[][]): string[] {
  if (rows.length === 0) return ['  nothing to delete'];
  const noted = rows.some((r) => r[2] !== '');
  return table(noted ? ['KIND', 'NAME', 'NOTE'] : ['KIND', 'NAME'], noted ? rows : rows.map((r) => r.slice(0, 2))).map((l) => `  ${l}`);
}

const kindRows = (kind: string, names: readonly string[], note = ''): string[][] => names.map((n) => [kind, n, note]);

/** `kbak lane delete --dry-run`: what would be deleted, what cannot be now, what stays. */
export function laneDeletePlanLines(plan: LaneDeletePlan): string[] {
  const active = new Set(plan.activeGroups.map((g) => g.name));
  return [
    `lane ${plan.lane}: would delete (dry run: nothing is changed)`,
    ...objectTable([
      ...kindRows('topic', plan.topics),
      ...kindRows('subject', plan.subjects),
      ...plan.groups.filter((g) => !active.has(g)).map((g) => ['group', g, '']),
      ...plan.activeGroups.map((g) => ['group', g.name, `cannot delete now: ${plural(g.members, 'active member')}`]),
      ...kindRows('-', plan.gone, 'already gone'),
    ]),
    ...plan.leftAlone.map((x) => `  left alone: ${x.reason}`),
  ];
}

/** `kbak lane delete --yes` (and each lane gc could not finish): what was deleted, what is left. */
export function laneDeleteLines(r: LaneDeleteResult): string[] {
  return [
    `lane ${r.lane}: ${r.complete ? 'deleted' : 'partially deleted'}`,
    ...objectTable([
      ...kindRows('topic', r.deleted.topics, 'deleted'),
      ...kindRows('subject', r.deleted.subjects, 'deleted'),
      ...kindRows('group', r.deleted.groups, 'deleted'),
      ...kindRows('-', r.gone, 'already gone'),
      ...r.remaining.map((x) => ['-', x.name, `remaining: ${x.reason}`]),
    ]),
    ...r.leftAlone.map((x) => `  left alone: ${x.reason}`),
  ];
}

/** `kbak lane gc --dry-run`: the expired lanes and the failed ones, a row each. */
export function laneGcPlanLines(expired: readonly string[], failed: readonly string[]): string[] {
  if (expired.length === 0 && failed.length === 0) return ['no expired or failed lanes: nothing to delete'];
  return table(
    ['LANE', 'WHY'],
    [...expired.map((l) => [l, 'expired: would be deleted']), ...failed.map((l) => [l, 'failed: its restore is gone (left for kbak lane describe)'])],
  );
}
