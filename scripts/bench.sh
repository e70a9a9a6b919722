#!/usr/bin/env bash
# `npm run bench`: how fast and how lean kbak is RELATIVE to peers measured in the same run, on the
# same topic, tools alternating within each repetition (never absolute-only, never pass/fail):
#   dump side     kbak dump → local disk, kbak dump → S3, OSO's backup (kafka-backup-core, Rust),
#                 kcat -C → file, kcat -C | zstd -3 → file, kcat -C without its 0.5 s
#                 end-of-partition wait, Kafka's ConsumerPerformance (the broker's read ceiling)
#   restore side  kbak restore into a new lane vs OSO's restore, kcat -P and Kafka's
#                 ProducerPerformance, every producer using the same codec (BENCH_CODEC, kbak
#                 restore --compression; OSO keeps its own default); and kbak restore --lane-baggage
#                 (a baggage header on every record) vs the restore without it. Topic creation is
#                 inside every restore-side tool's time: kbak and OSO create theirs in their run;
#                 for kcat -P and ProducerPerformance, which cannot, the milliseconds the topic's
#                 CreateTopics and wait for leaders took (admin.cjs, in-process) are added
#   shapes        (BENCH_SHAPES) default: the topic above with every row; small: BENCH_SMALL_RECORDS
#                 ~100 B JSON events with keys (per-record cost dominates); compressible:
#                 BENCH_RECORDS 1 KiB JSON-ish log lines (zstd ratio far above 5: compression is
#                 cheap and everything else shows). Each extra shape is its own topic (same
#                 partitions, the same 3 headers, filled by kcat -P) measured with kcat -C, kbak
#                 dump → disk and → S3, OSO's backup, kcat -P, kbak restore and OSO's restore
#   start-up      `node bin/kbak.js --version`, 10 runs
#   groups        kbak restore of a backup holding BENCH_GROUPS consumer groups (time to seed them)
#   masked        kbak restore --policy (seeding from production) vs the unmasked restore of the same
#                 backup: a second topic of BENCH_RECORDS Avro records of about BENCH_RECORD_BYTES
#                 (scripts/bench/gen-avro.cjs: schema registered under <topic>-value, key = customer
#                 id, 20 000 customers) masked by a policy with 3 rules (email fake email, name hash,
#                 card partial last4) and sample { fraction: 0.9, by: key }. Both rows count SOURCE
#                 records per second (BENCH_RECORDS / wall), so the ~10 % the sample leaves out do
#                 not flatter the masked one; target ≥ 0.5× the unmasked restore, peak RSS within
#                 the unmasked restore's + 64 MiB. A third row, the unmasked restore record by record
#                 (--since 2000-01-01: a time window, like a policy, turns off the whole-block
#                 transcoder), shows what of the masked restore's cost is that path, not masking
# Wall time and peak RSS come from /usr/bin/time -v, of a cold process (node's start-up included for
# kbak, as users run it); every figure is the median of BENCH_REPEAT runs, with min–max. Everything
# runs on Node 24 (the one .ci/run installs, scripts/lib/node-bin.sh, first on PATH), whatever
# `node` is first on PATH before.
# OSO's peer is scripts/bench/oso (a driver over kafka-backup-core 0.25.2), built once with
# scripts/bench/build-oso.sh (≈15 min); the bench takes $OSO_BENCH_BIN, else
# ${XDG_CACHE_HOME:-~/.cache}/oso-bench/release/oso-bench, and skips the OSO rows with a note when
# neither is there (CI never builds it).
# BENCHMARKS.md and BENCHMARKS.json (repository root) are rewritten by each run; the raw measurements
# go to .bench/results-<timestamp>.tsv.
#
# Knobs (environment):
#   BENCH_RECORDS       records in the bench topic                          (default 200000)
#   BENCH_RECORD_BYTES  value size in bytes                                 (default 1024)
#   BENCH_PARTITIONS    partitions of the bench topic                       (default 6)
#   BENCH_REPEAT        runs per tool; the median is reported               (default 5)
#   BENCH_SHAPES        topics measured, comma-separated; must include default
#                       (default default,small,compressible)
#   BENCH_SMALL_RECORDS records of the small shape                          (default 1000000)
#   OSO_BENCH_BIN       OSO's driver binary (default: see above)
#   BENCH_CODEC         codec of every restore-side producer: none|gzip|snappy|lz4|zstd (default lz4,
#                       kbak restore's own default for a topic without compression.type)
#   BENCH_GROUPS        consumer groups in the backup of the groups restore (default 20; 0 skips it)
#   BENCH_MASKED        1: the masked restore rows kbak-restore-avro, kbak-restore-avro-records and
#                       kbak-restore-masked (default), 0: skip them (and the Avro topic)
#   BENCH_MEMORY        memory shapes measured once each after the main runs, comma-separated
#                       (default large,wide; '' skips): large = 4 × BENCH_RECORDS records in
#                       BENCH_PARTITIONS partitions (1 GiB at the defaults), wide = BENCH_RECORDS
#                       records in BENCH_WIDE_PARTITIONS partitions (default 200). Each gets one
#                       kbak dump → disk, dump → S3 and restore, so peak RSS can be compared with
#                       the main topic's: memory must not grow with size or partitions.
#   BENCH_PROFILE       auto: CPU-profile one kbak dump and one restore (and one masked restore
#                       with BENCH_MASKED=1) of the default shape when a speed target is missed
#                       there (dump < 1.0x kcat -C, restore < 0.8x kcat -P or masked < 0.5x
#                       unmasked; default),
#                       1: always, 0: never
#   BENCH_SKIP_BUILD=1  use the existing dist/ instead of `npm run build`
#   BENCH_RECOVER=1     afterwards, also the recovery of a 1 GiB backup into a fresh second cluster
#                       (scripts/bench-recover.sh, alone: `npm run bench:recover`; several minutes).
#                       Without it the last recovery figures (BENCHMARKS.json `recovery`) are kept.
# The sharded dump's scaling (BENCHMARKS.md "Sharded dump: scaling", BENCHMARKS.json `shardScaling`) is
# measured only by scripts/bench/shard-scaling.sh; every run of this script keeps its last figures.
# Each topic is filled once by kcat -P: keys key-0..99999, values by scripts/bench/gen-records.cjs
# (default: BENCH_RECORD_BYTES random letters), 3 tracing headers per record; the masked restore's
# key (KBAK_BENCH_MASK_KEY) is random for each run. At the defaults a run takes about 15-20 minutes
# on 2 cores. Needs the local stack (started if not running; never stopped), npm (Node 24 is
# installed from the npm registry when missing), Java 17+, /usr/bin/time and kcat
# (scripts/ensure-kcat.sh installs it with apt-get as root, else says how); zstd is optional (its peer
# is skipped without it). Cleans up its topics, groups, registry subjects, S3 objects and temp files,
# also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N="${BENCH_RECORDS:-200000}"
S="${BENCH_RECORD_BYTES:-1024}"
P="${BENCH_PARTITIONS:-6}"
R="${BENCH_REPEAT:-5}"
BENCH_SHAPE_LIST="${BENCH_SHAPES:-default,small,compressible}"
SMALL_N="${BENCH_SMALL_RECORDS:-1000000}"
G="${BENCH_GROUPS:-20}"
CODEC="${BENCH_CODEC:-lz4}"
PROFILE="${BENCH_PROFILE:-auto}"
MEMORY="${BENCH_MEMORY-large,wide}"
WIDE_P="${BENCH_WIDE_PARTITIONS:-200}"
MASKED="${BENCH_MASKED:-1}"

BENCH_TAG=bench
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
for v in N S P R SMALL_N; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "BENCH_* value '${!v}' for $v must be a positive integer"
done
[[ "$G" =~ ^[0-9]+$ ]] || die "BENCH_GROUPS must be 0 or a positive integer"
((N >= 2 * P)) || die "BENCH_RECORDS must be at least 2 × BENCH_PARTITIONS"
[[ "$CODEC" =~ ^(none|gzip|snappy|lz4|zstd)$ ]] || die "BENCH_CODEC must be one of none, gzip, snappy, lz4, zstd"
[[ "$WIDE_P" =~ ^[1-9][0-9]*$ ]] || die "BENCH_WIDE_PARTITIONS must be a positive integer"
[[ "$MEMORY" =~ ^((large|wide)(,(large|wide))*)?$ ]] || die "BENCH_MEMORY must be a comma-separated list of large, wide (or empty to skip)"
[[ "$MASKED" == 0 || "$MASKED" == 1 ]] || die "BENCH_MASKED must be 0 or 1"
[[ "$PROFILE" == auto || "$PROFILE" == 0 || "$PROFILE" == 1 ]] || die "BENCH_PROFILE must be auto, 0 or 1"
[[ "$BENCH_SHAPE_LIST" =~ ^(default|small|compressible)(,(default|small|compressible))*$ && ",$BENCH_SHAPE_LIST," == *,default,* ]] ||
  die "BENCH_SHAPES must be a comma-separated list of default, small, compressible that includes default"
((SMALL_N >= 2 * P)) || die "BENCH_SMALL_RECORDS must be at least 2 × BENCH_PARTITIONS"

# Node 24, first on PATH for everything below (npm, kbak, the helpers): the runtime CI tests on.
# shellcheck source=scripts/lib/node-bin.sh
source scripts/lib/node-bin.sh
NODE24="$(NODE_BIN_TAG=bench node_bin 24)" || die "could not find or install Node 24 (see scripts/lib/node-bin.sh)"
PATH="$(dirname "$NODE24"):$PATH"
export PATH

STAMP="$(date +%Y%m%d-%H%M%S)"
ID="$STAMP-$$"
TOPIC="kbak-bench-$ID"
GROUP_PREFIX="kbak-bench-$ID"
LANE_PREFIX="kb$ID" # lane names: lowercase letters, digits, '-'; lane topics are <lane>.<topic>
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
[[ -x /usr/bin/time ]] || ensure_pkg /usr/bin/time time || die "/usr/bin/time (package 'time') is needed for peak RSS: sudo apt-get install time"
bash scripts/ensure-kcat.sh || die "kcat fills the bench topic and is the main peer: install it (Debian/Ubuntu: sudo apt-get install kcat; macOS: brew install kcat) and rerun"
HAVE_ZSTD=1
ensure_pkg zstd zstd || {
  HAVE_ZSTD=0
  NOTES+=("kcat | zstd peer skipped: zstd is not installed (sudo apt-get install zstd)")
}
OSO_BIN="${OSO_BENCH_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/oso-bench/release/oso-bench}"
HAVE_OSO=1
if [[ ! -x "$OSO_BIN" ]]; then
  HAVE_OSO=0
  NOTES+=("OSO rows skipped: no oso-bench binary at $OSO_BIN. Build it once with \`bash scripts/bench/build-oso.sh\` (≈15 min on 2 cores, needs cargo) or point OSO_BENCH_BIN at one")
  msg "OSO's peer skipped: no $OSO_BIN (bash scripts/bench/build-oso.sh builds it, ≈15 min)"
fi

# ---------------------------------------------------------------- stack, build
msg "ensuring the local stack is up"
bash scripts/stack/up.sh >&2
bench_stack_env "${KBAK_STACK_DIR:-.stack}"
BROKERS="${KBAK_BROKERS:-127.0.0.1:9092}"
BUCKET="${KBAK_S3_BUCKET:-kbak}"
bench_build
((BENCH_REBUILT)) || NOTES+=("BENCH_SKIP_BUILD=1: measured the existing dist/ (not rebuilt)")

# ---------------------------------------------------------------- workspace, cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kbak-bench.XXXXXX")"
CREATED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  msg "cleaning up"
  if ((CREATED)); then
    # Every topic of this run has $ID in its name: the source, lane topics, the peers' targets.
    node scripts/bench/admin.cjs delete-topics-containing "$ID" || msg "could not delete the topics containing $ID; delete them by hand"
    node scripts/bench/admin.cjs delete-groups "$GROUP_PREFIX" || msg "could not delete consumer groups $GROUP_PREFIX*"
    node scripts/bench/admin.cjs delete-groups "$LANE_PREFIX" || msg "could not delete consumer groups $LANE_PREFIX*"
    node scripts/bench/admin.cjs s3-rm "$BUCKET" "$S3_PREFIX/" || msg "could not delete s3://$BUCKET/$S3_PREFIX/"
    # The Avro topic's subject and the lanes' subjects (lane names contain $ID too).
    node scripts/bench/admin.cjs delete-subjects-containing "$ID" || msg "could not delete the registry subjects containing $ID"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TSV="$WORK/measurements.tsv"
CMDS="$WORK/commands.tsv"
: >"$TSV"
: >"$CMDS"

# run_timed TOOL LOGBASE CMD...: runs CMD under /usr/bin/time -v with stdout to LOGBASE.out and
# stderr to LOGBASE.err; sets WALL (seconds) and RSS_KIB (peak RSS of the largest process), and
# keeps the first command line of each tool for the report.
run_timed() {
  local tool=$1 log=$2 t0 t1
  shift 2
  if ! grep -q "^$tool	" "$CMDS"; then
    printf '%s\t%s\n' "$tool" "${CMD_DISPLAY:-$(shell_words "$@")}" >>"$CMDS"
  fi
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
  # CPU seconds (user + system) of the tool and every process it waited for: on this shared
  # 2-core machine (the broker runs here too) CPU spent is what wall time cannot hide.
  CPU_S="$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { t += $2 } END { printf "%.2f", t }' "$log.time")"
}
# shell_words ARG...: the arguments as one copy-pasteable command line, quoted only where needed.
shell_words() {
  local a out=()
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then
      out+=("$a")
    elif [[ "$a" == *[$'\t\n']* ]]; then
      out+=("$(printf '%q' "$a")")
    else
      out+=("'${a//\'/\'\\\'\'}'")
    fi
  done
  printf '%s' "${out[*]}"
}
# row TOOL REPEAT RECORDS OUT_BYTES JSON: one measurement of the current shape ($SHAPE).
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$WALL" "$RSS_KIB" "$3" "$4" "$5" "$CPU_S" "$SHAPE" >>"$TSV"; }
# add_create_time MS_FILE: adds the in-process milliseconds of a topic's creation (admin.cjs
# create-topic ... MS_FILE) to WALL, for the producers that cannot create their topic themselves.
# Sets CREATE_MS to them too, for the row's JSON.
add_create_time() {
  CREATE_MS="$(cat "$1")"
  WALL="$(awk -v w="$WALL" -v ms="$CREATE_MS" 'BEGIN { printf "%.3f", w + ms / 1000 }')"
}
check_count() { # WHAT GOT WANT
  [[ "$2" == "$3" ]] || die "$1 saw $2 records, expected $3"
}
json_field() { # JSON FIELD
  node -e 'const v = JSON.parse(process.argv[1])[process.argv[2]]; process.stdout.write(String(v))' "$1" "$2"
}
say() { msg "$(printf '  %-22s %8ss %8s KiB' "$1" "$WALL" "$RSS_KIB")"; }

HEADERS=(-H 'traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  -H 'b3=4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1'
  -H 'uber-trace-id=4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1')
KCAT_FMT='%k\t%s\t%h\n'

# ---------------------------------------------------------------- fill the topics
# The current shape, which the measurement functions below read: SHAPE, its topic T, its record
# count NN, its records file RF (kcat -P's input), its kbak and OSO restore sources SRC and OSRC, and
# TAG, which keeps its lane names and S3 prefixes apart from the other shapes'.
declare -A FILL_S
# fill_shape SHAPE TOPIC RECORDS VALUE_BYTES KIND TAG: generates the records, creates and fills the
# topic with kcat -P (3 tracing headers each), makes the restore sources (kbak's and, when there,
# OSO's backup: made once, not measured) and makes it the current shape.
fill_shape() {
  SHAPE=$1 T=$2 NN=$3 TAG=$6
  local bytes=$4 kind=$5 t0 t1
  RF="$WORK/records-$SHAPE.tsv"
  SRC="$WORK/restore-src-$SHAPE"
  OSRC="$WORK/oso-src-$SHAPE"
  msg "shape $SHAPE: generating $NN records of about $bytes bytes ($kind) with keys"
  node scripts/bench/gen-records.cjs "$NN" "$bytes" "$kind" >"$RF"
  msg "creating topic $T ($P partitions) and producing them with kcat -P (3 tracing headers each)"
  CREATED=1
  node scripts/bench/admin.cjs create-topic "$T" "$P"
  t0="$(date +%s%N)"
  kcat -P -b "$BROKERS" -t "$T" -K $'\t' -q "${HEADERS[@]}" -l "$RF" 2>"$WORK/produce.log" ||
    {
      tail -n 20 "$WORK/produce.log" >&2
      die "kcat producer failed"
    }
  t1="$(date +%s%N)"
  FILL_S[$SHAPE]="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
  check_count "the $SHAPE topic" "$(node scripts/bench/admin.cjs topic-records "$T")" "$NN"
  msg "produced $NN records in ${FILL_S[$SHAPE]}s"
  node bin/kbak.js dump --topic "$T" --to "$SRC" --json --quiet >"$WORK/restore-src.json"
  check_count "the $SHAPE restore source backup" "$(json_field "$(tail -n 1 "$WORK/restore-src.json")" records)" "$NN"
  if ((HAVE_OSO)); then
    env OSO_BOOTSTRAP="$BROKERS" "$OSO_BIN" "$T" "$OSRC" 2>"$WORK/oso-src.err" || {
      tail -n 20 "$WORK/oso-src.err" >&2
      die "OSO's backup of $T failed"
    }
    check_count "OSO's $SHAPE restore source backup" "$(oso_records "$OSRC")" "$NN"
  fi
}
# oso_records DIR: the records of OSO's backup in DIR as its own reader counts them.
oso_records() {
  "$OSO_BIN" verify "$1" 2>/dev/null | sed -n 's/^TOTAL .*read_records=\([0-9]*\).*/\1/p'
}

fill_shape default "$TOPIC" "$N" "$S" random ""
RECORDS_FILE="$RF"
RESTORE_SRC="$SRC"
PRODUCE_S="${FILL_S[default]}"

# The masked restore's topic, backup (made once, not measured) and policy.
if ((MASKED)); then
  AVRO_TOPIC="$TOPIC-avro"
  msg "creating topic $AVRO_TOPIC ($P partitions) and producing $N Avro records of about $S bytes"
  node scripts/bench/admin.cjs create-topic "$AVRO_TOPIC" "$P"
  node scripts/bench/gen-avro.cjs "$AVRO_TOPIC" "$N" "$S"
  check_count "the Avro topic" "$(node scripts/bench/admin.cjs topic-records "$AVRO_TOPIC")" "$N"
  AVRO_SRC="$WORK/avro-src"
  node bin/kbak.js dump --topic "$AVRO_TOPIC" --to "$AVRO_SRC" --json --quiet >"$WORK/avro-src.json"
  check_count "the Avro backup" "$(json_field "$(tail -n 1 "$WORK/avro-src.json")" records)" "$N"
  check_count "schemas in the Avro backup" "$(json_field "$(tail -n 1 "$WORK/avro-src.json")" schemas)" 1
  # A fresh key each run: the policy names the variable, never the key (docs/masking-policy.md).
  KBAK_BENCH_MASK_KEY="$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))')"
  export KBAK_BENCH_MASK_KEY
  POLICY="$WORK/mask-policy.yaml"
  # The topic name is letters, digits and '-': no regex metacharacter to escape.
  cat >"$POLICY" <<EOF
version: 1
key: { env: KBAK_BENCH_MASK_KEY, encoding: base64 }
topics:
  - match: "$AVRO_TOPIC"
    value:
      - { path: email, action: fake, fake: email }
      - { path: name, action: hash }
      - { path: card, action: partial, keep: last4 }
    sample: { fraction: 0.9, by: key }
EOF
fi

# ---------------------------------------------------------------- one measurement per tool
# Each m_* function measures one run of one tool on the current shape (T, NN, RF, SRC, OSRC, TAG:
# fill_shape); the default shape's own rows (cperf, pperf, kcat -C variants, baggage, Avro) run
# only there, where T is $TOPIC and NN is $N.
# kcat_to_file TOOL LOG WHAT REPEAT [KCAT OPTION...]: one kcat -C read of the topic into a file.
kcat_to_file() {
  local tool=$1 log=$2 what=$3 rep=$4 got
  shift 4
  run_timed "$tool" "$log" kcat -C -b "$BROKERS" -t "$T" "$@" -o beginning -e -q -f "$KCAT_FMT"
  got="$(wc -l <"$log.out")"
  check_count "$what" "$got" "$NN"
  row "$tool" "$rep" "$got" "$(stat -c %s "$log.out")" -
  say "$what"
  rm -f "$log.out"
}
m_kcat_file() { kcat_to_file kcat-file "$WORK/kcat" "kcat -C" "$1"; }
# kcat as users run it waits fetch.wait.max.ms (librdkafka default 500 ms) at each partition's
# end before it reports EOF and exits: a fixed ~0.5 s in its wall time (a 20 000-record topic:
# 0.56 s vs 0.05-0.14 s with 10 ms). This row shows its read throughput without that wait.
m_kcat_nowait() { kcat_to_file kcat-nowait "$WORK/kcatn" "kcat -C wait 10 ms" "$1" -X fetch.wait.max.ms=10; }
m_kcat_zstd() {
  # shellcheck disable=SC2016 # $1..$3 are expanded by the inner bash
  CMD_DISPLAY="kcat -C -b $BROKERS -t $TOPIC -o beginning -e -q -f '$KCAT_FMT' | zstd -3 -q -c > FILE" \
    run_timed kcat-zstd "$WORK/kcatz" bash -c 'set -o pipefail; kcat -C -b "$1" -t "$2" -o beginning -e -q -f "$3" | zstd -3 -q -c' \
    bench "$BROKERS" "$TOPIC" "$KCAT_FMT"
  local got
  got="$(zstd -dc "$WORK/kcatz.out" | wc -l)"
  check_count "kcat -C | zstd" "$got" "$N"
  row kcat-zstd "$1" "$got" "$(stat -c %s "$WORK/kcatz.out")" -
  say "kcat -C | zstd -3"
  rm -f "$WORK/kcatz.out"
}
m_cperf() {
  run_timed cperf "$WORK/cperf" bash scripts/stack/kafka-tool.sh org.apache.kafka.tools.ConsumerPerformance \
    --bootstrap-server "$BROKERS" --topic "$TOPIC" --num-records "$N" --timeout 30000 \
    --group "$GROUP_PREFIX-cperf-$1" --hide-header
  # start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.ms, fetch.ms, fetch.MB.sec, fetch.nMsg.sec
  local line got self
  line="$(grep -E '^[0-9]{4}-' "$WORK/cperf.out" | tail -n 1 || true)"
  [[ -n "$line" ]] || die "no result line from ConsumerPerformance: $(cat "$WORK/cperf.out")"
  got="$(awk -F', *' '{ print $5 }' <<<"$line")"
  check_count "ConsumerPerformance" "$got" "$N"
  self="$(awk -F', *' '{ printf "{\"selfRecordsPerSec\":%s,\"fetchRecordsPerSec\":%s}", $6, $10 }' <<<"$line")"
  row cperf "$1" "$got" - "$self"
  say "ConsumerPerformance"
}
m_kbak_disk() {
  local out="$WORK/kbak-$1" summary
  run_timed kbak-dump-disk "$WORK/kbak" node bin/kbak.js dump --topic "$T" --to "$out" --json --quiet
  summary="$(tail -n 1 "$WORK/kbak.out")"
  check_count "kbak dump → disk" "$(json_field "$summary" records)" "$NN"
  row kbak-dump-disk "$1" "$NN" "$(du -sb "$out" | cut -f1)" "$summary"
  say "kbak dump > disk"
  rm -rf "$out"
}
m_kbak_s3() {
  local summary
  run_timed kbak-dump-s3 "$WORK/kbak3" node bin/kbak.js dump --topic "$T" --to "s3://$BUCKET/$S3_PREFIX/${TAG}r$1" --json --quiet
  summary="$(tail -n 1 "$WORK/kbak3.out")"
  check_count "kbak dump → S3" "$(json_field "$summary" records)" "$NN"
  row kbak-dump-s3 "$1" "$NN" - "$summary"
  say "kbak dump > S3"
  node scripts/bench/admin.cjs s3-rm "$BUCKET" "$S3_PREFIX/${TAG}r$1/" >/dev/null
}
# OSO's one-shot backup (zstd-3, its defaults) into a fresh folder; its records are counted by its
# own reader after the timing.
m_oso_backup() {
  local out="$WORK/oso-$1"
  run_timed oso-backup "$WORK/osob" env OSO_BOOTSTRAP="$BROKERS" "$OSO_BIN" "$T" "$out"
  check_count "OSO backup" "$(oso_records "$out")" "$NN"
  row oso-backup "$1" "$NN" "$(du -sb "$out" | cut -f1)" -
  say "OSO backup"
  rm -rf "$out"
}
m_kbak_restore() {
  local lane="$LANE_PREFIX-${TAG}r$1" summary
  run_timed kbak-restore "$WORK/kbakr" node bin/kbak.js restore --lane "$lane" --source "$SRC" --compression "$CODEC" --json --quiet
  summary="$(tail -n 1 "$WORK/kbakr.out")"
  check_count "kbak restore (summary)" "$(json_field "$summary" records)" "$NN"
  check_count "kbak restore (lane topic)" "$(node scripts/bench/admin.cjs topic-records "$lane.$T")" "$NN"
  row kbak-restore "$1" "$NN" - "$summary"
  say "kbak restore"
}
# OSO's restore of its backup (made once by fill_shape) into a new topic, which it creates itself.
m_oso_restore() {
  local target="$T-osor-r$1" got
  run_timed oso-restore "$WORK/osor" env OSO_BOOTSTRAP="$BROKERS" "$OSO_BIN" restore "$OSRC" "$T" "$target"
  got="$(sed -n 's/.*records_restored=\([0-9]*\).*/\1/p' "$WORK/osor.err" | tail -n 1)"
  check_count "OSO restore (its report)" "$got" "$NN"
  check_count "OSO restore (topic)" "$(node scripts/bench/admin.cjs topic-records "$target")" "$NN"
  row oso-restore "$1" "$NN" - -
  say "OSO restore"
}
# The same restore with --lane-baggage: the bench records carry no baggage header, so each gets
# one (lane=<lane>) appended, the transcoder's per-record work with the flag.
m_kbak_restore_baggage() {
  local lane="$LANE_PREFIX-b$1" summary
  run_timed kbak-restore-baggage "$WORK/kbakb" node bin/kbak.js restore --lane "$lane" --source "$RESTORE_SRC" --compression "$CODEC" --lane-baggage lane --json --quiet
  summary="$(tail -n 1 "$WORK/kbakb.out")"
  check_count "kbak restore --lane-baggage (summary)" "$(json_field "$summary" records)" "$N"
  check_count "kbak restore --lane-baggage (lane topic)" "$(node scripts/bench/admin.cjs topic-records "$lane.$TOPIC")" "$N"
  row kbak-restore-baggage "$1" "$N" - "$summary"
  say "kbak restore + baggage"
}
# avro_restore TOOL REPEAT LOGBASE LANE LABEL [RESTORE OPTION...]: one unmasked restore of the Avro
# backup into LANE, every record checked in the summary and in the lane topic.
avro_restore() {
  local tool=$1 rep=$2 log=$3 lane=$4 label=$5 summary
  shift 5
  run_timed "$tool" "$log" node bin/kbak.js restore --lane "$lane" --source "$AVRO_SRC" --compression "$CODEC" "$@" --json --quiet
  summary="$(tail -n 1 "$log.out")"
  check_count "$label (summary)" "$(json_field "$summary" records)" "$N"
  check_count "$label (lane topic)" "$(node scripts/bench/admin.cjs topic-records "$lane.$AVRO_TOPIC")" "$N"
  row "$tool" "$rep" "$N" - "$summary"
  say "$label"
}
# The unmasked restore of the Avro backup: the masked restore's baseline.
m_kbak_restore_avro() { avro_restore kbak-restore-avro "$1" "$WORK/kbaka" "$LANE_PREFIX-a$1" "kbak restore avro"; }
# The same restore record by record: a --since before every record filters nothing out but, like
# --policy, makes each record go through the per-record path instead of the whole-block
# transcoder (write-partition.ts), so this row separates that path's cost from masking's.
m_kbak_restore_avro_records() {
  avro_restore kbak-restore-avro-records "$1" "$WORK/kbakw" "$LANE_PREFIX-w$1" "kbak restore avro rec" --since 2000-01-01T00:00:00Z
}
# The same backup through the policy: the sample leaves about 10 % out, so the summary's records
# plus sampledOut must be N. The row counts N (source records): records/s is N / wall for both.
m_kbak_restore_masked() {
  local lane="$LANE_PREFIX-k$1" summary written sampled cards
  run_timed kbak-restore-masked "$WORK/kbakk" node bin/kbak.js restore --lane "$lane" --source "$AVRO_SRC" --compression "$CODEC" --policy "$POLICY" --json --quiet
  summary="$(tail -n 1 "$WORK/kbakk.out")"
  written="$(json_field "$summary" records)"
  sampled="$(json_field "$summary" sampledOut)"
  check_count "kbak restore --policy (records + sampledOut)" "$((written + sampled))" "$N"
  ((sampled > 0 && written > 0)) || die "kbak restore --policy wrote $written and sampled out $sampled records: the sample did not apply"
  check_count "kbak restore --policy (lane topic)" "$(node scripts/bench/admin.cjs topic-records "$lane.$AVRO_TOPIC")" "$written"
  # Read back with kcat, not kbak: no source card number (dddd-dddd-dddd-dddd) in the lane.
  kcat -C -b "$BROKERS" -t "$lane.$AVRO_TOPIC" -o beginning -c 200 -e -q -f '%s\n' >"$WORK/kbakk.lane" || die "kcat could not read $lane.$AVRO_TOPIC"
  [[ -s "$WORK/kbakk.lane" ]] || die "kcat read nothing from $lane.$AVRO_TOPIC"
  cards="$(grep -acE '[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}' "$WORK/kbakk.lane" || true)"
  check_count "source card numbers in 200 records of the masked lane" "$cards" 0
  row kbak-restore-masked "$1" "$N" - "$summary"
  say "kbak restore --policy"
}
# kcat -P and ProducerPerformance cannot create their topic: its creation's time is added to theirs.
m_kcat_produce() {
  local target="$T-kcatp-r$1"
  node scripts/bench/admin.cjs create-topic "$target" "$P" "$WORK/create.ms"
  run_timed kcat-produce "$WORK/kcatp" kcat -P -b "$BROKERS" -t "$target" -K $'\t' -z "$CODEC" -q "${HEADERS[@]}" -l "$RF"
  add_create_time "$WORK/create.ms"
  check_count "kcat -P" "$(node scripts/bench/admin.cjs topic-records "$target")" "$NN"
  row kcat-produce "$1" "$NN" - "{\"createMs\":$CREATE_MS}"
  say "kcat -P"
}
m_pperf() {
  local target="$TOPIC-pperf-r$1"
  node scripts/bench/admin.cjs create-topic "$target" "$P" "$WORK/create.ms"
  run_timed pperf "$WORK/pperf" bash scripts/stack/kafka-tool.sh org.apache.kafka.tools.ProducerPerformance \
    --bootstrap-server "$BROKERS" --topic "$target" --num-records "$N" --record-size "$S" --throughput -1 \
    --key-distribution random --record-key-range 100000 --producer-props "compression.type=$CODEC"
  add_create_time "$WORK/create.ms"
  check_count "ProducerPerformance" "$(node scripts/bench/admin.cjs topic-records "$target")" "$N"
  # Last line: "N records sent, X records/sec (Y MB/sec), ..."
  local self
  self="$(grep -E 'records sent' "$WORK/pperf.out" | tail -n 1 | awk -F'[ (,]+' -v ms="$CREATE_MS" '{ printf "{\"selfRecordsPerSec\":%s,\"createMs\":%s}", $4, ms }')"
  row pperf "$1" "$N" - "${self:-{\"createMs\":$CREATE_MS\}}"
  say "ProducerPerformance"
}

# The default shape: every row. The other shapes: the rows of the issue's targets and their peers.
if ((HAVE_OSO)); then
  TOOLS=(m_kcat_file m_kbak_disk m_cperf m_oso_backup m_kbak_s3 m_kcat_produce m_kbak_restore m_oso_restore m_pperf m_kcat_nowait m_kbak_restore_baggage)
  SHAPE_TOOLS=(m_kcat_file m_kbak_disk m_oso_backup m_kbak_s3 m_kcat_produce m_kbak_restore m_oso_restore)
else
  TOOLS=(m_kcat_file m_kbak_disk m_cperf m_kbak_s3 m_kcat_produce m_kbak_restore m_pperf m_kcat_nowait m_kbak_restore_baggage)
  SHAPE_TOOLS=(m_kcat_file m_kbak_disk m_kbak_s3 m_kcat_produce m_kbak_restore)
fi
((HAVE_ZSTD)) && TOOLS+=(m_kcat_zstd)
((MASKED)) && TOOLS+=(m_kbak_restore_avro m_kbak_restore_avro_records m_kbak_restore_masked)

# ---------------------------------------------------------------- measurements
# measure_shape TOOL...: BENCH_REPEAT repetitions of every tool on the current shape.
measure_shape() {
  local tools=("$@") n=$# rep i
  for ((rep = 1; rep <= R; rep++)); do
    msg "shape $SHAPE: repeat $rep/$R"
    # Rotate the order each repetition so no tool always runs first (cold caches) or last.
    for ((i = 0; i < n; i++)); do
      "${tools[$(((i + rep - 1) % n))]}" "$rep"
    done
  done
}
measure_shape "${TOOLS[@]}"
IFS=',' read -r -a SHAPE_LIST <<<"$BENCH_SHAPE_LIST"
for shape in "${SHAPE_LIST[@]}"; do
  case "$shape" in
    default) continue ;;
    small) fill_shape small "$TOPIC-small" "$SMALL_N" 100 json s ;;
    compressible) fill_shape compressible "$TOPIC-compressible" "$N" 1024 compressible c ;;
  esac
  measure_shape "${SHAPE_TOOLS[@]}"
  # The shape's topics (its lanes' and the peers' too: all contain its name) and files are done with.
  node scripts/bench/admin.cjs delete-topics-containing "$T" >/dev/null || msg "could not delete the topics containing $T"
  rm -rf "$RF" "$SRC" "$OSRC"
done
# Back to the default shape: the sections below use its topic and backups.
SHAPE=default T="$TOPIC" NN="$N" RF="$RECORDS_FILE" SRC="$RESTORE_SRC" OSRC="$WORK/oso-src-default" TAG=""

# ---------------------------------------------------------------- start-up
# kbak's start-up alone, as a user or a script meets it: 10 cold runs of `kbak --version`.
msg "kbak --version, 10 runs"
for ((rep = 1; rep <= 10; rep++)); do
  run_timed kbak-version "$WORK/version" node bin/kbak.js --version
  [[ -s "$WORK/version.out" ]] || die "kbak --version printed nothing"
  row kbak-version "$rep" 0 - -
done
say "kbak --version (last)"

# ---------------------------------------------------------------- restore with consumer groups
if ((G > 0)); then
  msg "restore of a backup with $G consumer groups"
  # Only the seeded groups: ConsumerPerformance's own groups would be backed up too.
  node scripts/bench/admin.cjs delete-groups "$GROUP_PREFIX-cperf"
  node scripts/bench/admin.cjs seed-groups "$TOPIC" "$GROUP_PREFIX-g" "$G"
  GROUPS_SRC="$WORK/groups-src"
  node bin/kbak.js dump --topic "$TOPIC" --to "$GROUPS_SRC" --json --quiet >"$WORK/groups-src.json"
  check_count "consumer groups in the groups backup" "$(json_field "$(tail -n 1 "$WORK/groups-src.json")" consumerGroups)" "$G"
  for ((rep = 1; rep <= R; rep++)); do
    lane="$LANE_PREFIX-g$rep"
    run_timed kbak-restore-groups "$WORK/kbakg" node bin/kbak.js restore --lane "$lane" --source "$GROUPS_SRC" --compression "$CODEC" --json --quiet
    summary="$(tail -n 1 "$WORK/kbakg.out")"
    check_count "kbak restore with groups (groups seeded)" "$(json_field "$summary" groupsSeeded)" "$G"
    row kbak-restore-groups "$rep" "$N" - "$summary"
    say "kbak restore + groups"
  done
fi

# ---------------------------------------------------------------- memory vs size and partitions
# One run of each kbak job per shape (peak RSS barely varies between repetitions: see the
# min–max of the main tables), against the main topic's figures.
mem_shape() { # SHAPE RECORDS PARTITIONS
  local shape=$1 n=$2 parts=$3 topic="$TOPIC-mem-$1" out="$WORK/mem-$1" lane="$LANE_PREFIX-m$1" summary copies
  msg "memory shape $shape: $n records in $parts partitions"
  node scripts/bench/admin.cjs create-topic "$topic" "$parts"
  copies=$((n / N))
  for ((c = 0; c < copies; c++)); do
    kcat -P -b "$BROKERS" -t "$topic" -K $'\t' -q "${HEADERS[@]}" -l "$RECORDS_FILE" 2>>"$WORK/produce.log" || die "kcat producer failed for shape $shape"
  done
  check_count "the $shape topic" "$(node scripts/bench/admin.cjs topic-records "$topic")" "$n"

  run_timed "mem-$shape-dump-disk" "$WORK/mem" node bin/kbak.js dump --topic "$topic" --to "$out" --json --quiet
  summary="$(tail -n 1 "$WORK/mem.out")"
  check_count "kbak dump → disk ($shape)" "$(json_field "$summary" records)" "$n"
  row "mem-$shape-dump-disk" 1 "$n" "$(du -sb "$out" | cut -f1)" "$(printf '{"partitions":%s,"durationMs":%s}' "$parts" "$(json_field "$summary" durationMs)")"
  say "$shape dump > disk"

  run_timed "mem-$shape-dump-s3" "$WORK/mem3" node bin/kbak.js dump --topic "$topic" --to "s3://$BUCKET/$S3_PREFIX/m$shape" --json --quiet
  check_count "kbak dump → S3 ($shape)" "$(json_field "$(tail -n 1 "$WORK/mem3.out")" records)" "$n"
  row "mem-$shape-dump-s3" 1 "$n" - "$(printf '{"partitions":%s}' "$parts")"
  say "$shape dump > S3"
  node scripts/bench/admin.cjs s3-rm "$BUCKET" "$S3_PREFIX/m$shape/" >/dev/null

  run_timed "mem-$shape-restore" "$WORK/memr" node bin/kbak.js restore --lane "$lane" --source "$out" --compression "$CODEC" --json --quiet
  check_count "kbak restore ($shape)" "$(node scripts/bench/admin.cjs topic-records "$lane.$topic")" "$n"
  row "mem-$shape-restore" 1 "$n" - "$(printf '{"partitions":%s}' "$parts")"
  say "$shape restore"
  node scripts/bench/admin.cjs delete-topics-containing "$topic" >/dev/null || true
  rm -rf "$out"
}
IFS=',' read -r -a SHAPES <<<"$MEMORY"
for shape in "${SHAPES[@]}"; do
  case "$shape" in
    large) mem_shape large $((4 * N)) "$P" ;;
    wide) mem_shape wide "$N" "$WIDE_P" ;;
  esac
done

# ---------------------------------------------------------------- profile
median_rps() { # TOOL → median records/s
  awk -F'\t' -v t="$1" '$1 == t && $9 == "default" { print $5 / $3 }' "$TSV" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
PROFILE_TOP="$WORK/profile.md"
: >"$PROFILE_TOP"
do_profile=0
if [[ "$PROFILE" == 1 ]]; then
  do_profile=1
elif [[ "$PROFILE" == auto ]]; then
  # Whenever a speed target is missed, the profile shows what limits it.
  awk -v k="$(median_rps kbak-dump-disk)" -v c="$(median_rps kcat-file)" -v r="$(median_rps kbak-restore)" -v p="$(median_rps kcat-produce)" \
    -v a="$(median_rps kbak-restore-avro)" -v m="$(median_rps kbak-restore-masked)" \
    'BEGIN { exit !(k < 1.0 * c || r < 0.8 * p || (a > 0 && m < 0.5 * a)) }' && do_profile=1
fi
mkdir -p .bench
if ((do_profile)); then
  # profile_one NAME TITLE CMD...: one run of a kbak command under node --cpu-prof (main thread).
  profile_one() {
    local name=$1 title=$2 dir="$WORK/prof-$1" prof
    shift 2
    msg "profiling one $title (node --cpu-prof)"
    mkdir -p "$dir"
    node --cpu-prof --cpu-prof-dir="$dir" bin/kbak.js "$@" >/dev/null
    # The main thread's profile (thread 0): a restore's compression workers write their own,
    # and find lists them in no particular order.
    prof="$(find "$dir" -name '*.0.[0-9][0-9][0-9].cpuprofile' | head -n 1)"
    [[ -n "$prof" ]] || return 0
    cp "$prof" ".bench/kbak-$name-$STAMP.cpuprofile"
    {
      printf '## CPU profile of one %s\n\nSelf time of the main thread, top 20 (full profile: `.bench/kbak-%s-%s.cpuprofile`, open it in Chrome DevTools; not committed).\n\n' "$title" "$name" "$STAMP"
      node scripts/bench/cpuprofile-top.cjs "$prof" 20
      printf '\n'
    } >>"$PROFILE_TOP"
  }
  profile_one dump "kbak dump → disk" dump --topic "$TOPIC" --to "$WORK/kbak-prof" --json --quiet
  profile_one restore "kbak restore" restore --lane "$LANE_PREFIX-prof" --source "$RESTORE_SRC" --compression "$CODEC" --json --quiet
  if ((MASKED)); then
    profile_one restore-masked "kbak restore --policy (masked Avro)" restore --lane "$LANE_PREFIX-profk" --source "$AVRO_SRC" --compression "$CODEC" --policy "$POLICY" --json --quiet
  fi
fi

# ---------------------------------------------------------------- report
notes_file="$WORK/notes.txt"
: >"$notes_file"
for note in "${NOTES[@]}"; do printf '%s\n' "$note" >>"$notes_file"; done
cp "$TSV" ".bench/results-$STAMP.tsv"

# report.cjs rewrites both files; the recovery figures (scripts/bench-recover.sh) and the sharded
# dump's scaling (scripts/bench/shard-scaling.sh) are measured apart and put back afterwards.
RECOVERY_PREV="$WORK/recovery-prev.json"
SHARDS_PREV="$WORK/shard-scaling-prev.json"
: >"$RECOVERY_PREV"
: >"$SHARDS_PREV"
[[ -f BENCHMARKS.json ]] && node scripts/bench/recovery-section.cjs extract BENCHMARKS.json >"$RECOVERY_PREV"
[[ -f BENCHMARKS.json ]] && node scripts/bench/shard-section.cjs extract BENCHMARKS.json >"$SHARDS_PREV"
version_of() { "$@" 2>&1 | head -n 1 || true; }
BENCH_ID="$ID" BENCH_DATE="$(date -u '+%F %T UTC')" BENCH_HOST="$(hostname)" BENCH_CPUS="$(nproc)" \
  BENCH_CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  BENCH_MEM="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
  BENCH_KERNEL="$(uname -sr)" BENCH_LOAD="$(cut -d' ' -f1-3 /proc/loadavg)" \
  BENCH_NODE="$(node --version)" BENCH_KBAK_VERSION="$(node -p 'require("./package.json").version')" \
  BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+uncommitted changes')" \
  BENCH_KAFKAJS="$(node -p 'require("kafkajs/package.json").version')" \
  BENCH_KCAT="$(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*librdkafka \([^ ]*\).*/kcat \1 (librdkafka \2)/p')" \
  BENCH_ZSTD="$(zstd --version 2>&1 | grep -oE 'v[0-9][0-9.]+' | head -n 1 | sed 's/^/zstd /')" BENCH_JAVA="$(version_of java -version)" \
  BENCH_TOPIC="$TOPIC" BENCH_RECORDS="$N" BENCH_RECORD_BYTES="$S" BENCH_PARTITIONS="$P" BENCH_REPEAT="$R" \
  BENCH_GROUPS="$G" BENCH_MASKED="$MASKED" BENCH_CODEC="$CODEC" BENCH_PRODUCE_S="$PRODUCE_S" BENCH_WIDE_PARTITIONS="$WIDE_P" \
  BENCH_SHAPES="$BENCH_SHAPE_LIST" BENCH_SMALL_RECORDS="$SMALL_N" BENCH_FILL_S="$(for k in "${!FILL_S[@]}"; do printf '%s=%s,' "$k" "${FILL_S[$k]}"; done)" \
  BENCH_OSO="$( ((HAVE_OSO)) && sed -n 's/^kafka-backup-core = "=\(.*\)"$/kafka-backup-core \1 (OSO, Rust; scripts\/bench\/oso)/p' scripts/bench/oso/Cargo.toml)" \
  node scripts/bench/report.cjs "$TSV" "$CMDS" "$notes_file" "$PROFILE_TOP" BENCHMARKS.md BENCHMARKS.json

if [[ "${BENCH_RECOVER:-0}" == 1 ]]; then
  msg "recovery of a 1 GiB backup (BENCH_RECOVER=1: scripts/bench-recover.sh)"
  BENCH_SKIP_BUILD=1 bash scripts/bench-recover.sh
elif [[ -s "$RECOVERY_PREV" ]]; then
  node scripts/bench/recovery-section.cjs write BENCHMARKS.md BENCHMARKS.json "$RECOVERY_PREV"
fi
[[ -s "$SHARDS_PREV" ]] && node scripts/bench/shard-section.cjs write BENCHMARKS.md BENCHMARKS.json "$SHARDS_PREV"

cat BENCHMARKS.md
msg "report written to BENCHMARKS.md and BENCHMARKS.json (raw measurements: .bench/results-$STAMP.tsv); took $((SECONDS / 60)) min $((SECONDS % 60)) s"
