#!/usr/bin/env bash
# Route-switch latency (p50/p99) and API calls per switch for 1, 2 and 10 route tables, on the emulator.
#   bench/routes.sh                 # 200 switches per size after 20 warm-up switches, on moto
#   bench/routes.sh 500 50 1,2,10 1 # switches per size, warm-up, table counts, maxConcurrency (default 10)
#   AWS_EMULATOR=localstack bench/routes.sh   # on LocalStack (starts Docker and builds its image if needed)
# Needs the venv with moto (scripts/test.sh creates it). Builds in the reactor: nothing is installed into ~/.m2.
# exec:java runs only in aws-adapter (its pom opts back in over -Dexec.skip=true).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGFAILOVER_VENV="${PGFAILOVER_VENV:-$PWD/.venv}"
export AWS_EC2_METADATA_DISABLED=true
if [ "$(echo "${AWS_EMULATOR:-moto}" | tr '[:upper:]' '[:lower:]')" = localstack ]; then
  . scripts/lib/prereqs.sh
  . scripts/lib/docker.sh
  . scripts/lib/localstack.sh
  localstack_prepare || { echo "routes.sh: LocalStack cannot run here (see above); run without AWS_EMULATOR for moto" >&2; exit 2; }
fi
exec mvn -B -q -pl aws-adapter -am test-compile exec:java -Dexec.skip=true -Dexec.mainClass=io.pgfailover.aws.RouteSwitchBench \
  -Dexec.args="${1:-200} ${2:-20} ${3:-1,2,10} ${4:-10}"
