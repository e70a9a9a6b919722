/**
 * What `kbak inspect` prints for people: the backup's facts, then per topic an aligned table
 * of its partitions, then its schemas and consumer groups. Pure.
 */
import type { BackupDetail } from '../backup/summary';
import { describeTimestamp } from '../model/utc-time';
import { formatBytes } from '../output/human-size';
import { duration } from '../output/human-time';
import { table } from '../output/table';
import { plural } from '../output/words';

// Any int64 is a legal record timestamp; beyond a Date's ±8.64e15 ms it is printed as the number.
const time = (ms: string | null): string => (ms === null ? '-' : ms === '-1' ? 'none' : describeTimestamp(BigInt(ms)));

/** "cluster prod (id AbC…)", or "cluster AbC…" when the cluster was named by its id (no --name at dump time). */
const clusterLabel = (c: BackupDetail['cluster']): string => (c.name === c.id ? `cluster ${c.name}` : `cluster ${c.name} (id ${c.id})`);

export function inspectLines(d: BackupDetail): string[] {
  const took = Date.parse(d.completedAt) - Date.parse(d.startedAt);
  const out = [
    `backup ${d.id} of ${clusterLabel(d.cluster)}, format v${d.formatVersion}, ${d.kind}`,
    `  started ${d.startedAt}, completed ${d.completedAt}${Number.isFinite(took) ? ` (took ${duration(took)})` : ''}`,
    `  cut: read_committed, fixed at ${d.cutTime}${d.cutTimeRecorded ? '' : ' (the start: not recorded)'}${d.cut.since ? `, since ${d.cut.since}` : ''}${d.cut.until ? `, until ${d.cut.until}` : ''}${d.cut.maxRecordsPerPartition ? `, newest ${plural(d.cut.maxRecordsPerPartition, 'offset')}` : ''}`,
    `  ${plural(d.stats.records, 'record')}, ${plural(d.stats.segments, 'segment')}, raw ${formatBytes(d.stats.rawBytes)}, stored ${formatBytes(d.stats.storedBytes)}`,
    `  schema registry: ${d.schemaRegistry ?? 'none'}`,
  ];
  for (const t of d.topics) {
    out.push('', `topic ${t.name}: ${plural(t.partitionCount, 'partition')}, replication ${t.replicationFactor}, ${plural(t.records, 'record')}`);
    const configs = Object.entries(t.configs);
    if (configs.length) out.push(`  configs: ${configs.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    const rows = t.partitions.map((p) => [
      String(p.partition),
      `[${p.startOffset}, ${p.endOffset})`,
      p.logStartOffset,
      String(p.records),
      String(p.segments),
      formatBytes(p.storedBytes),
      `${time(p.minTimestamp)} .. ${time(p.maxTimestamp)}`,
      [p.basedOn ? `from ${p.basedOn}` : '', ...p.gaps.map((g) => `gap [${g.startOffset}, ${g.endOffset})`)].filter(Boolean).join('; '),
    ]);
    for (const l of table(['PARTITION', 'OFFSETS', 'LOG START', 'RECORDS', 'SEGMENTS', 'STORED', 'TIME RANGE', 'NOTES'], rows)) out.push(`  ${l}`);
  }
  out.push('');
  if (d.schemas.length === 0) out.push('schemas: none');
  else {
    out.push('schemas:');
    const rows = d.schemas.map((s) => [String(s.id), s.schemaType, s.subjects.join(', '), s.usedInRecords ? '' : 'reference only']);
    for (const l of table(['ID', 'TYPE', 'SUBJECTS', 'NOTE'], rows)) out.push(`  ${l}`);
  }
  if (d.stats.unknownSchemaIds.length)
    out.push(`  unknown schema IDs in payloads: ${d.stats.unknownSchemaIds.join(', ')} (${plural(d.stats.framedPayloadsWithUnknownId, 'payload')})`);
  out.push(`consumer groups: ${d.consumerGroups.length === 0 ? 'none' : ''}`.trimEnd());
  for (const g of d.consumerGroups) out.push(`  ${g.groupId}: ${g.offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).join(', ')}`);
  out.push(`ACLs: ${d.acls === null ? 'not captured' : plural(d.acls.length, 'binding')}`);
  return out;
}
