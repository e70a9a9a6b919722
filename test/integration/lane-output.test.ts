/**
 * Issue 18, items 1 and 5, against the real broker: `lane list` and `lane describe` through
 * the one output layer (-o table|wide|name|json), "did you mean" for a mistyped lane, topic
 * and backup ID, unique backup-ID prefixes, and next steps on stderr (human logs only).
 * The lane's topic is read back with kcat, not kbak.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const kafka = testKafka('kbak-lane-output-test');
const ledger = uniqueName('__kbak_lanes_out');
const dest = mkdtempSync(join(tmpdir(), 'kbak-lane-out-'));
const topic = uniqueName('orders');
const lane = uniqueName('lo').slice(0, 24);
let backupId = '';

const kb = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runKbak([...args, '--ledger-topic', ledger], env);
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

beforeAll(async () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: 30 }, (_, i) => ({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      headers: [],
      timestamp: String(1_760_000_000_000 + i),
    })),
  );
  const dump = await runKbak(['dump', '--topic', topic, '--to', dest, '--name', 'out', '-o', 'name']);
  expect(dump.code).toBe(0);
  // -o name: the backup ID alone, for a script's next command.
  expect(dump.stdout).toMatch(/^\d{8}T\d{9}Z\n$/);
  backupId = dump.stdout.trim();
  // A unique prefix of the ID names the backup.
  const restore = await kb(['restore', '--lane', lane, '--source', dest, '--from', backupId.slice(0, 13), '--ttl', '72h', '--quiet']);
  expect(restore.code).toBe(0);
}, 120_000);

describe('lane list and describe', () => {
  it('a table with a row for the lane, its records counted on the broker', async () => {
    const r = await kb(['lane', 'list']);
    expect(r.code).toBe(0);
    const [header, ...rows] = lines(r.stdout);
    expect(header).toMatch(/^LANE\s+STATE\s+SEEDED FROM\s+AGE\s+TTL\s+TOPICS\s+RECORDS\s+SUBJECTS\s+GROUPS$/);
    const row = rows.find((l) => l.startsWith(`${lane} `))!;
    expect(row.split(/\s{2,}/)).toEqual([
      lane,
      'ready',
      `out/${backupId}`,
      expect.stringMatching(/ago$|^just now$/),
      expect.stringMatching(/^in 2 d 23 h|^in 3 d$/),
      '1',
      '30',
      '0',
      '0',
    ]);
    // The columns line up: every row's STATE starts where the header's does.
    const at = header!.indexOf('STATE');
    for (const l of rows) expect(l[at - 1]).toBe(' ');
    // kcat agrees on the records the table counts.
    const out = execFileSync('kcat', ['-C', '-b', stackEnv().brokers[0]!, '-t', `${lane}.${topic}`, '-o', 'beginning', '-e', '-q'], { encoding: 'utf8' });
    expect(lines(out)).toHaveLength(30);
  });
  it('-o name, -o wide and -o json (--json, unchanged shape)', async () => {
    expect(lines((await kb(['lane', 'list', '-o', 'name'])).stdout)).toContain(lane);
    const wide = lines((await kb(['lane', 'list', '-o', 'wide'])).stdout);
    expect(wide[0]).toMatch(/GROUPS\s+CREATED\s+EXPIRES\s+MASKING$/);
    // A lane seeded without a policy says so.
    expect(wide.find((l) => l.startsWith(`${lane} `))).toMatch(/ unmasked$/);
    const json = JSON.parse((await kb(['lane', 'list', '-o', 'json'])).stdout);
    expect(Object.keys(json)).toEqual(['ledgerTopic', 'lanes', 'invalidRecords']);
    expect(JSON.parse((await kb(['lane', 'list', '--json'])).stdout)).toEqual({ ...json, lanes: expect.any(Array) });
  });
  it('a mistyped lane is not found (exit 3) with the lane it probably meant', async () => {
    const typo = `${lane.slice(0, -1)}`;
    for (const cmd of [
      ['lane', 'describe', typo],
      ['lane', 'delete', typo, '--dry-run'],
    ]) {
      const r = await kb(cmd);
      expect(r.code).toBe(3);
      expect(r.stderr.trim()).toBe(
        `kbak: lane ${typo} is not in the ledger ${ledger}: did you mean ${lane}? (kbak lane list shows the lanes${cmd[1] === 'delete' ? '; --ignore-not-found makes this exit 0' : ''})`,
      );
    }
  });
  it('next steps on stderr in the human log format only: delete --dry-run gives the --yes form', async () => {
    const human = await runKbak(['--log-format', 'human', 'lane', 'delete', lane, '--dry-run', '--ledger-topic', ledger], { KBAK_LOG_LEVEL: 'info' });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`^lane ${lane}: would delete \\(dry run: nothing is changed\\)\\n {2}KIND\\s+NAME\\n {2}topic\\s+${lane}\\.${topic}\\n$`),
    );
    expect(human.stderr.trim()).toBe(`kbak: next: delete it: kbak --log-format human lane delete ${lane} --ledger-topic ${ledger} --yes`);
    const piped = await kb(['lane', 'delete', lane, '--dry-run'], { KBAK_LOG_LEVEL: 'info' });
    expect(piped.stderr).not.toContain('next:');
    const json = await runKbak(['--log-format', 'human', 'lane', 'delete', lane, '--dry-run', '-o', 'json', '--ledger-topic', ledger], {
      KBAK_LOG_LEVEL: 'info',
    });
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, lane, topics: [`${lane}.${topic}`] });
  });
});

describe('did you mean, for topics and backup IDs', () => {
  it('dump of a mistyped topic names the topic that exists', async () => {
    const r = await runKbak(['dump', '--topic', `${topic}x`, '--to', dest]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`topic "${topic}x" does not exist on the source cluster: did you mean ${topic}?`);
  });
  it('restore of a topic the backup lacks, and of a mistyped backup ID', async () => {
    const t = await kb(['restore', '--lane', `${lane}b`.slice(0, 30), '--source', dest, '--topic', topic.slice(1), '--dry-run']);
    expect(t.code).toBe(3);
    expect(t.stderr).toContain(`topic "${topic.slice(1)}" is not in backup ${backupId}: did you mean ${topic}?`);
    const typo = `${backupId.slice(0, -2)}${backupId.at(-2) === '9' ? '8' : '9'}Z`;
    const b = await runKbak(['inspect', typo, '--source', dest]);
    expect(b.code).toBe(3);
    expect(b.stderr).toContain(`backup ${typo} not found (or incomplete) in ${dest}: did you mean ${backupId}?`);
  });
});
