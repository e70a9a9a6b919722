/**
 * An independent reader of the kbak backup format, written from FORMAT.md alone: it shares
 * no code with src/ (zstd via fzstd, not kbak's zstd-codec; CRC-32 via node:zlib; its own
 * record decoding and manifest checks). Tests use it to check what kbak wrote without
 * trusting kbak's reader. Disk stores only. Throws on the first violation it finds.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
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
const BACKUP_ID = /^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3})Z$/;
const INT64 = /^(0|-?[1-9][0-9]*)$/;
const COMPONENT = /^[A-Za-z0-9._=-]+$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
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

/**
 * A backup ID as an ISO time, or null when it is not a calendar-valid ID (FORMAT.md
 * "Backup IDs"): the round trip through Date rejects 20260230T… and hour 24.
 */
function backupIdIso(id: string): string | null {
  const m = BACKUP_ID.exec(id);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`;
  return isTime(iso) ? iso : null;
}

/** FORMAT.md *time*: the fixed form, and a real instant (Date would roll 02-30 over to March). */
function isTime(v: unknown): v is string {
  if (typeof v !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/.test(v)) return false;
  const d = new Date(v);
  return !Number.isNaN(d.getTime()) && d.toISOString() === v;
}

const LANE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** FORMAT.md settled point 22: a lane snapshot's `lane` (v2 only; absent means not a snapshot). */
function checkLane(lane: unknown, where: string): void {
  const l = lane as { name?: unknown; templates?: Record<string, unknown>; masking?: unknown } | null;
  if (l === null || typeof l !== 'object' || Array.isArray(l)) fail(where, 'lane is not an object');
  if (typeof l.name !== 'string' || l.name.length > 40 || !LANE_NAME.test(l.name)) fail(where, 'lane.name is not a lane name');
  const t = l.templates;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) fail(where, 'lane.templates is not an object');
  for (const k of ['topic', 'subject', 'group']) {
    const v = t[k];
    if (typeof v !== 'string' || v.length < 1 || v.length > 255) fail(where, `lane.templates.${k} is not a string of 1 to 255 characters`);
  }
  if (l.masking !== undefined && l.masking !== null) checkMasking(l.masking, where);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isString = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;

/** FORMAT.md settled point 25: `lane.masking` is null (checked by the caller) or exactly this object. */
function checkMasking(mk: unknown, where: string): void {
  if (!isObject(mk)) fail(where, 'lane.masking is not null or an object');
  if (!isString(mk.policy, 1, 255)) fail(where, 'lane.masking.policy is not a string of 1 to 255 characters');
  if (typeof mk.policySha256 !== 'string' || !/^[0-9a-f]{64}$/.test(mk.policySha256)) fail(where, 'lane.masking.policySha256 is not 64 lowercase hex digits');
  if (typeof mk.keyFingerprint !== 'string' || !/^[0-9a-f]{16}$/.test(mk.keyFingerprint))
    fail(where, 'lane.masking.keyFingerprint is not 16 lowercase hex digits');
  if (!isString(mk.faker, 1, 100)) fail(where, 'lane.masking.faker is not a string of 1 to 100 characters');
}

const ACL_OPERATIONS = new Set([
  'ALL',
  'READ',
  'WRITE',
  'CREATE',
  'DELETE',
  'ALTER',
  'DESCRIBE',
  'CLUSTER_ACTION',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
  'IDEMPOTENT_WRITE',
  'CREATE_TOKENS',
  'DESCRIBE_TOKENS',
]);

/** FORMAT.md "ACL binding" and settled point 23: at most 10 000 bindings of the table's shape, none twice; order and resources not checked. */
function checkAcls(acls: unknown, where: string): void {
  if (!Array.isArray(acls)) fail(where, 'acls is not an array');
  if (acls.length > 10_000) fail(where, `acls has ${acls.length} entries, more than 10 000`);
  const seen = new Set<string>();
  for (const [i, a] of acls.entries()) {
    const at = `acls.${i}`;
    if (!isObject(a)) fail(where, `${at} is not an object`);
    if (a.resourceType !== 'TOPIC' && a.resourceType !== 'GROUP') fail(where, `${at}.resourceType is not TOPIC or GROUP`);
    if (!isString(a.resourceName, 1, 255)) fail(where, `${at}.resourceName is not a string of 1 to 255 characters`);
    if (a.patternType !== 'LITERAL' && a.patternType !== 'PREFIXED') fail(where, `${at}.patternType is not LITERAL or PREFIXED`);
    if (!isString(a.principal, 1, 1024)) fail(where, `${at}.principal is not a string of 1 to 1024 characters`);
    if (!isString(a.host, 1, 255)) fail(where, `${at}.host is not a string of 1 to 255 characters`);
    if (typeof a.operation !== 'string' || !ACL_OPERATIONS.has(a.operation)) fail(where, `${at}.operation is not a Kafka ACL operation`);
    if (a.permissionType !== 'ALLOW' && a.permissionType !== 'DENY') fail(where, `${at}.permissionType is not ALLOW or DENY`);
    const key = [a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permissionType].join('\u0000');
    if (seen.has(key)) fail(where, `${at} is the same binding as an earlier one`);
    seen.add(key);
  }
}

/** Backups as FORMAT.md defines them: exactly the `<cluster>/<backupId>/manifest.json` regular files. */
export function listBackupsOnDisk(root: string): BackupOnDisk[] {
  if (!existsSync(root)) return [];
  const out: BackupOnDisk[] = [];
  for (const cluster of readdirSync(root)) {
    const cdir = join(root, cluster);
    if (!lstatSync(cdir).isDirectory()) continue;
    for (const id of readdirSync(cdir)) {
      const path = join(cdir, id, 'manifest.json');
      // A manifest that is a symlink or not a regular file is no backup (settled question 20);
      // one under an ID of the pattern that names no real instant is listed, and refused (15).
      if (BACKUP_ID.test(id) && existsSync(path) && lstatSync(path).isFile()) out.push({ cluster, backupId: id });
    }
  }
  return out.sort((a, b) => `${a.cluster}/${a.backupId}`.localeCompare(`${b.cluster}/${b.backupId}`));
}

/**
 * A strict JSON parser of its own (RFC 8259), so that the decoder does not share
 * JSON.parse's leniency: a duplicate key in an object is an error (settled question 17),
 * as is a BOM (not whitespace) or nesting deeper than 64.
 */
export function parseStrictJson(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const err = (what: string): never => {
    throw new Error(`${what} at character ${i}`);
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) err('unterminated string');
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c < ' ') err('control character in a string');
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && simple[e] !== undefined) {
        out += simple[e];
        i += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else err('bad escape');
    }
  };
  /** From an opening bracket to its `close`: `member` reads each member, commas between. */
  const members = (close: string, member: () => void): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] !== ',') err(`expected "," or "${close}"`);
      i++;
    }
  };
  const value = (depth: number): unknown => {
    if (depth > 64) err('nesting deeper than 64');
    ws();
    const c = text[i];
    if (c === '{') {
      const o: Record<string, unknown> = {};
      const keys = new Set<string>();
      members('}', () => {
        ws();
        if (text[i] !== '"') err('expected a key');
        const k = str();
        if (keys.has(k)) err(`duplicate key ${JSON.stringify(k)}`);
        keys.add(k);
        ws();
        if (text[i] !== ':') err('expected ":"');
        i++;
        Object.defineProperty(o, k, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
      });
      return o;
    }
    if (c === '[') {
      const a: unknown[] = [];
      members(']', () => a.push(value(depth + 1)));
      return a;
    }
    if (c === '"') return str();
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    const num = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!num) err('unexpected character');
    i += num![0].length;
    return Number(num![0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) err('text after the value');
  return v;
}

const I64_MAX = 2n ** 63n - 1n;
const int64 = (v: unknown, where: string): bigint => {
  if (typeof v !== 'string' || !INT64.test(v)) fail(where, `not a canonical int64 string: ${JSON.stringify(v)}`);
  const n = BigInt(v);
  if (n > I64_MAX || n < -I64_MAX - 1n) fail(where, 'outside the signed 64-bit range');
  return n;
};
const offset = (v: unknown, where: string): bigint => {
  const n = int64(v, where);
  if (n < 0n) fail(where, 'a negative offset');
  return n;
};
const int = (v: unknown, where: string, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(where, `not an int in ${min}..${max}: ${JSON.stringify(v)}`);
  return v;
};

/** A regular file inside `root` (no symlink on the last step, no folder resolving outside): settled question 3. */
function readRegularFile(root: string, path: string, where: string): Buffer {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) fail(where, 'missing');
  if (!st.isFile()) fail(where, st.isSymbolicLink() ? 'a symlink' : 'not a regular file');
  const real = realpathSync(path);
  if (!real.startsWith(realpathSync(root) + sep)) fail(where, 'resolves outside the store root');
  return readFileSync(path);
}

/** Where a segment key of a manifest may point (settled question 2). */
function keyProblem(version: number, backupId: string, topic: string, partition: number, key: unknown): string | null {
  if (typeof key !== 'string' || key === '') return 'not a key';
  const parts = key.split('/');
  if (parts.some((c) => c === '.' || c === '..' || !COMPONENT.test(c))) return 'a component is empty, "." or "..", or outside [A-Za-z0-9._=-]';
  const rest = (at: number): boolean =>
    parts.length === at + 3 && parts[at] === topic && parts[at + 1] === String(partition) && parts[at + 2]!.endsWith('.kseg');
  if (version === 1) return parts[0] === 'topics' && rest(1) ? null : 'not topics/<topic>/<partition>/<name>.kseg';
  if (parts[0] === 'segments' && rest(1)) return null;
  if (parts[1] === 'topics' && rest(2) && backupIdIso(parts[0]!) !== null && parts[0]! < backupId) return null;
  return 'neither segments/<topic>/<partition>/<name>.kseg nor <earlier backupId>/topics/<topic>/<partition>/<name>.kseg';
}

/** What the manifest says of one partition besides its records (for the vector tests). */
export interface PartitionOnDisk {
  logStartOffset: bigint;
  startOffset: bigint;
  endOffset: bigint;
  basedOn: string | null;
  gaps: Array<[bigint, bigint]>;
}

/**
 * Verifies one backup with the rules of "What a reader verifies" and the settled questions
 * (SHOULDs included) and returns its records per `topic/partition`, in offset order.
 * `partitions`, when given, receives each partition's ranges, basedOn and gaps.
 */
export function verifyBackupOnDisk(root: string, b: BackupOnDisk, partitions?: Map<string, PartitionOnDisk>): Map<string, DecodedRecord[]> {
  const prefix = join(root, b.cluster, b.backupId);
  const where = `${b.cluster}/${b.backupId}`;
  if (b.cluster === '.' || b.cluster === '..' || !COMPONENT.test(b.cluster)) fail(where, 'the cluster folder is not a key component');
  const idIso = backupIdIso(b.backupId);
  if (idIso === null) fail(where, 'not a calendar-valid backup ID');
  let m: Record<string, unknown>;
  try {
    m = parseStrictJson(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(readRegularFile(root, join(prefix, 'manifest.json'), where)),
    ) as Record<string, unknown>;
  } catch (err) {
    fail(where, `manifest is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) fail(where, 'manifest is not an object');
  if (m.format !== 'kbak-backup') fail(where, 'format');
  const version = m.formatVersion;
  if (version !== 1 && version !== 2) fail(where, `formatVersion ${String(version)}`);
  // v1 keys are relative to the backup's folder; v2 keys to its cluster's folder, where
  // incremental backups share segments (FORMAT.md, "Key safety").
  const keyBase = version === 1 ? prefix : join(root, b.cluster);
  if (m.backupId !== b.backupId) fail(where, 'backupId differs from its key');
  if ((m.cluster as { name?: unknown })?.name !== b.cluster) fail(where, 'cluster.name differs from its key');
  if (!isTime(m.startedAt) || !isTime(m.completedAt)) fail(where, 'startedAt/completedAt are not calendar-valid times');
  if (m.startedAt !== idIso) fail(where, `startedAt ${String(m.startedAt)} is not the instant of the backup ID`);
  if (version === 2 && m.lane !== undefined) checkLane(m.lane, where);
  const cut = m.cut as Record<string, unknown>;
  for (const k of ['since', 'until']) if (cut[k] !== null && !isTime(cut[k])) fail(where, `cut.${k} is not null or a time`);
  // Settled points 23 and 24 (v2; unknown fields of v1, ignored). Times of the fixed form compare as strings.
  if (version === 2 && cut.time !== undefined) {
    if (!isTime(cut.time)) fail(where, 'cut.time is not a time');
    if (cut.time < m.startedAt || cut.time > m.completedAt) fail(where, 'cut.time is before startedAt or after completedAt');
  }
  if (version === 2 && m.acls !== undefined) checkAcls(m.acls, where);
  const out = new Map<string, DecodedRecord[]>();
  const keys = new Set<string>();
  const topicNames = new Set<string>();
  let anyBasedOn = false;
  let totalRecords = 0;
  let totalSegments = 0;
  let totalRaw = 0;
  let totalStored = 0;
  for (const [ti, t] of (m.topics as Array<Record<string, unknown>>).entries()) {
    const tw = `${where} topics.${ti}`;
    const name = t.name as string;
    if (typeof name !== 'string' || !TOPIC.test(name) || name === '.' || name === '..') fail(tw, 'not a legal topic name');
    if (topicNames.has(name)) fail(tw, 'topic listed twice');
    topicNames.add(name);
    const partitionCount = int(t.partitionCount, tw, 1, 100_000);
    const seenPartitions = new Set<number>();
    for (const [pi, p] of (t.partitions as Array<Record<string, unknown>>).entries()) {
      const pw = `${tw}.partitions.${pi}`;
      const partition = int(p.partition, pw, 0, partitionCount - 1);
      if (seenPartitions.has(partition)) fail(pw, 'partition listed twice');
      seenPartitions.add(partition);
      const logStart = offset(p.logStartOffset, pw);
      const start = offset(p.startOffset, pw);
      const end = offset(p.endOffset, pw);
      const basedOn = version === 1 ? null : (p.basedOn as string | null);
      if (basedOn !== null && (typeof basedOn !== 'string' || backupIdIso(basedOn) === null || basedOn >= b.backupId))
        fail(pw, 'basedOn is not an earlier backup ID');
      if (basedOn !== null) anyBasedOn = true;
      if (!(start <= end && logStart <= end)) fail(pw, 'startOffset <= endOffset and logStartOffset <= endOffset');
      if (basedOn === null && logStart > start) fail(pw, 'a partition without basedOn: logStartOffset <= startOffset');
      const gaps =
        version === 1
          ? []
          : (p.gaps as Array<Record<string, unknown>>).map((g, gi) => ({
              from: offset(g.startOffset, `${pw}.gaps.${gi}`),
              to: offset(g.endOffset, `${pw}.gaps.${gi}`),
            }));
      if (basedOn === null && gaps.length > 0) fail(pw, 'gaps without basedOn');
      let prevGapEnd = start;
      for (const g of gaps) {
        if (!(prevGapEnd <= g.from && g.from < g.to && g.to <= end)) fail(pw, 'gaps must be in order, non-empty, disjoint and inside [startOffset, endOffset)');
        prevGapEnd = g.to;
      }
      partitions?.set(`${name}/${partition}`, { logStartOffset: logStart, startOffset: start, endOffset: end, basedOn, gaps: gaps.map((g) => [g.from, g.to]) });
      const records: DecodedRecord[] = [];
      let prevLast: bigint | null = null;
      let sum = 0;
      let gi = 0;
      for (const [si, s] of (p.segments as Array<Record<string, unknown>>).entries()) {
        const sw = `${pw}.segments.${si}`;
        const bad = keyProblem(version, b.backupId, name, partition, s.key);
        if (bad !== null) fail(sw, `key ${JSON.stringify(s.key)}: ${bad}`);
        const key = s.key as string;
        if (keys.has(key)) fail(sw, 'key named twice in the manifest');
        keys.add(key);
        const first = offset(s.firstOffset, sw);
        const lastOffset = offset(s.lastOffset, sw);
        const count = int(s.records, sw, 1);
        if (prevLast !== null && first <= prevLast) fail(sw, 'segments overlap or are out of order');
        if (!(start <= first && first <= lastOffset && lastOffset < end)) fail(sw, 'segment outside [startOffset, endOffset)');
        while (gi < gaps.length && gaps[gi]!.to <= first) gi++;
        if (gi < gaps.length && gaps[gi]!.from <= lastOffset) fail(sw, 'segment overlaps a gap');
        prevLast = lastOffset;
        const file = readRegularFile(root, join(keyBase, ...key.split('/')), sw);
        if (createHash('sha256').update(file).digest('hex') !== s.sha256) fail(sw, 'SHA-256 mismatch');
        if (file.length !== s.storedBytes) fail(sw, 'storedBytes mismatch');
        const seg = decodeSegment(file, sw);
        if (seg.records.length !== count) fail(sw, `holds ${seg.records.length} records, manifest says ${count}`);
        if (seg.records[0]!.offset !== first || seg.records.at(-1)!.offset !== lastOffset) fail(sw, 'first/last offsets differ from the manifest');
        if (seg.rawBytes !== s.rawBytes) fail(sw, 'rawBytes mismatch');
        for (const r of seg.records) records.push(r);
        sum += count;
        totalSegments++;
        totalRaw += seg.rawBytes;
        totalStored += file.length;
      }
      if (sum !== int(p.records, pw)) fail(pw, `segments hold ${sum} records, partition says ${String(p.records)}`);
      totalRecords += sum;
      out.set(`${name}/${partition}`, records);
    }
  }
  if (version === 2 && m.incremental !== anyBasedOn) fail(where, 'incremental must be true exactly when some partition has basedOn');
  for (const [gi, g] of ((m.consumerGroups ?? []) as Array<Record<string, unknown>>).entries()) {
    for (const [oi, o] of (g.offsets as Array<Record<string, unknown>>).entries()) {
      const ow = `${where} consumerGroups.${gi}.offsets.${oi}`;
      if (typeof o.topic !== 'string' || !TOPIC.test(o.topic) || o.topic === '.' || o.topic === '..') fail(ow, 'topic is not a legal topic name');
      int(o.partition, ow);
      int64(o.offset, ow);
    }
  }
  const stats = m.stats as Record<string, unknown>;
  for (const [i, id] of (stats.unknownSchemaIds as unknown[]).entries()) int(id, `${where} stats.unknownSchemaIds.${i}`, 0, 0xffff_ffff);
  if (stats.records !== totalRecords || stats.segments !== totalSegments || stats.rawBytes !== totalRaw || stats.storedBytes !== totalStored)
    fail(where, 'stats totals do not add up');
  return out;
}
