/**
 * Reading backups: list the complete ones (those with a manifest), open one by ID or
 * `latest`, and stream a partition's records in offset order with every segment's
 * checksum verified. Used by restore, verify and the tests.
 */
import { byteOrder } from '../model/byte-order';
import { IntegrityError, NotFoundError, UsageError } from '../errors';
import type { BackupRecord } from '../segment/record';
import { checkSegmentSha256, readSegmentBlocks, readSegmentRawBlocks, type RawBlock, type ReadSegmentOptions } from '../segment/reader';
import type { ObjectStore } from '../store/store';
import { backupPrefix, isBackupId, MANIFEST_NAME, manifestKey } from './layout';
import { matchBackupId } from './id-match';
import { didYouMeanSuffix } from '../util/near-names';
import { checkSegmentKey, type SegmentKeyContext } from './keys';
import { decodeManifest, MAX_MANIFEST_BYTES, type Manifest, type PartitionEntry, type SegmentEntry } from './manifest';
import { manifestRuleViolation } from './rules';

export interface BackupRef {
  cluster: string;
  backupId: string;
}

/** Complete backups only: a backup without its manifest does not exist for readers. */
export async function listBackups(store: ObjectStore, cluster?: string): Promise<BackupRef[]> {
  const found: BackupRef[] = [];
  for await (const key of store.list(cluster ?? '')) {
    const parts = key.split('/');
    if (parts.length !== 3 || parts[2] !== MANIFEST_NAME) continue;
    const [c, id] = parts as [string, string, string];
    if (isBackupId(id) && (cluster === undefined || c === cluster)) found.push({ cluster: c, backupId: id });
  }
  return found.sort((a, b) => byteOrder(a.backupId, b.backupId) || byteOrder(a.cluster, b.cluster));
}

/** What a partition reader may be asked besides the records (see Backup.recordBlocks). */
export interface ReadRecordsOptions {
  /** Keys, values and header values are views into their block (see ReadSegmentOptions.views). */
  views?: boolean;
  /**
   * Hash each segment in a streaming pass and compare it with the manifest's SHA-256 before
   * the first record of that segment is handed out (the reading pass then checks it again):
   * a consumer that shows records as they come (`kbak cat`) never shows one from a segment
   * that does not verify. Costs a second read of every segment read.
   */
  verifyFirst?: boolean;
}

export class Backup {
  /** topic → partition → entry, built on first use: a lookup per partition must not scan every partition. */
  private index: Map<string, Map<number, PartitionEntry>> | null = null;

  constructor(
    readonly store: ObjectStore,
    readonly ref: BackupRef,
    readonly manifest: Manifest,
  ) {}

  keyContext(): SegmentKeyContext {
    return { backupPrefix: backupPrefix(this.ref.cluster, this.ref.backupId), clusterPrefix: this.ref.cluster, formatVersion: this.manifest.formatVersion };
  }

  partition(topic: string, partition: number): PartitionEntry {
    if (this.index === null) {
      this.index = new Map();
      for (const t of this.manifest.topics) this.index.set(t.name, new Map(t.partitions.map((x) => [x.partition, x])));
    }
    const p = this.index.get(topic)?.get(partition);
    if (!p) throw new NotFoundError(`backup ${this.ref.backupId} has no ${topic}/${partition}`);
    return p;
  }

  /** The store key of a segment entry (v1: in the backup's folder, v2: in the cluster's). */
  storeKey(seg: SegmentEntry): string {
    return checkSegmentKey(seg.key, this.keyContext());
  }

  /**
   * Records of one partition in offset order; throws IntegrityError on any checksum mismatch.
   * `views`: keys and values are views into their block (see ReadSegmentOptions.views).
   */
  async *records(topic: string, partition: number, fromOffset?: bigint, opts: ReadRecordsOptions = {}): AsyncGenerator<BackupRecord> {
    for await (const block of this.recordBlocks(topic, partition, fromOffset, opts)) yield* block;
  }

  /** The same records as `records`, a segment block at a time (one await per block, not per record). */
  async *recordBlocks(topic: string, partition: number, fromOffset?: bigint, opts: ReadRecordsOptions = {}): AsyncGenerator<BackupRecord[]> {
    const views = opts.views === true;
    const blocks = this.eachSegment(
      topic,
      partition,
      fromOffset,
      opts.verifyFirst === true,
      (source, ropts) => readSegmentBlocks(source, { ...ropts, views }),
      (block) => (block.length === 0 ? null : [block[0]!.offset, block[block.length - 1]!.offset]),
    );
    for await (const block of blocks) yield fromOffset === undefined || block[0]!.offset >= fromOffset ? block : block.filter((r) => r.offset >= fromOffset);
  }

  /**
   * The same records undecoded, a segment block at a time (see RawBlock), for restore's
   * transcoder and cat; the same checks as `recordBlocks`, the segment's first and last
   * offsets included. With `fromOffset`, segments that end before it are skipped; records
   * before it inside a block are the consumer's to skip.
   */
  async *rawBlocks(topic: string, partition: number, fromOffset?: bigint, opts: Pick<ReadRecordsOptions, 'verifyFirst'> = {}): AsyncGenerator<RawBlock> {
    yield* this.eachSegment(topic, partition, fromOffset, opts.verifyFirst === true, readSegmentRawBlocks, (b) => [b.firstOffset, b.lastOffset]);
  }

  /**
   * What `read` hands out for each segment of a partition (from the one holding `fromOffset`
   * on), with every check the manifest allows: key safety, SHA-256, record count, declared
   * raw bytes, and the first and last offsets (`span` of each item).
   */
  private async *eachSegment<T>(
    topic: string,
    partition: number,
    fromOffset: bigint | undefined,
    verifyFirst: boolean,
    read: (source: AsyncIterable<Buffer>, opts: ReadSegmentOptions) => AsyncGenerator<T, unknown, undefined>,
    span: (item: T) => readonly [bigint, bigint] | null,
  ): AsyncGenerator<T> {
    const p = this.partition(topic, partition);
    for (const seg of p.segments) {
      // A manifest names keys inside its own backup (v1) or cluster folder only; never follow one outside it.
      const key = checkSegmentKey(seg.key, this.keyContext());
      if (fromOffset !== undefined && BigInt(seg.lastOffset) < fromOffset) continue;
      const ropts: ReadSegmentOptions = { name: key, expectedSha256: seg.sha256, expectedRecords: seg.records, expectedRawBytes: seg.rawBytes };
      try {
        if (verifyFirst) await checkSegmentSha256(this.store.read(key), ropts);
        let first: bigint | null = null;
        let last: bigint | null = null;
        for await (const item of read(this.store.read(key), ropts)) {
          const s = span(item);
          if (s === null) continue;
          first ??= s[0];
          last = s[1];
          yield item;
        }
        if (first !== BigInt(seg.firstOffset) || last !== BigInt(seg.lastOffset)) {
          throw new IntegrityError(`segment ${key} holds offsets ${first}..${last}, its manifest entry says ${seg.firstOffset}..${seg.lastOffset}`);
        }
      } catch (err) {
        // A segment the manifest names but the store lacks is a damaged backup, not a wrong request.
        if (err instanceof NotFoundError)
          throw new IntegrityError(
            `segment ${key} named by the manifest of ${this.ref.cluster}/${this.ref.backupId} is missing from ${this.store.location}`,
            'the backup is incomplete; restore from another backup',
            { cause: err },
          );
        throw err;
      }
    }
  }
}

/**
 * Opens `latest` or an explicit backup ID. With several clusters in one store, `latest`
 * needs --name to say which; an ID is looked up across clusters.
 */
export async function openBackup(store: ObjectStore, which: string, cluster?: string): Promise<Backup> {
  return loadBackup(store, await resolveBackup(store, which, cluster));
}

/** `latest` or an ID → the backup's reference, without reading its manifest. */
export async function resolveBackup(store: ObjectStore, which: string, cluster?: string): Promise<BackupRef> {
  const all = await listBackups(store, cluster);
  let ref: BackupRef | undefined;
  if (which === 'latest') {
    const clusters = new Set(all.map((b) => b.cluster));
    if (clusters.size > 1) {
      throw new UsageError(`${store.location} holds backups of several clusters (${[...clusters].join(', ')})`, 'name the cluster', { options: ['cluster'] });
    }
    ref = all[all.length - 1];
    if (!ref)
      throw new NotFoundError(
        `no complete backup in ${store.location}${cluster ? ` for cluster ${cluster}` : ''}`,
        'dump first, or check the backup location and cluster name',
        { options: ['destination', 'cluster'] },
      );
  } else {
    const m = matchBackupId(which, all);
    const where = `${store.location}${cluster ? ` for cluster ${cluster}` : ''}`;
    if (m.kind === 'malformed')
      throw new UsageError(
        `"${which}" is not a backup ID${didYouMeanSuffix(which, ['latest'])}`,
        'pass an ID like 20261125T175358123Z, a unique prefix of one, or latest',
      );
    if (m.kind === 'ambiguous') {
      const more = m.count > m.ids.length ? ` and ${m.count - m.ids.length} more` : '';
      throw new UsageError(`backup ID prefix ${which} matches ${m.count} backups in ${where}: ${m.ids.join(', ')}${more}`, 'give more of the ID');
    }
    if (m.kind === 'none')
      throw new NotFoundError(
        `backup ${which} not found (or incomplete) in ${where}${didYouMeanSuffix(
          which,
          all.map((b) => b.backupId),
        )}`,
        'list backups with kbak list',
      );
    if (m.refs.length > 1) throw new UsageError(`backup ${m.refs[0]!.backupId} exists for several clusters`, 'name the cluster', { options: ['cluster'] });
    ref = m.refs[0]!;
  }
  return ref;
}

/** Reads and checks one manifest: JSON, types, and the partition rules of FORMAT.md. */
export async function loadBackup(store: ObjectStore, ref: BackupRef): Promise<Backup> {
  const where = `${ref.cluster}/${ref.backupId}`;
  const manifest = decodeManifest(await store.get(manifestKey(ref.cluster, ref.backupId), MAX_MANIFEST_BYTES), where);
  const backup = new Backup(store, ref, manifest);
  // Every key up front, so a hostile manifest is refused before anything is restored.
  for (const t of manifest.topics) for (const p of t.partitions) for (const seg of p.segments) checkSegmentKey(seg.key, backup.keyContext());
  const broken = manifestRuleViolation(manifest, ref);
  if (broken) throw new IntegrityError(`manifest ${where} breaks the format rules: ${broken}`, 'the backup is corrupt; run kbak verify for details');
  return backup;
}
