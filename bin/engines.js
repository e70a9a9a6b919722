// Whether this Node is older than package.json `engines` asks (a ">=X.Y[.Z]" range), and the
// one warning kbak prints then: on an older Node kbak runs, but untested and with runtime
// features it relies on missing, so the user hears it once, at start, not as a strange failure.
'use strict';

/** [major, minor, patch] of "22.15.0" or "v22.15.0"; missing parts are 0. */
function parts(version) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(String(version));
  return m ? [Number(m[1]), Number(m[2] || 0), Number(m[3] || 0)] : null;
}

/** True when `version` is below the ">=X.Y.Z" `range`; false for a range of another form (never a false alarm). */
function belowEngines(version, range) {
  const m = /^\s*>=\s*(v?\d+(?:\.\d+){0,2})\s*$/.exec(String(range || ''));
  const want = m && parts(m[1]);
  const have = parts(version);
  if (!want || !have) return false;
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] < want[i];
  return false;
}

/** The warning line for stderr: words on a terminal (or KBAK_LOG_FORMAT=human), a JSON log line otherwise. */
function enginesWarning(version, range, opts) {
  const msg = `Node ${version} is older than kbak supports (node ${range}, package.json engines): upgrade Node; until then kbak may fail in unexpected ways`;
  const format = opts.logFormat === 'json' || opts.logFormat === 'human' ? opts.logFormat : opts.isTTY ? 'human' : 'json';
  if (format === 'human') return `kbak: warning: ${msg}\n`;
  return `${JSON.stringify({ level: 40, time: new Date().toISOString(), app: 'kbak', node: version, engines: range, msg })}\n`;
}

module.exports = { belowEngines, enginesWarning };
