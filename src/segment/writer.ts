/**
 * Streams records of one topic-partition into a segment file (FORMAT.md, "Segment files").
 * Holds at most one open block (its encoded records) plus the block being compressed.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { UnsupportedDataError, UsageError } from '../errors';
import {
  BLOCK_HEADER_SIZE,
  Codec,
  DEFAULT_BLOCK_BYTES,
  encodeBlockHeader,
  checkedRecordSize,
  encodeFileHeader,
  encodeRecordInto,
  FILE_HEADER_SIZE,
  MAX_ZSTD_RAW_BYTES,
} from './format';
import type { BackupRecord } from './record';
import { compressBlock, DEFAULT_LEVEL, getZstd, zstdInputLimit } from './zstd';
import { nativeZstd } from '../util/native-zstd';

/**
 * Blocks being compressed or waiting for their turn at the sink, over all writers of the
 * process. A writer keeps several in flight, so the JavaScript thread goes on filling
 * blocks instead of waiting for each one's compression (measured on a 6-partition dump:
 * with one in flight it waited ~75% of the read). Process-wide, so the memory they hold
 * (raw body and frame each) does not grow with the partition count; 4 is libuv's default
 * thread pool, which runs native zstd.
 */
const MAX_BLOCKS_IN_FLIGHT = 4;
let blocksInFlight = 0;
const slotWaiters: Array<() => void> = [];
async function takeSlot(): Promise<void> {
  while (blocksInFlight >= MAX_BLOCKS_IN_FLIGHT) await new Promise<void>((resolve) => slotWaiters.push(resolve));
  blocksInFlight++;
}
function releaseSlot(): void {
  blocksInFlight--;
  slotWaiters.shift()?.();
}

/**
 * Block buffers of finished blocks, reused by the next block of any writer: a dump fills
 * one block buffer after another, and without reuse each dead one would stay allocated
 * (external memory) until V8's next full GC. Bounded, and only default-sized buffers.
 */
const POOL_LIMIT = MAX_BLOCKS_IN_FLIGHT + 2;
const blockPool: Buffer[] = [];
function takeBlock(size: number): Buffer {
  if (size === DEFAULT_BLOCK_BYTES) {
    const b = blockPool.pop();
    if (b) return b;
  }
  return Buffer.allocUnsafe(size);
}
function returnBlock(b: Buffer): void {
  if (b.length === DEFAULT_BLOCK_BYTES && blockPool.length < POOL_LIMIT) blockPool.push(b);
}

export type SegmentSink = (chunk: Buffer) => Promise<void> | void;

export interface SegmentWriterOptions {
  /** Target raw body size per block (default 1 MiB); at most the zstd input limit for `level`. */
  blockBytes?: number;
  /** zstd level, 1..9 (default 3). */
  level?: number;
  /**
   * Receives the file bytes in order, one call per block (the first call also carries the
   * 16-byte file header; an empty segment is one call with the header alone); a block
   * larger than 4 MiB comes as two calls, its header and its payload. The writer
   * awaits each call, so a slow sink applies back-pressure.
   */
  sink: SegmentSink;
  /** Used in error messages. */
  name?: string;
  /**
   * 'wasm' always compresses with zstd-codec, whose output is the same on every runtime
   * (test vectors are compared byte for byte); 'auto' (default) prefers the runtime's zstd.
   */
  zstd?: 'auto' | 'wasm';
}

/**
 * Records that arrive already laid out as segment records (src/dump/transcode.ts): the
 * writer copies them into its open block without a record object each. One record is
 * pending at a time.
 */
export interface SegmentRecordSource {
  /** A record is pending. */
  readonly pending: boolean;
  /** The pending record can be written by writePending (else it goes through append). */
  readonly fast: boolean;
  /** Encoded size of the pending record, length prefix included (as checkedRecordSize). */
  readonly size: number;
  /** Offset and timestamp of the pending record: safe integers when `fast`. */
  readonly offset: number;
  readonly timestamp: number;
  /** Writes the pending record's `size` bytes into `block` at `pos`. */
  writePending(block: Buffer, pos: number): void;
  /** Moves to the next record; false when none is left. */
  advance(): boolean;
  /** The pending record as an object, for append. */
  pendingRecord(): BackupRecord;
}

export interface SegmentStats {
  records: number;
  firstOffset: bigint | null;
  lastOffset: bigint | null;
  minTimestamp: bigint | null;
  maxTimestamp: bigint | null;
  /** Sum of the raw (uncompressed) block bodies. */
  rawBytes: number;
  /** Total file size, headers included. */
  storedBytes: number;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
  blocks: number;
}

export class SegmentWriter {
  /** Create with `await SegmentWriter.create(opts)`: zstd must be initialised first. */
  static async create(opts: SegmentWriterOptions): Promise<SegmentWriter> {
    const level = opts.level ?? DEFAULT_LEVEL;
    const limit = zstdInputLimit(level);
    const blockBytes = opts.blockBytes ?? Math.min(DEFAULT_BLOCK_BYTES, limit);
    if (!Number.isInteger(blockBytes) || blockBytes < 1 || blockBytes > limit) {
      throw new UsageError(`segment block size ${blockBytes} is out of range (use 1..${limit} bytes at zstd level ${level})`);
    }
    if (typeof opts.sink !== 'function') throw new UsageError('segment writer needs a sink function');
    // The wasm codec costs ~12 MiB of memory: only initialised when it will be used.
    if (opts.zstd === 'wasm' || !nativeZstd) await getZstd();
    return new SegmentWriter(opts.sink, blockBytes, level, opts.name ?? '(unnamed)', opts.zstd !== 'wasm');
  }

  private readonly hash: Hash = createHash('sha256');
  private headerWritten = false;
  /** The open block: records are encoded straight into it (no buffer per record, no concat). */
  private block: Buffer | null = null;
  private pendingBytes = 0;
  private pendingCount = 0;
  private written = 0;
  private raw = 0;
  private blocks = 0;
  private records = 0;
  private firstOffset: bigint | null = null;
  private lastOffset: bigint | null = null;
  private minTimestamp: bigint | null = null;
  private maxTimestamp: bigint | null = null;
  private state: 'open' | 'busy' | 'finished' | 'failed' = 'open';
  private failure: unknown = null;
  /** The newest sealed block being compressed and emitted, if any (each waits for the one before). */
  private inFlight: Promise<void> | null = null;
  private inFlightRaw = 0;
  /** The first failure of a block in flight: reported by the next call, not only by finish. */
  private inFlightError: { error: unknown } | null = null;

  private constructor(
    private readonly sink: SegmentSink,
    readonly blockBytes: number,
    readonly level: number,
    readonly name: string,
    private readonly nativeZstd: boolean,
  ) {}

  /** Bytes handed to the sink so far (excludes the open block and the one being compressed). */
  get bytesWritten(): number {
    return this.written;
  }

  /** Raw body bytes appended so far, open block included. */
  get rawBytes(): number {
    return this.raw + this.inFlightRaw + this.pendingBytes;
  }

  /** Raw bytes in the open block, not yet handed to the sink. */
  get pendingRawBytes(): number {
    return this.pendingBytes;
  }

  get recordCount(): number {
    return this.records;
  }

  /** Must be awaited before the next call: appends are not queued. */
  async append(record: BackupRecord): Promise<void> {
    this.enter('append');
    try {
      const size = checkedRecordSize(record);
      if (this.lastOffset !== null && record.offset <= this.lastOffset) {
        throw new UnsupportedDataError(
          `segment ${this.name}: record offset ${record.offset} is not greater than the previous offset ${this.lastOffset} (offsets must strictly increase)`,
        );
      }
      if (this.pendingBytes > 0 && this.pendingBytes + size > this.blockBytes) {
        await this.flushBlock();
      }
      // A record larger than a block gets a block of its own size.
      if (this.block === null || this.block.length - this.pendingBytes < size) this.block = takeBlock(Math.max(this.blockBytes, size));
      encodeRecordInto(record, this.block, this.pendingBytes, size);
      this.pendingBytes += size;
      this.pendingCount++;
      this.records++;
      if (this.firstOffset === null) this.firstOffset = record.offset;
      this.lastOffset = record.offset;
      const ts = record.timestamp;
      if (this.minTimestamp === null || ts < this.minTimestamp) this.minTimestamp = ts;
      if (this.maxTimestamp === null || ts > this.maxTimestamp) this.maxTimestamp = ts;
      this.state = 'open';
    } catch (e) {
      this.leave(e);
    }
  }

  /**
   * True when `size` more bytes do not fit the open block: flush() first, as append would.
   */
  blockFullFor(size: number): boolean {
    return this.pendingBytes > 0 && this.pendingBytes + size > this.blockBytes;
  }

  /** Seals the open block (compressed while the next one fills). Must be awaited like append. */
  async flush(): Promise<void> {
    this.enter('flush');
    try {
      if (this.pendingBytes > 0) await this.flushBlock();
      this.state = 'open';
    } catch (e) {
      this.leave(e);
    }
  }

  /**
   * Writes up to `max` fast records of `src`, starting with the pending one, into the open
   * block while they fit, and returns how many: what append would do for each, minus the
   * record objects. Stops (possibly at 0) before a record that is not fast, does not fit
   * (flush first; a record larger than a block takes append's own block), or would not
   * increase the offset (append reports that). Synchronous: the block is never sealed here.
   */
  fill(src: SegmentRecordSource, max: number): number {
    this.enter('fill');
    // Number(x) of a bigint compares exactly with a safe integer, so the offset check stays exact.
    let last = this.lastOffset === null ? -1 : Number(this.lastOffset);
    let minTs = Infinity;
    let maxTs = -Infinity;
    let n = 0;
    let pending = this.pendingBytes;
    const limit = this.blockBytes;
    try {
      while (n < max && src.pending && src.fast) {
        const size = src.size;
        const offset = src.offset;
        if (offset <= last || pending + size > limit) break;
        if (this.block === null) this.block = takeBlock(limit);
        src.writePending(this.block, pending);
        pending += size;
        if (n === 0 && this.firstOffset === null) this.firstOffset = BigInt(offset);
        last = offset;
        const ts = src.timestamp;
        if (ts < minTs) minTs = ts;
        if (ts > maxTs) maxTs = ts;
        n++;
        src.advance();
      }
    } catch (e) {
      // Not a bad record (those stop the loop): the block may be half-written.
      this.leave(e);
    }
    if (n > 0) {
      this.pendingBytes = pending;
      this.pendingCount += n;
      this.records += n;
      this.lastOffset = BigInt(last);
      if (this.minTimestamp === null || minTs < this.minTimestamp) this.minTimestamp = BigInt(minTs);
      if (this.maxTimestamp === null || maxTs > this.maxTimestamp) this.maxTimestamp = BigInt(maxTs);
    }
    this.state = 'open';
    return n;
  }

  /** Flushes the open block and returns the file's statistics. The writer cannot be used afterwards. */
  async finish(): Promise<SegmentStats> {
    this.enter('finish');
    try {
      if (this.pendingBytes > 0) await this.flushBlock();
      await this.settleInFlight();
      if (!this.headerWritten) await this.emit(encodeFileHeader());
      this.headerWritten = true;
      this.state = 'finished';
    } catch (e) {
      this.leave(e);
    }
    return {
      records: this.records,
      firstOffset: this.firstOffset,
      lastOffset: this.lastOffset,
      minTimestamp: this.minTimestamp,
      maxTimestamp: this.maxTimestamp,
      rawBytes: this.raw,
      storedBytes: this.written,
      sha256: this.hash.digest('hex'),
      blocks: this.blocks,
    };
  }

  private enter(op: string): void {
    if (this.state === 'busy') throw new Error(`segment ${this.name}: ${op} called while a previous call is still running`);
    if (this.state === 'finished') throw new Error(`segment ${this.name}: ${op} called after finish`);
    if (this.state === 'failed') {
      throw new Error(`segment ${this.name}: ${op} called after an earlier failure`, { cause: this.failure });
    }
    this.state = 'busy';
  }

  /**
   * A bad record (UnsupportedDataError before anything changed) leaves the writer usable; anything
   * else may have half-written the file, so the writer refuses further use.
   */
  private leave(e: unknown): never {
    if (e instanceof UnsupportedDataError && this.state === 'busy') {
      this.state = 'open';
    } else {
      this.state = 'failed';
      this.failure = e;
    }
    throw e;
  }

  /**
   * Seals the open block and starts compressing it; the caller may fill the next block
   * meanwhile (native zstd runs off the JavaScript thread). Blocks reach the sink in order:
   * a block is emitted only after the previous one. At most MAX_BLOCKS_IN_FLIGHT blocks
   * (process-wide) are in flight: waiting for a slot is the back-pressure.
   */
  private async flushBlock(): Promise<void> {
    const buffer = this.block!;
    const body = buffer.subarray(0, this.pendingBytes);
    const count = this.pendingCount;
    this.block = null;
    this.pendingBytes = 0;
    this.pendingCount = 0;
    // From here on a failure leaves the file incomplete.
    this.state = 'failed';
    await takeSlot();
    if (this.inFlightError) {
      releaseSlot();
      throw this.inFlightError.error;
    }
    this.inFlightRaw += body.length;
    const compressed = this.compress(body);
    const previous = this.inFlight;
    const done = (async () => {
      try {
        const frame = await compressed;
        if (previous) await previous;
        if (await this.emitBlock(body, count, frame)) returnBlock(buffer);
      } finally {
        releaseSlot();
      }
    })();
    // Observed by the next block and settleInFlight(); noted here so the next flush reports it early.
    done.catch((error: unknown) => {
      this.inFlightError ??= { error };
    });
    this.inFlight = done;
    this.state = 'busy';
  }

  private async settleInFlight(): Promise<void> {
    const inFlight = this.inFlight;
    if (inFlight === null) return;
    this.inFlight = null;
    await inFlight;
  }

  /** The zstd frame of `body`, or null to store it as is (never rejects). */
  private async compress(body: Buffer): Promise<Buffer | null> {
    if (body.length > zstdInputLimit(this.level)) return null;
    try {
      const frame = await compressBlock(body, this.level, this.nativeZstd);
      return frame.length < body.length ? frame : null;
    } catch {
      // Storing uncompressed is always valid; an abort has already reset the zstd instance.
      return null;
    }
  }

  /** Hands one block to the sink; true when nothing kept a reference to `body` (its buffer may be reused). */
  private async emitBlock(body: Buffer, count: number, frame: Buffer | null): Promise<boolean> {
    const codec = frame ? Codec.Zstd : Codec.Stored;
    const payload = frame ?? body;
    const header = encodeBlockHeader({
      codec,
      rawLength: body.length,
      storedLength: payload.length,
      recordCount: count,
      crc32: crc32(body),
    });
    const head = this.headerWritten ? header : Buffer.concat([encodeFileHeader(), header], FILE_HEADER_SIZE + BLOCK_HEADER_SIZE);
    this.headerWritten = true;
    let reusable = true;
    if (frame) {
      // The frame is zstd's own fresh output: the sink may have it as is. Joining it to its
      // head cost a copy of every stored byte (and as much garbage) for one chunk per block.
      await this.emit(head);
      await this.emit(frame);
    } else if (payload.length > MAX_ZSTD_RAW_BYTES) {
      // A record larger than any codec-1 block: hand it over as is rather than copy it again.
      await this.emit(head);
      await this.emit(payload);
      reusable = false; // the sink may keep the chunk
    } else {
      await this.emit(Buffer.concat([head, payload], head.length + payload.length));
    }
    this.raw += body.length;
    this.inFlightRaw -= body.length;
    this.blocks++;
    return reusable;
  }

  private async emit(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.written += chunk.length;
    await this.sink(chunk);
  }
}
