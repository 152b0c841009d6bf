#!/usr/bin/env bash
# The demo: a real PostgreSQL pair, the AWS emulator, the controller, an injected failure, the timeline.
#   scripts/demo.sh          # human output
#   scripts/demo.sh --json   # the same, and as its last line: {"failover": "ok"|"failed", "detected_ms",
#                            #   "promoted_ms", "routes_switched_ms", "write_downtime_ms", "acked_writes", "lost_acked_writes",
#                            #   "rejoined_ms"}
# Steps: build if needed, scripts/lab.sh up, start `failoverctl run`, start a writer through the virtual IP,
# SIGKILL the primary, print the route tables before and after and the failover timeline, tear down.
# Where it can (root and network namespaces), the demo runs on the netns lab instead: one drill of
# bench/failover.sh (a router following the emulator's route tables, the client writing through the virtual IP
# from its own host, synchronous replication managed by the controller, a node agent on each PostgreSQL host),
# printing the route tables before and after and the timeline, and ending once the controller has rejoined the old
# primary through its agent and it streams from the new one ("rejoined_ms": from the fault until two nodes stream
# again); with --json its last line has the same fields as above (the loopback lab has no agents: "rejoined_ms"
# is -1 there).
# PGFAILOVER_DEMO_LAB=loopback forces the loopback lab.
# Exit codes: 0 failover ok and no acknowledged write lost; 1 otherwise; 2 a prerequisite is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
json=""
[ "${1:-}" = "--json" ] && json="--json"
if [ "${PGFAILOVER_DEMO_LAB:-netns}" = netns ] && scripts/netns.sh check 2>/dev/null; then
  echo "== netns lab: pgfo-rtr (VPC router), pgfo-a / pgfo-b (PostgreSQL hosts), pgfo-cli (client), pgfo-ctl (controller)" >&2
  out=$(mktemp)
  set +e
  PGFAILOVER_BENCH_OUT=${PGFAILOVER_BENCH_OUT:-$repo/target/netns-demo} bench/failover.sh --drills 1 --fault kill --mode sync --json | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  if [ -n "$json" ]; then
    # The demo's own summary line, in the same shape as the loopback demo's.
    python3 - "$out" "$rc" <<'PY'
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
ok = sys.argv[2] == "0" and s.get("failovers_completed") == s.get("drills")
print(json.dumps({"failover": "ok" if ok else "failed", "detected_ms": s["detected_ms_p50"],
                  "promoted_ms": s["promoted_ms_p50"], "routes_switched_ms": s["routes_switched_ms_p50"],
                  "write_downtime_ms": s["write_downtime_ms_p50"], "acked_writes": s["acked_writes"],
                  "lost_acked_writes": s["lost_acked_writes"], "rejoined_ms": s["rejoined_ms_p50"]}))
PY
  fi
  rm -f "$out"
  exit "$rc"
fi
echo "== loopback lab (the netns lab needs root and network namespaces)" >&2
export PGFAILOVER_LAB_DIR=${PGFAILOVER_LAB_DIR:-$repo/lab}
LAB=$PGFAILOVER_LAB_DIR
JAR=$repo/controller/target/failoverctl.jar

. scripts/lib/prereqs.sh
. scripts/lib/build.sh
ensure_java_and_maven
ensure_built jar

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -f "$LAB/controller.pid" ]; then
    kill -TERM "$(cat "$LAB/controller.pid")" 2>/dev/null || true
    wait "$(cat "$LAB/controller.pid")" 2>/dev/null || true
  fi
  scripts/lab.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== lab up" >&2
scripts/lab.sh up >/dev/null
state=$LAB/state.json
config=$LAB/controller.yaml

# Off EC2 the SDK must never reach for the instance metadata address: everything here talks to loopback.
export AWS_EC2_METADATA_DISABLED=true
# The emulator accepts any credentials; the controller takes them from the environment like the SDK always does.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
echo "== starting the controller: failoverctl run -c $config" >&2
java -jar "$JAR" run -c "$config" >"$LAB/controller.log" 2>&1 &
echo $! >"$LAB/controller.pid"
deadline=$((SECONDS + 60))
until java -jar "$JAR" status -c "$config" >"$LAB/status-before.txt" 2>&1; do
  if ! kill -0 "$(cat "$LAB/controller.pid")" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
    echo "demo: the controller did not report a healthy cluster; its log:" >&2
    tail -n 30 "$LAB/controller.log" >&2
    exit 1
  fi
  sleep 0.5
done
cat "$LAB/status-before.txt"

cp=$repo/test-support/target/classes:$(cat "$repo/test-support/target/lab-classpath.txt")
set +e
java -cp "$cp" io.pgfailover.testsupport.lab.Demo "$state" $json | tee "$LAB/demo.out"
rc=${PIPESTATUS[0]}
set -e

echo "== the controller's log of the failover" >&2
grep -E "event=(decision|action_|failover_timeline|alarm)" "$LAB/controller.log" | tail -n 20 >&2 || true
echo "== status after (once the controller reports a healthy primary again)" >&2
deadline=$((SECONDS + 30))
until java -jar "$JAR" status -c "$config" >"$LAB/status-after.txt" 2>&1 || [ $SECONDS -gt $deadline ]; do sleep 0.5; done
cat "$LAB/status-after.txt" >&2
# With --json the Demo's last stdout line is the summary; everything after it went to stderr.
exit "$rc"
