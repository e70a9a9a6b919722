// Node's module compile cache for kbak's start-up: most of a short command's time was V8
// compiling dist/ and its dependencies (measured: `kbak --version` 0.29 s, 0.21 s with the cache).
// Node keys the cache by Node version, architecture, V8 flags and user id (the sub-folder's
// name) and by each file's path and source hash (a changed file is compiled again), so a new kbak
// build or Node never runs stale code. It is an optimisation only: any failure means no cache,
// silently (Node's enableCompileCache never throws; a folder it cannot write is read, not written).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

/**
 * Where the cache lives, or null for none:
 * - NODE_COMPILE_CACHE set: Node enabled it before kbak ran; null (nothing to do here);
 * - KBAK_COMPILE_CACHE: that folder, as given ("" or "off": no cache). The container image
 *   sets it to a cache baked in at build time, read-only at run time;
 * - else a per-user folder: $XDG_CACHE_HOME/kbak/compile-cache, or <tmpdir>/kbak-compile-cache-<uid>.
 */
function compileCacheDir(env, uid) {
  if (env.NODE_COMPILE_CACHE) return null;
  const explicit = env.KBAK_COMPILE_CACHE;
  if (explicit !== undefined) return explicit === '' || explicit === 'off' ? null : { dir: explicit, own: false };
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return { dir: path.join(env.XDG_CACHE_HOME, 'kbak', 'compile-cache'), own: true };
  return { dir: path.join(os.tmpdir(), `kbak-compile-cache-${uid}`), own: true };
}

/**
 * A folder of kbak's own choosing (in a shared tmpdir, say) is used only when this user made
 * it and nobody else can write it: compiled code read from a folder another user planted would
 * run as kbak. mkdir with 0700, then lstat (a symlink or a stranger's folder is refused).
 */
function ownedFolder(dir, uid) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Turns the cache on when a folder is chosen and usable; returns the folder or null. Never throws. */
function enableCompileCache(env = process.env) {
  try {
    const mod = require('module');
    if (typeof mod.enableCompileCache !== 'function') return null;
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    const choice = compileCacheDir(env, uid === undefined ? 'user' : uid);
    if (choice === null || (choice.own && !ownedFolder(choice.dir, uid))) return null;
    const result = mod.enableCompileCache(choice.dir);
    return result && result.directory ? result.directory : null;
  } catch {
    return null;
  }
}

module.exports = { compileCacheDir, enableCompileCache };
