/**
 * One Kafka record as kbak keeps it. Keys, values and header values are raw bytes;
 * `null` (absent) is distinct from an empty buffer (present, zero length), because a
 * tombstone (null value) means "delete" on a compacted topic and an empty value does not.
 */
export interface RecordHeader {
  /** Header keys are strings on the wire (UTF-8). */
  key: string;
  value: Buffer | null;
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
  /** The client that read the record did not expose the type. */
  Unknown = 255,
}

/** Whether a byte read from a segment or a record batch names a TimestampType. */
export function isTimestampType(n: number): n is TimestampType {
  return n === (TimestampType.CreateTime as number) || n === (TimestampType.LogAppendTime as number) || n === (TimestampType.Unknown as number);
}

export interface BackupRecord {
  /** Offset in the source partition. A decimal string is not used: offsets fit in 2^53 in practice, but we keep bigint to be exact. */
  offset: bigint;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
  timestampType: TimestampType;
  key: Buffer | null;
  value: Buffer | null;
  /** In wire order; duplicate keys are kept. */
  headers: RecordHeader[];
}
