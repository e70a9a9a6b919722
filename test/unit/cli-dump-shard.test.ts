/**
 * The sharded dump's flags on the command line (`kbak dump --shard I/N --backup-id ID
 * --finalize --plan-ttl D`): each misuse is refused with one line and exit 2, before a
 * cluster is asked anything (the brokers named here do not exist) and before the store
 * holds anything.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess, type InProcessResult } from '../support/cli-in-process';

jest.setTimeout(30_000);

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kbak-cli-shard-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** `kbak dump --topic orders` against no broker (a closed port), into an empty folder. */
const dumpWith = (...flags: string[]): Promise<InProcessResult> =>
  runInProcess(['dump', '--topic', 'orders', '--brokers', '127.0.0.1:9', '--to', join(root, 'store'), ...flags]);

/** Exit 2, one line naming every one of `parts`, and nothing written. */
function refused(r: InProcessResult, ...parts: string[]): void {
  const line = r.stderr.join('').trim();
  expect(r.code).toBe(2);
  expect(line.split('\n')).toHaveLength(1);
  expect(line.startsWith('kbak: ')).toBe(true);
  for (const p of parts) expect(line).toContain(p);
  expect(r.lines).toEqual([]);
  expect(!existsSync(join(root, 'store')) || readdirSync(join(root, 'store'), { recursive: true }).length === 0).toBe(true);
}

describe('kbak dump: the sharding flags', () => {
  it('--backup-id without --shard is refused', async () => {
    refused(await dumpWith('--backup-id', '20261206T020000000Z'), '--backup-id needs --shard');
  });

  it('--plan-ttl without --shard is refused', async () => {
    refused(await dumpWith('--plan-ttl', '12h'), '--plan-ttl needs --shard');
  });

  it('--finalize without --backup-id is refused', async () => {
    refused(await dumpWith('--finalize'), '--finalize needs --backup-id');
  });

  it('--finalize with --shard is refused', async () => {
    refused(await dumpWith('--finalize', '--shard', '0/3', '--backup-id', '20261206T020000000Z'), '--finalize cannot be combined with --shard');
  });

  it.each([
    ['3/3', 'index 3, outside 0..2'],
    ['0/0', '0 shards'],
    ['0/1025', '1025 shards'],
    ['-1/3', 'is not I/N'],
    ['a/b', 'is not I/N'],
    ['1/3/5', 'is not I/N'],
  ])('--shard %s is refused', async (spec, why) => {
    refused(await dumpWith('--shard', spec, '--backup-id', '20261206T020000000Z'), `--shard ${JSON.stringify(spec)}`, why);
  });

  it('--shard N without JOB_COMPLETION_INDEX in the environment is refused, naming it', async () => {
    refused(await dumpWith('--shard', '3', '--backup-id', '20261206T020000000Z'), 'JOB_COMPLETION_INDEX');
  });

  it('--shard without --backup-id or KBAK_JOB_NAME is refused, saying what to pass', async () => {
    refused(await dumpWith('--shard', '0/3'), 'needs a backup ID every shard agrees on');
  });

  it('--backup-id that names no instant is refused', async () => {
    refused(await dumpWith('--shard', '0/3', '--backup-id', '20260230T020000000Z'), '--backup-id "20260230T020000000Z" is not a backup ID');
  });

  it.each([
    ['5s', 'out of range'],
    ['59s', 'out of range'],
    ['8d', 'out of range'],
    ['2w', 'out of range'],
    ['soon', 'is not a duration'],
    ['12', 'is not a duration'],
  ])('--plan-ttl %s is refused', async (ttl, why) => {
    refused(await dumpWith('--shard', '0/3', '--backup-id', '20261206T020000000Z', '--plan-ttl', ttl), '--plan-ttl', why);
  });
});
