import { Command, Option } from 'commander';
import { openBackup } from '../api';
import { backupDetail, type BackupDetail } from '../backup/summary';
import { describeTimestamp } from '../model/utc-time';
import { formatBytes } from '../output/progress';
import type { CommandEnv } from './common';
import { addExamples, GROUP } from './help';
import { table } from '../output/table';
import { addSourceOptions, openSource, type SourceFlags } from './source';

interface InspectFlags extends SourceFlags {
  json?: boolean;
}

// Any int64 is a legal record timestamp; beyond a Date's ±8.64e15 ms it is printed as the number.
const time = (ms: string | null): string => (ms === null ? '-' : ms === '-1' ? 'none' : describeTimestamp(BigInt(ms)));

function human(d: BackupDetail): string[] {
  const out = [
    `backup ${d.id} of cluster ${d.cluster.name} (${d.cluster.id}), format v${d.formatVersion}, ${d.kind}`,
    `  started ${d.startedAt}, completed ${d.completedAt}`,
    `  cut: read_committed${d.cut.since ? `, since ${d.cut.since}` : ''}${d.cut.until ? `, until ${d.cut.until}` : ''}${d.cut.maxRecordsPerPartition ? `, newest ${d.cut.maxRecordsPerPartition} offsets` : ''}`,
    `  records ${d.stats.records}, segments ${d.stats.segments}, raw ${formatBytes(d.stats.rawBytes)}, stored ${formatBytes(d.stats.storedBytes)}`,
    `  schema registry: ${d.schemaRegistry ?? 'none'}`,
  ];
  for (const t of d.topics) {
    out.push('', `topic ${t.name}: ${t.partitionCount} partitions, replication ${t.replicationFactor}, ${t.records} records`);
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
  out.push('', `schemas: ${d.schemas.length === 0 ? 'none' : ''}`);
  for (const s of d.schemas) out.push(`  ${s.id} ${s.schemaType} ${s.subjects.join(', ')}${s.usedInRecords ? '' : ' (reference only)'}`);
  if (d.stats.unknownSchemaIds.length)
    out.push(`  unknown schema IDs in payloads: ${d.stats.unknownSchemaIds.join(', ')} (${d.stats.framedPayloadsWithUnknownId} payloads)`);
  out.push(`consumer groups: ${d.consumerGroups.length === 0 ? 'none' : ''}`);
  for (const g of d.consumerGroups) out.push(`  ${g.groupId}: ${g.offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).join(', ')}`);
  return out;
}

export function inspectCommand(env: CommandEnv): Command {
  const cmd = new Command('inspect')
    .description('show one backup: offset ranges, record counts, time ranges, schemas, groups, configs')
    .argument('<backup>', 'a backup ID or latest')
    .addOption(new Option('--json', 'one JSON object on stdout').helpGroup(GROUP.output));
  addSourceOptions(cmd);
  addExamples(cmd, [
    ['the newest backup in ./kbak-backups', 'kbak inspect latest'],
    ["the newest in the local stack's S3 bucket, as JSON", 'kbak inspect latest --source s3://kbak/backups --json'],
  ]);
  cmd.action(async (which: string, flags: InspectFlags) => {
    const backup = await openBackup(openSource(flags, env), which, flags.name);
    const d = backupDetail(backup);
    if (flags.json) env.stdout(JSON.stringify(d));
    else for (const l of human(d)) env.stdout(l);
  });
  return cmd;
}
