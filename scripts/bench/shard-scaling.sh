#!/usr/bin/env bash
# Sharded dump scaling (issue 21, item 5): one topic of SHARD_BENCH_RECORDS × BENCH_RECORD_BYTES
# (default 1 000 000 × 1 KiB) in SHARD_BENCH_PARTITIONS (12) partitions, dumped to local disk by a
# single `kbak dump` and by 2 and 4 `kbak dump --shard I/N --backup-id ID` processes started at once
# (as the pods of an Indexed Job), SHARD_BENCH_REPEAT (3) times each, in turn. Per run: wall time
# from the start to the last shard's exit (the last shard writes manifest.json just before it
# exits; the run is checked to have made exactly one complete backup of every record), peak RSS
# and CPU seconds of each process (/usr/bin/time -v), the machine's busy CPU share (/proc/stat) and
# the broker's CPU seconds (/proc/<kafka pid>/stat): on one machine the shards and the broker share
# its cores, which is what limits the scaling here.
# The figures go into BENCHMARKS.json (`shardScaling`) and the BENCHMARKS.md section "Sharded dump:
# scaling", rendered by scripts/bench/shard-section.cjs (which also writes the 10 TB estimate and
# its assumptions); `npm run bench` keeps that section. Not part of `npm test`; run it alone, on a
# quiet machine:  bash scripts/bench/shard-scaling.sh
#
# Knobs (environment): SHARD_BENCH_RECORDS (1000000), BENCH_RECORD_BYTES (1024),
# SHARD_BENCH_PARTITIONS (12), SHARD_BENCH_REPEAT (3), SHARD_BENCH_PROCS ("1 2 4"),
# BENCH_SKIP_BUILD=1 (measure the existing dist/). Needs the local stack (started if not running,
# never stopped), kcat, /usr/bin/time, node. Deletes its topic, groups and files, also on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

N="${SHARD_BENCH_RECORDS:-1000000}"
S="${BENCH_RECORD_BYTES:-1024}"
P="${SHARD_BENCH_PARTITIONS:-12}"
R="${SHARD_BENCH_REPEAT:-3}"
PROCS="${SHARD_BENCH_PROCS:-1 2 4}"
G=3

BENCH_TAG=shard-scaling
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
for v in N S P R; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v ('${!v}') must be a positive integer"
done
[[ "$PROCS" =~ ^[1-9][0-9]*( [1-9][0-9]*)*$ ]] || die "SHARD_BENCH_PROCS must be process counts separated by spaces, e.g. '1 2 4'"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (package 'time') is needed for peak RSS: sudo apt-get install time"
bash scripts/ensure-kcat.sh || die "kcat fills the topic: install it (sudo apt-get install kcat) and rerun"

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
STACK_DIR="${KBAK_STACK_DIR:-.stack}"
msg "ensuring the local stack is up ($STACK_DIR)"
bash scripts/stack/up.sh >&2
bench_stack_env "$STACK_DIR"
BROKERS="$KBAK_BROKERS"
KAFKA_PID="$(cat "$STACK_DIR/pids/kafka.pid")"
bench_build
node bin/kbak.js dump --help | grep -q -- '--shard' || die "this kbak has no 'dump --shard' (issue 21): build one that has it and rerun"

ID="$(date +%Y%m%d-%H%M%S)-$$"
TOPIC="kbak-bench-shard-$ID"
GROUP_PREFIX="kbak-bench-shard-$ID"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kbak-shard-scaling.XXXXXX")"
RUNS="$WORK/runs.jsonl"
: >"$RUNS"
CREATED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  msg "cleaning up"
  if ((CREATED)); then
    node scripts/bench/admin.cjs delete-topics-containing "$ID" || msg "could not delete topic $TOPIC; delete it by hand"
    node scripts/bench/admin.cjs delete-groups "$GROUP_PREFIX" || msg "could not delete consumer groups $GROUP_PREFIX*"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- the topic
msg "producing $N records of $S B into $TOPIC ($P partitions) with kcat -P"
CREATED=1
node scripts/bench/admin.cjs create-topic "$TOPIC" "$P"
t0="$(date +%s%N)"
node scripts/bench/gen-records.cjs "$N" "$S" |
  kcat -P -b "$BROKERS" -t "$TOPIC" -K $'\t' -q -H 'traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' 2>"$WORK/produce.log" ||
  {
    tail -n 20 "$WORK/produce.log" >&2
    die "kcat producer failed"
  }
PRODUCE_S="$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
got="$(node scripts/bench/admin.cjs topic-records "$TOPIC")"
[[ "$got" == "$N" ]] || die "the topic holds $got records, expected $N"
node scripts/bench/admin.cjs seed-groups "$TOPIC" "$GROUP_PREFIX" "$G"
msg "produced $N records in ${PRODUCE_S}s"

# ---------------------------------------------------------------- measuring
cpu_busy_idle() { awk '/^cpu / { idle = $5 + $6; busy = 0; for (i = 2; i <= 9; i++) busy += $i; print busy - idle, idle }' /proc/stat; }
broker_ticks() { awk '{ print $14 + $15 }' "/proc/$KAFKA_PID/stat"; }
TICK="$(getconf CLK_TCK)"

# run_once PROCS REP: one dump by PROCS processes into a fresh store; appends a JSON line to $RUNS.
run_once() {
  local procs=$1 rep=$2 store="$WORK/store-$1-$2" out="$WORK/run-$1-$2" backup_id i t0 t1 pids=() b0 i0 b1 i1 k0 k1
  mkdir -p "$store" "$out"
  backup_id="$(date -u +%Y%m%dT%H%M%S%3NZ)"
  read -r b0 i0 < <(cpu_busy_idle)
  k0="$(broker_ticks)"
  t0="$(date +%s%N)"
  if ((procs == 1)); then
    /usr/bin/time -v -o "$out/0.time" node bin/kbak.js dump --topic "$TOPIC" --to "$store" --json --quiet >"$out/0.out" 2>"$out/0.err" &
    pids+=($!)
  else
    for ((i = 0; i < procs; i++)); do
      /usr/bin/time -v -o "$out/$i.time" node bin/kbak.js dump --topic "$TOPIC" --to "$store" --shard "$i/$procs" --backup-id "$backup_id" --json --quiet \
        >"$out/$i.out" 2>"$out/$i.err" &
      pids+=($!)
    done
  fi
  local failed=0
  for ((i = 0; i < ${#pids[@]}; i++)); do wait "${pids[$i]}" || failed=$((i + 1)); done
  t1="$(date +%s%N)"
  read -r b1 i1 < <(cpu_busy_idle)
  k1="$(broker_ticks)"
  if ((failed)); then
    tail -n 20 "$out/$((failed - 1)).err" >&2
    die "process $((failed - 1)) of $procs failed"
  fi
  # Exactly one complete backup, of every record.
  local manifests
  manifests="$(find "$store" -mindepth 3 -maxdepth 3 -name manifest.json)"
  [[ "$(printf '%s\n' "$manifests" | grep -c .)" == 1 ]] || die "$procs processes left $(printf '%s\n' "$manifests" | grep -c .) manifests in $store"
  [[ -z "$(find "$store" -path '*/plans/*' -type f)" ]] || die "$procs processes left a plan behind in $store"
  local records stored
  records="$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stats.records))' "$manifests")"
  stored="$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stats.storedBytes))' "$manifests")"
  [[ "$records" == "$N" ]] || die "$procs processes backed up $records records, expected $N"
  local per=()
  for ((i = 0; i < procs; i++)); do
    per+=("$(awk -F': ' '/Maximum resident set size/ { rss = $2 } /User time \(seconds\)/ { u = $2 } /System time \(seconds\)/ { s = $2 }
      END { printf "{\"rssKiB\":%d,\"userSeconds\":%.2f,\"systemSeconds\":%.2f}", rss, u, s }' "$out/$i.time")")
  done
  local joined
  joined="$(
    IFS=,
    echo "${per[*]}"
  )"
  printf '{"procs":%d,"rep":%d,"wallSeconds":%.3f,"records":%s,"storedBytes":%s,"machineBusyShare":%.3f,"brokerCpuSeconds":%.2f,"processes":[%s]}\n' \
    "$procs" "$rep" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" "$records" "$stored" \
    "$(awk -v b="$((b1 - b0))" -v i="$((i1 - i0))" 'BEGIN { print b / (b + i) }')" \
    "$(awk -v k="$((k1 - k0))" -v t="$TICK" 'BEGIN { print k / t }')" "$joined" >>"$RUNS"
  msg "$(tail -n 1 "$RUNS")"
  rm -rf "$store"
}

for ((rep = 1; rep <= R; rep++)); do
  for procs in $PROCS; do
    msg "run $rep/$R: $procs process(es)"
    run_once "$procs" "$rep"
  done
done

# ---------------------------------------------------------------- report
RESULT="$WORK/shard-scaling.json"
R_DATE="$(date -u '+%F %T UTC')" \
  R_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+uncommitted changes')" \
  R_N="$N" R_S="$S" R_P="$P" R_G="$G" R_REPEAT="$R" R_PRODUCE_S="$PRODUCE_S" R_CPUS="$(nproc)" \
  R_CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  R_MEM="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" R_LOAD="$LOAD_BEFORE" \
  R_KAFKA="${KAFKA_VERSION:-unknown}" \
  node -e '
    const fs = require("fs");
    const e = process.env;
    const runs = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    process.stdout.write(JSON.stringify({
      date: e.R_DATE,
      commit: e.R_COMMIT,
      records: Number(e.R_N),
      recordBytes: Number(e.R_S),
      partitions: Number(e.R_P),
      groups: Number(e.R_G),
      repeat: Number(e.R_REPEAT),
      produceSeconds: Number(e.R_PRODUCE_S),
      machine: { cpus: Number(e.R_CPUS), cpuModel: e.R_CPU_MODEL, memory: e.R_MEM, load: e.R_LOAD },
      versions: { node: process.version, kafka: e.R_KAFKA },
      commands: {
        single: "kbak dump --topic TOPIC --to STORE --json --quiet",
        shard: "kbak dump --topic TOPIC --to STORE --shard I/N --backup-id ID --json --quiet   (I = 0..N-1, all started at once)",
      },
      runs,
    }, null, 2) + "\n");
  ' "$RUNS" >"$RESULT"
node scripts/bench/shard-section.cjs write BENCHMARKS.md BENCHMARKS.json "$RESULT"
msg "written: BENCHMARKS.md \"Sharded dump: scaling\", BENCHMARKS.json shardScaling"
