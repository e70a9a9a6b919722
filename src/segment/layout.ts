/**
 * Where things lie in a segment record (FORMAT.md, "Records") and how a position in a
 * segment is named in error messages. Shared by the one record walker (record-walker.ts),
 * the one record writer (record-writer.ts) and the block reader (format.ts, reader.ts).
 */

/** Record layout: u32 length, i64 offset, i64 timestamp, u8 timestamp type, then the key's i32 length. */
export const OFFSET_AT = 4;
export const TIMESTAMP_AT = 12;
export const TIMESTAMP_TYPE_AT = 20;
export const KEY_LENGTH_AT = 21;

/** Bytes of an encoded record with null key, null value and no headers, length prefix included. */
export const RECORD_MIN_SIZE = 4 + 8 + 8 + 1 + 4 + 4 + 4;

/** Bytes a header takes besides its key and value: the two length fields. */
export const HEADER_OVERHEAD = 8;

/**
 * Largest raw body of any block (and so the largest encoded record). Lets a reader refuse
 * a corrupt length before buffering, and keeps every block inside one Node Buffer.
 */
export const MAX_BLOCK_RAW_BYTES = 1024 * 1024 * 1024;

/** Where in a segment something is, for error messages. */
export interface BlockContext {
  /** Segment (file) name. */
  name: string;
  /** 0-based block index. */
  blockIndex: number;
  /** File byte position of the block header. */
  position: number;
}

/** "segment NAME: block I at byte P", the start of every error message about a block. */
export function blockWhere(ctx: BlockContext): string {
  return `segment ${ctx.name}: block ${ctx.blockIndex} at byte ${ctx.position}`;
}
