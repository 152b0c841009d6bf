#!/usr/bin/env bash
# Probe benchmark (not a test): starts a real local primary/standby pair and prints probe latency p50/p99 and
# probes per second for 1, 10 and 50 probed nodes, for a new connection per probe and a reused connection.
#   bench/probe.sh [--seconds=3] [--deadline-ms=1000]
# Builds through the reactor (no mvn install) and runs io.pgfailover.probe.ProbeBench from pg-probe's test
# classes. Needs what scripts/test.sh installs (JDK 17, Maven, PostgreSQL server binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "bench: building pg-probe and its test classpath" >&2
mvn -B -q -pl pg-probe -am -DskipTests test-compile \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

cd pg-probe
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.io.pgfailover.probe.PgProbe=error \
  -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  io.pgfailover.probe.ProbeBench "$@"
