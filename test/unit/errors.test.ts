import { renderError } from '../../src/cli/errors';
import {
  classifyError,
  ConflictError,
  ExitCode,
  InternalError,
  IntegrityError,
  InterruptedError,
  InvalidOptionError,
  NotFoundError,
  PartialSuccessError,
  SafetyError,
  ServiceError,
  UnsupportedDataError,
  UsageError,
} from '../../src/errors';

describe('exit codes', () => {
  it('gives every class of failure its own code', () => {
    const codes = [
      new UsageError('x').exitCode,
      new NotFoundError('x').exitCode,
      new ServiceError('kafka', 'x').exitCode,
      new IntegrityError('x').exitCode,
      new SafetyError('x').exitCode,
      new InternalError('x').exitCode,
    ];
    expect(codes).toEqual([ExitCode.USAGE, ExitCode.NOT_FOUND, ExitCode.SERVICE, ExitCode.CORRUPT, ExitCode.SAFETY, ExitCode.INTERNAL]);
    expect(new Set(Object.values(ExitCode)).size).toBe(Object.values(ExitCode).length);
  });
});

describe('retriable', () => {
  it("defaults per class as the README's exit-code table says (retry? yes: service, conflict)", () => {
    const byClass = {
      UsageError: new UsageError('x').retriable,
      InvalidOptionError: new InvalidOptionError('segmentBytes', '1', 'is too small').retriable,
      NotFoundError: new NotFoundError('x').retriable,
      ServiceError: new ServiceError('s3', 'x').retriable,
      IntegrityError: new IntegrityError('x').retriable,
      UnsupportedDataError: new UnsupportedDataError('x').retriable,
      SafetyError: new SafetyError('x').retriable,
      PartialSuccessError: new PartialSuccessError('x', []).retriable,
      ConflictError: new ConflictError('x').retriable,
      InterruptedError: new InterruptedError('x').retriable,
      InternalError: new InternalError('x').retriable,
    };
    expect(byClass).toEqual({
      UsageError: false,
      InvalidOptionError: false,
      NotFoundError: false,
      ServiceError: true,
      IntegrityError: false,
      UnsupportedDataError: false,
      SafetyError: false,
      PartialSuccessError: false,
      ConflictError: true,
      InterruptedError: false,
      InternalError: false,
    });
  });

  it('lets the raiser override the default either way', () => {
    expect(new ServiceError('kafka', 'denied', undefined, { retriable: false }).retriable).toBe(false);
    expect(new NotFoundError('not yet', undefined, { retriable: true }).retriable).toBe(true);
  });

  it('calls a full disk retriable and a permission error not', () => {
    const err = (code: string) => classifyError(Object.assign(new Error(code), { code, syscall: 'open', path: '/b' }), 'writing');
    expect(err('ENOSPC').retriable).toBe(true);
    expect(err('EACCES').retriable).toBe(false);
    expect(err('EROFS').retriable).toBe(false);
  });
});

describe('renderError (CLI wording)', () => {
  it('shows an invalid option as its flag', () => {
    const r = renderError(new InvalidOptionError('segmentBytes', '100', 'is too small', 'use at least 65536'));
    expect(r).toMatchObject({ line: '--segment-bytes "100" is too small (use at least 65536)', exitCode: 2 });
  });

  it('replaces option paths named in the text and lists the others after the hint', () => {
    const err = new SafetyError('lane topic "x" already exists with data', 'resume, or replace the lane topics', { options: ['mode=resume', 'mode=replace'] });
    expect(renderError(err).line).toBe('lane topic "x" already exists with data (resume, or replace the lane topics; see --resume, --replace)');
    const named = new UsageError('topicsRegex "x" matches no topic', 'the regex must match whole topic names', { options: ['topicsRegex'] });
    expect(renderError(named).line).toBe('--topics-regex "x" matches no topic (the regex must match whole topic names)');
  });

  it('never replaces ordinary words that happen to be option names', () => {
    const err = new UsageError('lane name "X" is invalid', undefined, { options: ['lane'] });
    expect(renderError(err).line).toBe('lane name "X" is invalid (see --lane)');
  });

  it('reports a non-kbak error as a bug with exit code 70', () => {
    const r = renderError(new TypeError('x is undefined'));
    expect(r.exitCode).toBe(70);
    expect(r.line).toMatch(/^internal error: x is undefined \(this is a bug in kbak; please report it/);
  });
});

describe('classifyError', () => {
  it('blames the disk for file-system errors', () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC', syscall: 'write', path: '/b/x.kseg' });
    const e = classifyError(enospc, 'writing a segment');
    expect(e).toBeInstanceOf(ServiceError);
    expect((e as ServiceError).service).toBe('disk');
    expect(e.message).toBe('disk failed while writing a segment: ENOSPC, no space left on the device (/b/x.kseg)');
    expect(e.hint).toBe('free space on the backup disk');
  });

  it('blames S3 for AWS SDK errors and passes kbak errors through', () => {
    const aws = Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    expect((classifyError(aws, 'uploading') as ServiceError).service).toBe('s3');
    const own = new NotFoundError('gone');
    expect(classifyError(own, 'x')).toBe(own);
  });

  it('calls anything else a bug, not a Kafka failure', () => {
    const e = classifyError(new RangeError('bad'), 'dumping');
    expect(e).toBeInstanceOf(InternalError);
    expect(e.message).toBe('internal error: dumping: bad');
  });
});
