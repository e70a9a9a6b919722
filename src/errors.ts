/**
 * Every failure kbak reports is a KbakError: a one-line message that names what was wrong,
 * which service or input it came from, and a hint saying what to do. The classes are the
 * library's error API: callers switch on `instanceof` or `code`, read the structured fields,
 * and never parse messages.
 *
 * Core code speaks in library terms: an error about a setting names the setting's option
 * path (`options: ['segmentBytes']`, `['kafka.brokers']`) and the hint stays generic; the
 * CLI (src/cli/errors.ts) turns option paths into flag and environment variable names.
 *
 * Exit codes are one table for every command, present and planned (README "Exit codes"), so
 * a scheduled job's alert can tell a broken backup from an unreachable broker:
 */
export const ExitCode = {
  /** Everything asked for was done. */
  OK: 0,
  /** A failure no more specific code covers (kbak maps known failures to the codes below). */
  FAILURE: 1,
  /** Bad flags, config values or arguments: fix the command line; retrying will not help. */
  USAGE: 2,
  /** A topic, backup, partition, lane or schema that was asked for does not exist. */
  NOT_FOUND: 3,
  /** Kafka, the schema registry or the store (disk, S3) is unreachable, denied access or failed. */
  SERVICE: 4,
  /** A backup is corrupt: checksum, framing or manifest mismatch. Retrying will not help. */
  CORRUPT: 5,
  /** Refused because it could overwrite or lose data (lane topics with data, foreign owner ...). */
  SAFETY: 6,
  /** The command finished but some items failed (e.g. verify found damage, prune/gc skipped some). */
  PARTIAL: 7,
  /** Another kbak run holds the lock or changed the same state concurrently; retry later. */
  CONFLICT: 8,
  /** A bug in kbak: please report it with the output of KBAK_DEBUG=1. */
  INTERNAL: 70,
  /** Stopped by SIGINT/SIGTERM; what was written is cleaned up or resumable. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const REPORT_URL = 'https://github.com/kbak/kbak/issues';

export interface KbakErrorOptions {
  cause?: unknown;
  /**
   * Library option paths this error is about (`segmentBytes`, `kafka.brokers`, `mode=replace`
   * for a value of an option). The CLI shows them as the matching flags.
   */
  options?: readonly string[];
  /**
   * Whether the same call, repeated unchanged, can succeed: the class's default (below) unless
   * the code that raised the error knows better (a service that denied access: false).
   */
  retriable?: boolean;
}

export abstract class KbakError extends Error {
  /**
   * `retriable` of errors of this class unless the raiser says otherwise, as the README's
   * exit-code table's "retry?" column says: yes for a service that failed or could not be
   * reached (once it is back) and for a conflict with another run (later); no for everything
   * a retry cannot fix unchanged (bad input, a missing or corrupt backup, a refusal, a bug).
   */
  static readonly retriableByDefault: boolean = false;
  abstract readonly code: string;
  readonly exitCode: ExitCodeValue = ExitCode.FAILURE;
  readonly options: readonly string[];
  /**
   * Whether repeating the same call, unchanged, can succeed: the failure was transient (a
   * leader moving, a connection dropped, a service restarting, a lock held by another run).
   * kbak's own retry loops (src/util/retry.ts) retry only errors with `retriable` true, and so
   * can a library caller. False where something must change first: access denied, a request
   * the service refused, bad input, and where kbak's retry budget for the failure is spent
   * (a Kafka broker not reachable through the client's connection retries).
   */
  readonly retriable: boolean;
  constructor(
    message: string,
    readonly hint?: string,
    opts?: KbakErrorOptions,
  ) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.options = opts?.options ?? [];
    this.retriable = opts?.retriable ?? new.target.retriableByDefault;
  }

  /** The single line shown to users (library wording; the CLI adds flag names). */
  oneLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }

  /** Structured form for --json error output and logs. */
  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, hint: this.hint ?? null, options: this.options, exitCode: this.exitCode };
  }
}

/** Bad options, config values or arguments. */
export class UsageError extends KbakError {
  readonly code: string = 'USAGE';
  override readonly exitCode: ExitCodeValue = ExitCode.USAGE;
}

/**
 * One option has a value kbak cannot use. The message names the option by its library path;
 * the CLI re-renders it with the flag name (`--segment-bytes 100 is too small`).
 */
export class InvalidOptionError extends UsageError {
  override readonly code = 'INVALID_OPTION';
  constructor(
    readonly option: string,
    readonly value: string,
    readonly problem: string,
    hint?: string,
    opts?: { cause?: unknown },
  ) {
    super(`${option} ${JSON.stringify(value)} ${problem}`, hint, { ...opts, options: [option] });
  }

  /** The message with another name for the option (the CLI passes the flag). */
  describeAs(name: string): string {
    return `${name} ${JSON.stringify(this.value)} ${this.problem}`;
  }
}

/** A topic, backup, partition or schema that was asked for does not exist. */
export class NotFoundError extends KbakError {
  readonly code: string = 'NOT_FOUND';
  override readonly exitCode: ExitCodeValue = ExitCode.NOT_FOUND;
}

export type ServiceName = 'kafka' | 'schema-registry' | 's3' | 'disk' | 'pushgateway';

export const SERVICE_LABEL: Record<ServiceName, string> = {
  kafka: 'Kafka',
  'schema-registry': 'schema registry',
  s3: 'S3',
  disk: 'disk',
  pushgateway: 'Pushgateway',
};

/**
 * A service (broker, registry, object store, local disk) could not be reached, refused access
 * or failed. Retriable unless the raiser says otherwise (denied access, a refused request).
 */
export class ServiceError extends KbakError {
  static override readonly retriableByDefault: boolean = true;
  readonly code: string = 'SERVICE';
  override readonly exitCode: ExitCodeValue = ExitCode.SERVICE;
  constructor(
    readonly service: ServiceName,
    message: string,
    hint?: string,
    opts?: KbakErrorOptions,
  ) {
    super(message, hint, opts);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), service: this.service };
  }
}

/** Stored data does not match its checksum, framing or manifest: the backup is corrupt. */
export class IntegrityError extends KbakError {
  readonly code: string = 'CORRUPT';
  override readonly exitCode: ExitCodeValue = ExitCode.CORRUPT;
}
/** The same class under the name the exit-code table uses. */
export { IntegrityError as CorruptBackupError };

/**
 * Data kbak read cannot be represented in a backup (a header key that is not well-formed
 * Unicode, a record beyond the format's limits). Not a usage error: no flag fixes it.
 */
export class UnsupportedDataError extends KbakError {
  readonly code: string = 'UNSUPPORTED_DATA';
}

/** An operation refused because it could overwrite or lose data. */
export class SafetyError extends KbakError {
  readonly code: string = 'SAFETY';
  override readonly exitCode: ExitCodeValue = ExitCode.SAFETY;
}

/**
 * A masked restore met a record it cannot mask (issue 19: fail closed): it is never written as
 * it is, so the restore stops here, naming where the record is.
 */
export class UnmaskableRecordError extends SafetyError {
  override readonly code = 'UNMASKABLE_RECORD';
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: bigint,
    readonly reason: string,
  ) {
    super(
      `record ${topic}/${partition} at offset ${offset} cannot be masked: ${reason}`,
      'nothing unmasked was written; fix the policy or the backup, or pass --on-undecodable drop to leave such records out (counted), then resume',
      { options: ['onUndecodable'] },
    );
  }
}

/** Another kbak run holds a lock or changed the same state concurrently: retriable (later). */
export class ConflictError extends KbakError {
  static override readonly retriableByDefault: boolean = true;
  readonly code: string = 'CONFLICT';
  override readonly exitCode: ExitCodeValue = ExitCode.CONFLICT;
}

/** The command did its job for some items and failed for others; `failures` says which. */
export class PartialSuccessError extends KbakError {
  readonly code: string = 'PARTIAL';
  override readonly exitCode: ExitCodeValue = ExitCode.PARTIAL;
  constructor(
    message: string,
    readonly failures: ReadonlyArray<{ item: string; error: string }>,
    hint?: string,
    opts?: KbakErrorOptions,
  ) {
    super(message, hint, opts);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), failures: this.failures };
  }
}

/** Stopped by a signal. */
export class InterruptedError extends KbakError {
  readonly code: string = 'INTERRUPTED';
  override readonly exitCode: ExitCodeValue = ExitCode.INTERRUPTED;
}

/** Something kbak did not expect: a bug. The cause is kept for KBAK_DEBUG output. */
export class InternalError extends KbakError {
  readonly code: string = 'INTERNAL';
  override readonly exitCode: ExitCodeValue = ExitCode.INTERNAL;
  constructor(message: string, opts?: { cause?: unknown }) {
    super(`internal error: ${message}`, `this is a bug in kbak; please report it at ${REPORT_URL} with the output of KBAK_DEBUG=1`, opts);
  }
}

export function describeCause(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const DISK_ERRNO = /^E[A-Z0-9]+$/;
/** File-system errors a retry cannot fix: a permission, a read-only disk, a path that is not there or not a folder. */
const DISK_PERMANENT = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP']);

/** What a file-system error code means, in words, for the codes a backup folder meets most. */
const DISK_MEANING: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a part of the path is a file, not a folder',
};

/** "EROFS, the file system is read-only": the code, as `ls` and the logs show it, and what it means. */
export function describeDiskCode(code: string): string {
  const meaning = DISK_MEANING[code];
  return meaning ? `${code}, ${meaning}` : code;
}

/** What to do about a file-system error code on the backup folder. */
export function diskHint(code: string): string {
  switch (code) {
    case 'EROFS':
      return 'use a folder on a writable disk, or mount this one read-write';
    case 'EACCES':
    case 'EPERM':
      return 'give the user kbak runs as access to the folder (and its parent), or use another folder';
    case 'ENOSPC':
      return 'free space on the backup disk';
    default:
      return 'check the folder exists and is writable';
  }
}

/**
 * Turns anything thrown below a pipeline into a KbakError that names the right service:
 * KbakErrors pass through; Node file-system errors (ENOSPC, EACCES, ...) are the disk;
 * AWS SDK errors are S3; everything else is a bug, never "Kafka failed". Kafka client errors
 * never get here: src/kafka wraps them at the adapter boundary.
 */
export function classifyError(err: unknown, doing: string): KbakError {
  if (err instanceof KbakError) return err;
  const e = err as { code?: unknown; syscall?: unknown; path?: unknown; $metadata?: unknown; name?: unknown; message?: unknown } | null;
  if (e && typeof e === 'object') {
    if (typeof e.code === 'string' && DISK_ERRNO.test(e.code) && typeof e.syscall === 'string') {
      const where = typeof e.path === 'string' ? ` (${e.path})` : '';
      return new ServiceError('disk', `disk failed while ${doing}: ${describeDiskCode(e.code)}${where}`, diskHint(e.code), {
        cause: err,
        retriable: !DISK_PERMANENT.has(e.code),
      });
    }
    if (e.$metadata !== undefined) {
      const text = (v: unknown): string => (typeof v === 'string' ? v : '');
      return new ServiceError('s3', `S3 failed while ${doing}: ${text(e.name)} ${text(e.message)}`.trim(), undefined, { cause: err });
    }
  }
  return new InternalError(`${doing}: ${describeCause(err)}`, { cause: err });
}
