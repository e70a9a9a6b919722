/**
 * The stack scripts' port rules (scripts/stack/lib.sh): a second stack needs only its own
 * folder and KBAK_STACK_PORT_OFFSET, so every port of a service must derive from one value.
 * Runs lib.sh in bash and reads the settings it derives; starts nothing.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const LIB = join(__dirname, '..', '..', 'scripts', 'stack', 'lib.sh');
const NAMES = ['KAFKA_PORT', 'KAFKA_CONTROLLER_PORT', 'KAFKA_SECURE_PORT', 'KAFKA_MTLS_PORT', 'REGISTRY_PORT', 'REGISTRY_MANAGEMENT_PORT', 'S3_PORT'] as const;

function ports(env: Record<string, string>): { status: number | null; ports: Record<string, number>; stderr: string } {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env };
  const script = `source ${JSON.stringify(LIB)} && ${NAMES.map((n) => `echo ${n}=$${n}`).join(' && ')}`;
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
});
