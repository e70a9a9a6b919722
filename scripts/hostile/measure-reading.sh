#!/usr/bin/env bash
# Runs the built kbak of a checkout over the crafted backups of reading-inputs.cjs, each
# command under /usr/bin/time -v with a time limit, and prints one TSV line per case:
# case, exit code (or "killed at N CPU-s"), CPU seconds (user + sys), peak RSS in MiB,
# stdout lines and bytes, and the first stderr line. The figures of RELIABILITY.md,
# "Hostile input, round 2 — decoding and reading", come from this script, run once on main
# ("before") and once on the branch ("after").
#
#   bash scripts/hostile/measure-reading.sh KBAK_CHECKOUT [INPUT_DIR] [LIMIT_SECONDS] [CASE ...]
set -u
ROOT=${1:?usage: measure-reading.sh KBAK_CHECKOUT [INPUT_DIR] [LIMIT_SECONDS] [CASE ...]}
IN=${2:-/tmp/kbak-hostile-reading}
LIMIT=${3:-120}
shift $(( $# < 3 ? $# : 3 ))
ONLY=" $* "
KBAK="$ROOT/bin/kbak.js"
[ -f "$ROOT/dist/cli/main.js" ] || { echo "build $ROOT first (npm run build)" >&2; exit 2; }

run() { # case, kbak arguments...
  local name=$1
  shift
  if [ "$ONLY" != "  " ] && [[ "$ONLY" != *" $name "* ]]; then return; fi
  local t out err
  t=$(mktemp) out=$(mktemp) err=$(mktemp)
  # The limit is CPU time (ulimit -t: SIGXCPU), not wall time: the machine is shared.
  /usr/bin/time -v -o "$t" bash -c 'ulimit -t "$0"; exec node "$@"' "$LIMIT" "$KBAK" "$@" >"$out" 2>"$err"
  local code=$?
  local cpu rss
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u + s}' "$t")
  # SIGXCPU (152) or SIGKILL (137) at the CPU limit.
  if { [ "$code" = 152 ] || [ "$code" = 137 ]; } && awk -v c="$cpu" -v l="$LIMIT" 'BEGIN {exit !(c >= 0.9 * l)}'; then code="killed at ${LIMIT} CPU-s"; fi
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$t")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$code" "$cpu" "$rss" "$(wc -l <"$out")" "$(wc -c <"$out")" "$(head -c 300 "$err" | head -1)"
  rm -f "$t" "$out" "$err"
}

printf 'case\texit\tcpu_s\trss_mib\tlines\tbytes\tstderr\n'
export KBAK_LOG_LEVEL=warn
for c in decode-map-2p50 decode-array-4e8 decode-exp-refs decode-failed-build decode-json-deep; do
  run "$c" cat latest --source "$IN/$c" --topic t --decode
done
run limit-forged cat latest --source "$IN/limit-forged" --topic t --limit 1
run limit-forged-unverified cat latest --source "$IN/limit-forged" --topic t --limit 1 --unverified
run limit-64m cat latest --source "$IN/limit-64m" --topic t --limit 1
run limit-64m-full cat latest --source "$IN/limit-64m" --topic t
run cat-100k-partitions cat latest --source "$IN/cat-100k-partitions" --topic t
for c in headers-256m headers-400m; do
  run "$c-verify" verify latest --source "$IN/$c"
  run "$c-cat" cat latest --source "$IN/$c" --topic t
done
run value-400m-cat cat latest --source "$IN/value-400m" --topic t
run value-400m-verify verify latest --source "$IN/value-400m"
run zstd-bomb-small-raw cat latest --source "$IN/zstd-bomb-small-raw" --topic t
run zstd-bomb-small-raw-verify verify latest --source "$IN/zstd-bomb-small-raw"
run zstd-bomb-true-raw-verify verify latest --source "$IN/zstd-bomb-true-raw"
run zstd-honest-1m-verify verify latest --source "$IN/zstd-honest-1m"
run zstd-skippable cat latest --source "$IN/zstd-skippable" --topic t
