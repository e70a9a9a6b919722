#!/usr/bin/env bash
# Builds the OSO peer of `npm run bench` (scripts/bench/oso: a driver over OSO's kafka-backup-core
# 0.25.2) in release mode, outside the repository, where scripts/bench.sh looks for it:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/oso-bench/release/oso-bench
# Takes ≈15 min on 2 cores; needs cargo (rustup), cmake and gcc (aws-lc-sys). CI never runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/oso"
command -v cargo >/dev/null 2>&1 || {
  echo "build-oso: cargo is needed (https://rustup.rs), and cmake and gcc for aws-lc-sys" >&2
  exit 1
}
export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/oso-bench"
cargo build --release --locked
echo "build-oso: built $CARGO_TARGET_DIR/release/oso-bench" >&2
