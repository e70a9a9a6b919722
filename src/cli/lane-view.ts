/**
 * What `kbak lane list` and `kbak lane describe` print (without --json): aligned tables
 * through the one table renderer (src/output/table.ts), ages and TTLs as people read them
 * (src/output/human-time.ts). Pure: the clock was read when the overview was made.
 */
import { describeHolder } from '../lane/claim';
import type { LaneOverview } from '../lane/lifecycle';
import type { LedgerEntry } from '../lane/ledger';
import { ago, timeLeft } from '../output/human-time';
import { table } from '../output/table';

const ttl = (o: LaneOverview): string => (o.ttlLeftMs === null ? 'none' : timeLeft(o.ttlLeftMs));

/** `kbak lane list`: one row per lane, or one line saying there are none. */
export function laneListLines(ledgerTopic: string, lanes: readonly LaneOverview[]): string[] {
  if (lanes.length === 0) return [`no lanes in this cluster (ledger topic ${ledgerTopic})`];
  return [
    ...table(
      ['LANE', 'STATE', 'SEEDED FROM', 'AGE', 'TTL', 'TOPICS', 'RECORDS', 'SUBJECTS', 'GROUPS'],
      lanes.map((l) => [l.lane, l.state, l.seededFrom, ago(l.ageMs), ttl(l), String(l.topics), String(l.records), String(l.subjects), String(l.groups)]),
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
