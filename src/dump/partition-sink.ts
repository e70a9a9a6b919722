/**
 * Turns one partition's record stream into segment objects in the store: a new segment
 * starts when the current one passes the size bound, each segment is streamed (never held
 * whole) and becomes visible only when complete. What it wrote is listed for the manifest.
 */
import type { SegmentEntry } from '../backup/manifest';
import { segmentKey } from '../backup/layout';
import type { BackupRecord } from '../segment/record';
import { SegmentWriter } from '../segment/writer';
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
    if (!this.current) {
      const key = segmentKey(this.topic, this.partition, record.offset, this.writerTag);
      const object = this.store.create(`${this.prefix}/${key}`);
      const writer = await SegmentWriter.create({ blockBytes: this.opts.blockBytes, level: this.opts.level, name: key, sink: (chunk) => object.write(chunk) });
      this.current = { writer, object, key };
    }
    await this.current.writer.append(record);
    this.records++;
    if (this.current.writer.bytesWritten >= this.opts.segmentBytes) await this.closeSegment();
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
