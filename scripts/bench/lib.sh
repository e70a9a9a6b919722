# shellcheck shell=bash
# What the bench scripts (scripts/bench.sh, scripts/bench-recover.sh, scripts/bench/shard-scaling.sh)
# share before they measure: their messages, the stack's environment and the build. Sourced from the
# repository root after BENCH_TAG is set (the prefix of every message, e.g. "bench").

msg() { printf '%s: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() {
  msg "$*"
  exit 1
}

# bench_stack_env DIR: the addresses and credentials of the stack in DIR (its env file), exported.
bench_stack_env() {
  set -a
  # shellcheck source=/dev/null
  source "$1/env"
  set +a
}

# bench_build: `npm run build`, or with BENCH_SKIP_BUILD=1 the existing dist/ (which must be there).
# Sets BENCH_REBUILT to 1 when it built, 0 when it measures the existing dist/.
bench_build() {
  if [[ "${BENCH_SKIP_BUILD:-0}" == 1 ]]; then
    [[ -f dist/cli/main.js ]] || die "BENCH_SKIP_BUILD=1 but dist/ is missing; run npm run build"
    BENCH_REBUILT=0
  else
    msg "building (npm run build)"
    npm run --silent build >&2 || die "npm run build failed; fix the build or set BENCH_SKIP_BUILD=1 to measure the existing dist/"
    BENCH_REBUILT=1
  fi
}
