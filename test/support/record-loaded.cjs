// Preloaded (`node --require`) into a CLI run by test/unit/startup.test.ts: at exit, writes the
// files the process loaded (require.cache's keys, one a line) to $KBAK_TEST_LOADED.
'use strict';
const fs = require('fs');
process.on('exit', () => {
  if (process.env.KBAK_TEST_LOADED) fs.writeFileSync(process.env.KBAK_TEST_LOADED, Object.keys(require.cache).join('\n'));
});
