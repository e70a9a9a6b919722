import { Command } from 'commander';
import { openBackup, readRawRecords } from '../api';
import { UsageError } from '../errors';
import { LineWriter, writeRecordLine } from './cat-output';
import { positiveInt, type CommandEnv } from './common';
import { addSourceOptions, openSource, type SourceFlags } from './source';
import { addExamples } from './help';

interface CatFlags extends SourceFlags {
  topic: string;
  partition?: number;
  fromOffset?: string;
  limit?: number;
  decode?: boolean;
  unverified?: boolean;
}

export function catCommand(env: CommandEnv): Command {
  const cmd = new Command('cat')
    .description('print records of a backup as JSON lines (key/value base64, or decoded with --decode)')
    .argument('<backup>', 'a backup ID or latest')
    .requiredOption('--topic <name>', 'the topic to print')
    .option('--partition <n>', 'only this partition (default: all, one after the other)', (v: string) => (v === '0' ? 0 : positiveInt('--partition')(v)))
    .option('--from-offset <offset>', 'start at this offset (per partition)')
    .option('--limit <n>', 'print at most N records', positiveInt('--limit'))
    .option('--decode', 'decode Avro, JSON Schema and Protobuf payloads with the schemas stored in the backup')
    .option(
      '--unverified',
      "print records as they are read, before their segment's SHA-256 is checked (one read instead of two; a bad segment still fails the command, after its records)",
    );
  addSourceOptions(cmd);
  addExamples(cmd, [
    ['the first 5 records of orders in the newest backup', 'kbak cat latest --topic orders --limit 5'],
    ['partition 0 from offset 100, payloads decoded with the backed-up schemas', 'kbak cat latest --topic orders --partition 0 --from-offset 100 --decode'],
  ]);
  cmd.action(async (which: string, flags: CatFlags) => {
    if (flags.fromOffset !== undefined && !/^\d{1,19}$/.test(flags.fromOffset))
      throw new UsageError(`--from-offset must be a non-negative integer, got "${flags.fromOffset}"`);
    const backup = await openBackup(openSource(flags, env), which, flags.name);
    // By default a segment is hashed before its first record is printed (FORMAT.md "Verifying a segment").
    const verifyFirst = flags.unverified !== true;
    const blocks = readRawRecords(backup, {
      topic: flags.topic,
      partition: flags.partition,
      fromOffset: flags.fromOffset === undefined ? undefined : BigInt(flags.fromOffset),
      limit: flags.limit,
      verifyFirst,
      signal: env.signal,
    });
    // Loaded here, not at start-up: avsc and protobufjs took ~20 ms of every kbak command's start.
    const decoder = flags.decode ? new (await import('../backup/decode')).SchemaDecoder(backup.manifest.schemas) : null;
    if (!verifyFirst)
      env
        .logger()
        .warn("--unverified: records are printed before their segment's SHA-256 is checked; a corrupt or forged segment can print records before kbak fails");
    const out = new LineWriter(env.write ?? lineAtATime(env));
    for await (const b of blocks) for (const r of b.records) writeRecordLine(out, b.partition, b.block, r, decoder);
  });
  return cmd;
}

/** For an environment without partial writes (tests): the pieces of a line, printed as one line. */
function lineAtATime(env: CommandEnv): (text: string) => void {
  let pending = '';
  return (text) => {
    pending += text;
    if (pending.endsWith('\n')) {
      env.stdout(pending.slice(0, -1));
      pending = '';
    }
  };
}
