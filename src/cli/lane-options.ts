/** Flags shared by `kbak restore` and the `kbak lane` commands: the ledger topic and the lane templates. */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors';
import { DEFAULT_LEDGER_TOPIC } from '../lane/ledger';
import { parseDurationMs } from '../lane/topic-configs';
import { validateTopicName } from '../remap/topic-name';
import { GROUP } from './help';

export interface LaneFlags {
  ledgerTopic?: string;
  topicTemplate?: string;
  subjectTemplate?: string;
  groupTemplate?: string;
}

/** `--ledger-topic`, in help's "Lane options:". */
export function addLedgerOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--ledger-topic <topic>', `the lane ledger topic on the target cluster (env KBAK_LEDGER_TOPIC, default ${DEFAULT_LEDGER_TOPIC})`).helpGroup(
      GROUP.lane,
    ),
  );
}

/** The lane name templates, in help's "Lane options:". */
export function addTemplateOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--topic-template <t>', 'lane topic names (default {lane}.{topic})').helpGroup(GROUP.lane))
    .addOption(new Option('--subject-template <t>', 'lane subjects not derived from a topic (default {lane}.{subject})').helpGroup(GROUP.lane))
    .addOption(new Option('--group-template <t>', 'lane consumer groups (default {lane}.{group})').helpGroup(GROUP.lane));
}

export function ledgerTopic(flags: LaneFlags, env: Record<string, string | undefined>): string {
  const topic = flags.ledgerTopic ?? env.KBAK_LEDGER_TOPIC ?? DEFAULT_LEDGER_TOPIC;
  return validateTopicName(topic, '--ledger-topic');
}

/** --ttl: a duration such as 72h or 7d. */
export function parseTtl(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = parseDurationMs(value);
  if (ms === null) throw new UsageError(`--ttl ${JSON.stringify(value)} is not a duration`, 'use e.g. 90m, 72h or 7d');
  return ms;
}

/** `--ledger-topic X` when the user gave one, for a command line in a hint (the same ledger). */
export function ledgerArgs(flags: LaneFlags): string[] {
  return flags.ledgerTopic ? ['--ledger-topic', flags.ledgerTopic] : [];
}
