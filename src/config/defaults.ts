/**
 * Every default a user can see, in one place: the library (src/api.ts) falls back to these
 * when an option is absent, and the CLI shows them in --help and passes them on, so the two
 * cannot drift apart. Domain names with one definition (the lane templates, the ledger
 * topic) stay with the code that defines their meaning. A leaf module: it imports nothing.
 */

/** Bootstrap brokers when neither --brokers, KBAK_BROKERS nor a config file names any (the local stack). */
export const DEFAULT_BROKERS = '127.0.0.1:9092';
export const DEFAULT_CLIENT_ID = 'kbak';
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Where the CLI writes and reads backups when neither --to/--source nor KBAK_DEST says. */
export const DEFAULT_DESTINATION = './kbak-backups';

/** A dump rolls over to a new segment file after this many bytes. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/**
 * Partitions read and written at once by default. The read keeps no more open, and each
 * open one holds its blocks and, for S3, a 5 MiB part: measured on a 1 GiB topic (6
 * partitions, 2 cores), 2 dumps as fast as 4 with peak RSS 243 instead of 288 MiB (S3)
 * and 211 instead of 235 MiB (disk).
 */
export const DEFAULT_DUMP_CONCURRENCY = 2;

/**
 * zstd level of a dump's segment blocks (`--zstd-level`). Measured with
 * scripts/bench/micro-zstd-levels.cjs on real blocks (2 cores, fastest of 5): level 1 costs
 * 2.4 ms of CPU per raw MB on 1 KiB random-letter values against 5.4 at level 3 (same ratio,
 * 1.82 vs 1.83), 1.6 against 1.8 on 100 B JSON (ratio 10.3, better than level 3's 9.7), and
 * 0.46 against 0.52 on highly repetitive JSON (ratio 71 against 86: 1.4 % of the raw bytes
 * stored instead of 1.2 %). The dump's own CPU is its limit, so the cheapest level wins.
 */
export const DEFAULT_DUMP_ZSTD_LEVEL = 1;

/** A dump fails when no partition progresses for this long. */
export const DEFAULT_STALL_TIMEOUT_MS = 120_000;

/** How long a dump waits for a prune's exclusive lock, and a prune for running dumps, before refusing. */
export const DEFAULT_LOCK_WAIT_MS = 300_000;

/** Lane partitions a restore writes at once. */
export const DEFAULT_RESTORE_CONCURRENCY = 4;

/** How often the library hands a progress snapshot to `onProgress`. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 1000;

/**
 * How long an interrupted call waits for what it must undo (its store locks) before it
 * gives up on them: well inside Kubernetes' default 30 s grace period before SIGKILL. A
 * lock left behind expires by itself.
 */
export const INTERRUPT_CLEANUP_TIMEOUT_MS = 10_000;
