/**
 * A second local cluster for the tests of two clusters (a backup of the primary stack, A,
 * recovered into a fresh cluster, B): Kafka with its secured listeners and authorizer, a
 * registry and S3, started by the stack's own scripts in `<primary's KBAK_STACK_DIR>-b` on the
 * primary's port offset + 1000 (KBAK_SECOND_STACK_PORT_OFFSET overrides the offset, e.g. where
 * offset + 1000 belongs to someone else's stack on a shared machine).
 *
 * Started on first use and then left running: scripts/stack/up.sh is idempotent (about 0.5 s
 * when B is up, about 12 s from nothing), so every test file that needs B calls secondStack()
 * in its beforeAll and none of them stops it: jest cannot tell a file that it is the last user
 * of B, and starting B once per file would cost ~12 s each. `.ci/run` stops every
 * `$KBAK_STACK_DIR-*` stack when it ends; by hand: `KBAK_STACK_DIR=.stack-b npm run stack:down`.
 * B's three JVMs take ~620 MB of RSS when idle (measured: Kafka 250 MB, Apicurio 250 MB,
 * S3Proxy 115 MB). S3 is started too, although recovery reads its backups from A's store: it
 * is the cheapest of the three, B then has the primary's exact shape (tests of "dump B after
 * recovering into it" need a store of B's own), and status/down treat a stack as one thing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readStackEnvFile, stackDir, stackEnvOf, type StackEnv } from './stack';

/** A stack's endpoints and settings: the shape stackEnv() gives for the primary. */
export type StackEndpoints = StackEnv;

const SCRIPTS = join(__dirname, '..', '..', 'scripts', 'stack');

/** Port settings of the stack scripts (scripts/stack/lib.sh PORT_VARS) a caller's environment must not leak into another stack. */
const PORT_VARS = [
  'KBAK_STACK_PORT_OFFSET',
  'KAFKA_PORT',
  'KAFKA_CONTROLLER_PORT',
  'KAFKA_SECURE_PORT',
  'KAFKA_MTLS_PORT',
  'REGISTRY_PORT',
  'REGISTRY_MANAGEMENT_PORT',
  'S3_PORT',
];

/** How long a start waits for another start of the same stack (up.sh gives each service 120 s, in parallel). */
const LOCK_WAIT_S = 150;
/** flock's exit code when that wait ran out (EX_TEMPFAIL, which up.sh never exits with). */
const LOCK_TIMEOUT_EXIT = 75;

/** Where the second stack lives and on which port offset. */
export function secondStackPlace(): { dir: string; offset: number } {
  const dir = stackDir();
  const override = process.env.KBAK_SECOND_STACK_PORT_OFFSET;
  if (override !== undefined && override !== '') return { dir: `${dir}-b`, offset: portOffset(override, 'KBAK_SECOND_STACK_PORT_OFFSET') };
  // The primary's own record first (what it runs on), then what this process was given.
  const primary = readStackEnvFile(dir).KBAK_STACK_PORT_OFFSET ?? process.env.KBAK_STACK_PORT_OFFSET ?? '0';
  return { dir: `${dir}-b`, offset: portOffset(primary, 'the primary stack KBAK_STACK_PORT_OFFSET') + 1000 };
}

function portOffset(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Error(`${what} must be a number, not "${text}"`);
  return Number(text);
}

/**
 * The one line of up.sh's output that says why a stack did not start: the port in use, the
 * service that did not come up (with its log), the version or ports that do not match. up.sh
 * follows it with a log tail and a generic closing line, which a test failure does not need.
 */
export function stackStartProblem(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const said = lines.filter((l) => l.startsWith('stack: '));
  const problem = said.find(
    (l) => /already in use|did not come up|asked for|failed|could not|needs|none found|must be|refusing/.test(l) && !/^stack: not all services came up/.test(l),
  );
  return problem ?? said.at(-1) ?? lines.at(-1) ?? 'no output';
}

/**
 * Starts (or finds running) the stack in `dir` on `offset` and returns its endpoints, read from
 * the env file up.sh writes. Fails with one line naming the port or the log when it cannot.
 * Runs under flock, so jest workers that ask at the same time start it once.
 */
export async function startStack(dir: string, offset: number): Promise<StackEndpoints> {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'up.lock');
  const env: Record<string, string | undefined> = { ...process.env, KBAK_STACK_DIR: dir };
  // A shell that sourced the primary's env carries its ports: they must not move this stack.
  for (const k of PORT_VARS) delete env[k];
  env.KBAK_STACK_PORT_OFFSET = String(offset);
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    // -o: the services up.sh starts must not inherit the lock (they would hold it for ever).
    const child = spawn('flock', ['-o', '-w', String(LOCK_WAIT_S), '-E', String(LOCK_TIMEOUT_EXIT), lock, 'bash', join(SCRIPTS, 'up.sh')], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stderr: err }));
  });
  if (code === LOCK_TIMEOUT_EXIT)
    throw new Error(`the stack in ${dir} (port offset ${offset}) did not start: another start of it has held ${lock} for over ${LOCK_WAIT_S}s`);
  if (code !== 0) throw new Error(`the stack in ${dir} (port offset ${offset}) did not start: ${stackStartProblem(stderr)}`);
  return stackEnvOf(readStackEnvFile(dir));
}

let second: Promise<StackEndpoints> | null = null;

/**
 * The second cluster (B), started on first use and reused after: call it in a beforeAll. Its
 * settings come only from its own env file, never from this process's environment (which may
 * name the primary).
 */
export function secondStack(): Promise<StackEndpoints> {
  if (!second) {
    const { dir, offset } = secondStackPlace();
    second = startStack(dir, offset);
    // A failure is not cached: the next file asks again (and says again why it failed).
    void second.catch(() => (second = null));
  }
  return second;
}
