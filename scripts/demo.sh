#!/usr/bin/env bash
# `npm run demo`: the whole lane story on the local stack. Seeds `orders` (Avro values,
# tracing headers, a consumer group), dumps it, restores it into lane feature-x and shows
# source and lane side by side. Safe to rerun: seeding is skipped when `orders` has data
# and the lane is replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
LANE="${DEMO_LANE:-feature-x}"
DEST="${DEMO_DEST:-./kbak-backups}"

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
bash scripts/stack/up.sh >/dev/null
set -a
# shellcheck disable=SC1091
source "${KBAK_STACK_DIR:-.stack}/env"
set +a

node scripts/demo/seed.cjs
echo
echo "\$ kbak dump --topic orders --name demo --to $DEST"
node bin/kbak.js dump --topic orders --name demo --to "$DEST"
echo
echo "\$ kbak restore --lane $LANE --from latest --name demo --source $DEST --replace"
node bin/kbak.js restore --lane "$LANE" --from latest --name demo --source "$DEST" --replace
node scripts/demo/compare.cjs "$LANE" orders
