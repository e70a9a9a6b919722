/**
 * Where things are inside a store:
 *   <cluster>/<backupId>/manifest.json
 *   <cluster>/segments/<topic>/<partition>/<firstOffset, 20 digits>-<writer tag>.kseg   (v2)
 *   <cluster>/<backupId>/topics/<topic>/<partition>/<firstOffset, 20 digits>.kseg       (v1)
 *   <cluster>/locks/<lock id>.json
 *   <cluster>/plans/<backupId>/plan.json, shard-<I>.json       (a sharded dump in progress)
 * Backup IDs are UTC timestamps that sort lexically in time order.
 */
import { UsageError } from '../errors';
import { compactTimeMillis } from '../model/utc-time';
import { isKafkaTopicName } from './keys';

export const MANIFEST_NAME = 'manifest.json';
const BACKUP_ID = /^\d{8}T\d{6}\d{3}Z$/;

export function newBackupId(now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-11-25T17:53:58.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}Z`;
}

/**
 * The instant a backup ID names (ms since the epoch, UTC), or null when `id` is not a
 * calendar-valid backup ID (`20260230T…` and hour 24 are not). Pure.
 */
export function backupIdTime(id: string): number | null {
  return compactTimeMillis(id);
}

/**
 * The backup-ID pattern: what listing keeps. A folder that matches but names no real instant
 * is listed and then refused as corrupt when its manifest is read (its backupId is checked
 * with backupIdTime), never silently skipped or treated as an orphan.
 */
export function isBackupId(s: string): boolean {
  return BACKUP_ID.test(s);
}

export function validateClusterName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new UsageError(`cluster name "${name}" is invalid`, 'use letters, digits, ".", "_" and "-" (at most 100), e.g. prod-eu', { options: ['cluster'] });
  }
  return name;
}

export function backupPrefix(cluster: string, backupId: string): string {
  return `${cluster}/${backupId}`;
}

export function manifestKey(cluster: string, backupId: string): string {
  return `${backupPrefix(cluster, backupId)}/${MANIFEST_NAME}`;
}

function checkKeyParts(topic: string, partition: number, firstOffset: bigint): void {
  if (!isKafkaTopicName(topic)) throw new UsageError(`topic name ${JSON.stringify(topic)} is not a legal Kafka topic name and cannot name a backup folder`);
  if (!Number.isInteger(partition) || partition < 0) throw new UsageError(`partition ${partition} is not a partition number`);
  if (firstOffset < 0n) throw new UsageError(`offset ${firstOffset} is negative`);
}

/** Format v1: relative to the backup's prefix; this is what a v1 manifest stores. */
export function segmentKeyV1(topic: string, partition: number, firstOffset: bigint): string {
  checkKeyParts(topic, partition, firstOffset);
  return `topics/${topic}/${partition}/${firstOffset.toString().padStart(20, '0')}.kseg`;
}

/**
 * Format v2: relative to the cluster folder, in the segment pool every backup of the
 * cluster shares. The writer tag (backup ID plus random hex) keeps two dumps that start at
 * the same offset, even in the same millisecond, from ever naming the same object.
 */
export function segmentKey(topic: string, partition: number, firstOffset: bigint, writerTag: string): string {
  checkKeyParts(topic, partition, firstOffset);
  if (!/^[A-Za-z0-9=-]+$/.test(writerTag)) throw new UsageError(`writer tag ${JSON.stringify(writerTag)} is not a key component`);
  return `${SEGMENTS_DIR}/${topic}/${partition}/${firstOffset.toString().padStart(20, '0')}-${writerTag}.kseg`;
}

/** The shared segment pool and the lock folder, inside `<cluster>/`. */
export const SEGMENTS_DIR = 'segments';
export const LOCKS_DIR = 'locks';
/** Sharded dumps in progress: a plan and the shards' partial manifests, outside every backup folder. */
export const PLANS_DIR = 'plans';

/** The folder of a sharded dump's plan and partials. */
export function planPrefix(cluster: string, backupId: string): string {
  return `${cluster}/${PLANS_DIR}/${backupId}`;
}

export function planKey(cluster: string, backupId: string): string {
  return `${planPrefix(cluster, backupId)}/plan.json`;
}

/** Shard `index`'s partial manifest. */
export function partialKey(cluster: string, backupId: string, index: number): string {
  return `${planPrefix(cluster, backupId)}/shard-${index}.json`;
}

const PARTIAL_NAME = /^shard-(0|[1-9][0-9]{0,3})\.json$/;

/** The shard index a listed partial's file name gives, or null for any other name. */
export function partialIndex(fileName: string): number | null {
  const m = PARTIAL_NAME.exec(fileName);
  return m ? Number(m[1]) : null;
}
