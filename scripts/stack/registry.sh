#!/usr/bin/env bash
# Confluent-compatible Schema Registry for the local stack: Apicurio Registry
# (io.apicurio:apicurio-registry-app:<ver>:tar.gz:all from Maven Central, a
# Quarkus fast-jar) with its default in-memory H2 storage. kbak talks to its
# Confluent API at /apis/ccompat/v7.
#
#   registry.sh resolve|start|wait|probe|stop|status   (same contract as kafka.sh)
#   registry.sh version   print the Apicurio version this would run
#
# Storage is in memory: registered schemas are gone after a restart of the
# registry, which suits tests (every `stack:up` after `stack:down` is clean).
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Version: explicit APICURIO_VERSION, else the one already running here, else
# 3.x if a JDK 21+ exists, else the 2.6 fallback that runs on Java 17.
registry_version() {
  if [[ -n "${APICURIO_VERSION:-}" ]]; then
    printf '%s\n' "$APICURIO_VERSION"
  elif pid_of registry >/dev/null && [[ -s "$PID_DIR/registry.version" ]]; then
    cat "$PID_DIR/registry.version"
  elif find_java 21 "${REGISTRY_JAVA_HOME:-}" >/dev/null; then
    printf '%s\n' "$DEFAULT_APICURIO_VERSION"
  else
    stack_msg "no Java 21+ found (set REGISTRY_JAVA_HOME); using Apicurio Registry $FALLBACK_APICURIO_VERSION, which runs on Java 17"
    printf '%s\n' "$FALLBACK_APICURIO_VERSION"
  fi
}
VERSION="$(registry_version)"
MAJOR="${VERSION%%.*}"
APP_DIR="$KBAK_STACK_CACHE/apicurio-registry-$VERSION"
HOME_DIR="$KBAK_STACK_DIR/registry"
LOG="$LOG_DIR/registry.log"
BASE_URL="http://$STACK_HOST:$REGISTRY_PORT"
CCOMPAT_URL="$BASE_URL/apis/ccompat/v7"

resolve() {
  local tmp
  cache_ready "$APP_DIR" && return 0
  stack_msg "downloading apicurio-registry $VERSION (Maven) into $APP_DIR ..."
  tmp="$(cache_tmp apicurio-registry)"
  # dependency:copy needs no project; run it where no pom.xml can interfere.
  if ! (cd "$tmp" && run_mvn dependency:copy \
      -Dartifact="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" \
      -DoutputDirectory="$tmp/dl") >"$tmp/mvn.log" 2>&1; then
    stack_msg "Maven could not resolve io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all; its output:"
    tail -n 40 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    return 1
  fi
  # 3.x ships the Quarkus fast-jar layout (quarkus-run.jar + lib/ app/
  # quarkus/), 2.x the legacy one (apicurio-registry-app-<v>-runner.jar + lib/).
  tar -xzf "$tmp"/dl/*.tar.gz -C "$tmp"
  rm -rf "$tmp/dl"
  [[ -n "$(launcher_jar "$tmp")" ]] || { rm -rf "$tmp"; stack_die "apicurio-registry $VERSION archive has neither quarkus-run.jar nor a *-runner.jar"; }
  cache_commit "$tmp" "$APP_DIR"
}

# launcher_jar DIR: the jar to `java -jar` in an unpacked Apicurio archive.
launcher_jar() {
  local j
  for j in "$1/quarkus-run.jar" "$1"/*-runner.jar; do
    [[ -f "$j" ]] && { printf '%s\n' "$j"; return 0; }
  done
  return 0
}

registry_java() {
  # Apicurio 3.x is compiled for Java 21 (class version 65); 2.x runs on 17.
  local min=21
  ((MAJOR < 3)) && min=17
  find_java "$min" "${REGISTRY_JAVA_HOME:-}" ||
    stack_die "apicurio-registry $VERSION needs Java $min+; none found (set REGISTRY_JAVA_HOME to a JDK $min+, or APICURIO_VERSION=$FALLBACK_APICURIO_VERSION for Java 17)"
}

# Properties of the running version. Names moved from registry.* (2.x) to
# apicurio.* (3.x).
registry_props() {
  local p=apicurio
  ((MAJOR < 3)) && p=registry
  printf '%s\n' \
    "-Dquarkus.http.host=$STACK_HOST" \
    "-Dquarkus.http.port=$REGISTRY_PORT" \
    "-Dquarkus.management.host=$STACK_HOST" \
    "-Dquarkus.management.port=$REGISTRY_MANAGEMENT_PORT" \
    "-Dquarkus.log.console.format=[%d{yyyy-MM-dd HH:mm:ss,SSS}] %-5p %s%e (%c{3.})%n" \
    "-D$p.storage.snapshot.location=$HOME_DIR" \
    "-D$p.ccompat.legacy-id-mode.enabled=false" \
    "-D$p.ccompat.use-canonical-hash=false" \
    "-D$p.rules.global.compatibility=${REGISTRY_DEFAULT_COMPATIBILITY:-BACKWARD}"
  # rules.global.compatibility: Confluent's default global compatibility is
  # BACKWARD, Apicurio's is none at all; start like Confluent so a schema
  # change that a real registry would refuse is refused here too.
  # REGISTRY_DEFAULT_COMPATIBILITY=NONE restores Apicurio's behaviour.
  # legacy-id-mode=false: ccompat ids are Apicurio *content* ids, so the same
  # schema registered under two subjects gets one id, as Confluent does (the
  # legacy mode hands out per-version global ids instead). It is the default;
  # it is set here so a changed upstream default cannot silently break kbak.
}

probe() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$CCOMPAT_URL/subjects" 2>/dev/null)" == 200 ]]
}

start() {
  local java
  local -a props
  stack_init_dirs
  pid_of registry >/dev/null && return 0
  if port_open "$REGISTRY_PORT" || port_open "$REGISTRY_MANAGEMENT_PORT"; then
    stack_die "port $REGISTRY_PORT or $REGISTRY_MANAGEMENT_PORT on $STACK_HOST is already in use by a process this stack did not start (set REGISTRY_PORT / REGISTRY_MANAGEMENT_PORT)"
  fi
  resolve
  java="$(registry_java)"
  mkdir -p "$HOME_DIR"
  mapfile -t props < <(registry_props)
  # Run from its own dir: Quarkus may drop files in the working directory.
  cd "$HOME_DIR"
  printf '%s\n' "$VERSION" >"$PID_DIR/registry.version"
  # shellcheck disable=SC2086 # REGISTRY_JVM_OPTS is a word list
  start_daemon registry "$LOG" "$java" ${REGISTRY_JVM_OPTS:--Xmx512m -Djava.awt.headless=true} \
    "${props[@]}" -jar "$(launcher_jar "$APP_DIR")"
}

wait_ready() { wait_healthy registry "$LOG" probe; }

status() {
  local state rc=0
  state="$(service_state registry probe)" || rc=1
  status_line registry "apicurio-$VERSION" "$CCOMPAT_URL" "$state" "$LOG"
  return "$rc"
}

stop() {
  stop_daemon registry
  rm -f "$PID_DIR/registry.version"
}

case "${1:-}" in
  resolve) resolve ;;
  start) start ;;
  wait) wait_ready ;;
  probe) probe ;;
  stop) stop ;;
  status) status ;;
  version) printf '%s\n' "$VERSION" ;;
  *) echo "usage: $0 resolve|start|wait|probe|stop|status|version" >&2; exit 2 ;;
esac
