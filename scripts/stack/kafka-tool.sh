#!/usr/bin/env bash
# Runs a Kafka tool class from org.apache.kafka:kafka-tools with a complete
# classpath, e.g. for benchmarks:
#   scripts/stack/kafka-tool.sh org.apache.kafka.tools.ProducerPerformance \
#     --topic t --num-records 100000 --record-size 1000 --throughput -1 \
#     --producer-props bootstrap.servers=127.0.0.1:9092
#   scripts/stack/kafka-tool.sh org.apache.kafka.tools.ConsumerPerformance \
#     --bootstrap-server 127.0.0.1:9092 --topic t --messages 100000
# The version follows the running broker (or KAFKA_VERSION). The jars are
# downloaded on first use only, so `stack:up` does not pay for them.
# Tool logging goes to stderr at WARN; stdout carries only the tool's output.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || { echo "usage: $0 <MainClass> [args...]" >&2; exit 2; }

VERSION="$(stack_kafka_version)"
MAJOR="$(kafka_major "$VERSION")"
DIR="$KBAK_STACK_CACHE/kafka-tools-$VERSION"

extra=(-Dkafka.version="$VERSION")
((MAJOR < 4)) && extra+=(-Dkafka.legacy.logging=true)
resolve_runtime_deps "kafka-tools $VERSION" "$STACK_SCRIPTS/maven/kafka-tools/pom.xml" "$DIR" "${extra[@]}"

java="$(find_java 17 "${KAFKA_JAVA_HOME:-}")" || stack_die "kafka tools need Java 17+; none found (set KAFKA_JAVA_HOME)"

if ((MAJOR >= 4)); then
  conf="$DIR/tools-log4j2.properties"
  [[ -f "$conf" ]] || cat >"$conf" <<'CONF'
status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
CONF
  logopt="-Dlog4j2.configurationFile=$conf"
else
  conf="$DIR/tools-log4j.properties"
  [[ -f "$conf" ]] || cat >"$conf" <<'CONF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
CONF
  logopt="-Dlog4j.configuration=file:$conf"
fi

# shellcheck disable=SC2086 # KAFKA_TOOL_HEAP_OPTS is a word list
exec "$java" ${KAFKA_TOOL_HEAP_OPTS:--Xmx512m} "$logopt" -cp "$DIR/lib/*" "$@"
