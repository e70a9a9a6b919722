#!/usr/bin/env node
// Runs the compiled CLI (dist/); `npm run build` makes it.
'use strict';
// First, before anything else is compiled: the compile cache (bin/compile-cache.js).
require('./compile-cache').enableCompileCache();
const path = require('path');
const fs = require('fs');
const { belowEngines, enginesWarning } = require('./engines');
// Below package.json engines kbak still runs, but says so once, first (the AWS SDK's own
// notice below is silenced: this one names kbak's requirement).
const pkg = require('../package.json');
const engines = pkg.engines.node;
if (belowEngines(process.versions.node, engines)) {
  process.stderr.write(enginesWarning(process.versions.node, engines, { isTTY: Boolean(process.stderr.isTTY), logFormat: process.env.KBAK_LOG_FORMAT }));
}
// `kbak --version` alone prints what the full CLI would (commander's `.version(TOOL_VERSION)`:
// package.json's version and a newline on stdout, exit 0) without loading dist/ (0.04 s instead
// of 0.2 s). Any other argument list, `--version` among others included, takes the full path.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.on('error', () => {}); // a closed pipe (`kbak --version | true`) is not an error
  process.stdout.write(`${pkg.version}\n`);
  return;
}
// The AWS SDK warns on every start under Node < 22 about its Node 22 requirement; kbak
// itself needs Node >= 22.15 (package.json engines) and says so above, once.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  const name = (warning && warning.name) || type;
  if (name === 'NodeVersionSupportWarning' || /NodeVersionSupportWarning/.test(String(warning))) return;
  emitWarning(warning, ...rest);
};
// Memory: V8 grows its young generation up to 64 MiB per semi-space when a dump allocates
// fast, and the fetch and block buffers that died there are only freed when it is swept,
// so peak RSS followed the young generation (measured on a 200k x 1 KiB dump: 271-290 MiB,
// 209-236 MiB with this flag, at the same speed). --max-semi-space-size would need a
// re-exec (V8 sizes the heap before any script runs); the growth factor is read whenever
// the young generation grows, so setting it here suffices. A semi-space flag the user
// passed (node options, NODE_OPTIONS) wins.
if (!/semi-space/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS || ''}`)) {
  require('v8').setFlagsFromString('--semi-space-growth-factor=1');
}
const dist = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(dist)) {
  process.stderr.write('kbak: not built yet; run `npm run build` first\n');
  process.exit(2);
}
require(dist).main(process.argv).then((code) => {
  process.exitCode = code;
  // kbak closes what it opened, so the process ends by itself; should a connection or timer
  // survive anyway (a bug), a scheduled job must still end, with its exit code, not hang
  // until the Job's deadline. Unref'd: it never delays a normal exit.
  setTimeout(() => {
    // Output still queued for a slow reader (a pipe on macOS) is not a leak: never cut it off.
    if (process.stdout.writableLength > 0) return;
    if (process.env.KBAK_DEBUG) process.stderr.write(`kbak: still running 5 s after finishing; forcing exit (open handles: ${process._getActiveHandles().map((h) => h.constructor.name).join(', ')})\n`);
    process.exit(code);
  }, 5000).unref();
});
