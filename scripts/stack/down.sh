#!/usr/bin/env bash
# `npm run stack:down [--purge]`: stop the processes stack:up started (by pid
# file); harmless when nothing runs. --purge (or KBAK_STACK_PURGE=1) also
# deletes $KBAK_STACK_DIR: Kafka data of every version, S3 objects, logs, env.
# Downloaded jars in $KBAK_STACK_CACHE are kept either way.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge="${KBAK_STACK_PURGE:-0}"
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
  esac
done

if [[ -d "$PID_DIR" ]]; then
  # In parallel: Kafka's controlled shutdown takes a few seconds on its own.
  pids=()
  for svc in kafka registry s3; do
    bash "$STACK_SCRIPTS/$svc.sh" stop &
    pids+=("$!")
  done
  for p in "${pids[@]}"; do wait "$p"; done
fi

if [[ "$purge" == 1 && -d "$KBAK_STACK_DIR" ]]; then
  # Only ever delete a directory this stack created (it carries the marker),
  # so a mistyped KBAK_STACK_DIR cannot wipe something else.
  if [[ -f "$KBAK_STACK_DIR/.kbak-stack" ]]; then
    rm -rf "$KBAK_STACK_DIR"
    stack_msg "purged $KBAK_STACK_DIR"
  else
    stack_die "refusing to purge $KBAK_STACK_DIR: no .kbak-stack marker in it"
  fi
fi
exit 0
