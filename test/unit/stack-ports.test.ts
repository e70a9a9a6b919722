/**
 * The stack scripts' port rules (scripts/stack/lib.sh): a second stack needs only its own
 * folder and KBAK_STACK_PORT_OFFSET, so every port of a service must derive from one value.
 * Runs lib.sh in bash and reads the settings it derives; starts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIB = join(__dirname, '..', '..', 'scripts', 'stack', 'lib.sh');
const NAMES = ['KAFKA_PORT', 'KAFKA_CONTROLLER_PORT', 'KAFKA_SECURE_PORT', 'KAFKA_MTLS_PORT', 'REGISTRY_PORT', 'REGISTRY_MANAGEMENT_PORT', 'S3_PORT'] as const;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A stack folder of its own (none by default: the repository's .stack may record other ports). */
function stackDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbak-stack-ports-'));
  dirs.push(d);
  return d;
}

/** Sources lib.sh with only `env` set, runs `then` (bash) and reads the ports it derived. */
function ports(env: Record<string, string>, then = ''): { status: number | null; ports: Record<string, number>; stderr: string } {
  const clean: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    KBAK_STACK_DIR: join(stackDir(), 'none'),
    ...env,
  };
  const script = `source ${JSON.stringify(LIB)} && ${then ? `${then} && ` : ''}${NAMES.map((n) => `echo ${n}=$${n}`).join(' && ')}`;
  const r = spawnSync('bash', ['-c', script], { env: clean, encoding: 'utf8' });
  const out: Record<string, number> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Z0-9_]+)=(\d+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return { status: r.status, ports: out, stderr: r.stderr };
}

describe('stack ports', () => {
  it('keeps the documented defaults', () => {
    expect(ports({}).ports).toEqual({
      KAFKA_PORT: 9092,
      KAFKA_CONTROLLER_PORT: 9093,
      KAFKA_SECURE_PORT: 9094,
      KAFKA_MTLS_PORT: 9095,
      REGISTRY_PORT: 8081,
      REGISTRY_MANAGEMENT_PORT: 8082,
      S3_PORT: 9000,
    });
  });

  it('shifts every port by KBAK_STACK_PORT_OFFSET, so two stacks never share one', () => {
    const a = Object.values(ports({}).ports);
    const b = ports({ KBAK_STACK_PORT_OFFSET: '1000' }).ports;
    expect(Object.values(b)).toEqual(a.map((p) => p + 1000));
    expect(Object.values(b).filter((p) => a.includes(p))).toEqual([]);
  });

  it('derives the controller and management ports from the main ports when only those are set', () => {
    const p = ports({ KAFKA_PORT: '19092', REGISTRY_PORT: '18081' }).ports;
    expect(p).toMatchObject({ KAFKA_CONTROLLER_PORT: 19093, KAFKA_SECURE_PORT: 19094, KAFKA_MTLS_PORT: 19095, REGISTRY_MANAGEMENT_PORT: 18082 });
  });

  it('refuses an offset that is not a number, in one line', () => {
    const r = ports({ KBAK_STACK_PORT_OFFSET: 'x' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('stack: KBAK_STACK_PORT_OFFSET must be a number from 0 to 50000, not "x"');
  });

  describe('a stack folder remembers the ports it was started on', () => {
    /** A folder whose ports file (as up.sh writes it) records offset 800. */
    function recorded(): string {
      const dir = stackDir();
      const r = ports({ KBAK_STACK_DIR: dir, KBAK_STACK_PORT_OFFSET: '800' }, 'stack_ports_lines >"$PORTS_FILE"');
      expect(r.status).toBe(0);
      return dir;
    }

    it('so status, down and up given only KBAK_STACK_DIR act on that stack', () => {
      const p = ports({ KBAK_STACK_DIR: recorded() }).ports;
      expect(p).toEqual({
        KAFKA_PORT: 9892,
        KAFKA_CONTROLLER_PORT: 9893,
        KAFKA_SECURE_PORT: 9894,
        KAFKA_MTLS_PORT: 9895,
        REGISTRY_PORT: 8881,
        REGISTRY_MANAGEMENT_PORT: 8882,
        S3_PORT: 9800,
      });
    });

    it('an explicit offset ignores the file, an explicit port wins over its line', () => {
      const dir = recorded();
      expect(ports({ KBAK_STACK_DIR: dir, KBAK_STACK_PORT_OFFSET: '0' }).ports.KAFKA_PORT).toBe(9092);
      expect(ports({ KBAK_STACK_DIR: dir, S3_PORT: '12345' }).ports).toMatchObject({ KAFKA_PORT: 9892, S3_PORT: 12345 });
    });

    it('ignores lines that are not port settings', () => {
      const dir = stackDir();
      writeFileSync(join(dir, 'ports'), 'KAFKA_PORT=$(touch pwned)\nPATH=/nowhere\nREGISTRY_PORT=18081\n');
      const r = ports({ KBAK_STACK_DIR: dir }, 'echo PATH_KEPT=$([[ $PATH != /nowhere ]] && echo 1)');
      expect(r.status).toBe(0);
      expect(r.ports).toMatchObject({ KAFKA_PORT: 9092, REGISTRY_PORT: 18081, REGISTRY_MANAGEMENT_PORT: 18082, PATH_KEPT: 1 });
    });

    it('refuses, in one line naming both, other ports for a stack that has a live service', () => {
      const dir = recorded();
      mkdirSync(join(dir, 'pids'));
      // Any live pid stands for a running broker: this test's own process.
      writeFileSync(join(dir, 'pids', 'kafka.pid'), `${process.pid}\n`);
      const r = ports({ KBAK_STACK_DIR: dir, KBAK_STACK_PORT_OFFSET: '0' }, 'stack_check_ports');
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        `stack: ${dir} runs on Kafka :9892, registry :8881, S3 :9800 (${join(dir, 'ports')}), but KAFKA_PORT=9092 was asked for; unset KBAK_STACK_PORT_OFFSET and the *_PORT variables (sourcing another stack's env sets them) or stop this stack first`,
      ]);
      expect(ports({ KBAK_STACK_DIR: dir }, 'stack_check_ports').status).toBe(0);
    });

    it('lets a stopped stack start on other ports', () => {
      const dir = recorded();
      expect(ports({ KBAK_STACK_DIR: dir, KBAK_STACK_PORT_OFFSET: '0' }, 'stack_check_ports').status).toBe(0);
    });
  });
});
