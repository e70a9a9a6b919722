/**
 * Sharded dumps as a Kubernetes Indexed Job runs them (N `kbak dump --shard I/N` processes), and
 * the comparison of two backups read with the independent decoder (format-decoder.ts, written
 * from FORMAT.md alone), never with kbak's reader.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listBackupsOnDisk, parseStrictJson, verifyBackupOnDisk, type DecodedRecord, type PartitionOnDisk } from './format-decoder';
import { runKbak, startKbak, type CliResult } from './kbak-cli';

/** A backup ID for `at` (FORMAT.md "Backup IDs": UTC, to the millisecond). */
export function backupIdAt(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}

let lastId = 0;
/** A fresh backup ID, later than any this process handed out before. */
export function freshBackupId(): string {
  lastId = Math.max(Date.now(), lastId + 1);
  return backupIdAt(new Date(lastId));
}

/** The arguments of shard `index` of `count` (the dump options in `base`, the same for every shard). */
export function shardArgs(base: readonly string[], index: number, count: number, backupId: string): string[] {
  return ['dump', ...base, '--shard', `${index}/${count}`, '--backup-id', backupId];
}

/** Starts the given shards at once and waits for all of them. */
export async function runShards(base: readonly string[], count: number, backupId: string, indexes?: readonly number[]): Promise<CliResult[]> {
  const which = indexes ?? Array.from({ length: count }, (_, i) => i);
  return Promise.all(which.map((i) => startKbak(shardArgs(base, i, count, backupId)).done));
}

/** A failed CLI run as a readable message, for `expect(describeFailure(r)).toBeNull()`. */
export function describeFailure(r: CliResult, wanted = 0): string | null {
  return r.code === wanted ? null : `exit ${r.code} (signal ${r.signal}), wanted ${wanted}; stderr: ${r.stderr.trim()}`;
}

/** What `kbak list` shows in `root`: the backup IDs. */
export async function listedBackupIds(root: string): Promise<string[]> {
  const r = await runKbak(['list', '--source', root, '--json']);
  if (r.code !== 0) throw new Error(`kbak list --source ${root}: exit ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Array<{ id: string }>).map((b) => b.id);
}

/** Every file under `dir`, relative to it, sorted (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel))) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** One backup as the independent decoder reads it: its manifest and its records per `topic/partition`. */
export interface DecodedBackup {
  cluster: string;
  backupId: string;
  manifest: Record<string, unknown>;
  records: Map<string, DecodedRecord[]>;
  partitions: Map<string, PartitionOnDisk>;
}

/** Decodes (and so validates) the backup `backupId` under `root`, or its only backup. */
export function decodeBackup(root: string, backupId?: string): DecodedBackup {
  const all = listBackupsOnDisk(root);
  const b = backupId === undefined ? all : all.filter((x) => x.backupId === backupId);
  if (b.length !== 1)
    throw new Error(`${root} holds ${all.map((x) => `${x.cluster}/${x.backupId}`).join(', ') || 'no backup'}; wanted ${backupId ?? 'exactly one'}`);
  const partitions = new Map<string, PartitionOnDisk>();
  const records = verifyBackupOnDisk(root, b[0]!, partitions);
  const manifest = parseStrictJson(readFileSync(join(root, b[0]!.cluster, b[0]!.backupId, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  return { ...b[0]!, manifest, records, partitions };
}

const hex = (b: Buffer | null): string => (b === null ? '-' : b.toString('hex'));

/** One record as a line: every field a backup must keep. */
export function recordLine(r: DecodedRecord): string {
  return [r.offset, r.timestamp, r.timestampType, hex(r.key), hex(r.value), r.headers.map(([k, v]) => `${k}=${hex(v)}`).join(',')].join(' ');
}

/** The first record that differs between two partitions' records, or null when they are equal. */
function firstRecordDifference(where: string, a: readonly DecodedRecord[], b: readonly DecodedRecord[]): string | null {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] === undefined ? '(none)' : recordLine(a[i]!);
    const y = b[i] === undefined ? '(none)' : recordLine(b[i]!);
    if (x !== y) return `${where} record #${i} (of ${a.length} vs ${b.length}): ${x.slice(0, 160)} vs ${y.slice(0, 160)}`;
  }
  return null;
}

interface TopicJson {
  name: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: Array<{ partition: number }>;
}
interface GroupJson {
  groupId: string;
  offsets: Array<{ topic: string; partition: number; offset: string }>;
}

/** The topic-level facts of a manifest that do not depend on how the dump was split. */
export function topicFacts(m: Record<string, unknown>): unknown {
  return (m.topics as TopicJson[])
    .map((t) => ({
      name: t.name,
      partitionCount: t.partitionCount,
      replicationFactor: t.replicationFactor,
      configs: t.configs,
      partitions: t.partitions.map((p) => p.partition).sort((x, y) => x - y),
    }))
    .sort((x, y) => x.name.localeCompare(y.name));
}

/** The committed group offsets of a manifest, as comparable text. */
export function groupFacts(m: Record<string, unknown>): string[] {
  return ((m.consumerGroups ?? []) as GroupJson[]).flatMap((g) => g.offsets.map((o) => `${g.groupId} ${o.topic}/${o.partition}=${o.offset}`)).sort();
}

/**
 * Every way `b` differs from `a` as a backup of the same cut: records per partition (offset,
 * timestamp, key, value, headers), each partition's range, the topics' configs and partition
 * counts, the group offsets, the stats. Empty when they are the same backup in content.
 */
export function backupDifferences(a: DecodedBackup, b: DecodedBackup): string[] {
  const out: string[] = [];
  const keys = [...new Set([...a.records.keys(), ...b.records.keys()])].sort();
  for (const k of keys) {
    if (!a.records.has(k) || !b.records.has(k)) {
      out.push(`${k} is only in ${a.records.has(k) ? a.backupId : b.backupId}`);
      continue;
    }
    const d = firstRecordDifference(k, a.records.get(k)!, b.records.get(k)!);
    if (d) out.push(d);
    const pa = a.partitions.get(k)!;
    const pb = b.partitions.get(k)!;
    const range = (p: PartitionOnDisk): string =>
      `log start ${p.logStartOffset}, [${p.startOffset}, ${p.endOffset}), gaps ${JSON.stringify(p.gaps.map((g) => g.map(String)))}`;
    if (range(pa) !== range(pb)) out.push(`${k}: ${range(pa)} vs ${range(pb)}`);
  }
  const ta = JSON.stringify(topicFacts(a.manifest));
  const tb = JSON.stringify(topicFacts(b.manifest));
  if (ta !== tb) out.push(`topics: ${ta} vs ${tb}`);
  const ga = groupFacts(a.manifest).join('; ');
  const gb = groupFacts(b.manifest).join('; ');
  if (ga !== gb) out.push(`group offsets: ${ga} vs ${gb}`);
  const stat = (m: Record<string, unknown>): string => {
    const s = m.stats as Record<string, unknown>;
    return `records ${String(s.records)}`;
  };
  if (stat(a.manifest) !== stat(b.manifest)) out.push(`stats: ${stat(a.manifest)} vs ${stat(b.manifest)}`);
  return out;
}

/** A short digest of a file, to show it was not rewritten. */
export function fileDigest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
