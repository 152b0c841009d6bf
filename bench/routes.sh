#!/usr/bin/env bash
# Route-switch latency (p50/p99) and API calls per switch for 1, 2 and 10 route tables, on moto.
#   bench/routes.sh                 # 200 switches per size after 20 warm-up switches
#   bench/routes.sh 500 50 1,2,10 1 # switches per size, warm-up, table counts, maxConcurrency (default 10)
# Needs the venv with moto (scripts/test.sh creates it). Builds in the reactor: nothing is installed into ~/.m2.
# exec:java runs only in aws-adapter (its pom opts back in over -Dexec.skip=true).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGFAILOVER_VENV="${PGFAILOVER_VENV:-$PWD/.venv}"
exec mvn -B -q -pl aws-adapter -am test-compile exec:java -Dexec.skip=true -Dexec.mainClass=io.pgfailover.aws.RouteSwitchBench \
  -Dexec.args="${1:-200} ${2:-20} ${3:-1,2,10} ${4:-10}"
