#!/usr/bin/env bash
# `npm run stack:status`: one row per service (name, version, address,
# pid/state, log). Exit 0 only if all three are up and answering.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stack_check_ports
rc=0
status_line SERVICE VERSION ADDRESS STATE LOG
for svc in kafka registry s3; do
  bash "$STACK_SCRIPTS/$svc.sh" status || rc=1
done
if ((rc == 0)) && [[ -f "$ENV_FILE" ]]; then
  echo "settings: $ENV_FILE  (set -a; source $ENV_FILE; set +a)"
fi
exit "$rc"
