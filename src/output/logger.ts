/**
 * Logging: JSON lines on stderr (pino) so a CronJob's output is machine-readable; on a
 * terminal the progress display replaces routine info lines (see progress.ts).
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(opts: { level?: string; quiet?: boolean } = {}): Logger {
  const level = process.env.KBAK_LOG_LEVEL ?? opts.level ?? (opts.quiet ? 'warn' : 'info');
  return pino({ base: { app: 'kbak' }, level, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

/** For tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
