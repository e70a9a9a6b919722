/**
 * Every example `--help` prints runs as printed against the local stack (its settings in the
 * environment, as after `set -a; source .stack/env; set +a`), in one scenario: seed the demo
 * topic, back it up, look at the backups, seed lanes, snapshot, clone, reset and delete them.
 * A few setup lines (not examples) put the lanes in the state the next example needs. The
 * scenario must name every example, so a new example cannot go untried. The examples use
 * fixed places in the stack's bucket (s3://kbak/backups, s3://kbak/lanes): this test empties
 * them first (other tests write under random prefixes).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { examplesOf } from '../../src/cli/help';
import { program } from '../support/help-text';
import { KBAK_BIN } from '../support/kbak-cli';
import { listS3, s3Client } from '../support/s3-objects';
import { stackEnv, testKafka } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
type Step = { example: string; shell?: 'zsh' } | { setup: string } | { deleteTopics: string[] };

const SCENARIO: Step[] = [
  { setup: 'kbak lane delete feature-x --yes --ignore-not-found && kbak lane delete feature-y --yes --ignore-not-found' },
  { example: 'kbak help connection' },
  { example: 'kbak help lane list' },
  { example: 'kbak dump --topic orders' },
  { example: "kbak dump --topics-regex 'orders|payments' --since 6h --to s3://kbak/backups" },
  { example: 'kbak dump --topic orders --incremental' },
  { example: 'kbak list' },
  { example: 'kbak list --source s3://kbak/backups --json' },
  { example: 'kbak inspect latest' },
  { example: 'kbak inspect latest --source s3://kbak/backups --json' },
  { example: 'kbak verify latest' },
  { example: 'kbak verify --all --quick --source s3://kbak/backups' },
  { example: 'kbak cat latest --topic orders --limit 5' },
  { example: 'kbak cat latest --topic orders --partition 0 --from-offset 100 --decode' },
  { example: 'kbak policy init --from latest' },
  { example: 'kbak policy init --topic orders --out seed-policy.yaml' },
  // The draft is a policy restore accepts as it is written.
  { setup: 'KBAK_MASK_KEY="$(openssl rand -base64 32)" kbak restore --lane feature-z --policy seed-policy.yaml --dry-run > /dev/null' },
  { example: 'kbak prune --keep-last 7 --dry-run' },
  { deleteTopics: ['orders-30m'] },
  { example: 'kbak recover --topic orders --rename orders=orders-copy --dry-run' },
  // The accidental deletion that the next example undoes.
  { deleteTopics: ['orders'] },
  { example: 'kbak recover --topic orders' },
  { example: 'kbak recover --topic orders --rename orders=orders-30m --at 30m' },
  { example: 'kbak restore --lane feature-x --dry-run' },
  { example: 'kbak restore --lane feature-x' },
  { setup: 'kbak lane delete feature-x --yes' },
  { example: 'kbak restore --lane feature-x --ttl 72h --lane-baggage lane' },
  { example: 'kbak restore --lane feature-x --replace' },
  { example: 'kbak lane list' },
  { example: 'kbak lane list --json' },
  { example: 'kbak lane describe feature-x' },
  { example: 'kbak lane describe feature-x --json' },
  { example: 'kbak lane delete feature-x --dry-run' },
  { example: 'kbak lane snapshot feature-x' },
  { example: 'kbak lane snapshot feature-x --to s3://kbak/lanes' },
  { example: 'kbak lane clone feature-x feature-y' },
  { setup: 'kbak lane delete feature-y --yes' },
  { example: 'kbak lane clone feature-x feature-y --to-store ./kbak-backups --ttl 72h' },
  { example: 'kbak lane reset feature-x' },
  { example: 'kbak lane reset feature-y --source ./kbak-backups' },
  { example: 'kbak lane gc --dry-run' },
  { example: 'kbak lane gc' },
  { example: 'kbak lane delete feature-x --yes' },
  { example: 'kbak lane delete feature-x --yes --ignore-not-found' },
  { setup: 'kbak lane delete feature-y --yes' },
  { example: 'kbak prune --keep-daily 30 --keep-weekly 12' },
  { example: 'source <(kbak completion bash)' },
  { example: 'source <(kbak completion zsh)', shell: 'zsh' },
  { setup: 'mkdir -p ~/.config/fish/completions' },
  { example: 'kbak completion fish > ~/.config/fish/completions/kbak.fish' },
];

function allExamples(): string[] {
  const visit = (c: Command): string[] => [...examplesOf(c).map((e) => e.command), ...c.commands.flatMap(visit)];
  return [...new Set(visit(program()))];
}

it('the scenario tries every example --help prints', () => {
  const tried = SCENARIO.flatMap((s) => ('example' in s ? [s.example] : []));
  expect([...new Set(tried)].sort()).toEqual(allExamples().sort());
});

/** Deletes every object under each prefix of the stack's bucket. */
async function emptyS3(prefixes: string[]): Promise<void> {
  const client = s3Client();
  for (const prefix of prefixes) {
    const keys = await listS3(prefix);
    for (let i = 0; i < keys.length; i += 1000)
      await client.send(
        new DeleteObjectsCommand({ Bucket: stackEnv().s3Bucket, Delete: { Objects: keys.slice(i, i + 1000).map((k) => ({ Key: `${prefix}/${k}` })) } }),
      );
  }
}

it('every example runs as printed against the local stack', async () => {
  await emptyS3(['backups', 'lanes']);
  const dir = mkdtempSync(join(tmpdir(), 'kbak-examples-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'kbak'), `#!/bin/sh\nexec "${process.execPath}" "${KBAK_BIN}" "$@"\n`, { mode: 0o755 });
  const env = { ...process.env, ...stackEnv().env, HOME: dir, PATH: `${bin}:${process.env.PATH ?? ''}`, KBAK_LOG_LEVEL: 'warn' };
  const seed = spawnSync(process.execPath, [join(ROOT, 'scripts', 'demo', 'seed.cjs')], { env, encoding: 'utf8' });
  expect({ seed: seed.status, stderr: seed.stderr }).toEqual({ seed: 0, stderr: '' });
  const hasZsh = spawnSync('sh', ['-c', 'command -v zsh']).status === 0;
  const kafka = testKafka('kbak-help-examples');
  const admin = kafka.admin();
  await admin.connect();
  for (const step of SCENARIO) {
    if ('deleteTopics' in step) {
      const listed = new Set(await admin.listTopics());
      const present = step.deleteTopics.filter((t) => listed.has(t));
      if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
      // Gone from the metadata before the next step looks.
      for (let i = 0; i < 100 && (await admin.listTopics()).some((t) => present.includes(t)); i++) await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const line = 'setup' in step ? step.setup : step.example;
    // Without zsh the zsh example's kbak part still runs.
    const [shell, args] =
      'shell' in step && step.shell === 'zsh'
        ? hasZsh
          ? ['zsh', ['-f', '-c', line]]
          : ['bash', ['-c', 'kbak completion zsh > /dev/null']]
        : ['bash', ['-c', `set -o pipefail; ${line}`]];
    const r = spawnSync(shell, args, { cwd: dir, env, encoding: 'utf8', timeout: 180_000 });
    expect({ line, code: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ line, code: 0, stderr: '' });
  }
  await admin.disconnect();
}, 900_000);
