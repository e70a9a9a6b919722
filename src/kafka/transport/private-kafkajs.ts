/**
 * kbak's own copy of kafkajs: the package's files loaded into a private module registry,
 * so its patches (patches.ts) change only the clients kbak creates. Another kafkajs
 * in the same process (a host program using kbak as a library, a test helper) stays the
 * stock library, whichever was loaded first.
 *
 * kafkajs has no dependencies and only requires its own files and Node built-ins, which
 * makes a private registry a few lines: each file is compiled once with Node's CommonJS
 * wrapper and its own `require`. Two bindings differ from the global ones:
 *
 * - `setTimeout` clamps negative delays to 0: kafkajs computes some delays as "deadline -
 *   now", which Node 24 reports as TimeoutNegativeWarning on every run;
 * - a module with a transform gets its exports replaced right after it ran, before any
 *   other module can capture them, so the load order never matters.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { compileFunction } from 'node:vm';
import { InternalError } from '../../errors';

/** The kafkajs release kbak's patches (of its internals) were written and tested against. */
export const KAFKAJS_VERSION = '2.2.4';

type Exports = unknown;
export type Transforms = Readonly<Record<string, (original: Exports, load: (id: string) => Exports) => Exports>>;

function clampedSetTimeout(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): NodeJS.Timeout {
  return setTimeout(fn, typeof ms === 'number' && ms > 0 ? ms : 0, ...args);
}

/**
 * Loads kafkajs privately. `transforms` maps a module id relative to the package root
 * (`src/protocol/recordBatch/v0/decoder`) to a function that returns its replacement.
 */
export function loadPrivateKafkajs(transforms: Transforms): { exports: Exports; load: (id: string) => Exports; version: string } {
  const pkgJson = require.resolve('kafkajs/package.json');
  const root = dirname(pkgJson);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  if (version !== KAFKAJS_VERSION) {
    throw new InternalError(
      `kafkajs ${version} is installed but kbak's kafkajs patches are written for ${KAFKAJS_VERSION} exactly; reinstall kbak's pinned dependencies`,
    );
  }
  // Node built-ins come from the host; kafkajs files never do.
  const hostRequire = Module.createRequire(pkgJson);
  const byFile = new Map<string, (original: Exports, load: (id: string) => Exports) => Exports>();
  for (const [id, t] of Object.entries(transforms)) byFile.set(join(root, `${id}.js`), t);

  const cache = new Map<string, { exports: Exports }>();
  const loadFile = (filename: string): Exports => {
    const cached = cache.get(filename);
    if (cached) return cached.exports;
    const mod = { exports: {} as Exports, filename, id: filename, loaded: false };
    cache.set(filename, mod);
    if (filename.endsWith('.json')) {
      mod.exports = JSON.parse(readFileSync(filename, 'utf8'));
      return mod.exports;
    }
    const dir = dirname(filename);
    const localRequire = (id: string): Exports => {
      if (Module.isBuiltin(id)) return hostRequire(id);
      return loadFile(resolveFrom(dir, id));
    };
    localRequire.resolve = (id: string): string => resolveFrom(dir, id);
    const fn = compileFunction(readFileSync(filename, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname', 'setTimeout'], { filename });
    fn.call(mod.exports, mod.exports, localRequire, mod, filename, dir, clampedSetTimeout);
    mod.loaded = true;
    const transform = byFile.get(filename);
    if (transform) mod.exports = transform(mod.exports, load);
    return mod.exports;
  };
  const resolveFrom = (dir: string, id: string): string => {
    if (!id.startsWith('.')) throw new InternalError(`kafkajs requires "${id}", which kbak's private loader does not provide`);
    return hostRequire.resolve(join(dir, id));
  };
  const load = (id: string): Exports => loadFile(hostRequire.resolve(join(root, id)));
  return { exports: load('index'), load, version };
}
