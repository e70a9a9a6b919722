/**
 * kbak started by a Node below package.json engines warns once, first, and still runs; a
 * supported Node (the one running the tests, and Node 22 when the machine has it: CI's start-up
 * check) prints nothing on stderr. Needs no stack; the old Node is /usr/bin/node where it is
 * one (skipped elsewhere: which Nodes a machine has is not the test's to decide).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KBAK_BIN } from '../support/kbak-cli';

const versionOf = (node: string): string => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^v/, '');
const major = (v: string): number => Number(v.split('.')[0]);
const OLD = '/usr/bin/node';
const oldNode = existsSync(OLD) && major(versionOf(OLD)) < 22 ? OLD : null;
const NODE22 = join(homedir(), '.cache', 'kbak-node22', 'node_modules', 'node', 'bin', 'node');

(oldNode ? it : it.skip)('below engines: one warning line, then kbak runs', () => {
  const r = spawnSync(oldNode!, [KBAK_BIN, '--version'], { encoding: 'utf8', env: { ...process.env, KBAK_LOG_FORMAT: 'human' } });
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toEqual([
    `kbak: warning: Node ${versionOf(oldNode!)} is older than kbak supports (node >=22.15, package.json engines): upgrade Node; until then kbak may fail in unexpected ways`,
  ]);
});

it.each([
  ['the Node running the tests', process.execPath],
  ['Node 22', NODE22],
])('%s: nothing on stderr', (_name, node) => {
  if (!existsSync(node)) return;
  const r = spawnSync(node, [KBAK_BIN, '--version'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
});
