/**
 * Hostile prune inputs (test/fixtures/hostile/prune/README.md) planted into a fresh copy of
 * the v2 vector on disk, and what the tests check afterwards with the independent decoder.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { listBackupsOnDisk, verifyBackupOnDisk } from './format-decoder';

const FIXTURES = join(__dirname, '..', 'fixtures', 'hostile', 'prune');
const VECTOR = join(__dirname, '..', 'vectors', 'backup-v2', 'sample');

/** The vector's cluster and its two genuine backups. */
export const CLUSTER = 'sample';
export const GENUINE = ['20261126T120000000Z', '20261127T120000000Z'];

export type PlantedName = 'backslash-segment' | 'backslash-dotdot';
export type PlantedManifest = 'started-at-x.20261128T000000000Z' | 'started-at-2099.20261128T000000000Z' | 'id-2099.20990101T000000000Z';

/** A planted name, relative to the store root. */
export function plantedName(which: PlantedName): string {
  const names = JSON.parse(readFileSync(join(FIXTURES, 'names.json'), 'utf8')) as Record<PlantedName, string>;
  return `${CLUSTER}/${names[which]}`;
}

/** The backup ID a planted manifest stands under. */
export const plantedId = (which: PlantedManifest): string => which.split('.')[1]!;

/** A store root holding the v2 vector plus the planted names (empty files) and manifests. */
export function hostileStore(plant: { names?: PlantedName[]; manifests?: PlantedManifest[] }): string {
  const root = mkdtempSync(join(tmpdir(), 'kbak-hostile-prune-'));
  cpSync(VECTOR, join(root, CLUSTER), { recursive: true });
  for (const n of plant.names ?? []) {
    // One file name, backslashes and all (Linux keeps `\` as an ordinary character).
    const path = join(root, ...plantedName(n).split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.alloc(0));
  }
  for (const m of plant.manifests ?? []) {
    mkdirSync(join(root, CLUSTER, plantedId(m)), { recursive: true });
    cpSync(join(FIXTURES, `${m}.json`), join(root, CLUSTER, plantedId(m), 'manifest.json'));
  }
  return root;
}

/**
 * The genuine backups are still listed and each verifies with the independent decoder
 * (every segment it names present, SHA-256 and records as the manifest says); returns how
 * many records they hold, so a caller can see they were read.
 */
export function genuineBackupsIntact(root: string): number {
  const listed = listBackupsOnDisk(root).map((b) => b.backupId);
  for (const id of GENUINE) if (!listed.includes(id)) throw new Error(`genuine backup ${id} is gone (listed: ${listed.join(', ')})`);
  let records = 0;
  for (const id of GENUINE) for (const rs of verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: id }).values()) records += rs.length;
  return records;
}
