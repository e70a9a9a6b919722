#!/usr/bin/env bash
# `npm run stack:up`: start the local kbak stack (Kafka, Apicurio Registry,
# S3Proxy) as plain JVM processes on 127.0.0.1, wait until each one answers
# real requests, write $KBAK_STACK_DIR/env and print the status table.
# Idempotent: services that are already running are left alone.
# Knobs (see lib.sh): KAFKA_VERSION, KBAK_STACK_PORT_OFFSET, KAFKA_PORT, KAFKA_CONTROLLER_PORT,
# REGISTRY_PORT, S3_PORT, KBAK_STACK_DIR, KBAK_STACK_CACHE, KBAK_S3_BUCKET,
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, KBAK_STACK_TIMEOUT.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVICES=(kafka registry s3)
stack_init_dirs
stack_check_ports
# Recorded before anything starts, so status.sh and a later up.sh given only KBAK_STACK_DIR find
# even a half-started stack on its own ports.
stack_ports_lines >"$PORTS_FILE"
# Pin the version once so every helper below agrees on it.
KAFKA_VERSION="$(stack_kafka_version)"
APICURIO_VERSION="$(bash "$STACK_SCRIPTS/registry.sh" version)"
export KAFKA_VERSION APICURIO_VERSION
# Switching versions needs a restart; say so instead of silently keeping the
# running broker (and before downloading anything).
if kpid="$(pid_of kafka)" && [[ -s "$PID_DIR/kafka.version" ]] &&
  [[ "$(cat "$PID_DIR/kafka.version")" != "$KAFKA_VERSION" ]]; then
  stack_die "kafka $(cat "$PID_DIR/kafka.version") is running (pid $kpid) but KAFKA_VERSION=$KAFKA_VERSION was asked for; run 'npm run stack:down' first"
fi

# 1. Downloads first and one after another: they are the slow part on a fresh
#    machine, and concurrent Maven runs sharing one local repository can
#    corrupt it. With a warm cache this step does not even start Maven.
for svc in "${SERVICES[@]}"; do
  bash "$STACK_SCRIPTS/$svc.sh" resolve
done

# 2. Start whatever is not running yet (each start is a no-op for a service
#    whose pid file points at a live process).
for svc in "${SERVICES[@]}"; do
  if pid="$(pid_of "$svc")"; then
    stack_msg "$svc already running (pid $pid)"
  else
    bash "$STACK_SCRIPTS/$svc.sh" start
  fi
done

# 3. Wait for all three in parallel; each failure report (one line + log
#    tail) is collected and printed whole so they do not interleave.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
declare -A waits=()
for svc in "${SERVICES[@]}"; do
  bash "$STACK_SCRIPTS/$svc.sh" wait 2>"$tmp/$svc.err" &
  waits[$svc]=$!
done
failed=0
for svc in "${SERVICES[@]}"; do
  if ! wait "${waits[$svc]}"; then
    failed=1
    cat "$tmp/$svc.err" >&2
  fi
done
if ((failed)); then
  stack_msg "not all services came up; 'npm run stack:status' shows what runs, 'npm run stack:down' stops it"
  exit 1
fi

# 4. Connection settings for kbak, its tests and the user's shell:
#    set -a; source .stack/env; set +a
{
  echo "# Written by scripts/stack/up.sh at $(date '+%F %T'). Use: set -a; source $ENV_FILE; set +a"
  printf 'KBAK_BROKERS=%q\n' "$STACK_HOST:$KAFKA_PORT"
  printf 'KBAK_SCHEMA_REGISTRY_URL=%q\n' "http://$STACK_HOST:$REGISTRY_PORT/apis/ccompat/v7"
  printf 'KBAK_S3_ENDPOINT=%q\n' "http://$STACK_HOST:$S3_PORT"
  printf 'KBAK_S3_BUCKET=%q\n' "$KBAK_S3_BUCKET"
  printf 'KBAK_S3_FORCE_PATH_STYLE=true\n'
  printf 'AWS_ACCESS_KEY_ID=%q\n' "$STACK_ACCESS_KEY"
  printf 'AWS_SECRET_ACCESS_KEY=%q\n' "$STACK_SECRET_KEY"
  printf 'AWS_REGION=%q\n' "$STACK_REGION"
  printf 'KAFKA_VERSION=%q\n' "$(cat "$PID_DIR/kafka.version")"
  # The ports, so tests that restart the broker (outages) start it where it was.
  printf 'KAFKA_PORT=%q\nKAFKA_CONTROLLER_PORT=%q\nKAFKA_SECURE_PORT=%q\nKAFKA_MTLS_PORT=%q\n' \
    "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SECURE_PORT" "$KAFKA_MTLS_PORT"
  printf 'REGISTRY_PORT=%q\nREGISTRY_MANAGEMENT_PORT=%q\nS3_PORT=%q\n' "$REGISTRY_PORT" "$REGISTRY_MANAGEMENT_PORT" "$S3_PORT"
  # The secured listeners, under names kbak itself does not read (tests map them
  # onto KBAK_TLS_* / KBAK_SASL_* when they want a secured connection).
  # shellcheck source=/dev/null
  source "$SECURE_DIR/credentials"
  printf 'KBAK_SECURE_BROKERS=%q\n' "$STACK_HOST:$KAFKA_SECURE_PORT"
  printf 'KBAK_SECURE_MTLS_BROKERS=%q\n' "$STACK_HOST:$KAFKA_MTLS_PORT"
  printf 'KBAK_SECURE_TLS_CA=%q\n' "$SECURE_DIR/ca.pem"
  printf 'KBAK_SECURE_TLS_CERT=%q\n' "$SECURE_DIR/client.pem"
  printf 'KBAK_SECURE_TLS_KEY=%q\n' "$SECURE_DIR/client.key"
  printf 'KBAK_SECURE_SASL_MECHANISM=scram-sha-512\n'
  printf 'KBAK_SECURE_SASL_USERNAME=%q\n' "$SCRAM_USER"
  printf 'KBAK_SECURE_SASL_PASSWORD=%q\n' "$SCRAM_PASSWORD"
  printf 'KBAK_SECURE_PLAIN_USERNAME=%q\n' "$PLAIN_USER"
  printf 'KBAK_SECURE_PLAIN_PASSWORD=%q\n' "$PLAIN_PASSWORD"
  # An ordinary principal (not a super user): what ACLs allow it is up to each test.
  printf 'KBAK_SECURE_APP_USERNAME=%q\n' "$APP_USER"
  printf 'KBAK_SECURE_APP_PASSWORD=%q\n' "$APP_PASSWORD"
  printf 'KBAK_STACK_PORT_OFFSET=%q\n' "$KBAK_STACK_PORT_OFFSET"
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"

bash "$STACK_SCRIPTS/status.sh"
