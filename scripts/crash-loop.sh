#!/usr/bin/env bash
# Crash loop by hand (issue 8, item 4; issue 15): SIGKILL `kbak dump` (incremental chains,
# now and then a full dump), `kbak prune` and `kbak restore` at random moments N times
# against the running local stack, rerunning after each kill, and check every kept backup
# with an independent decoder and every lane with kcat.
#   scripts/crash-loop.sh [N] [SEED]     (default N=100; needs `npm run stack:up`)
# Prints the figures as JSON (also written to $CRASH_LOOP_REPORT, default .stack/crash-loop.json).
set -euo pipefail
cd "$(dirname "$0")/.."
export CRASH_LOOP_N="${1:-100}"
[[ -n "${2:-}" ]] && export CRASH_LOOP_SEED="$2"
export CRASH_LOOP_REPORT="${CRASH_LOOP_REPORT:-$PWD/.stack/crash-loop.json}"
export CRASH_LOOP_VERBOSE=1
npm run --silent build
npx jest --selectProjects integration --runInBand test/integration/crash-loop.test.ts
cat "$CRASH_LOOP_REPORT"
