/**
 * A backup folder kbak cannot write, for real: a read-only mount (a tmpfs mounted ro in a
 * mount namespace of its own) and a folder owned by root with the run as another user. The
 * error names EROFS/EACCES, exits 4 and comes from the store check, before Kafka is asked
 * anything: the broker address is a closed port, so reaching Kafka would fail differently.
 * Needs root (unshare, mount, setpriv), as on CI's runner and the dev machine; skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KBAK_BIN } from '../support/kbak-cli';

const root = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;
const maybe = root ? describe : describe.skip;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbak-disk-errors-'));
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kbak = (dest: string): string[] => [process.execPath, KBAK_BIN, 'dump', '--topic', 't', '--to', dest, '--brokers', '127.0.0.1:1', '--quiet'];

maybe('a backup folder kbak cannot write', () => {
  it('on a read-only file system: EROFS, exit 4, before Kafka', () => {
    const ro = join(dir, 'ro');
    const script = `mkdir -p ${ro} && mount -t tmpfs -o ro tmpfs ${ro} && exec "$@"`;
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', ...kbak(join(ro, 'backups'))], { encoding: 'utf8' });
    expect(r.status).toBe(4);
    expect(r.stderr.trim()).toBe(
      `kbak: cannot use backup folder ${ro}/backups: EROFS, the file system is read-only (mkdir ${ro}/backups) (use a folder on a writable disk, or mount this one read-write; see --to / --source / KBAK_DEST)`,
    );
  });

  it('without permission: EACCES, exit 4, before Kafka', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...kbak(join(dir, 'backups'))], { encoding: 'utf8' });
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(
      new RegExp(`^kbak: cannot use backup folder ${dir}/backups: EACCES, permission denied \\(mkdir ${dir}/backups\\) \\(give the user kbak runs as access`),
    );
  });
});
