#!/usr/bin/env bash
# `npm test`: build, unit tests and a short fuzz run (test/fuzz, FUZZ_RUNS inputs per
# property), then the integration tests against the real local stack (Kafka, schema
# registry, S3), which is started first if it is not already running.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
npx jest --selectProjects unit fuzz
bash scripts/stack/up.sh
bash scripts/ensure-kcat.sh
# --forceExit: a test that fails mid-call (a timeout) can leave a client connection open, and
# jest would then wait for it forever instead of reporting the failure.
npx jest --selectProjects integration --runInBand --forceExit "$@"
