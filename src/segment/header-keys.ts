/**
 * Header keys are UTF-8 strings (FORMAT.md "Records"; Kafka's record format says the same),
 * and a reader refuses a key that is not: kbak would read it back as something else.
 * Checking a key is a byte loop when it is ASCII (the usual case) and `isUtf8` on a view
 * otherwise. A topic repeats the same few keys in the same places, so non-ASCII keys found
 * valid are remembered per header slot (the header's index in its record) and the next
 * record's key in that slot is compared byte for byte instead of being checked again.
 */
import { isUtf8 } from 'node:buffer';

/** Header slots remembered: records rarely carry more headers than this. */
const DEFAULT_SLOTS = 16;
/** Longer keys are checked every time rather than kept (a crafted key can be megabytes). */
const MAX_REMEMBERED_BYTES = 256;

export class HeaderKeyCheck {
  private readonly known: Array<Buffer | undefined> = [];

  constructor(private readonly slots = DEFAULT_SLOTS) {}

  /** Whether buf[start, start + n) is well-formed UTF-8; `slot` is the header's index in its record. */
  valid(buf: Buffer, start: number, n: number, slot: number): boolean {
    const end = start + n;
    let i = start;
    while (i < end && buf[i]! < 0x80) i++;
    if (i === end) return true;
    const known = slot < this.slots ? this.known[slot] : undefined;
    if (known !== undefined && known.length === n) {
      let k = 0;
      while (k < n && buf[start + k] === known[k]) k++;
      if (k === n) return true;
    }
    const view = buf.subarray(start, end);
    if (!isUtf8(view)) return false;
    if (slot < this.slots && n <= MAX_REMEMBERED_BYTES) this.known[slot] = Buffer.from(view);
    return true;
  }
}
