import { Command } from 'commander';
import { openBackup, readRawRecords } from '../api';
import type { Backup } from '../backup/catalog';
import { NotFoundError, UsageError } from '../errors';
import { someOf } from '../output/words';
import type { RecordLayout } from '../segment/format';
import { LineWriter, writeRecordLine, type JsonLineOptions } from './cat-output';
import { ByteWriter, parseFormat, writeFormatted, type FormatOptions } from './cat-format';
import { positiveInt, type CommandEnv } from './common';
import { addSourceOptions, openSource, type SourceFlags } from './source';
import { addExamples, GROUP } from './help';

interface CatFlags extends SourceFlags {
  topic?: string;
  partition?: number;
  fromOffset?: string;
  limit?: number;
  decode?: boolean;
  unverified?: boolean;
  format?: string;
  epochMs?: boolean;
}

export function catCommand(env: CommandEnv): Command {
  const cmd = new Command('cat')
    .description('print records of a backup: JSON lines (text, or base64 for bytes that are not text), or kcat-style with -f')
    .argument('<backup>', 'a backup ID, a unique prefix of one, or latest')
    .optionsGroup(GROUP.selection)
    .option('--topic <name>', 'the topic to print (default: the only topic of the backup)')
    .option('--partition <n>', 'only this partition (default: all, one after the other)', (v: string) => (v === '0' ? 0 : positiveInt('--partition')(v)))
    .option('--from-offset <offset>', 'start at this offset (per partition)')
    .option('--limit <n>', 'print at most N records', positiveInt('--limit'))
    .optionsGroup(GROUP.output)
    .option('-f, --format <fmt>', "kcat's format string: %t %p %o %k %K %s %S %R %T %h %%, \\n \\t \\r \\xHH (e.g. '%k\\t%s\\n')")
    .option('--epoch-ms', 'JSON timestamps as epoch milliseconds (a string) instead of ISO-8601')
    .option('--decode', 'decode Avro, JSON Schema and Protobuf payloads with the schemas stored in the backup')
    .optionsGroup(GROUP.other)
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
    if (flags.format !== undefined && flags.epochMs) throw new UsageError('--epoch-ms is for JSON lines; -f prints timestamps with %T (epoch milliseconds)');
    const tokens = flags.format === undefined ? null : parseFormat(flags.format);
    const backup = await openBackup(openSource(flags, env), which, flags.name);
    const topic = flags.topic ?? onlyTopic(backup);
    // By default a segment is hashed before its first record is printed (FORMAT.md "Verifying a segment").
    const verifyFirst = flags.unverified !== true;
    const blocks = readRawRecords(backup, {
      topic,
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
    // Output is written a block at a time (or 1 MiB at a time within a block) and waits for a
    // slow reader of stdout, so memory stays bounded by a block whatever reads it.
    const drained = env.stdoutDrained ?? (() => Promise.resolve());
    const print =
      tokens !== null
        ? formatPrinter(env, { tokens, topic, terminal: env.stdoutIsTTY === true, decoder })
        : jsonPrinter(env, { topic, decoder, epochMs: flags.epochMs === true });
    try {
      for await (const b of blocks) {
        for (const r of b.records) print.record(b.partition, b.block, r);
        print.flush();
        await drained();
      }
    } finally {
      // Records read before a failure are printed, as they were when each line was written at once.
      print.flush();
    }
  });
  return cmd;
}

/** Prints records one way or the other; `flush` writes what is collected. */
interface Printer {
  record(partition: number, block: Buffer, r: RecordLayout): void;
  flush(): void;
}

function jsonPrinter(env: CommandEnv, opts: JsonLineOptions): Printer {
  const out = new LineWriter(env.write ?? lineAtATime(env));
  return { record: (p, block, r) => writeRecordLine(out, opts, p, block, r), flush: () => out.flush() };
}

function formatPrinter(env: CommandEnv, opts: FormatOptions): Printer {
  const out = new ByteWriter(env.writeBytes ?? ((b) => (env.write ?? lineAtATime(env))(b.toString('utf8'))));
  return { record: (p, block, r) => writeFormatted(out, opts, p, block, r), flush: () => out.flush() };
}

/** The topic when --topic is not given: the backup's only one, else a usage error naming them (at most 10). */
function onlyTopic(backup: Backup): string {
  const names = backup.manifest.topics.map((t) => t.name);
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw new NotFoundError(`backup ${backup.ref.backupId} holds no topics`);
  throw new UsageError(`backup ${backup.ref.backupId} holds ${names.length} topics: ${someOf(names)}`, 'name one with --topic');
}

/** For an environment without partial writes (tests): the pieces of lines, printed a line at a time. */
function lineAtATime(env: CommandEnv): (text: string) => void {
  let pending = '';
  return (text) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop()!;
    for (const line of lines) env.stdout(line);
  };
}
