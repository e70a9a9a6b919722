/**
 * Logging on stderr. Two formats: `json` (pino JSON lines, what a CronJob's log collector
 * wants) and `human` (one short line per event, what a person at a terminal wants). The
 * default is human on a terminal and JSON otherwise; `--log-format` or KBAK_LOG_FORMAT
 * chooses explicitly. Either way the same pino logger is used by the code.
 */
import pino from 'pino';
import { escapeControl, escapeJsonLine } from './safe-text';
import { writeStderr } from './stderr';

export type Logger = pino.Logger;
export type LogFormat = 'human' | 'json';

const LEVEL_PREFIX: Record<number, string> = { 10: 'trace: ', 20: 'debug: ', 30: '', 40: 'warning: ', 50: 'error: ', 60: 'fatal: ' };

/**
 * pino destination that renders each JSON line as `kbak: [level: ]message`. Messages carry
 * names from stores, brokers and registries: this is where they are escaped.
 */
function humanDestination(write: (s: string) => void): pino.DestinationStream {
  return {
    write(line: string): void {
      try {
        const o = JSON.parse(line) as { level: number; msg?: string };
        write(`kbak: ${LEVEL_PREFIX[o.level] ?? ''}${escapeControl(String(o.msg ?? ''))}\n`);
      } catch {
        write(escapeJsonLine(line));
      }
    },
  };
}

/** pino destination for JSON lines: the same escaping rule (bidi and C1 too), still valid JSON. */
function jsonDestination(write: (s: string) => void): pino.DestinationStream {
  return { write: (line: string) => write(escapeJsonLine(line)) };
}

export function resolveLogFormat(explicit: string | undefined, isTTY: boolean): LogFormat {
  const f = explicit ?? process.env.KBAK_LOG_FORMAT;
  if (f === 'json' || f === 'human') return f;
  return isTTY ? 'human' : 'json';
}

/** Loggers that write for a person (format human). */
const humanLoggers = new WeakSet<Logger>();

/**
 * A command's completion, logged for a job's log collector: one JSON line with the whole
 * summary. A person at a terminal reads the summary the command prints on stdout, so a
 * human-format logger says nothing here (the completion is shown once).
 */
export function logCompletion(logger: Logger, fields: Record<string, unknown>, message: string): void {
  if (humanLoggers.has(logger)) return;
  logger.info(fields, message);
}

/**
 * The one logger of a run. `write` (tests) receives each finished line; by default lines go
 * to stderr (JSON lines through pino's synchronous fd destination, as before).
 */
export function createLogger(opts: { level?: string; quiet?: boolean; format?: LogFormat; write?: (s: string) => void } = {}): Logger {
  const level = process.env.KBAK_LOG_LEVEL ?? opts.level ?? (opts.quiet ? 'warn' : 'info');
  const format = opts.format ?? resolveLogFormat(undefined, Boolean(process.stderr.isTTY));
  // Lines to stderr go above a progress display when one is drawn (src/output/stderr.ts).
  if (format === 'human') {
    const logger = pino({ base: null, level, timestamp: false }, humanDestination(opts.write ?? ((s) => writeStderr(s))));
    humanLoggers.add(logger);
    return logger;
  }
  let write = opts.write;
  if (!write) {
    const fd2 = pino.destination({ fd: 2, sync: true });
    write = (s) => writeStderr(s, (t) => fd2.write(t));
  }
  return pino({ base: { app: 'kbak' }, level, timestamp: pino.stdTimeFunctions.isoTime }, jsonDestination(write));
}

/** For tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
