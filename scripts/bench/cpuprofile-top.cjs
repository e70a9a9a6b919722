#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per
// package/file, as markdown.
//   node scripts/bench/cpuprofile-top.cjs PROFILE.cpuprofile [TOP]
'use strict';

const fs = require('fs');
const path = require('path');

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg || 15);
if (!file || !Number.isInteger(top) || top < 1) {
  // A glob of a folder with worker-thread profiles gives several files: one profile at a time.
  process.stderr.write('usage: cpuprofile-top.cjs PROFILE.cpuprofile [TOP] (one profile; TOP a positive integer)\n');
  process.exit(2);
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const repo = path.resolve(__dirname, '..', '..');

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas || [];
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  self.set(id, (self.get(id) || 0) + (dt[i] || 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;

const where = (cf) => {
  let url = (cf.url || '').replace(/^file:\/\//, '');
  if (url.startsWith(repo)) url = path.relative(repo, url);
  return url ? `${url}:${cf.lineNumber + 1}` : '';
};
const groupOf = (cf) => {
  const url = (cf.url || '').replace(/^file:\/\//, '');
  if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native/V8 builtins)';
  if (url.startsWith('node:')) return 'node core';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  return path.relative(repo, url).split('/').slice(0, 3).join('/');
};

const fnTimes = new Map();
const groupTimes = new Map();
for (const [id, t] of self) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${where(cf)}`.trim();
  fnTimes.set(key, (fnTimes.get(key) || 0) + t);
  const g = groupOf(cf);
  groupTimes.set(g, (groupTimes.get(g) || 0) + t);
}
const pct = (t) => `${((100 * t) / total).toFixed(1)}%`;
const lines = [];
lines.push(`profile ${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled`);
lines.push('');
lines.push('| self % | where (package / file) |');
lines.push('| ---: | --- |');
for (const [g, t] of [...groupTimes].sort((a, b) => b[1] - a[1]).slice(0, 10)) lines.push(`| ${pct(t)} | ${g} |`);
lines.push('');
lines.push('| self % | function |');
lines.push('| ---: | --- |');
for (const [k, t] of [...fnTimes].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`| ${pct(t)} | \`${k}\` |`);
process.stdout.write(`${lines.join('\n')}\n`);
