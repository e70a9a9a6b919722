/**
 * `kbak cat -f` through the built CLI (npm run build first, as for the golden tests): on a
 * terminal (a pseudo-terminal from `script`) a record's control characters, newlines and
 * bytes that are not UTF-8 arrive escaped; through a pipe the same records arrive as their
 * raw bytes, as kcat writes them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TimestampType } from '../../src/segment/record';
import { storedSegment, writeCraftedBackup } from '../support/crafted-backup';
import { KBAK_BIN } from '../support/kbak-cli';
import { runInPty } from '../support/pty';

jest.setTimeout(60_000);

let root: string;
// ESC sequences that would clear the screen and colour the text, a forged line, a byte that is not UTF-8.
const VALUE = Buffer.concat([Buffer.from('a\u001b[2J\u001b[31mred\nkbak: forged line\r'), Buffer.from([0xff])]);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kbak-cat-tty-'));
  const record = { offset: 0n, timestamp: 1_764_158_400_000n, timestampType: TimestampType.CreateTime, key: Buffer.from('k'), value: VALUE, headers: [] };
  writeCraftedBackup(root, { topic: 't', partitions: [{ partition: 0, segments: [storedSegment([[record]])] }] });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const argv = [process.execPath, KBAK_BIN, 'cat', 'latest', '--source', '', '-f', '<%k|%s>\\n'];

it('a terminal gets the record escaped, one line', async () => {
  const r = await runInPty(
    argv.map((a) => (a === '' ? root : a)),
    { columns: 120 },
  );
  expect(r.code).toBe(0);
  // Not valid UTF-8 as a whole, so byte by byte: printable ASCII as it is, every other byte \xHH.
  expect(r.output).toBe('<k|a\\x1b[2J\\x1b[31mred\\x0akbak: forged line\\x0d\\xff>\n');
});

it('a pipe gets the raw bytes', () => {
  const r = spawnSync(
    argv[0]!,
    argv.slice(1).map((a) => (a === '' ? root : a)),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  expect(r.status).toBe(0);
  expect(r.stdout).toEqual(Buffer.concat([Buffer.from('<k|'), VALUE, Buffer.from('>\n')]));
});
