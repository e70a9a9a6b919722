import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DiskStore } from '../../src/store/disk';
import { MemoryStore } from '../../src/store/memory';
import { describeStoreConformance } from '../support/store-conformance';

describeStoreConformance('memory', () => new MemoryStore());

const dirs: string[] = [];
describeStoreConformance(
  'disk',
  () => {
    const d = mkdtempSync(join(tmpdir(), 'kbak-store-'));
    dirs.push(d);
    return new DiskStore(d);
  },
  () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })),
  // Another program's file, named as given: on Linux `a\\b` is one file name.
  (store, name, body) => {
    const path = join(store.location, ...name.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  },
);
