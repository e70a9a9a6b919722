#!/usr/bin/env bash
# `npm run bench`: how fast and how lean `kbak dump` is, RELATIVE to peers measured in the
# same run on the same topic (never absolute-only, never pass/fail):
#   - kcat (librdkafka) consuming the whole topic to a file, raw and through `zstd -3`
#   - Kafka's own ConsumerPerformance (JVM)
#   - kbak dump to local disk and to S3, plus a memory-boundedness check (N/4 vs N records)
# Wall time and peak RSS come from /usr/bin/time -v; every figure is the median of
# BENCH_REPEAT runs. The report (markdown) goes to stdout and .bench/results-<timestamp>.md.
#
# Knobs (environment):
#   BENCH_RECORDS       records in the bench topic            (default 500000)
#   BENCH_RECORD_BYTES  value size in bytes                   (default 500)
#   BENCH_PARTITIONS    partitions of the bench topic         (default 6)
#   BENCH_REPEAT        runs per tool; the median is reported (default 3)
#   BENCH_PRODUCER      perf: Kafka's ProducerPerformance, keys, no headers (default)
#                       kcat: kcat -P with keys and 3 tracing headers per record
#   BENCH_PROFILE       auto: CPU-profile one kbak dump when kbak is >3x slower than kcat
#                       (default), 1: always, 0: never
#   BENCH_SKIP_BUILD=1  use the existing dist/ instead of `npm run build`
# Needs the local stack (started if not running; never stopped), node, Java 17+, and
# /usr/bin/time, kcat and zstd (installed with apt-get when missing and running as root;
# a missing kcat/zstd only skips that peer). Cleans up its topic, groups, S3 objects and
# temp files, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N="${BENCH_RECORDS:-500000}"
S="${BENCH_RECORD_BYTES:-500}"
P="${BENCH_PARTITIONS:-6}"
R="${BENCH_REPEAT:-3}"
PRODUCER="${BENCH_PRODUCER:-perf}"
PROFILE="${BENCH_PROFILE:-auto}"

msg() { printf 'bench: %s\n' "$*" >&2; }
die() {
  msg "$*"
  exit 1
}
for v in N S P R; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "BENCH_* value '${!v}' for $v must be a positive integer"
done
((N >= 4 * P)) || die "BENCH_RECORDS must be at least 4 × BENCH_PARTITIONS"
[[ "$PRODUCER" == perf || "$PRODUCER" == kcat ]] || die "BENCH_PRODUCER must be perf or kcat"
[[ "$PROFILE" == auto || "$PROFILE" == 0 || "$PROFILE" == 1 ]] || die "BENCH_PROFILE must be auto, 0 or 1"

STAMP="$(date +%Y%m%d-%H%M%S)"
ID="$STAMP-$$"
TOPIC="kbak-bench-$ID"
GROUP_PREFIX="kbak-bench-$ID"
S3_PREFIX="bench-$ID"
NOTES=()

# ---------------------------------------------------------------- tools
APT_UPDATED=0
# ensure_pkg COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is missing and we
# are root; returns non-zero when COMMAND is still missing.
ensure_pkg() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    msg "installing $pkg (apt-get)"
    if ((APT_UPDATED == 0)); then
      apt-get update -qq >&2 || true
      APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 || true
  fi
  command -v "$cmd" >/dev/null 2>&1
}
[[ -x /usr/bin/time ]] || ensure_pkg /usr/bin/time time || die "/usr/bin/time (package 'time') is needed for peak RSS; install it"
HAVE_KCAT=1
HAVE_ZSTD=1
ensure_pkg kcat kcat || {
  HAVE_KCAT=0
  NOTES+=("kcat peers skipped: kcat is not installed and could not be installed (apt-get install kcat)")
}
ensure_pkg zstd zstd || {
  HAVE_ZSTD=0
  NOTES+=("kcat | zstd peer skipped: zstd is not installed and could not be installed (apt-get install zstd)")
}

# ---------------------------------------------------------------- stack, build
msg "ensuring the local stack is up"
bash scripts/stack/up.sh >&2
set -a
# shellcheck source=/dev/null
source .stack/env
set +a
BROKERS="${KBAK_BROKERS:-127.0.0.1:9092}"
if [[ "${BENCH_SKIP_BUILD:-0}" == 1 ]]; then
  [[ -f dist/cli/main.js ]] || die "BENCH_SKIP_BUILD=1 but dist/ is missing; run npm run build"
  NOTES+=("BENCH_SKIP_BUILD=1: measured the existing dist/ (not rebuilt)")
else
  msg "building (npm run build)"
  npm run --silent build >&2 || die "npm run build failed; fix the build or set BENCH_SKIP_BUILD=1 to measure the existing dist/"
fi

# ---------------------------------------------------------------- workspace, cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kbak-bench.XXXXXX")"
TOPIC_CREATED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  msg "cleaning up"
  if ((TOPIC_CREATED)); then
    node scripts/bench/admin.cjs delete-topic "$TOPIC" || msg "could not delete topic $TOPIC; delete it by hand"
    node scripts/bench/admin.cjs delete-groups "$GROUP_PREFIX" || msg "could not delete consumer groups $GROUP_PREFIX*"
    node scripts/bench/admin.cjs s3-rm "${KBAK_S3_BUCKET:-kbak}" "$S3_PREFIX/" || msg "could not delete s3://${KBAK_S3_BUCKET:-kbak}/$S3_PREFIX/"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TSV="$WORK/measurements.tsv"
: >"$TSV"

# run_timed LOGBASE CMD...: runs CMD under /usr/bin/time -v with stdout to LOGBASE.out and
# stderr to LOGBASE.err; sets WALL (seconds) and RSS_KIB (peak RSS of the largest process).
run_timed() {
  local log=$1 t0 t1
  shift
  t0="$(date +%s%N)"
  if ! /usr/bin/time -v -o "$log.time" "$@" >"$log.out" 2>"$log.err"; then
    msg "failed: $*"
    tail -n 20 "$log.err" >&2
    return 1
  fi
  t1="$(date +%s%N)"
  WALL="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
  RSS_KIB="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log.time")"
  [[ -n "$RSS_KIB" ]] || die "no peak RSS in $log.time"
}
# row TOOL REPEAT RECORDS OUT_BYTES JSON
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$WALL" "$RSS_KIB" "$3" "$4" "$5" >>"$TSV"; }
check_count() { # TOOL GOT WANT
  [[ "$2" == "$3" ]] || die "$1 saw $2 records, expected $3"
}

# ---------------------------------------------------------------- fill the topic
msg "creating topic $TOPIC ($P partitions) and producing $N records of $S bytes ($PRODUCER)"
node scripts/bench/admin.cjs create-topic "$TOPIC" "$P"
TOPIC_CREATED=1
t0="$(date +%s%N)"
if [[ "$PRODUCER" == perf ]]; then
  PRODUCER_DESC="Kafka's ProducerPerformance (random keys in [0,100000), no headers, producer defaults)"
  bash scripts/stack/kafka-tool.sh org.apache.kafka.tools.ProducerPerformance \
    --bootstrap-server "$BROKERS" --topic "$TOPIC" --num-records "$N" --record-size "$S" --throughput -1 \
    --key-distribution random --record-key-range 100000 >"$WORK/produce.log" 2>&1 ||
    {
      tail -n 20 "$WORK/produce.log" >&2
      die "ProducerPerformance failed"
    }
  NOTES+=("records carry no headers: ProducerPerformance cannot set any; BENCH_PRODUCER=kcat produces records with 3 tracing headers")
else
  ((HAVE_KCAT)) || die "BENCH_PRODUCER=kcat needs kcat"
  PRODUCER_DESC="kcat -P (keys key-0..99999, 3 tracing headers per record)"
  node scripts/bench/gen-records.cjs "$N" "$S" |
    kcat -P -b "$BROKERS" -t "$TOPIC" -K $'\t' -q \
      -H 'traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
      -H 'b3=4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1' \
      -H 'x-request-source=kbak-bench' 2>"$WORK/produce.log" ||
    {
      tail -n 20 "$WORK/produce.log" >&2
      die "kcat producer failed"
    }
fi
t1="$(date +%s%N)"
PRODUCE_S="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
GOT="$(node scripts/bench/admin.cjs topic-records "$TOPIC")"
check_count "producer" "$GOT" "$N"
msg "produced $N records in ${PRODUCE_S}s"

QUARTER=$((N / 4 / P))
KCAT_FMT='%k\t%s\t%h\n'

# ---------------------------------------------------------------- measurements
for ((rep = 1; rep <= R; rep++)); do
  msg "repeat $rep/$R"
  if ((HAVE_KCAT)); then
    run_timed "$WORK/kcat" kcat -C -b "$BROKERS" -t "$TOPIC" -o beginning -e -q -f "$KCAT_FMT"
    got="$(wc -l <"$WORK/kcat.out")"
    check_count "kcat" "$got" "$N"
    row kcat-file "$rep" "$got" "$(stat -c %s "$WORK/kcat.out")" -
    msg "  kcat → file      ${WALL}s  ${RSS_KIB} KiB"
    rm -f "$WORK/kcat.out"
    if ((HAVE_ZSTD)); then
      # shellcheck disable=SC2016 # $1..$3 are expanded by the inner bash
      run_timed "$WORK/kcatz" bash -c 'set -o pipefail; kcat -C -b "$1" -t "$2" -o beginning -e -q -f "$3" | zstd -3 -q -c' \
        bench "$BROKERS" "$TOPIC" "$KCAT_FMT"
      got="$(zstd -dc "$WORK/kcatz.out" | wc -l)"
      check_count "kcat | zstd" "$got" "$N"
      row kcat-zstd "$rep" "$got" "$(stat -c %s "$WORK/kcatz.out")" -
      msg "  kcat | zstd      ${WALL}s  ${RSS_KIB} KiB"
      rm -f "$WORK/kcatz.out"
    fi
  fi

  run_timed "$WORK/cperf" bash scripts/stack/kafka-tool.sh org.apache.kafka.tools.ConsumerPerformance \
    --bootstrap-server "$BROKERS" --topic "$TOPIC" --num-records "$N" --timeout 30000 \
    --group "$GROUP_PREFIX-cperf-$rep" --hide-header
  # start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.ms, fetch.ms, fetch.MB.sec, fetch.nMsg.sec
  line="$(grep -E '^[0-9]{4}-' "$WORK/cperf.out" | tail -n 1 || true)"
  [[ -n "$line" ]] || die "no result line from ConsumerPerformance: $(cat "$WORK/cperf.out")"
  got="$(awk -F', *' '{ print $5 }' <<<"$line")"
  check_count "ConsumerPerformance" "$got" "$N"
  self="$(awk -F', *' '{ printf "{\"selfRecordsPerSec\":%s,\"fetchRecordsPerSec\":%s}", $6, $10 }' <<<"$line")"
  row cperf "$rep" "$got" - "$self"
  msg "  ConsumerPerf     ${WALL}s  ${RSS_KIB} KiB"

  out="$WORK/kbak-$rep"
  run_timed "$WORK/kbak" node bin/kbak.js dump --topic "$TOPIC" --to "$out" --json --quiet
  summary="$(tail -n 1 "$WORK/kbak.out")"
  got="$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).records))' "$summary")"
  check_count "kbak dump → disk" "$got" "$N"
  row kbak-disk "$rep" "$got" - "$summary"
  msg "  kbak → disk      ${WALL}s  ${RSS_KIB} KiB"
  rm -rf "$out"

  run_timed "$WORK/kbak3" node bin/kbak.js dump --topic "$TOPIC" --to "s3://$KBAK_S3_BUCKET/$S3_PREFIX/r$rep" --json --quiet
  summary="$(tail -n 1 "$WORK/kbak3.out")"
  got="$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).records))' "$summary")"
  check_count "kbak dump → S3" "$got" "$N"
  row kbak-s3 "$rep" "$got" - "$summary"
  msg "  kbak → S3        ${WALL}s  ${RSS_KIB} KiB"
  node scripts/bench/admin.cjs s3-rm "$KBAK_S3_BUCKET" "$S3_PREFIX/r$rep/"

  run_timed "$WORK/kbakq" node bin/kbak.js dump --topic "$TOPIC" --to "$out" --json --quiet --max-records-per-partition "$QUARTER"
  summary="$(tail -n 1 "$WORK/kbakq.out")"
  got="$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).records))' "$summary")"
  row kbak-disk-quarter "$rep" "$got" - "$summary"
  msg "  kbak → disk N/4  ${WALL}s  ${RSS_KIB} KiB"
  rm -rf "$out"
done

# ---------------------------------------------------------------- report
mkdir -p .bench
REPORT=".bench/results-$STAMP.md"
notes_file="$WORK/notes.txt"
: >"$notes_file"
for n in "${NOTES[@]}"; do printf '%s\n' "$n" >>"$notes_file"; done
cp "$TSV" ".bench/results-$STAMP.tsv"

BENCH_ID="$ID" BENCH_DATE="$(date '+%F %T %Z')" BENCH_HOST="$(hostname)" BENCH_CPUS="$(nproc)" \
  BENCH_LOAD="$(cut -d' ' -f1-3 /proc/loadavg)" BENCH_NODE="$(node --version)" \
  BENCH_TOPIC="$TOPIC" BENCH_RECORDS="$N" BENCH_RECORD_BYTES="$S" BENCH_PARTITIONS="$P" \
  BENCH_REPEAT="$R" BENCH_PRODUCER_DESC="$PRODUCER_DESC" BENCH_PRODUCE_S="$PRODUCE_S" \
  node scripts/bench/report.cjs "$TSV" "$notes_file" >"$REPORT"

# Profile one kbak dump when asked, or when kbak is far behind kcat.
median_rps() { # TOOL → median records/s
  awk -F'\t' -v t="$1" '$1 == t { print $5 / $3 }' "$TSV" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
do_profile=0
if [[ "$PROFILE" == 1 ]]; then
  do_profile=1
elif [[ "$PROFILE" == auto ]] && ((HAVE_KCAT)); then
  awk -v k="$(median_rps kbak-disk)" -v c="$(median_rps kcat-file)" 'BEGIN { exit !(k * 3 < c) }' && do_profile=1
fi
if ((do_profile)); then
  msg "profiling one kbak dump → disk (node --cpu-prof)"
  mkdir -p "$WORK/prof"
  node --cpu-prof --cpu-prof-dir="$WORK/prof" bin/kbak.js dump --topic "$TOPIC" --to "$WORK/kbak-prof" --json --quiet >/dev/null
  prof="$(find "$WORK/prof" -name '*.cpuprofile' | head -n 1)"
  if [[ -n "$prof" ]]; then
    cp "$prof" ".bench/kbak-dump-$STAMP.cpuprofile"
    {
      printf '\n## CPU profile of one kbak dump → disk (self time; full profile: .bench/kbak-dump-%s.cpuprofile, open in Chrome DevTools)\n\n' "$STAMP"
      node scripts/bench/cpuprofile-top.cjs "$prof" 20
    } >>"$REPORT"
  fi
fi

cat "$REPORT"
msg "report written to $REPORT (raw measurements: .bench/results-$STAMP.tsv)"
