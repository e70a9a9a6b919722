#!/usr/bin/env node
// Runs the compiled CLI (dist/); `npm run build` makes it.
'use strict';
const path = require('path');
const fs = require('fs');
// The AWS SDK warns on every start under Node < 22 about its Node 22 requirement; kbak
// itself needs Node >= 22.15 (package.json engines), so the notice is only noise there.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  const name = (warning && warning.name) || type;
  if (name === 'NodeVersionSupportWarning' || /NodeVersionSupportWarning/.test(String(warning))) return;
  emitWarning(warning, ...rest);
};
const dist = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(dist)) {
  process.stderr.write('kbak: not built yet; run `npm run build` first\n');
  process.exit(2);
}
require(dist).main(process.argv).then((code) => { process.exitCode = code; });
