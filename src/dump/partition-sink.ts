/**
 * Turns one partition's record stream into segment objects in the store: a new segment
 * starts when the current one passes the size bound, each segment is streamed (never held
 * whole) and becomes visible only when complete. What it wrote is listed for the manifest.
 */
import type { SegmentEntry } from '../backup/manifest';
import { segmentKey } from '../backup/layout';
import type { BackupRecord } from '../segment/record';
import { SegmentWriter, type SegmentRecordSource } from '../segment/writer';
import type { ObjectStore, ObjectWriter } from '../store/store';

export interface SinkOptions {
  /** Roll over to a new segment once this many stored bytes are written. */
  segmentBytes: number;
  blockBytes?: number;
  level?: number;
}

export class PartitionSink {
  private current: { writer: SegmentWriter; object: ObjectWriter; key: string } | null = null;
  readonly segments: SegmentEntry[] = [];
  private completedKeys: string[] = [];
  records = 0;
  rawBytes = 0;
  storedBytes = 0;

  constructor(
    private readonly store: ObjectStore,
    /** The cluster folder: manifest keys (v2) are relative to it. */
    private readonly prefix: string,
    readonly topic: string,
    readonly partition: number,
    /** Makes this dump's segment names unique in the shared pool. */
    private readonly writerTag: string,
    private readonly opts: SinkOptions,
  ) {}

  async append(record: BackupRecord): Promise<void> {
    const writer = this.current?.writer ?? (await this.openSegment(record.offset));
    await writer.append(record);
    this.records++;
    if (writer.bytesWritten >= this.opts.segmentBytes) await this.closeSegment();
  }

  /**
   * Every record `src` has left, in order, as append would store them one by one (same
   * bytes and blocks, segments closed by the same rule), but written into the open block
   * in runs. Returns how many records were stored.
   *
   * A segment closes once its written bytes reach the bound, checked after each record in
   * append. Those bytes grow only while something is awaited (blocks are compressed and
   * written off the thread), so checking after the first record that follows each await
   * is the same check.
   */
  async appendFrom(src: SegmentRecordSource): Promise<number> {
    const before = this.records;
    let check = true;
    for (let more = src.advance(); more; more = src.pending) {
      if (!src.fast) {
        await this.append(src.pendingRecord());
        src.advance();
        continue;
      }
      let writer = this.current?.writer;
      if (!writer) {
        writer = await this.openSegment(BigInt(src.offset));
        check = true;
      }
      if (writer.blockFullFor(src.size)) {
        await writer.flush();
        check = true;
      }
      const n = writer.fill(src, check ? 1 : Infinity);
      if (n === 0) {
        // Larger than a block, or out of order: append handles (or reports) it.
        await this.append(src.pendingRecord());
        src.advance();
        continue;
      }
      this.records += n;
      if (check) {
        check = false;
        if (writer.bytesWritten >= this.opts.segmentBytes) await this.closeSegment();
      }
    }
    return this.records - before;
  }

  private async openSegment(firstOffset: bigint): Promise<SegmentWriter> {
    const key = segmentKey(this.topic, this.partition, firstOffset, this.writerTag);
    const object = this.store.create(`${this.prefix}/${key}`);
    const writer = await SegmentWriter.create({ blockBytes: this.opts.blockBytes, level: this.opts.level, name: key, sink: (chunk) => object.write(chunk) });
    this.current = { writer, object, key };
    return writer;
  }

  private async closeSegment(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    const stats = await cur.writer.finish();
    await cur.object.complete();
    this.completedKeys.push(`${this.prefix}/${cur.key}`);
    this.rawBytes += stats.rawBytes;
    this.storedBytes += stats.storedBytes;
    this.segments.push({
      key: cur.key,
      firstOffset: stats.firstOffset!.toString(),
      lastOffset: stats.lastOffset!.toString(),
      records: stats.records,
      minTimestamp: stats.minTimestamp!.toString(),
      maxTimestamp: stats.maxTimestamp!.toString(),
      rawBytes: stats.rawBytes,
      storedBytes: stats.storedBytes,
      sha256: stats.sha256,
    });
  }

  /** Raw bytes so far, the open segment included (for progress). */
  get progressBytes(): number {
    return this.rawBytes + (this.current?.writer.rawBytes ?? 0);
  }

  async finish(): Promise<SegmentEntry[]> {
    await this.closeSegment();
    return this.segments;
  }

  /** Removes everything this sink wrote: a failed dump leaves nothing behind. */
  async abort(): Promise<void> {
    const cur = this.current;
    this.current = null;
    if (cur) await cur.object.abort().catch(() => undefined);
    for (const key of this.completedKeys) await this.store.delete(key).catch(() => undefined);
    this.completedKeys = [];
  }
}
