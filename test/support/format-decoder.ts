/**
 * An independent reader of the kbak backup format, written from FORMAT.md alone: it shares
 * no code with src/ (zstd via fzstd, not kbak's zstd-codec; CRC-32 via node:zlib; its own
 * record decoding and manifest checks). Tests use it to check what kbak wrote without
 * trusting kbak's reader. Disk stores only. Throws on the first violation it finds.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decompress } from 'fzstd';

export interface DecodedRecord {
  offset: bigint;
  timestamp: bigint;
  timestampType: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer | null]>;
}

const MAGIC = Buffer.from('4b42414b53454700', 'hex');
const BACKUP_ID = /^[0-9]{8}T[0-9]{9}Z$/;
const INT64 = /^-?[0-9]+$/;
const MAX_RAW = 1_073_741_824;
const MAX_ZSTD_RAW = 4_194_304;

class FormatViolation extends Error {}

function fail(where: string, what: string): never {
  throw new FormatViolation(`${where}: ${what}`);
}

/** Decodes one segment file; every rule of "Segment files" in FORMAT.md is checked. */
export function decodeSegment(file: Buffer, where = 'segment'): { records: DecodedRecord[]; rawBytes: number } {
  if (file.length < 16) fail(where, 'truncated file header');
  if (!file.subarray(0, 8).equals(MAGIC)) fail(where, 'bad magic');
  if (file.readUInt16BE(8) !== 1) fail(where, `segment version ${file.readUInt16BE(8)}`);
  const records: DecodedRecord[] = [];
  let pos = 16;
  let rawBytes = 0;
  let last: bigint | null = null;
  for (let block = 0; pos < file.length; block++) {
    const at = `${where} block ${block} @${pos}`;
    if (file.length - pos < 20) fail(at, 'truncated block header');
    const codec = file.readUInt8(pos);
    const rawLen = file.readUInt32BE(pos + 4);
    const storedLen = file.readUInt32BE(pos + 8);
    const count = file.readUInt32BE(pos + 12);
    const crc = file.readUInt32BE(pos + 16);
    if (codec !== 0 && codec !== 1) fail(at, `codec ${codec}`);
    if (count < 1 || rawLen < 33 * count) fail(at, `record count ${count} for raw length ${rawLen}`);
    if (rawLen > MAX_RAW) fail(at, 'raw length above 1 GiB');
    if (codec === 0 && storedLen !== rawLen) fail(at, 'stored block with stored length != raw length');
    if (codec === 1 && (rawLen > MAX_ZSTD_RAW || storedLen >= rawLen)) fail(at, 'zstd block lengths');
    if (file.length - pos - 20 < storedLen) fail(at, 'truncated payload');
    const payload = file.subarray(pos + 20, pos + 20 + storedLen);
    const body = codec === 0 ? payload : Buffer.from(decompress(payload));
    if (body.length !== rawLen) fail(at, `body is ${body.length} bytes, header says ${rawLen}`);
    if (crc32(body) >>> 0 !== crc) fail(at, 'CRC-32 mismatch');
    let r = 0;
    for (let i = 0; i < count; i++) {
      const rec = decodeRecord(body, r, `${at} record ${i}`);
      if (last !== null && rec.record.offset <= last) fail(at, `offset ${rec.record.offset} after ${last}`);
      last = rec.record.offset;
      records.push(rec.record);
      r = rec.next;
    }
    if (r !== body.length) fail(at, `${body.length - r} bytes after the last record`);
    rawBytes += rawLen;
    pos += 20 + storedLen;
  }
  return { records, rawBytes };
}

function decodeRecord(body: Buffer, start: number, at: string): { record: DecodedRecord; next: number } {
  if (body.length - start < 4) fail(at, 'truncated length');
  const len = body.readUInt32BE(start);
  const end = start + 4 + len;
  if (len < 29 || end > body.length) fail(at, `record length ${len}`);
  let p = start + 4;
  const need = (n: number): void => {
    if (p + n > end) fail(at, 'field runs past the record length');
  };
  need(17);
  const offset = body.readBigInt64BE(p);
  const timestamp = body.readBigInt64BE(p + 8);
  const timestampType = body.readUInt8(p + 16);
  p += 17;
  if (offset < 0n) fail(at, 'negative offset');
  if (![0, 1, 255].includes(timestampType)) fail(at, `timestamp type ${timestampType}`);
  const bytes = (): Buffer | null => {
    need(4);
    const n = body.readInt32BE(p);
    p += 4;
    if (n < -1) fail(at, `length ${n}`);
    if (n === -1) return null;
    need(n);
    const b = Buffer.from(body.subarray(p, p + n));
    p += n;
    return b;
  };
  const key = bytes();
  const value = bytes();
  need(4);
  const h = body.readUInt32BE(p);
  p += 4;
  const headers: Array<[string, Buffer | null]> = [];
  for (let i = 0; i < h; i++) {
    need(4);
    const kn = body.readUInt32BE(p);
    p += 4;
    need(kn);
    const hk = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body.subarray(p, p + kn));
    p += kn;
    headers.push([hk, bytes()]);
  }
  if (p !== end) fail(at, `${end - p} unused bytes in the record`);
  return { record: { offset, timestamp, timestampType, key, value, headers }, next: end };
}

export interface BackupOnDisk {
  cluster: string;
  backupId: string;
}

/** Backups as FORMAT.md defines them: exactly the `<cluster>/<backupId>/manifest.json` keys. */
export function listBackupsOnDisk(root: string): BackupOnDisk[] {
  if (!existsSync(root)) return [];
  const out: BackupOnDisk[] = [];
  for (const cluster of readdirSync(root)) {
    const cdir = join(root, cluster);
    if (!statSync(cdir).isDirectory()) continue;
    for (const id of readdirSync(cdir)) {
      if (BACKUP_ID.test(id) && existsSync(join(cdir, id, 'manifest.json'))) out.push({ cluster, backupId: id });
    }
  }
  return out.sort((a, b) => `${a.cluster}/${a.backupId}`.localeCompare(`${b.cluster}/${b.backupId}`));
}

const int64 = (v: unknown, where: string): bigint => {
  if (typeof v !== 'string' || !INT64.test(v)) fail(where, `not an int64 string: ${JSON.stringify(v)}`);
  return BigInt(v);
};
const int = (v: unknown, where: string, min = 0): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(where, `not an int >= ${min}: ${JSON.stringify(v)}`);
  return v;
};

/**
 * Verifies one backup with the rules of "What a reader verifies" (SHOULDs included) and
 * returns its records per `topic/partition`, in offset order.
 */
export function verifyBackupOnDisk(root: string, b: BackupOnDisk): Map<string, DecodedRecord[]> {
  const prefix = join(root, b.cluster, b.backupId);
  const where = `${b.cluster}/${b.backupId}`;
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(join(prefix, 'manifest.json')))) as Record<string, unknown>;
  } catch (err) {
    fail(where, `manifest is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (m.format !== 'kbak-backup') fail(where, 'format');
  const version = m.formatVersion;
  if (version !== 1 && version !== 2) fail(where, `formatVersion ${String(version)}`);
  // v1 keys are relative to the backup's folder; v2 keys to its cluster's folder, where
  // incremental backups share segments (FORMAT.md, "Key safety").
  const keyBase = version === 1 ? prefix : join(root, b.cluster);
  if (m.backupId !== b.backupId) fail(where, 'backupId differs from its key');
  if ((m.cluster as { name?: unknown })?.name !== b.cluster) fail(where, 'cluster.name differs from its key');
  const out = new Map<string, DecodedRecord[]>();
  let totalRecords = 0;
  let totalSegments = 0;
  let totalRaw = 0;
  let totalStored = 0;
  for (const [ti, t] of (m.topics as Array<Record<string, unknown>>).entries()) {
    for (const [pi, p] of (t.partitions as Array<Record<string, unknown>>).entries()) {
      const pw = `${where} topics.${ti}.partitions.${pi}`;
      const logStart = int64(p.logStartOffset, pw);
      const start = int64(p.startOffset, pw);
      const end = int64(p.endOffset, pw);
      if (!(start <= end && logStart <= end)) fail(pw, 'startOffset <= endOffset and logStartOffset <= endOffset');
      if (version === 1 && logStart > start) fail(pw, 'v1: logStartOffset <= startOffset');
      const gaps = ((p.gaps ?? []) as Array<Record<string, unknown>>).map((g, gi) => ({ from: int64(g.startOffset, `${pw}.gaps.${gi}`), to: int64(g.endOffset, `${pw}.gaps.${gi}`) }));
      let prevGapEnd = start;
      for (const g of gaps) {
        if (!(prevGapEnd <= g.from && g.from < g.to && g.to <= end)) fail(pw, 'gaps must be in order, non-empty, disjoint and inside [startOffset, endOffset)');
        prevGapEnd = g.to;
      }
      const records: DecodedRecord[] = [];
      let prevLast: bigint | null = null;
      let sum = 0;
      for (const [si, s] of (p.segments as Array<Record<string, unknown>>).entries()) {
        const sw = `${pw}.segments.${si}`;
        const key = s.key as string;
        if (typeof key !== 'string' || key.startsWith('/') || key.split('/').some((c) => c === '' || c === '.' || c === '..')) fail(sw, `bad key ${key}`);
        const first = int64(s.firstOffset, sw);
        const lastOffset = int64(s.lastOffset, sw);
        const count = int(s.records, sw, 1);
        if (prevLast !== null && first <= prevLast) fail(sw, 'segments overlap or are out of order');
        if (!(start <= first && first <= lastOffset && lastOffset < end)) fail(sw, 'segment outside [startOffset, endOffset)');
        if (gaps.some((g) => first < g.to && g.from <= lastOffset)) fail(sw, 'segment overlaps a gap');
        prevLast = lastOffset;
        const file = readFileSync(join(keyBase, ...key.split('/')));
        if (createHash('sha256').update(file).digest('hex') !== s.sha256) fail(sw, 'SHA-256 mismatch');
        if (file.length !== s.storedBytes) fail(sw, 'storedBytes mismatch');
        const seg = decodeSegment(file, sw);
        if (seg.records.length !== count) fail(sw, `holds ${seg.records.length} records, manifest says ${count}`);
        if (seg.records[0]!.offset !== first || seg.records.at(-1)!.offset !== lastOffset) fail(sw, 'first/last offsets differ from the manifest');
        if (seg.rawBytes !== s.rawBytes) fail(sw, 'rawBytes mismatch');
        records.push(...seg.records);
        sum += count;
        totalSegments++;
        totalRaw += seg.rawBytes;
        totalStored += file.length;
      }
      if (sum !== int(p.records, pw)) fail(pw, `segments hold ${sum} records, partition says ${String(p.records)}`);
      totalRecords += sum;
      out.set(`${String(t.name)}/${String(p.partition)}`, records);
    }
  }
  const stats = m.stats as Record<string, unknown>;
  if (stats.records !== totalRecords || stats.segments !== totalSegments || stats.rawBytes !== totalRaw || stats.storedBytes !== totalStored) fail(where, 'stats totals do not add up');
  return out;
}
