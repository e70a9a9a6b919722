/**
 * What the fuzz targets (test/fuzz/*.fuzz.test.ts) share: how many inputs a property gets,
 * its fixed seed, the check that a refusal is one of the parser's own error classes, and
 * mutations of valid inputs (bit flips, byte changes, truncation, deletion, insertion,
 * duplication, splicing with another valid input).
 *
 * FUZZ_RUNS sets the inputs per property (default: a short run, a few seconds per target,
 * as CI runs it); FUZZ_SEED shifts every property's fixed seed, so a long local run can
 * explore other inputs than CI's. A failure prints its seed and path: fast-check replays it
 * with `{ seed, path }` in the property's parameters, and the input becomes a regression
 * test in the same file.
 */
import { types } from 'node:util';
import fc from 'fast-check';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${raw} is not an integer`);
  return n;
}

/** Inputs per property (FUZZ_RUNS, default 100). */
export const FUZZ_RUNS = Math.max(1, envInt('FUZZ_RUNS', 100));
const SEED_SHIFT = envInt('FUZZ_SEED', 0);

/**
 * fast-check parameters of one property: its own fixed seed (shifted by FUZZ_SEED) and
 * FUZZ_RUNS inputs times `scale` (below 1 for properties whose inputs cost more).
 */
export function runs(seed: number, scale = 1): fc.Parameters<unknown> {
  return { seed: (seed + SEED_SHIFT) | 0, numRuns: Math.max(1, Math.round(FUZZ_RUNS * scale)) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * `err`, when it is an instance of one of `allowed` with a one-line message; otherwise an
 * assertion failure that names what was thrown (a TypeError, a RangeError, a stack
 * overflow or a string would reach the user as exit 70 or a wrong service).
 */
export function expectRefusal(err: unknown, allowed: readonly ErrorClass[]): Error {
  // Node's own errors (zlib's) come from another realm than jest's `Error`: `Error` means any error object.
  const native = types.isNativeError(err);
  if (!allowed.some((c) => err instanceof c || (c === Error && native))) {
    const what = native ? `${err.constructor.name}: ${err.message}\n${err.stack ?? ''}` : `a non-Error: ${String(err)}`;
    throw new Error(`threw ${what}\n(allowed: ${allowed.map((c) => c.name).join(', ')})`);
  }
  const e = err as Error;
  if (e.message === '' || /[\r\n]/.test(e.message)) throw new Error(`refusal message is not one non-empty line: ${JSON.stringify(e.message)}`);
  return e;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/** Runs `f`: its value, or its refusal (which must be one of `allowed`, see expectRefusal). */
export function attempt<T>(f: () => T, allowed: readonly ErrorClass[]): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    return { ok: false, error: expectRefusal(err, allowed) };
  }
}

export async function attemptAsync<T>(f: () => Promise<T>, allowed: readonly ErrorClass[]): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, error: expectRefusal(err, allowed) };
  }
}

export const buffer = (opts: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<Buffer> =>
  fc.uint8Array(opts).map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/**
 * One change to a byte string. Positions are taken modulo the length at the time the
 * mutation applies, so every generated mutation applies to any input and shrinks well.
 */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'insert'; at: number; bytes: Buffer }
  | { kind: 'duplicate'; at: number; n: number }
  | { kind: 'splice'; at: number; from: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 32 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: buffer({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), from: fc.nat() }) },
);

/** 1 to 3 mutations. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.array(mutation, { minLength: 1, maxLength: 3 });

/**
 * `input` with `ms` applied in order; a splice keeps input[0, at) and continues with
 * donor[from, …) (another valid input: the result mixes two honest documents).
 */
export function mutate(input: Buffer, ms: readonly Mutation[], donor: Buffer = input): Buffer {
  let b = Buffer.from(input);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (b.length > 0) b[at] = m.byte;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, m.at % (b.length + 1)), m.bytes, b.subarray(m.at % (b.length + 1))]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.n), b.subarray(at)]);
        break;
      case 'splice':
        b = Buffer.concat([b.subarray(0, at), donor.subarray(donor.length === 0 ? 0 : m.from % donor.length)]);
        break;
    }
  }
  return b;
}

/** A byte string cut into 1 to 8 chunks at arbitrary places (a stream may split anywhere). */
export function chunked(b: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (b.length === 0 ? 0 : c % (b.length + 1))))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out;
}

export async function* streamOf(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

/** Whether a string is well-formed Unicode (no unpaired surrogate): what a header key or JSON text may hold. */
export const wellFormed = (s: string): boolean => !/[\uD800-\uDFFF]/u.test(s);

/**
 * `v` with every Buffer as `hex:…` text, for deep comparisons: jest's toEqual walks a Buffer
 * byte by byte through its iterator, which made it most of a property's time.
 */
export function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return `hex:${v.toString('hex')}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
