/**
 * Every failure kbak reports to a user is a KbakError: a one-line message that names
 * what was wrong, plus a hint saying what to do. The CLI prints `kbak: <message> (<hint>)`
 * and exits with the error's exit code; nothing else (no stack) unless KBAK_DEBUG is set.
 */
export abstract class KbakError extends Error {
  abstract readonly code: string;
  readonly exitCode: number = 1;
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The single line shown to users. */
  oneLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** Bad flags, config values or arguments. */
export class UsageError extends KbakError {
  readonly code = 'USAGE';
  override readonly exitCode = 2;
}

/** A topic, backup, partition or schema that was asked for does not exist. */
export class NotFoundError extends KbakError {
  readonly code = 'NOT_FOUND';
}

/** A service (broker, registry, object store) could not be reached or refused access. */
export class ServiceError extends KbakError {
  readonly code = 'SERVICE';
  constructor(
    readonly service: 'kafka' | 'schema-registry' | 's3' | 'disk',
    message: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, hint, options);
  }
}

/** Stored data does not match its checksum, framing or manifest. */
export class IntegrityError extends KbakError {
  readonly code = 'INTEGRITY';
}

/** An operation refused because it could overwrite or lose data. */
export class SafetyError extends KbakError {
  readonly code = 'SAFETY';
}

export function describeCause(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** `kbak verify` found a corrupt or incomplete backup; a distinct exit code for alerts. */
export class VerifyFailedError extends IntegrityError {
  override readonly exitCode: number = 3;
}

/** The store is locked by another kbak (prune vs. dump), or its locks cannot be trusted. */
export class LockedError extends KbakError {
  readonly code = 'LOCKED';
  override readonly exitCode: number = 4;
}
