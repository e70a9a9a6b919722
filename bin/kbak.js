#!/usr/bin/env node
// Runs the compiled CLI when present (installed package), otherwise the TypeScript
// sources through ts-node-free transpilation is not available, so we require a build.
'use strict';
const path = require('path');
const fs = require('fs');
const dist = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(dist)) {
  process.stderr.write('kbak: not built yet; run `npm run build` first\n');
  process.exit(2);
}
require(dist).main(process.argv).then((code) => { process.exitCode = code; });
