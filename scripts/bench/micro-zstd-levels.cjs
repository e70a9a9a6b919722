/**
 * What each zstd level costs and saves on real segment blocks: `kbak dump --zstd-level`'s
 * default is chosen from this (README "Performance"; BENCHMARKS.md). Reads every .kseg file
 * under a backup folder with kbak's segment reader (dist/), recompresses each raw block at
 * every level with node:zlib's zstd (what dump uses) and prints, per level, the stored size,
 * the ratio and the CPU time per raw MB (fastest of PASSES = 5 passes: the machine may be shared).
 *
 *   node scripts/bench/micro-zstd-levels.cjs BACKUP_DIR [LEVELS, default 1,2,3,4,5,6,9]
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const PASSES = 5;
const { readSegmentRawBlocks } = require('../../dist/segment/reader');

async function blocksOf(dir) {
  const files = fs
    .readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.kseg'))
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no .kseg files under ${dir}`);
  const blocks = [];
  for (const f of files) {
    async function* src() {
      yield fs.readFileSync(f);
    }
    // The reader reuses nothing across blocks it hands out with views off: keep each body.
    for await (const b of readSegmentRawBlocks(src(), { name: f })) blocks.push(Buffer.from(b.body));
  }
  return blocks;
}

async function main() {
  const [dir, levelsArg] = process.argv.slice(2);
  if (!dir) throw new Error('usage: micro-zstd-levels.cjs BACKUP_DIR [LEVELS]');
  const levels = (levelsArg ?? '1,2,3,4,5,6,9').split(',').map(Number);
  const blocks = await blocksOf(dir);
  const raw = blocks.reduce((n, b) => n + b.length, 0);
  console.log(`${blocks.length} blocks, ${(raw / 1e6).toFixed(1)} MB raw`);
  console.log(`| level | stored MB | ratio | CPU ms per raw MB (fastest of ${PASSES}) |`);
  console.log('| ---: | ---: | ---: | ---: |');
  const C = zlib.constants;
  for (const level of levels) {
    let stored = 0;
    let best = Infinity;
    for (let pass = 0; pass < PASSES; pass++) {
      stored = 0;
      const t0 = process.cpuUsage();
      for (const b of blocks) {
        stored += zlib.zstdCompressSync(b, { pledgedSrcSize: b.length, params: { [C.ZSTD_c_compressionLevel]: level, [C.ZSTD_c_checksumFlag]: 0 } }).length;
      }
      const t = process.cpuUsage(t0);
      best = Math.min(best, (t.user + t.system) / 1000);
    }
    console.log(`| ${level} | ${(stored / 1e6).toFixed(2)} | ${(raw / stored).toFixed(2)} | ${(best / (raw / 1e6)).toFixed(2)} |`);
  }
}
main().catch((e) => {
  console.error(`micro-zstd-levels: ${e.message}`);
  process.exit(1);
});
