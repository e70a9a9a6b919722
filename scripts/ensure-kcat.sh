#!/usr/bin/env bash
# kcat (librdkafka's CLI) is the independent reader/writer the integration tests and the
# benchmark compare kbak with. Installs it from the distribution's packages when possible.
set -euo pipefail
command -v kcat >/dev/null 2>&1 && exit 0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing kcat (apt-get) ..." >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null
  exit 0
fi
echo "kcat is needed: install it (Debian/Ubuntu: sudo apt-get install kcat; macOS: brew install kcat) and rerun" >&2
exit 1
