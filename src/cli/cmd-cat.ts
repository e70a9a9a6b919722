import { Command } from 'commander';
import { openBackup } from '../backup/catalog';
import { NotFoundError, UsageError } from '../errors';
import type { BackupRecord } from '../segment/record';
import { positiveInt, type CommandEnv } from './common';
import { addSourceOptions, openSource, type SourceFlags } from './source';

interface CatFlags extends SourceFlags {
  topic: string;
  partition?: number;
  fromOffset?: string;
  limit?: number;
  decode?: boolean;
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));

export function catCommand(env: CommandEnv): Command {
  const cmd = new Command('cat')
    .description('print records of a backup as JSON lines (key/value base64, or decoded with --decode)')
    .argument('<backup>', 'a backup ID or latest')
    .requiredOption('--topic <name>', 'the topic to print')
    .option('--partition <n>', 'only this partition (default: all, one after the other)', (v: string) => (v === '0' ? 0 : positiveInt('--partition')(v)))
    .option('--from-offset <offset>', 'start at this offset (per partition)')
    .option('--limit <n>', 'print at most N records', positiveInt('--limit'))
    .option('--decode', 'decode Avro, JSON Schema and Protobuf payloads with the schemas stored in the backup');
  addSourceOptions(cmd);
  cmd.action(async (which: string, flags: CatFlags) => {
    if (flags.fromOffset !== undefined && !/^\d{1,19}$/.test(flags.fromOffset)) throw new UsageError(`--from-offset must be a non-negative integer, got "${flags.fromOffset}"`);
    const backup = await openBackup(openSource(flags, env), which, flags.name);
    const topic = backup.manifest.topics.find((t) => t.name === flags.topic);
    if (!topic) throw new NotFoundError(`topic "${flags.topic}" is not in backup ${backup.ref.backupId}`, `it holds ${backup.manifest.topics.map((t) => t.name).join(', ') || 'no topics'}`);
    const partitions = flags.partition === undefined ? topic.partitions.map((p) => p.partition).sort((a, b) => a - b) : [flags.partition];
    // Loaded here, not at start-up: avsc and protobufjs took ~20 ms of every kbak command's start.
    const decoder = flags.decode ? new (await import('../backup/decode')).SchemaDecoder(backup.manifest.schemas) : null;
    const from = flags.fromOffset === undefined ? undefined : BigInt(flags.fromOffset);
    let left = flags.limit ?? Infinity;
    const line = (p: number, r: BackupRecord): string =>
      JSON.stringify({
        partition: p,
        offset: r.offset.toString(),
        timestamp: r.timestamp.toString(),
        timestampType: r.timestampType,
        key: decoder ? decoder.decode(r.key) : b64(r.key),
        value: decoder ? decoder.decode(r.value) : b64(r.value),
        headers: r.headers.map((h) => ({ key: h.key, value: b64(h.value) })),
      });
    for (const p of partitions) {
      if (left <= 0) break;
      for await (const r of backup.records(flags.topic, p, from)) {
        env.stdout(line(p, r));
        if (--left <= 0) break;
      }
    }
  });
  return cmd;
}
