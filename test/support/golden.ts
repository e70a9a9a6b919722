/**
 * Golden-output files: what a command prints, kept in test/golden/<name>.txt and compared
 * byte for byte, by unit tests in files named test/unit/*golden*.test.ts. `npm run golden:update`
 * (build, then those tests with UPDATE_GOLDEN=1) rewrites them from the current
 * output; review the diff before committing, as for any change of what users see.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const GOLDEN_DIR = join(__dirname, '..', 'golden');

/** The path of a golden file; `name` may hold folders (`help/dump-80`). */
export function goldenPath(name: string): string {
  if (!/^[a-z0-9][a-z0-9._/-]*$/.test(name) || name.includes('..')) throw new Error(`bad golden name ${name}`);
  return join(GOLDEN_DIR, `${name}.txt`);
}

/**
 * Compares `actual` with the golden file (written instead when UPDATE_GOLDEN=1). A missing
 * file fails, so a new golden test cannot pass before its file is reviewed and committed.
 */
export function expectGolden(name: string, actual: string): void {
  const file = goldenPath(name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`no golden file ${file}: run npm run golden:update and review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
