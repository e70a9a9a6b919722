/**
 * The crash loop (issue 8, item 4): SIGKILL `kbak dump` and `kbak restore` at random moments,
 * rerun after each kill, and check every time that
 *   - every listed backup verifies with the independent decoder (test/support/format-decoder),
 *   - a lane, once a restore completes, holds every source record exactly once and in order
 *     (read back with kcat),
 *   - nothing left behind blocks the next run (the rerun / --resume must succeed).
 * Used by test/integration/crash-loop.test.ts (small N in CI) and scripts/crash-loop.sh (by hand).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startKbak, type CliResult } from './kbak-cli';
import { readTopicWithKcat, type KcatTopicRecord } from './kcat';
import { listBackupsOnDisk, verifyBackupOnDisk, type DecodedRecord } from './format-decoder';
import { prng } from './prng';

export interface CrashLoopOptions {
  iterations: number;
  sourceTopic: string;
  /** Disk store the dumps write to. */
  store: string;
  seed: number;
  /** Called with each finished iteration, for progress output. */
  onIteration?: (i: number, stats: CrashLoopStats) => void;
  /** Deletes a lane topic once it was checked, so long runs do not pile up topics. */
  deleteTopic: (topic: string) => Promise<void>;
}

export interface CrashLoopStats {
  iterations: number;
  seed: number;
  dumpKills: number;
  /** Dumps that had finished before their kill moment came. */
  dumpsFinishedBeforeKill: number;
  restoreKills: number;
  restoresFinishedBeforeKill: number;
  /** Killed runs that still exited non-zero by themselves before the kill (should stay 0). */
  unexpectedFailures: string[];
  backupsVerified: number;
  /** Files a killed dump left (orphan segments, *.kbak-tmp-* files), summed over all kills. */
  orphanFilesLeft: number;
  lanesChecked: number;
  recordsCheckedInLanes: number;
  maxResumeRuns: number;
  durationMs: number;
}


interface Timed {
  result: CliResult;
  ms: number;
  killed: boolean;
}

/** Runs kbak; with killAfterMs, SIGKILLs it at that moment if it is still running. */
async function run(args: string[], killAfterMs?: number): Promise<Timed> {
  const t0 = Date.now();
  const { child, done } = startKbak(args);
  let killed = false;
  const timer =
    killAfterMs === undefined
      ? null
      : setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) {
            killed = true;
            child.kill('SIGKILL');
          }
        }, killAfterMs);
  const result = await done;
  if (timer) clearTimeout(timer);
  return { result, ms: Date.now() - t0, killed };
}

function mustSucceed(what: string, t: Timed): CliResult {
  if (t.result.code !== 0) throw new Error(`${what} failed (exit ${t.result.code}): ${t.result.stderr.trim()}`);
  return t.result;
}

function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Canonical form of a record for comparing source, backup and lane. */
type Canon = string;
const canonKcat = (r: KcatTopicRecord): Canon => JSON.stringify([r.key, r.value, r.headers]);
const canonDecoded = (r: DecodedRecord): Canon => {
  const headers: string[] = [];
  for (const [k, v] of r.headers) headers.push(k, v === null ? null! : v.toString('utf8'));
  return JSON.stringify([r.key?.toString('utf8') ?? null, r.value?.toString('utf8') ?? null, headers]);
};

export async function runCrashLoop(opts: CrashLoopOptions): Promise<CrashLoopStats> {
  const t0 = Date.now();
  const rand = prng(opts.seed);
  const stats: CrashLoopStats = {
    iterations: 0,
    seed: opts.seed,
    dumpKills: 0,
    dumpsFinishedBeforeKill: 0,
    restoreKills: 0,
    restoresFinishedBeforeKill: 0,
    unexpectedFailures: [],
    backupsVerified: 0,
    orphanFilesLeft: 0,
    lanesChecked: 0,
    recordsCheckedInLanes: 0,
    maxResumeRuns: 0,
    durationMs: 0,
  };
  // The source never changes during the loop: every complete backup and lane must equal it.
  const source = readTopicWithKcat(opts.sourceTopic);
  const sourceCanon = new Map([...source].map(([p, rs]) => [p, rs.map(canonKcat)]));
  const dumpArgs = ['dump', '--topic', opts.sourceTopic, '--to', opts.store, '--name', 'crash', '--segment-bytes', '65536', '--concurrency', '2', '--quiet', '--json'];
  const verified = new Set<string>();

  const checkBackups = (): void => {
    for (const b of listBackupsOnDisk(opts.store)) {
      const id = `${b.cluster}/${b.backupId}`;
      // Objects are written once: a backup verified before cannot change, but re-reading it
      // every time would make the loop quadratic. All are re-verified at the end.
      if (verified.has(id)) continue;
      const records = verifyBackupOnDisk(opts.store, b);
      for (const [p, rs] of sourceCanon) {
        const got = (records.get(`${opts.sourceTopic}/${p}`) ?? []).map(canonDecoded);
        if (JSON.stringify(got) !== JSON.stringify(rs)) throw new Error(`backup ${id} partition ${p} does not hold exactly the source records`);
      }
      verified.add(id);
      stats.backupsVerified++;
    }
  };

  // A first, uninterrupted dump tells how long a dump takes, to spread the kill moments over.
  const first = await run(dumpArgs);
  mustSucceed('the first dump', first);
  checkBackups();
  let dumpMs = first.ms;
  // ...and a first, uninterrupted restore how long a restore takes.
  const firstId = listBackupsOnDisk(opts.store).at(-1)!.backupId;
  const warmLane = `cl${opts.seed.toString(36)}-w`.slice(0, 30);
  const firstRestore = await run(['restore', '--lane', warmLane, '--source', opts.store, '--name', 'crash', '--from', firstId, '--quiet']);
  mustSucceed('the first restore', firstRestore);
  await opts.deleteTopic(`${warmLane}.${opts.sourceTopic}`);
  let restoreMs = firstRestore.ms;

  for (let i = 0; i < opts.iterations; i++) {
    // 1. dump, killed at a random moment, then rerun to completion.
    const before = new Set(filesBelow(opts.store));
    const killAt = Math.floor(rand() * dumpMs * 1.2);
    const d = await run(dumpArgs, killAt);
    if (process.env.CRASH_LOOP_VERBOSE) process.stderr.write(`dump kill at ${killAt} ms of ${dumpMs}: ran ${d.ms} ms, ${d.killed ? 'killed' : `exit ${d.result.code}`}\n`);
    if (d.killed) stats.dumpKills++;
    else if (d.result.code === 0) stats.dumpsFinishedBeforeKill++;
    else stats.unexpectedFailures.push(`dump exit ${d.result.code}: ${d.result.stderr.trim()}`);
    checkBackups();
    // What the kill left outside any listed backup: orphans that must not block anything.
    const listed = listBackupsOnDisk(opts.store).map((b) => join(opts.store, b.cluster, b.backupId));
    stats.orphanFilesLeft += filesBelow(opts.store).filter((f) => !before.has(f) && !listed.some((dir) => f.startsWith(`${dir}/`))).length;
    const rerun = await run(dumpArgs);
    const summary = JSON.parse(mustSucceed(`dump rerun ${i}`, rerun).stdout) as { backupId: string };
    // A moving average: kill moments follow how long runs take now (the machine's load varies).
    dumpMs = Math.round(0.7 * dumpMs + 0.3 * rerun.ms);
    checkBackups();
    if (!verified.has(`crash/${summary.backupId}`)) throw new Error(`dump rerun ${i} reported backup ${summary.backupId}, which is not listed`);

    // 2. restore of that backup into a fresh lane, killed; then --resume, killed; then --resume to the end.
    const lane = `cl${opts.seed.toString(36)}-${i}`.slice(0, 30);
    const restoreArgs = ['restore', '--lane', lane, '--source', opts.store, '--name', 'crash', '--from', summary.backupId, '--quiet', '--json'];
    const kills = [Math.floor(rand() * restoreMs * 1.2), Math.floor(rand() * restoreMs * 1.2)];
    let completed = false;
    let runs = 0;
    let lastOutput = '';
    for (const [k, killAtMs] of kills.entries()) {
      const r = await run(k === 0 ? restoreArgs : [...restoreArgs, '--resume'], killAtMs);
      runs++;
      if (r.killed) {
        stats.restoreKills++;
      } else if (r.result.code === 0) {
        lastOutput = r.result.stdout;
        stats.restoresFinishedBeforeKill++;
        completed = true;
        break;
      } else {
        stats.unexpectedFailures.push(`restore run ${k} exit ${r.result.code}: ${r.result.stderr.trim()}`);
      }
    }
    if (!completed) {
      const r = await run([...restoreArgs, '--resume']);
      runs++;
      lastOutput = mustSucceed(`restore --resume ${i}`, r).stdout;
      restoreMs = Math.round(0.7 * restoreMs + 0.3 * r.ms);
    }
    stats.maxResumeRuns = Math.max(stats.maxResumeRuns, runs);

    // 3. the lane holds every source record exactly once, in order.
    const laneTopic = `${lane}.${opts.sourceTopic}`;
    const laneRecords = readTopicWithKcat(laneTopic);
    for (const [p, rs] of sourceCanon) {
      const got = (laneRecords.get(p) ?? []).map(canonKcat);
      if (JSON.stringify(got) !== JSON.stringify(rs)) {
        throw new Error(
          `lane ${laneTopic} partition ${p} holds ${got.length} records, the source ${rs.length}: not each source record exactly once and in order (seed ${opts.seed}, iteration ${i}, restore runs ${runs}, last summary ${lastOutput.trim()})`,
        );
      }
      stats.recordsCheckedInLanes += got.length;
    }
    stats.lanesChecked++;
    await opts.deleteTopic(laneTopic);
    stats.iterations++;
    opts.onIteration?.(i, stats);
  }

  // Every backup ever listed still verifies at the end.
  verified.clear();
  stats.backupsVerified = 0;
  checkBackups();
  stats.durationMs = Date.now() - t0;
  return stats;
}
