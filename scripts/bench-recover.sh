#!/usr/bin/env bash
# `npm run bench:recover` (or `BENCH_RECOVER=1 npm run bench`): how long `kbak recover` takes to
# bring a 1 GiB backup back into a fresh cluster (issue 20, item 6). Not a test: one measured run.
#   1. fills a topic on the primary stack with BENCH_RECOVER_RECORDS records of BENCH_RECORD_BYTES
#      random letters in BENCH_PARTITIONS partitions (the data scripts/bench.sh produces: kcat -P,
#      keys, 3 tracing headers), and commits BENCH_RECOVER_GROUPS consumer groups on it;
#   2. `kbak dump`s it to local disk (timed, for context);
#   3. starts a fresh second stack ($KBAK_STACK_DIR-recover, purged first, on the primary's port
#      offset + 2000 so it never meets the tests' second stack at + 1000) and times
#      `kbak recover --source <backups> --brokers <its broker> --schema-registry-url <its registry>`;
#   4. checks the recovered topic with kcat (record count; each partition's first record equal to
#      the source's) and writes wall time, records/s, peak RSS and CPU into the "Recovery of a
#      1 GiB backup" section of BENCHMARKS.md and the `recovery` key of BENCHMARKS.json.
# Everything it created (the topic and groups on the primary, the backup, the second stack) is
# removed at the end, also on failure or Ctrl-C; BENCH_RECOVER_KEEP=1 leaves the second stack up.
#
# Knobs (environment):
#   BENCH_RECOVER_RECORDS        records in the topic                        (default 1000000)
#   BENCH_RECORD_BYTES           value size in bytes                          (default 1024)
#   BENCH_PARTITIONS             partitions                                   (default 6)
#   BENCH_RECOVER_GROUPS         consumer groups committed on the topic       (default 3)
#   BENCH_RECOVER_PORT_OFFSET    port offset of the target stack        (default primary's + 2000)
#   BENCH_RECOVER_KEEP=1         leave the target stack running (stop it with
#                                KBAK_STACK_DIR=<dir> npm run stack:down -- --purge)
#   BENCH_SKIP_BUILD=1           use the existing dist/ instead of `npm run build`
# Needs what scripts/bench.sh needs: the local stack (started if not running), node, Java,
# /usr/bin/time and kcat. Disk: about 3 × the values' size (source topic, backup, target topic).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N="${BENCH_RECOVER_RECORDS:-1000000}"
S="${BENCH_RECORD_BYTES:-1024}"
P="${BENCH_PARTITIONS:-6}"
G="${BENCH_RECOVER_GROUPS:-3}"

BENCH_TAG=bench-recover
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
for v in N S P; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v ('${!v}') must be a positive integer (BENCH_RECOVER_RECORDS, BENCH_RECORD_BYTES, BENCH_PARTITIONS)"
done
[[ "$G" =~ ^[0-9]+$ ]] || die "BENCH_RECOVER_GROUPS must be 0 or a positive integer"
((N >= 2 * P)) || die "BENCH_RECOVER_RECORDS must be at least 2 × BENCH_PARTITIONS"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (package 'time') is needed for peak RSS: sudo apt-get install time"
bash scripts/ensure-kcat.sh || die "kcat fills the topic and reads both clusters: install it (Debian/Ubuntu: sudo apt-get install kcat) and rerun"

# The port settings of a stack's env (sourced below for the primary) must not move the target.
PORT_VARS=(KBAK_STACK_PORT_OFFSET KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_SECURE_PORT KAFKA_MTLS_PORT REGISTRY_PORT REGISTRY_MANAGEMENT_PORT S3_PORT)
unset_ports=()
for v in "${PORT_VARS[@]}"; do unset_ports+=(-u "$v"); done

# ---------------------------------------------------------------- stacks, build
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
PRIMARY_DIR="$(cd "$(dirname "${KBAK_STACK_DIR:-.stack}")" && pwd)/$(basename "${KBAK_STACK_DIR:-.stack}")"
msg "ensuring the primary stack is up ($PRIMARY_DIR)"
bash scripts/stack/up.sh >&2
PRIMARY_OFFSET="$(sed -n 's/^KBAK_STACK_PORT_OFFSET=\([0-9]*\)$/\1/p' "$PRIMARY_DIR/env")"
TARGET_DIR="$PRIMARY_DIR-recover"
TARGET_OFFSET="${BENCH_RECOVER_PORT_OFFSET:-$((${PRIMARY_OFFSET:-0} + 2000))}"
[[ "$TARGET_OFFSET" =~ ^[0-9]+$ ]] || die "BENCH_RECOVER_PORT_OFFSET must be a number"
target_stack() { # ARGS...: a stack script run for the target stack
  env "${unset_ports[@]}" KBAK_STACK_DIR="$TARGET_DIR" KBAK_STACK_PORT_OFFSET="$TARGET_OFFSET" bash "$@"
}
# A fresh cluster: whatever an earlier (interrupted) run left there goes first.
[[ -f "$TARGET_DIR/.kbak-stack" ]] && target_stack scripts/stack/down.sh --purge >&2
msg "starting a fresh target stack in $TARGET_DIR (port offset $TARGET_OFFSET)"
t0="$(date +%s%N)"
target_stack scripts/stack/up.sh >&2 || die "the target stack did not start (the lines above say why; its logs are in $TARGET_DIR/logs)"
TARGET_START_S="$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
target_env() { sed -n "s/^$1=//p" "$TARGET_DIR/env" | head -n 1; }
TARGET_BROKERS="$(target_env KBAK_BROKERS)"
TARGET_REGISTRY="$(target_env KBAK_SCHEMA_REGISTRY_URL)"
TARGET_KAFKA_VERSION="$(target_env KAFKA_VERSION)"
TARGET_REGISTRY_VERSION="$(cat "$TARGET_DIR/pids/registry.version" 2>/dev/null || echo unknown)"

bench_stack_env "$PRIMARY_DIR"
BROKERS="$KBAK_BROKERS"
bench_build

# ---------------------------------------------------------------- workspace, cleanup
ID="$(date +%Y%m%d-%H%M%S)-$$"
TOPIC="kbak-bench-recover-$ID"
GROUP_PREFIX="kbak-bench-recover-$ID"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kbak-bench-recover.XXXXXX")"
STORE="$WORK/backups"
CREATED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  msg "cleaning up"
  if ((CREATED)); then
    node scripts/bench/admin.cjs delete-topics-containing "$ID" || msg "could not delete topic $TOPIC on the primary; delete it by hand"
    node scripts/bench/admin.cjs delete-groups "$GROUP_PREFIX" || msg "could not delete consumer groups $GROUP_PREFIX* on the primary"
  fi
  if [[ "${BENCH_RECOVER_KEEP:-0}" == 1 ]]; then
    msg "the target stack keeps running: KBAK_STACK_DIR=$TARGET_DIR npm run stack:down -- --purge"
  else
    target_stack scripts/stack/down.sh --purge >&2 || msg "could not stop the target stack in $TARGET_DIR"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# timed NAME CMD...: runs CMD under /usr/bin/time -v (stdout → $WORK/NAME.out, stderr → .err) and
# prints a JSON object: wall seconds, peak RSS (KiB) and CPU seconds (user + system).
timed() {
  local name=$1 t0 t1
  shift
  t0="$(date +%s%N)"
  if ! /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    tail -n 20 "$WORK/$name.err" >&2
    die "failed: $*"
  fi
  t1="$(date +%s%N)"
  awk -F': ' -v a="$t0" -v b="$t1" '
    /Maximum resident set size/ { rss = $2 }
    /User time \(seconds\)|System time \(seconds\)/ { cpu += $2 }
    END { printf "{\"wallSeconds\":%.3f,\"rssKiB\":%d,\"cpuSeconds\":%.2f}", (b - a) / 1e9, rss, cpu }' "$WORK/$name.time"
}
json_get() { # JSON PATH... → value
  node -e 'let v = JSON.parse(process.argv[1]); for (const k of process.argv.slice(2)) v = v[k]; process.stdout.write(String(v))' "$@"
}
records_on() { # BROKERS TOPIC
  KBAK_BROKERS="$1" node scripts/bench/admin.cjs topic-records "$2"
}

# ---------------------------------------------------------------- 1. the source topic
HEADERS=(-H 'traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  -H 'b3=4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1'
  -H 'uber-trace-id=4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1')
msg "producing $N records of $S B into $TOPIC ($P partitions) with kcat -P"
CREATED=1
node scripts/bench/admin.cjs create-topic "$TOPIC" "$P"
t0="$(date +%s%N)"
node scripts/bench/gen-records.cjs "$N" "$S" | kcat -P -b "$BROKERS" -t "$TOPIC" -K $'\t' -q "${HEADERS[@]}" 2>"$WORK/produce.log" ||
  {
    tail -n 20 "$WORK/produce.log" >&2
    die "kcat producer failed"
  }
PRODUCE_S="$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
got="$(records_on "$BROKERS" "$TOPIC")"
[[ "$got" == "$N" ]] || die "the source topic holds $got records, expected $N"
msg "produced $N records in ${PRODUCE_S}s"
((G > 0)) && node scripts/bench/admin.cjs seed-groups "$TOPIC" "$GROUP_PREFIX" "$G"

# ---------------------------------------------------------------- 2. the backup
DUMP_CMD=(node bin/kbak.js dump --topic "$TOPIC" --to "$STORE" --json --quiet)
msg "dumping it: ${DUMP_CMD[*]}"
DUMP="$(timed dump "${DUMP_CMD[@]}")"
summary="$(tail -n 1 "$WORK/dump.out")"
[[ "$(json_get "$summary" records)" == "$N" ]] || die "kbak dump backed up $(json_get "$summary" records) records, expected $N"
BACKUP_BYTES="$(du -sb "$STORE" | cut -f1)"
msg "dumped in $(json_get "$DUMP" wallSeconds)s ($BACKUP_BYTES B on disk)"

# ---------------------------------------------------------------- 3. the recovery
node bin/kbak.js help recover >/dev/null 2>&1 || die "this kbak has no 'recover' command (issue 20): build one that has it and rerun"
# Only the flags name the target: the primary's KBAK_BROKERS / KBAK_SCHEMA_REGISTRY_URL are not passed.
# (`--source` is the store; `--from` would name a backup ID, default the latest.)
RECOVER_CMD=(node bin/kbak.js recover --source "$STORE" --brokers "$TARGET_BROKERS" --schema-registry-url "$TARGET_REGISTRY" -o json --quiet)
msg "recovering it into the target: ${RECOVER_CMD[*]}"
RECOVER="$(timed recover env -u KBAK_BROKERS -u KBAK_SCHEMA_REGISTRY_URL "${RECOVER_CMD[@]}")"
msg "recovered in $(json_get "$RECOVER" wallSeconds)s"

# ---------------------------------------------------------------- 4. check with kcat
on_target="$(records_on "$TARGET_BROKERS" "$TOPIC")"
[[ "$on_target" == "$N" ]] || die "the recovered topic holds $on_target records, expected $N"
first_record() { # BROKERS PARTITION
  kcat -C -b "$1" -t "$TOPIC" -p "$2" -o beginning -c 1 -e -q -f '%k\t%T\t%h\t%s\n'
}
for ((p = 0; p < P; p++)); do
  [[ "$(first_record "$BROKERS" "$p")" == "$(first_record "$TARGET_BROKERS" "$p")" ]] ||
    die "partition $p: the recovered first record differs from the source's (key, timestamp, headers or value)"
done
msg "checked: $on_target records on the target; every partition's first record equals the source's"

# ---------------------------------------------------------------- report
RESULT="$WORK/recovery.json"
R_DATE="$(date -u '+%F %T UTC')" \
  R_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+uncommitted changes')" \
  R_N="$N" R_S="$S" R_P="$P" R_G="$G" R_PRODUCE_S="$PRODUCE_S" R_CPUS="$(nproc)" \
  R_CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  R_MEM="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" R_LOAD="$LOAD_BEFORE" \
  R_KAFKA="$TARGET_KAFKA_VERSION" R_REGISTRY="$TARGET_REGISTRY_VERSION" R_START_S="$TARGET_START_S" \
  R_BACKUP_BYTES="$BACKUP_BYTES" R_ON_TARGET="$on_target" \
  R_DUMP_CMD="kbak dump --topic $TOPIC --to BACKUPS --json --quiet" \
  R_RECOVER_CMD="kbak recover --source BACKUPS --brokers $TARGET_BROKERS --schema-registry-url $TARGET_REGISTRY -o json --quiet" \
  R_RECOVER_SUMMARY="$(tail -n 1 "$WORK/recover.out")" \
  node -e '
    const [dump, recover] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])];
    const e = process.env;
    const reported = (line) => {
      try {
        const j = JSON.parse(line);
        const groups = Array.isArray(j.groups) ? j.groups.filter((g) => g.skipped === null && g.offsets.length > 0).length : null;
        return { records: j.records, durationMs: j.durationMs, recordsPerSecond: j.recordsPerSecond, topicsCreated: j.topicsCreated, groups };
      } catch {
        return null;
      }
    };
    const r = {
      date: e.R_DATE,
      commit: e.R_COMMIT,
      records: Number(e.R_N),
      recordBytes: Number(e.R_S),
      partitions: Number(e.R_P),
      groups: Number(e.R_G),
      produceSeconds: Number(e.R_PRODUCE_S),
      machine: { cpus: Number(e.R_CPUS), cpuModel: e.R_CPU_MODEL, memory: e.R_MEM, load: e.R_LOAD },
      versions: { node: process.version },
      target: { kafkaVersion: e.R_KAFKA, registryVersion: e.R_REGISTRY, startSeconds: Number(e.R_START_S) },
      dump: { ...dump, backupBytes: Number(e.R_BACKUP_BYTES), command: e.R_DUMP_CMD },
      // kbak own figures (-o json) beside the wall clock, which also counts its start and connections.
      recover: { ...recover, recordsPerSec: Math.round(Number(e.R_N) / recover.wallSeconds), command: e.R_RECOVER_CMD, summary: reported(e.R_RECOVER_SUMMARY) },
      verified: { recordsOnTarget: Number(e.R_ON_TARGET), firstRecordPerPartition: true },
    };
    process.stdout.write(JSON.stringify(r, null, 2) + "\n");
  ' "$DUMP" "$RECOVER" >"$RESULT"
node scripts/bench/recovery-section.cjs write BENCHMARKS.md BENCHMARKS.json "$RESULT"
msg "recovery: $N records in $(json_get "$RECOVER" wallSeconds)s = $(json_get "$(cat "$RESULT")" recover recordsPerSec) records/s, peak RSS $(json_get "$RECOVER" rssKiB) KiB (BENCHMARKS.md \"Recovery of a 1 GiB backup\", BENCHMARKS.json recovery)"
