/**
 * The Protobuf wire format at the byte level, for protobuf-body.ts: a bounds-checked reader
 * over one message's byte range and a growable writer. Every malformed input (a varint that
 * runs past the end or past 10 bytes, a length beyond the message, an invalid wire type)
 * throws UndecodablePayload with a short reason: the masker never copies what it cannot read.
 */
import { uvarIntSize, writeUVarInt } from '../kafka/protocol/wire';
import { UndecodablePayload } from './body';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

/** Reads within [pos, end) of `buf`; `pos` advances. */
export class WireReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  /** A varint of at most 5 bytes (tags, lengths, message indexes), as an unsigned 32-bit number. */
  uint32(): number {
    const { buf, end } = this;
    let pos = this.pos;
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (pos >= end) throw new UndecodablePayload('truncated varint');
      const b = buf[pos++]!;
      value += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) {
        this.pos = pos;
        if (value > 0xffffffff) throw new UndecodablePayload('varint beyond 32 bits where a tag or length was expected');
        return value;
      }
    }
    throw new UndecodablePayload('varint longer than 5 bytes where a tag or length was expected');
  }

  /** A field's tag (number << 3 | wire type); field number 0 does not exist. */
  tag(): number {
    const tag = this.uint32();
    if (tag >>> 3 === 0) throw new UndecodablePayload('field number 0');
    return tag;
  }

  /** A varint of at most 10 bytes, as an unsigned 64-bit bigint (bits beyond 64 dropped, as protoc does). */
  uint64(): bigint {
    const { buf, end } = this;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new UndecodablePayload('truncated varint');
      const b = buf[pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else hi += (b & 0x7f) * 2 ** (7 * (i - 4));
      if (b < 0x80) {
        this.pos = pos;
        if (i < 4) return BigInt(lo);
        return BigInt.asUintN(64, BigInt(lo) + (BigInt(hi) << 28n));
      }
    }
    throw new UndecodablePayload('varint longer than 10 bytes');
  }

  skipVarint(): void {
    const { buf, end } = this;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new UndecodablePayload('truncated varint');
      if (buf[this.pos++]! < 0x80) return;
    }
    throw new UndecodablePayload('varint longer than 10 bytes');
  }

  /** Advances past `n` bytes, returning where they start. */
  take(n: number): number {
    const at = this.pos;
    if (n > this.end - at) throw new UndecodablePayload(`truncated: ${n} bytes announced, ${this.end - at} left`);
    this.pos = at + n;
    return at;
  }

  /** A length prefix and the range it announces: [start, start + length). */
  delimited(): number {
    return this.take(this.uint32());
  }

  /**
   * Skips one field's value of wire type `wire` (its tag already read). A group is skipped to
   * its matching end, nested groups counted against `depthLeft`.
   */
  skip(wire: number, fieldNumber: number, depthLeft: number): void {
    switch (wire) {
      case WIRE_VARINT:
        return this.skipVarint();
      case WIRE_I64:
        this.take(8);
        return;
      case WIRE_LEN:
        this.delimited();
        return;
      case WIRE_I32:
        this.take(4);
        return;
      case WIRE_SGROUP: {
        if (depthLeft <= 0) throw new UndecodablePayload('groups nested too deep');
        for (;;) {
          const tag = this.tag();
          const w = tag & 7;
          if (w === WIRE_EGROUP) {
            if (tag >>> 3 !== fieldNumber) throw new UndecodablePayload(`group ${fieldNumber} ended by the end of group ${tag >>> 3}`);
            return;
          }
          this.skip(w, tag >>> 3, depthLeft - 1);
        }
      }
      case WIRE_EGROUP:
        throw new UndecodablePayload(`end of group ${fieldNumber} without its start`);
      default:
        throw new UndecodablePayload(`invalid wire type ${wire} (field ${fieldNumber})`);
    }
  }
}

/** Bytes written into one buffer that doubles when full. */
export class WireWriter {
  buf: Buffer;
  len = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  copy(src: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.ensure(end - start);
    src.copy(this.buf, this.len, start, end);
    this.len += end - start;
  }

  uint32(n: number): void {
    this.ensure(5);
    this.len = writeUVarInt(this.buf, this.len, n);
  }

  /** An unsigned 64-bit value as a varint. */
  uint64(v: bigint): void {
    if (v < 0x80000000n) return this.uint32(Number(v));
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  bytes(b: Buffer): void {
    this.uint32(b.length);
    this.copy(b, 0, b.length);
  }

  /** Leaves room for a length prefix; `endLength` fills it once the content is written. */
  beginLength(): number {
    this.ensure(5);
    this.len += 5;
    return this.len;
  }

  /** Writes the length of what followed `beginLength` and closes the gap a shorter prefix left. */
  endLength(contentStart: number): void {
    const length = this.len - contentStart;
    const size = uvarIntSize(length);
    const at = writeUVarInt(this.buf, contentStart - 5, length);
    if (size < 5) {
      this.buf.copyWithin(at, contentStart, this.len);
      this.len -= 5 - size;
    }
  }

  fixed(size: 4 | 8, write: (b: Buffer, at: number) => void): void {
    this.ensure(size);
    write(this.buf, this.len);
    this.len += size;
  }
}
