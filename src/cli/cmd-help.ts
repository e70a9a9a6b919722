/**
 * `kbak help [command...]`: a command's help (`kbak help lane list` too), and the topic
 * `kbak help connection`, the one place that lists every connection and store flag, which
 * commands take it, and where its value can come from. Commander's own help command stops
 * at the first word and knows no topics, so kbak has this one instead.
 */
import { Command, type Help, type Option } from 'commander';
import { UsageError } from '../errors';
import { completeArgumentWith } from './cmd-completion';
import { addServiceOptions, ALL_SERVICES } from './connection-options';
import { addExamples, formatOptionList, GROUP } from './help';

const SERVICES: Array<{ heading: string; family: (long: string) => boolean }> = [
  { heading: 'Kafka', family: (l) => /^--(brokers|client-id|tls|sasl)/.test(l) },
  { heading: 'Schema registry', family: (l) => l.startsWith('--schema-registry-') },
  { heading: 'S3', family: (l) => l.startsWith('--s3-') },
  { heading: 'Config file', family: (l) => l === '--config' },
];

/**
 * `dump, restore, every lane command`: the runnable commands of the tree that offer `long`,
 * a command group named once when all its commands do.
 */
function commandsWith(program: Command, long: string): string[] {
  const offers = (cmd: Command): boolean => cmd.options.some((o) => o.long === long && o.helpGroupHeading === GROUP.connection);
  const visit = (cmd: Command, path: string): string[] => {
    if (cmd.commands.length === 0) return offers(cmd) ? [path] : [];
    const leaves = cmd.commands.filter((c) => c.commands.length === 0 && c.name() !== 'help');
    if (path && leaves.length > 0 && leaves.length === cmd.commands.length && leaves.every(offers)) return [`every ${path} command`];
    return cmd.commands.flatMap((c) => visit(c, path ? `${path} ${c.name()}` : c.name()));
  };
  return visit(program, '');
}

function connectionText(program: Command, topic: Command, helper: Help): string {
  const width = helper.helpWidth ?? 80;
  const options = helper.visibleOptions(topic).filter((o) => o.helpGroupHeading === GROUP.connection);
  const wrap = (text: string): string => helper.boxWrap(text, width);
  const out = [
    'Usage: kbak <command> [connection options]',
    '',
    wrap(
      'How kbak reaches Kafka, the schema registry and S3. Each command takes the flags of the services it talks to (its --help ' +
        'names them in one line). Flags win over environment variables, which win over a JSON config file (--config or KBAK_CONFIG). ' +
        'With nothing set kbak talks to a broker at 127.0.0.1:9092, uses no registry and keeps backups in ./kbak-backups.',
    ),
    '',
  ];
  // One flag column for the page: the lines of every group go through formatOptionList at once.
  const lines = formatOptionList(helper, options, width);
  for (const s of SERVICES) {
    const group: Option[] = options.filter((o) => o.long !== undefined && s.family(o.long));
    const users = commandsWith(program, group[0]!.long!);
    out.push(wrap(`${s.heading} (${users.join(', ')}):`), ...group.map((o) => lines[options.indexOf(o)]!), '');
  }
  out.push(
    wrap(
      'S3 credentials come only from the AWS SDK chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, shared config and credential files, ' +
        'SSO, web identity, instance metadata), never from flags. Prefer the environment for passwords: flags show in ps.',
    ),
    '',
  );
  out.push(
    'Examples:',
    '  # the local stack (npm run stack:up writes its settings to .stack/env)',
    '  set -a; source .stack/env; set +a',
    '  # the same settings as flags',
    '  kbak dump --topic orders --brokers 127.0.0.1:9092 \\',
    '    --schema-registry-url http://127.0.0.1:8081/apis/ccompat/v7',
  );
  return `${out.join('\n')}\n`;
}

/** The `help` command of `program` (whose output settings it shares). */
export function helpCommand(program: Command): Command {
  const cmd = new Command('help')
    .description('show help for a command (kbak help lane list), or for the topic connection: every connection and store flag')
    .argument('[command...]', 'a command, or connection')
    .action((words: string[]) => {
      if (words.length === 1 && words[0] === 'connection') {
        const topic: Command = addServiceOptions(new Command('connection'), ALL_SERVICES)
          .configureOutput(program.configureOutput())
          .configureHelp({ formatHelp: (_cmd, helper): string => connectionText(program, topic, helper) })
          .exitOverride();
        topic.help();
      }
      let target = program;
      for (const w of words) {
        const next = target.commands.find((c) => c.name() === w || c.aliases().includes(w));
        if (!next)
          throw new UsageError(`no command or help topic "${words.join(' ')}"`, 'kbak --help lists the commands; kbak help connection the connection flags');
        target = next;
      }
      target.help();
    });
  completeArgumentWith(cmd, () => [...program.commands.map((c) => c.name()).filter((n) => n !== 'help'), 'connection']);
  return addExamples(cmd, [
    ['every connection and store flag, and which commands take it', 'kbak help connection'],
    ['the flags of one command', 'kbak help lane list'],
  ]);
}
