/**
 * The one reader and writer of Kafka's primitive types that every codec in protocol/ is
 * built on: big-endian integers, zigzag varints (records), unsigned varints (compact and
 * tagged fields of flexible versions), length-prefixed bytes and strings.
 *
 * Numbers stay exact up to 2^53 without 32-bit bit operations (a varint of a safe integer
 * needs up to 8 bytes); varlong() gives the exact bigint of any 64-bit varlong. The reader
 * checks every read against its end and reports a short or malformed input through the
 * `fail` function its decoder gives it (each decoder throws its own error class). One class
 * for every decoder keeps the record hot path monomorphic. Pure.
 */

// ---- writing ---------------------------------------------------------------------------

/** Bytes of an unsigned varint (compact lengths, tagged fields) of a safe integer >= 0. */
export function uvarIntSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes an unsigned varint at `pos`; returns the end. */
export function writeUVarInt(buf: Buffer, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** Zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3, ... (arithmetic, exact for |v| < 2^52). */
const zigzag = (v: number): number => (v >= 0 ? v * 2 : -v * 2 - 1);

/** Bytes of a zigzag varint (records) of a safe integer. */
export const varIntSize = (v: number): number => uvarIntSize(zigzag(v));

/** Writes a zigzag varint at `pos`; returns the end. */
export const writeVarInt = (buf: Buffer, pos: number, v: number): number => writeUVarInt(buf, pos, zigzag(v));

/** Bytes of a varint length (-1 for null) and that many bytes. */
export const lengthPrefixedSize = (length: number): number => (length < 0 ? 1 : varIntSize(length) + length);

/** Writes a varint-length-prefixed byte string (null: length -1) at `pos`; returns the end. */
export function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  pos = writeVarInt(buf, pos, b.length);
  b.copy(buf, pos);
  return pos + b.length;
}

// ---- reading ---------------------------------------------------------------------------

/** What went wrong at `pos`: a read past the end, or a varint longer than its type. */
export type WireFault = 'truncated' | 'malformed';
export type WireFail = (fault: WireFault, pos: number) => Error;

/** A cursor over buf[pos, end). */
export class WireReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public end: number,
    private readonly fail: WireFail,
  ) {}

  /** Throws unless `n` more bytes can be read. */
  need(n: number): void {
    if (n > this.end - this.pos) throw this.fail('truncated', this.pos);
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** `n` (>= 0) bytes as a view (no copy). */
  raw(n: number): Buffer {
    if (n < 0) throw this.fail('malformed', this.pos);
    this.need(n);
    const start = this.pos;
    this.pos = start + n;
    return this.buf.subarray(start, start + n);
  }

  /** A string with an int16 length (-1: null, read as ''). */
  string16(): string {
    const n = this.int16();
    if (n < 0) return '';
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A zigzag varint as a number, exact up to 2^53. */
  varint(): number {
    const buf = this.buf;
    let raw = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.fail('truncated', this.pos);
      const b = buf[this.pos++]!;
      raw += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      mul *= 128;
    }
    throw this.fail('malformed', this.pos);
  }

  /** A zigzag varlong as bigint, exact for any 64-bit value. */
  varlong(): bigint {
    const start = this.pos;
    const n = this.varint();
    // Up to 7 bytes (49 bits) the number path is exact.
    if (this.pos - start <= 7) return BigInt(n);
    let raw = 0n;
    let shift = 0n;
    for (let q = start; q < this.pos; q++, shift += 7n) raw |= BigInt(this.buf[q]! & 0x7f) << shift;
    return raw & 1n ? -((raw + 1n) >> 1n) : raw >> 1n;
  }

  /** Bytes with a zigzag varint length (-1: null), as a view (no copy). */
  bytes(): Buffer | null {
    const n = this.varint();
    if (n < 0) return null;
    // raw(n) written out: this runs for every key, value and header value of a record.
    const start = this.pos;
    if (n > this.end - start) throw this.fail('truncated', start);
    this.pos = start + n;
    return this.buf.subarray(start, start + n);
  }

  /** An unsigned varint (up to 5 bytes: compact lengths and tags). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw this.fail('truncated', this.pos);
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw this.fail('malformed', this.pos);
  }

  /** A compact nullable string: unsigned varint length + 1 (0: null). */
  compactString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.raw(n - 1).toString('utf8');
  }

  /** A compact array: unsigned varint count + 1 (0: null, read as empty). */
  compactArray<T>(item: () => T): T[] {
    const n = this.uvarint();
    const out: T[] = [];
    for (let i = 0; i < n - 1; i++) out.push(item());
    return out;
  }

  /** Skips a tagged-field section. */
  taggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.raw(this.uvarint());
    }
  }
}
