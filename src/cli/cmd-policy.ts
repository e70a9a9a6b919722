/**
 * `kbak policy init`: a starting masking policy for a backup's topics (docs/masking-policy.md),
 * every field of their schemas listed, those that look personal pre-filled with an action,
 * for review before `kbak restore --policy`. A thin face on api.ts's initPolicy.
 */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { initPolicy, openBackup } from '../api';
import { UsageError } from '../errors';
import type { CommandEnv } from './common';
import { addExamples } from './help';
import { kbakLine, nextSteps } from './next-step';
import { addSourceOptions, openSource, type SourceFlags } from './source';

interface InitFlags extends SourceFlags {
  from: string;
  topic: string[];
  out?: string;
}

export function policyCommand(env: CommandEnv): Command {
  const policy = new Command('policy').description('masking policies for seeding lanes from production backups');
  const init = new Command('init')
    .description("write a starting masking policy from a backup's schemas: personal-looking fields pre-filled, the rest listed")
    .option('--from <backup>', 'backup ID or latest', 'latest')
    .option('--topic <name>', 'only this backed-up topic (repeatable; default all)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--out <file>', 'write the policy to this new file (default: stdout); an existing file is never replaced');
  addSourceOptions(init);
  addExamples(init, [
    ['a starting policy for every topic of the newest backup, on stdout', 'kbak policy init --from latest'],
    ['for topic orders only, into a new file to review', 'kbak policy init --topic orders --out seed-policy.yaml'],
  ]);
  init.action(async (flags: InitFlags) => {
    const store = openSource(flags, env);
    const backup = await openBackup(store, flags.from, flags.name);
    const r = await initPolicy({ backup, topics: flags.topic });
    // Line by line: stdout escapes control characters inside a line, newlines too.
    if (flags.out === undefined) for (const line of r.text.replace(/\n$/, '').split('\n')) env.stdout(line);
    else {
      try {
        await writeFile(flags.out, r.text, { flag: 'wx' });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new UsageError(`${flags.out} exists; kbak policy init never replaces a file`, 'name a new file, or remove it first');
        throw new UsageError(`cannot write ${flags.out}: ${code ?? (e as Error).message}`, 'check the folder exists and is writable');
      }
    }
    const logger = env.logger();
    logger.info(
      `policy for ${r.topics} topic${r.topics === 1 ? '' : 's'}: ${r.detected} field${r.detected === 1 ? '' : 's'} pre-filled as personal; review every line before use`,
    );
    nextSteps(env, 'table', logger, [
      `see what it does: ${kbakLine('restore', '--lane', '<lane>', '--from', backup.ref.backupId, '--policy', flags.out ?? '<file>', '--dry-run')}`,
    ]);
  });
  policy.addCommand(init);
  return addExamples(policy, [
    ['a starting policy for every topic of the newest backup, on stdout', 'kbak policy init --from latest'],
    ['for topic orders only, into a new file to review', 'kbak policy init --topic orders --out seed-policy.yaml'],
  ]);
}
