# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings below are used by the scripts that source this file
# Shared settings and helpers for the local, Docker-free kbak stack
# (Apache Kafka + Apicurio Registry + S3Proxy, all plain JVM processes).
# Sourced by up.sh, down.sh, status.sh, kafka.sh, registry.sh, s3.sh and
# kafka-tool.sh; it only defines things, it starts nothing.

STACK_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_SCRIPTS/../.." && pwd)"

# Everything below can be overridden from the environment.
# Listening host is fixed: the stack must never be reachable from outside.
STACK_HOST=127.0.0.1
KBAK_STACK_DIR="${KBAK_STACK_DIR:-$REPO_ROOT/.stack}"

# The port settings, in the order up.sh records them in PORTS_FILE.
PORT_VARS=(KBAK_STACK_PORT_OFFSET KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_SECURE_PORT KAFKA_MTLS_PORT REGISTRY_PORT REGISTRY_MANAGEMENT_PORT S3_PORT)
# A stack folder remembers the ports it was started on (written by up.sh), so status.sh,
# kafka-tool.sh and up.sh itself, given only KBAK_STACK_DIR, act on that stack and not on the
# default ports (where another stack may be answering). An explicit KBAK_STACK_PORT_OFFSET
# ignores the file; an explicit port variable wins over its line.
PORTS_FILE="$KBAK_STACK_DIR/ports"
if [[ -z "${KBAK_STACK_PORT_OFFSET:-}" && -f "$PORTS_FILE" ]]; then
  while IFS='=' read -r _name _value; do
    [[ " ${PORT_VARS[*]} " == *" $_name "* && "$_value" =~ ^[0-9]+$ && -z "${!_name:-}" ]] && printf -v "$_name" '%s' "$_value"
  done <"$PORTS_FILE"
  unset _name _value
fi

# A second stack beside the first (two clusters for recovery tests, a helper's own stack) needs
# only its own KBAK_STACK_DIR and KBAK_STACK_PORT_OFFSET: every default port below is shifted by
# the offset, and the ports of one service derive from its main port, so nothing collides unless
# a port is set by hand. README "Two stacks side by side".
KBAK_STACK_PORT_OFFSET="${KBAK_STACK_PORT_OFFSET:-0}"
[[ "$KBAK_STACK_PORT_OFFSET" =~ ^[0-9]+$ ]] && ((KBAK_STACK_PORT_OFFSET <= 50000)) ||
  { printf 'stack: KBAK_STACK_PORT_OFFSET must be a number from 0 to 50000, not "%s"\n' "$KBAK_STACK_PORT_OFFSET" >&2; exit 2; }
KAFKA_PORT="${KAFKA_PORT:-$((9092 + KBAK_STACK_PORT_OFFSET))}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
# The secured listeners sit next to the plaintext one (derived, so stacks with
# different KAFKA_PORTs never collide): SASL_SSL (SCRAM-SHA-512/256, PLAIN over
# server-authenticated TLS) and SSL with required client certificates (mTLS).
KAFKA_SECURE_PORT="${KAFKA_SECURE_PORT:-$((KAFKA_PORT + 2))}"
KAFKA_MTLS_PORT="${KAFKA_MTLS_PORT:-$((KAFKA_PORT + 3))}"
REGISTRY_PORT="${REGISTRY_PORT:-$((8081 + KBAK_STACK_PORT_OFFSET))}"
# Quarkus always opens a management interface (health/metrics); its default
# port 9000 would collide with S3, so it gets its own loopback port.
REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-$((REGISTRY_PORT + 1))}"
S3_PORT="${S3_PORT:-$((9000 + KBAK_STACK_PORT_OFFSET))}"

KBAK_STACK_CACHE="${KBAK_STACK_CACHE:-${HOME:-/root}/.cache/kbak-stack}"

DEFAULT_KAFKA_VERSION=4.4.0
# Apicurio 3.x needs Java 21+. Unless APICURIO_VERSION is given, registry.sh
# runs DEFAULT_APICURIO_VERSION when some JDK 21+ is found and falls back to
# the 2.6 line (Java 17, same ccompat behaviour as far as kbak uses it) when not.
DEFAULT_APICURIO_VERSION=3.3.3
FALLBACK_APICURIO_VERSION=2.6.13.Final
S3PROXY_VERSION="${S3PROXY_VERSION:-4.1.0}"

KBAK_S3_BUCKET="${KBAK_S3_BUCKET:-kbak}"
STACK_ACCESS_KEY="${AWS_ACCESS_KEY_ID:-kbak}"
STACK_SECRET_KEY="${AWS_SECRET_ACCESS_KEY:-kbak-secret-key}"
STACK_REGION=us-east-1

# Seconds each service gets to become healthy.
STACK_TIMEOUT="${KBAK_STACK_TIMEOUT:-120}"

# Extra arguments for every mvn call, e.g. "-Dmaven.repo.local=/tmp/m2" or
# "-o" (word-split on purpose).
KBAK_STACK_MVN_ARGS="${KBAK_STACK_MVN_ARGS:-}"

PID_DIR="$KBAK_STACK_DIR/pids"
LOG_DIR="$KBAK_STACK_DIR/logs"
ENV_FILE="$KBAK_STACK_DIR/env"
# Certificates and SASL credentials of the secured listeners (scripts/stack/secure.sh).
SECURE_DIR="$KBAK_STACK_DIR/secure"

stack_msg() { printf 'stack: %s\n' "$*" >&2; }
stack_die() { stack_msg "$*"; exit 1; }

stack_init_dirs() {
  mkdir -p "$KBAK_STACK_DIR" "$PID_DIR" "$LOG_DIR" "$KBAK_STACK_CACHE"
  # Marker: down.sh --purge deletes only directories that carry it.
  touch "$KBAK_STACK_DIR/.kbak-stack"
}

# The Kafka version to act on: an explicit KAFKA_VERSION wins, then the version
# of the broker this stack dir is running (so `kafka-tool.sh` and `status`
# follow a 3.9 stack without being told), then the default.
stack_kafka_version() {
  if [[ -n "${KAFKA_VERSION:-}" ]]; then
    printf '%s\n' "$KAFKA_VERSION"
  elif [[ -s "$PID_DIR/kafka.version" ]]; then
    cat "$PID_DIR/kafka.version"
  else
    printf '%s\n' "$DEFAULT_KAFKA_VERSION"
  fi
}

# "4.1.1" -> 4
kafka_major() { printf '%s\n' "${1%%.*}"; }

# --- java -------------------------------------------------------------------

# Prints the major version of the given java binary (17, 21, 25, ...).
java_major() {
  local v
  v="$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  printf '%s\n' "${v:-0}"
}

# Finds a java binary of at least the given major version. Order: an explicit
# home (first arg, may be empty), $JAVA_HOME, java on PATH, then every JDK
# under /usr/lib/jvm (Debian/Temurin packages install there).
find_java() {
  local min="$1" explicit_home="$2" cand seen=""
  local -a cands=()
  [[ -n "$explicit_home" ]] && cands+=("$explicit_home/bin/java")
  [[ -n "${JAVA_HOME:-}" ]] && cands+=("$JAVA_HOME/bin/java")
  cand="$(command -v java 2>/dev/null || true)"
  [[ -n "$cand" ]] && cands+=("$cand")
  for cand in /usr/lib/jvm/*/bin/java; do
    [[ -x "$cand" ]] && cands+=("$cand")
  done
  for cand in "${cands[@]}"; do
    # Resolve symlinks (/usr/bin/java -> alternatives -> a JDK) so each JDK is
    # asked only once; starting a JVM for the question costs ~0.1s.
    cand="$(readlink -f "$cand")"
    [[ " ${seen:-} " == *" $cand "* ]] && continue
    seen="${seen:-} $cand"
    if [[ -x "$cand" ]] && (($(java_major "$cand") >= min)); then
      printf '%s\n' "$cand"
      return 0
    fi
  done
  return 1
}

# --- downloads ----------------------------------------------------------------

run_mvn() {
  command -v mvn >/dev/null 2>&1 || stack_die "Maven (mvn) is needed to download the stack's jars; install it (apt-get install maven)"
  # shellcheck disable=SC2086 # KBAK_STACK_MVN_ARGS is a word list on purpose
  mvn -B -q $KBAK_STACK_MVN_ARGS "$@"
}

# cache_ready DIR: the cache entry is complete (written last by cache_commit).
cache_ready() { [[ -f "$1/.complete" ]]; }

# cache_tmp NAME: a scratch dir inside the cache (same filesystem, so the final
# mv is atomic and an interrupted download never looks complete).
cache_tmp() {
  mkdir -p "$KBAK_STACK_CACHE"
  mktemp -d "$KBAK_STACK_CACHE/.tmp-$1-XXXXXX"
}

cache_commit() { # TMP DEST
  touch "$1/.complete"
  rm -rf "$2"
  mv "$1" "$2"
}

# resolve_runtime_deps NAME POM DEST [mvn args...]: copies the pom's runtime
# dependency closure into DEST/lib unless DEST is already complete.
resolve_runtime_deps() {
  local name="$1" pom="$2" dest="$3" tmp
  shift 3
  cache_ready "$dest" && return 0
  stack_msg "downloading $name (Maven) into $dest ..."
  tmp="$(cache_tmp "$name")"
  if ! run_mvn -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp/lib" "$@" >"$tmp/mvn.log" 2>&1; then
    stack_msg "Maven could not resolve $name; its output:"
    tail -n 40 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    return 1
  fi
  cache_commit "$tmp" "$dest"
}

# --- processes ----------------------------------------------------------------

# pid_of SERVICE: prints the pid from the pid file if that process is alive.
pid_of() {
  local f="$PID_DIR/$1.pid" pid
  [[ -s "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/$STACK_HOST/$1") 2>/dev/null
}

# start_daemon SERVICE LOG CMD...: starts CMD detached (own session, so a
# Ctrl-C in the terminal that ran `npm run stack:up` does not kill it),
# appends its output to LOG and records its pid.
start_daemon() {
  local svc="$1" log="$2"
  shift 2
  mkdir -p "$(dirname "$log")" "$PID_DIR"
  # Logs are appended across restarts; keep one previous generation once a
  # log passes 50 MB so a long-lived .stack does not grow without bound.
  if [[ -f "$log" ]] && (($(stat -c %s "$log") > 50 * 1024 * 1024)); then
    mv -f "$log" "$log.1"
  fi
  printf '\n===== %s: starting %s =====\n' "$(date '+%F %T')" "$svc" >>"$log"
  setsid nohup "$@" </dev/null >>"$log" 2>&1 &
  printf '%s\n' "$!" >"$PID_DIR/$svc.pid"
}

# stop_daemon SERVICE: TERM, wait up to 30s, then KILL. Harmless if not running.
stop_daemon() {
  local svc="$1" pid i
  if pid="$(pid_of "$svc")"; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      stack_msg "$svc (pid $pid) ignored SIGTERM for 30s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
    stack_msg "stopped $svc (pid $pid)"
  fi
  rm -f "$PID_DIR/$svc.pid"
}

# wait_healthy SERVICE LOG PROBE...: polls PROBE (a command) until it succeeds,
# the process dies, or STACK_TIMEOUT passes. On failure prints exactly one
# line "stack: <service> did not come up within Ns (log: PATH)" and then the
# log tail, and returns 1.
wait_healthy() {
  local svc="$1" log="$2" deadline
  shift 2
  deadline=$((SECONDS + STACK_TIMEOUT))
  while ((SECONDS < deadline)); do
    "$@" && return 0
    # The process died: no point waiting out the timeout.
    pid_of "$svc" >/dev/null || break
    sleep 0.5
  done
  stack_msg "$svc did not come up within ${STACK_TIMEOUT}s (log: $log)"
  tail -n 30 "$log" >&2 || true
  return 1
}

# log_since_start LOG: the part of LOG written since the last start_daemon
# marker, so readiness checks never match a line from an earlier run.
log_since_start() {
  [[ -f "$1" ]] || return 0
  awk '/^===== .*: starting / { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }' "$1"
}

# stack_ports_lines: the port settings in effect, as PORTS_FILE records them (KEY=VALUE lines).
stack_ports_lines() {
  local v
  for v in "${PORT_VARS[@]}"; do printf '%s=%s\n' "$v" "${!v}"; done
}

# recorded_port NAME: NAME's value in PORTS_FILE (empty when not recorded).
recorded_port() { sed -n "s/^$1=\([0-9]*\)$/\1/p" "$PORTS_FILE" 2>/dev/null | head -n 1; }

# stack_check_ports: a stack with a live service keeps the ports it was started on. Other ports
# asked for (an offset or a *_PORT variable, often left over from sourcing another stack's env)
# fail in one line, instead of probing, or starting half a stack on, another stack's ports.
stack_check_ports() {
  local svc v live=0
  [[ -f "$PORTS_FILE" ]] || return 0
  for svc in kafka registry s3; do pid_of "$svc" >/dev/null && live=1; done
  ((live)) || return 0
  for v in "${PORT_VARS[@]:1}"; do
    if [[ "$(recorded_port "$v")" != "${!v}" ]]; then
      stack_die "$KBAK_STACK_DIR runs on Kafka :$(recorded_port KAFKA_PORT), registry :$(recorded_port REGISTRY_PORT), S3 :$(recorded_port S3_PORT) ($PORTS_FILE), but $v=${!v} was asked for; unset KBAK_STACK_PORT_OFFSET and the *_PORT variables (sourcing another stack's env sets them) or stop this stack first"
    fi
  done
}

# status_line NAME VERSION ADDRESS STATE LOG: one aligned row of `stack:status`.
status_line() {
  printf '%-9s %-15s %-40s %-19s %s\n' "$@"
}

# service_state SERVICE PROBE...: prints "up (pid N)", "starting (pid N)" or
# "down" for `stack:status`; succeeds only when the service is up.
service_state() {
  local svc="$1" pid
  shift
  if ! pid="$(pid_of "$svc")"; then
    echo down
    return 1
  fi
  if "$@"; then
    echo "up (pid $pid)"
  else
    echo "starting (pid $pid)"
    return 1
  fi
}
