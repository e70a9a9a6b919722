/**
 * The crash loop (issue 8, item 4; format v2, incremental chains and prune since issue 15):
 * SIGKILL `kbak dump`, `kbak prune` and `kbak restore` at random moments, rerun after each
 * kill, and check every time that
 *   - every listed backup verifies with the independent decoder (test/support/format-decoder)
 *     and holds exactly the source records of its dump (the source grows between dumps, so
 *     a backup holds a prefix of every partition: the records the source had then);
 *   - a completed prune kept exactly the newest backups its policy names, and left no
 *     segment that no listed manifest names (what killed dumps left behind goes) and no lock
 *     (killed runs' locks are stale at once on this host, and removed);
 *   - a lane, once a restore of the latest backup completes, holds every source record
 *     exactly once and in order (read back with kcat);
 *   - nothing left behind blocks the next run: every rerun, --resume and prune after a kill
 *     must succeed at once (--lock-wait 0: a killed run's lock on this host is stale).
 * Each iteration appends records to the source, dumps (an incremental dump continuing the
 * chain, or now and then a full one starting a new chain), prunes, then restores.
 * Used by test/integration/crash-loop.test.ts (small N in CI) and scripts/crash-loop.sh (by hand).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
  /** Appends records to the source topic; called once before each iteration's dumps. */
  appendToSource: (iteration: number) => Promise<void>;
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
  /** Completed dump reruns, by kind: full ones start a new chain, incremental ones continue it. */
  fullDumps: number;
  incrementalDumps: number;
  pruneKills: number;
  prunesFinishedBeforeKill: number;
  /** Prunes run to completion (one per iteration, after the killed one). */
  prunesCompleted: number;
  /** Backups whose manifests a prune (killed or not) deleted. */
  backupsPruned: number;
  /** Dump and prune kills aimed at a run holding its store lock (counted in dumpKills/pruneKills too). */
  killsHoldingLock: number;
  /** Locks of killed runs that a later run passed (and removed) at once because their process was gone. */
  deadLocksPassed: number;
  restoreKills: number;
  restoresFinishedBeforeKill: number;
  /** Killed runs that still exited non-zero by themselves before the kill (should stay 0). */
  unexpectedFailures: string[];
  /** Distinct backups verified with the independent decoder. */
  backupsVerified: number;
  /** Verifications in all: every listed backup is verified again after every prune. */
  backupChecks: number;
  /** Files a killed dump left outside every listed backup (orphan segments, *.kbak-tmp-* files), summed over all kills. */
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

/**
 * When to SIGKILL a run: at a moment (ms after its start), or once it holds its store lock
 * (its lock object, found by PID, exists), `afterMs` later.
 */
type Kill = { atMs: number } | { whileLockedAfterMs: number; locks: string };

/** The PIDs named by the lock objects in `dir` (objects being rewritten may not parse: skipped). */
function lockPids(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      pids.push((JSON.parse(readFileSync(join(dir, f), 'utf8')) as { pid: number }).pid);
    } catch {
      /* gone or half-written meanwhile */
    }
  }
  return pids;
}

/** Runs kbak; with `kill`, SIGKILLs it at that moment if it is still running. */
async function run(args: string[], kill?: Kill): Promise<Timed> {
  const t0 = Date.now();
  const { child, done } = startKbak(args);
  let killed = false;
  const killNow = (): void => {
    if (child.exitCode === null && child.signalCode === null) {
      killed = true;
      child.kill('SIGKILL');
    }
  };
  const timers: NodeJS.Timeout[] = [];
  if (kill && 'atMs' in kill) timers.push(setTimeout(killNow, kill.atMs));
  if (kill && 'whileLockedAfterMs' in kill) {
    const poll = setInterval(() => {
      if (!lockPids(kill.locks).includes(child.pid!)) return;
      clearInterval(poll);
      timers.push(setTimeout(killNow, kill.whileLockedAfterMs));
    }, 5);
    timers.push(poll);
  }
  const result = await done;
  for (const t of timers) clearTimeout(t);
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

const CLUSTER = 'crash';

/**
 * The files the listed backups consist of (manifests and the segments they name), read from
 * the manifests by hand as FORMAT.md says (v2 keys relative to the cluster folder).
 */
function namedFiles(store: string): Set<string> {
  const named = new Set<string>();
  for (const b of listBackupsOnDisk(store)) {
    const manifest = join(store, b.cluster, b.backupId, 'manifest.json');
    named.add(manifest);
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
      formatVersion: number;
      topics: Array<{ partitions: Array<{ segments: Array<{ key: string }> }> }>;
    };
    const base = m.formatVersion === 1 ? join(store, b.cluster, b.backupId) : join(store, b.cluster);
    for (const t of m.topics) for (const p of t.partitions) for (const s of p.segments) named.add(join(base, ...s.key.split('/')));
  }
  return named;
}

/** Files in the backup layout (not locks) that no listed backup consists of. */
function unnamedFiles(store: string): string[] {
  const named = namedFiles(store);
  const locks = join(store, CLUSTER, 'locks');
  return filesBelow(store).filter((f) => !named.has(f) && !f.startsWith(`${locks}/`));
}

/**
 * When to kill a dump or prune: a third of the kills once it holds its store lock (0-50 ms
 * later), so that killed runs leave locks behind (an incremental dump holds its lock only for
 * its last ~50 ms of ~900); the others at a moment uniform over 0-1.2x the moving average of
 * its run time.
 */
function killMoment(rand: () => number, avgMs: number, locks: string): Kill {
  if (rand() < 1 / 3) return { whileLockedAfterMs: Math.floor(rand() * 50), locks };
  return { atMs: Math.floor(rand() * avgMs * 1.2) };
}

const deadLockWarnings = (stderr: string): number => stderr.split('\n').filter((l) => /removing a stale .*stale: its process is gone/.test(l)).length;

export async function runCrashLoop(opts: CrashLoopOptions): Promise<CrashLoopStats> {
  const t0 = Date.now();
  const rand = prng(opts.seed);
  const stats: CrashLoopStats = {
    iterations: 0,
    seed: opts.seed,
    dumpKills: 0,
    dumpsFinishedBeforeKill: 0,
    fullDumps: 0,
    incrementalDumps: 0,
    pruneKills: 0,
    prunesFinishedBeforeKill: 0,
    killsHoldingLock: 0,
    prunesCompleted: 0,
    backupsPruned: 0,
    deadLocksPassed: 0,
    restoreKills: 0,
    restoresFinishedBeforeKill: 0,
    unexpectedFailures: [],
    backupsVerified: 0,
    backupChecks: 0,
    orphanFilesLeft: 0,
    lanesChecked: 0,
    recordsCheckedInLanes: 0,
    maxResumeRuns: 0,
    durationMs: 0,
  };
  // The source as kcat reads it now; it only grows, between dumps.
  let source = new Map<number, Canon[]>();
  const readSource = (): void => {
    source = new Map([...readTopicWithKcat(opts.sourceTopic)].map(([p, rs]) => [p, rs.map(canonKcat)]));
  };
  // Per backup, how many records of each partition the source had when it was dumped.
  const expected = new Map<string, Map<number, number>>();
  const verifiedOnce = new Set<string>();
  const dumpArgs = (incremental: boolean): string[] => [
    'dump',
    ...(incremental ? ['--incremental'] : []),
    '--topic',
    opts.sourceTopic,
    '--to',
    opts.store,
    '--name',
    CLUSTER,
    '--segment-bytes',
    '65536',
    '--concurrency',
    '2',
    '--lock-wait',
    '0',
    '--quiet',
    '--json',
  ];

  /** Verifies the listed backups (all, or only those never verified) against the source prefix each was dumped from. */
  const checkBackups = (all: boolean): void => {
    for (const b of listBackupsOnDisk(opts.store)) {
      const id = `${b.cluster}/${b.backupId}`;
      if (!all && verifiedOnce.has(id)) continue;
      // A backup listed for the first time was dumped from the source as it is now.
      if (!expected.has(id)) expected.set(id, new Map([...source].map(([p, rs]) => [p, rs.length])));
      const records = verifyBackupOnDisk(opts.store, b);
      for (const [p, rs] of source) {
        const want = rs.slice(0, expected.get(id)!.get(p) ?? 0);
        const got = (records.get(`${opts.sourceTopic}/${p}`) ?? []).map(canonDecoded);
        if (JSON.stringify(got) !== JSON.stringify(want))
          throw new Error(
            `backup ${id} partition ${p} holds ${got.length} records, not exactly the ${want.length} the source had when it was dumped (seed ${opts.seed})`,
          );
      }
      if (!verifiedOnce.has(id)) stats.backupsVerified++;
      verifiedOnce.add(id);
      stats.backupChecks++;
    }
  };
  const locksDir = join(opts.store, CLUSTER, 'locks');
  const listedIds = (): string[] =>
    listBackupsOnDisk(opts.store)
      .map((b) => b.backupId)
      .sort();

  // A first, uninterrupted dump tells how long a dump takes, to spread the kill moments over.
  readSource();
  const first = await run(dumpArgs(false));
  mustSucceed('the first dump', first);
  checkBackups(false);
  const dumpMs = { full: first.ms, incremental: first.ms };
  // ...and a first, uninterrupted restore how long a restore takes.
  const firstId = listBackupsOnDisk(opts.store).at(-1)!.backupId;
  const warmLane = `cl${opts.seed.toString(36)}-w`.slice(0, 30);
  const firstRestore = await run(['restore', '--lane', warmLane, '--source', opts.store, '--name', CLUSTER, '--from', firstId, '--quiet']);
  mustSucceed('the first restore', firstRestore);
  await opts.deleteTopic(`${warmLane}.${opts.sourceTopic}`);
  let restoreMs = firstRestore.ms;
  const pruneArgs = (keepLast: number): string[] => [
    'prune',
    '--keep-last',
    String(keepLast),
    '--source',
    opts.store,
    '--name',
    CLUSTER,
    '--lock-wait',
    '0',
    '--quiet',
    '--json',
  ];
  const firstPrune = await run(pruneArgs(3));
  mustSucceed('the first prune', firstPrune);
  let pruneMs = firstPrune.ms;

  for (let i = 0; i < opts.iterations; i++) {
    await opts.appendToSource(i);
    readSource();

    // 1. dump (incremental, now and then full), killed at a random moment, then rerun to completion.
    const kind = rand() < 0.25 ? 'full' : 'incremental';
    const before = new Set(filesBelow(opts.store));
    const kill = killMoment(rand, dumpMs[kind], locksDir);
    const d = await run(dumpArgs(kind === 'incremental'), kill);
    if (process.env.CRASH_LOOP_VERBOSE)
      process.stderr.write(
        `${kind} dump kill ${JSON.stringify(kill)} (${dumpMs[kind]} ms on average): ran ${d.ms} ms, ${d.killed ? 'killed' : `exit ${d.result.code}`}\n`,
      );
    if (d.killed && 'whileLockedAfterMs' in kill) stats.killsHoldingLock++;
    if (d.killed) stats.dumpKills++;
    else if (d.result.code === 0) stats.dumpsFinishedBeforeKill++;
    else stats.unexpectedFailures.push(`${kind} dump exit ${d.result.code}: ${d.result.stderr.trim()}`);
    stats.deadLocksPassed += deadLockWarnings(d.result.stderr);
    checkBackups(false);
    // What the kill left outside every listed backup: orphans that must not block anything.
    stats.orphanFilesLeft += unnamedFiles(opts.store).filter((f) => !before.has(f)).length;
    const rerun = await run(dumpArgs(kind === 'incremental'));
    const summary = JSON.parse(mustSucceed(`${kind} dump rerun ${i}`, rerun).stdout) as { backupId: string };
    stats.deadLocksPassed += deadLockWarnings(rerun.result.stderr);
    stats[kind === 'full' ? 'fullDumps' : 'incrementalDumps']++;
    // A moving average: kill moments follow how long runs take now (the machine's load varies).
    dumpMs[kind] = Math.round(0.7 * dumpMs[kind] + 0.3 * rerun.ms);
    checkBackups(false);
    if (!verifiedOnce.has(`${CLUSTER}/${summary.backupId}`)) throw new Error(`dump rerun ${i} reported backup ${summary.backupId}, which is not listed`);

    // 2. prune --keep-last K, killed at a random moment every other time, then run to completion.
    const keepLast = 1 + Math.floor(rand() * 3);
    let listed = listedIds();
    if (rand() < 0.5) {
      const kill = killMoment(rand, pruneMs, locksDir);
      const p = await run(pruneArgs(keepLast), kill);
      if (p.killed && 'whileLockedAfterMs' in kill) stats.killsHoldingLock++;
      if (p.killed) stats.pruneKills++;
      else if (p.result.code === 0) stats.prunesFinishedBeforeKill++;
      else stats.unexpectedFailures.push(`prune exit ${p.result.code}: ${p.result.stderr.trim()}`);
      stats.deadLocksPassed += deadLockWarnings(p.result.stderr);
      // Whatever a killed prune got to: every backup still listed is whole.
      checkBackups(true);
      const now = listedIds();
      stats.backupsPruned += listed.filter((id) => !now.includes(id)).length;
      listed = now;
    }
    const p = await run(pruneArgs(keepLast));
    mustSucceed(`prune ${i}`, p);
    pruneMs = Math.round(0.7 * pruneMs + 0.3 * p.ms);
    stats.prunesCompleted++;
    stats.deadLocksPassed += deadLockWarnings(p.result.stderr);
    const after = listedIds();
    stats.backupsPruned += listed.length - after.length;
    const want = listed.slice(-keepLast);
    if (JSON.stringify(after) !== JSON.stringify(want))
      throw new Error(
        `prune --keep-last ${keepLast} left ${after.join(', ')}, expected the newest ${keepLast} of ${listed.join(', ')} (seed ${opts.seed}, iteration ${i})`,
      );
    // The killed runs' locks are gone too: this host's dead holders' locks are removed at once.
    const lockHolders = lockPids(locksDir);
    if (lockHolders.length > 0) throw new Error(`prune ${i} left locks of PIDs ${lockHolders.join(', ')} in ${locksDir} (seed ${opts.seed})`);
    const left = unnamedFiles(opts.store).filter((f) => !f.includes('.kbak-tmp-'));
    if (left.length > 0) throw new Error(`prune ${i} left ${left.length} files no listed backup names, e.g. ${left[0]} (seed ${opts.seed})`);
    checkBackups(true);

    // 3. restore of the newest backup into a fresh lane, killed; then --resume, killed; then --resume to the end.
    const lane = `cl${opts.seed.toString(36)}-${i}`.slice(0, 30);
    const restoreArgs = ['restore', '--lane', lane, '--source', opts.store, '--name', CLUSTER, '--from', summary.backupId, '--quiet', '--json'];
    const kills: Kill[] = [{ atMs: Math.floor(rand() * restoreMs * 1.2) }, { atMs: Math.floor(rand() * restoreMs * 1.2) }];
    let completed = false;
    let runs = 0;
    let lastOutput = '';
    for (const [k, kill] of kills.entries()) {
      const r = await run(k === 0 ? restoreArgs : [...restoreArgs, '--resume'], kill);
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

    // 4. the lane holds every source record exactly once, in order.
    const laneTopic = `${lane}.${opts.sourceTopic}`;
    const laneRecords = readTopicWithKcat(laneTopic);
    for (const [p, rs] of source) {
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

  // Every backup still listed verifies at the end.
  checkBackups(true);
  stats.durationMs = Date.now() - t0;
  return stats;
}
