// A section of BENCHMARKS.md kept apart from `npm run bench`'s report: its figures live under one
// key of BENCHMARKS.json and the markdown section is rendered from them, so the report's rewrite
// can put the section back. Used by recovery-section.cjs and shard-section.cjs:
//   extract JSON               → that key's value on stdout (nothing if none)
//   write MD JSON RESULT.json  → sets the key to RESULT.json and replaces (or appends) the section
'use strict';

const fs = require('fs');

/** The markdown with `title`'s section (up to the next `## ` heading) replaced by `section`, or appended. */
function splice(md, title, section) {
  const start = md.indexOf(`\n${title}\n`);
  if (start < 0) return `${md.replace(/\n*$/, '\n')}\n${section}`;
  const next = md.indexOf('\n## ', start + title.length + 2);
  return `${md.slice(0, start + 1)}${section}${next < 0 ? '' : md.slice(next)}`;
}

/** The command line of a section script: `extract` and `write` as above. */
function sectionMain({ script, title, key, render }, [cmd, a, b, c]) {
  if (cmd === 'extract') {
    const json = JSON.parse(fs.readFileSync(a, 'utf8'));
    if (json[key]) process.stdout.write(`${JSON.stringify(json[key], null, 2)}\n`);
    return;
  }
  if (cmd === 'write') {
    const result = JSON.parse(fs.readFileSync(c, 'utf8'));
    const json = fs.existsSync(b) ? JSON.parse(fs.readFileSync(b, 'utf8')) : {};
    json[key] = result;
    fs.writeFileSync(b, `${JSON.stringify(json, null, 2)}\n`);
    const md = fs.existsSync(a) ? fs.readFileSync(a, 'utf8') : '# Benchmarks\n';
    fs.writeFileSync(a, splice(md, title, render(result)));
    return;
  }
  process.stderr.write(`usage: ${script} extract JSON | write MD JSON RESULT\n`);
  process.exit(2);
}

module.exports = { splice, sectionMain };
