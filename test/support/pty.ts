/**
 * Runs a command under a pseudo-terminal of a given size, as a user's terminal would (so
 * isTTY, the width commander wraps help to and the progress bars are the real ones). Uses
 * `script` from util-linux (node-pty would need a native build). Output comes back with the
 * terminal's \r\n line ends turned into \n.
 */
import { spawn } from 'node:child_process';

export interface PtyResult {
  code: number | null;
  output: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `argv` runs in a terminal `columns` wide; `input.text`, when given, is typed once the output
 * so far satisfies `input.when` (`\u0003` is Ctrl-C: the terminal sends SIGINT to the command,
 * and echoes ^C, as for a user). stdout and stderr both reach the terminal, as they do for a user.
 */
export function runInPty(
  argv: string[],
  opts: {
    columns?: number;
    rows?: number;
    env?: Record<string, string | undefined>;
    cwd?: string;
    timeoutMs?: number;
    input?: { text: string; when: (output: string) => boolean };
  } = {},
): Promise<PtyResult> {
  const columns = opts.columns ?? 80;
  const rows = opts.rows ?? 24;
  const command = `stty cols ${columns} rows ${rows}; exec ${argv.map(quote).join(' ')}`;
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm', ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  // -q: no "Script started" lines; -e: the command's exit code; -f: flush as it comes.
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let typed = false;
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString('utf8');
    if (opts.input && !typed && opts.input.when(output)) {
      typed = true;
      child.stdin.write(opts.input.text);
    }
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r\n/g, '\n') });
    }),
  );
}
