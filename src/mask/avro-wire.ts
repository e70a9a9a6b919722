/**
 * The bytes of Avro's binary encoding (Avro 1.11 spec, "Binary encoding") that the body
 * masker (avro-body.ts) writes: zigzag varints and a growable output buffer. Apart from the
 * walker so the walk reads as the grammar and this file as the wire.
 */

/** Longs in this range go through the number path (exact: below 2^52 after zigzag). */
const SMALL_MIN = -(2n ** 51n);
const SMALL_MAX = 2n ** 51n;

/**
 * An output buffer that grows by doubling and is reused from record to record: a masked
 * record costs one copy into it and one exact-size copy out (`take`), never a concat per field.
 */
export class ByteSink {
  private buf: Buffer;
  /** Bytes written since the last reset. */
  len = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): void {
    this.len = 0;
  }

  private ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** `src[start, end)` appended. */
  copy(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    this.ensure(n);
    src.copy(this.buf, this.len, start, end);
    this.len += n;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** A zigzag varint of an integer whose magnitude is below 2^52 (lengths, counts, indexes, ints). */
  long(n: number): void {
    this.ensure(10);
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 0x80) {
      this.buf[this.len++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    this.buf[this.len++] = z;
  }

  /** A zigzag varint of a 64-bit integer (the caller has checked the range). */
  bigLong(n: bigint): void {
    if (n > SMALL_MIN && n < SMALL_MAX) return this.long(Number(n));
    this.ensure(10);
    let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    while (z >= 0x80n) {
      this.buf[this.len++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.len++] = Number(z);
  }

  /** A string's UTF-8 bytes, length-prefixed. */
  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.long(n);
    this.ensure(n);
    this.len += this.buf.write(s, this.len, n, 'utf8');
  }

  /** Raw bytes, no prefix (fixed); `bytes` is `long(length)` then this. */
  raw(b: Buffer): void {
    this.copy(b, 0, b.length);
  }

  float(x: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(x, this.len);
    this.len += 4;
  }

  double(x: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.len);
    this.len += 8;
  }

  /** What was written, as a new buffer of exactly that size (the sink is reused). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    return out;
  }
}
