// Fills Node's compile cache for the container image (Dockerfile; NODE_COMPILE_CACHE names the
// folder): loads every compiled file of dist/, so whatever command a container runs finds its
// modules compiled, and makes the result readable by everyone (Node writes its files 0600, and
// the image copies the folder owned by root: the runtime user reads it, cannot change it).
// Run as the runtime user: Node names the cache's sub-folder by Node version, V8 flags and uid.
'use strict';
const fs = require('fs');
const path = require('path');
const nodeModule = require('module');

const dir = process.env.NODE_COMPILE_CACHE;
if (!dir || !nodeModule.getCompileCacheDir || !nodeModule.getCompileCacheDir()) {
  process.stderr.write('warm-compile-cache: set NODE_COMPILE_CACHE to the folder to fill (Node >= 22.1)\n');
  process.exit(1);
}
// The same V8 flag bin/kbak.js sets, so the cached code is compiled as a run compiles it.
require('v8').setFlagsFromString('--semi-space-growth-factor=1');

// bin/kbak.js and what `kbak --help` loads, as a run loads them (a child process: Node enables
// the cache from NODE_COMPILE_CACHE there as it will in the container).
require('child_process').spawnSync(process.execPath, [path.join(__dirname, 'kbak.js'), '--help'], { stdio: 'ignore' });
const files = [];
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const f = path.join(d, e.name);
    if (e.isDirectory()) walk(f);
    else if (e.name.endsWith('.js')) files.push(f);
  }
};
walk(path.join(__dirname, '..', 'dist'));
const refused = [];
for (const f of files.sort()) {
  try {
    require(f);
  } catch {
    // A worker's entry file refuses to run outside a worker; it is compiled (and cached) all the same.
    refused.push(path.basename(f));
  }
}
nodeModule.flushCompileCache();
const publish = (d) => {
  fs.chmodSync(d, 0o755);
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const f = path.join(d, e.name);
    if (e.isDirectory()) publish(f);
    else fs.chmodSync(f, 0o644);
  }
};
publish(dir);
process.stdout.write(`warm-compile-cache: ${files.length} files of dist/ compiled into ${dir}${refused.length ? `; threw when run here: ${refused.join(', ')}` : ''}\n`);
process.exit(0);
