#!/usr/bin/env bash
# The local default environment: the AWS emulator with a fixture (VPC, two subnets, two instances with ENIs,
# route tables, the virtual-IP route) matching a real PostgreSQL primary and streaming standby on loopback,
# and a ready controller config.
#   scripts/lab.sh up       # prints, as its last line, one JSON object: config, aws_endpoint, region, vip, route_tables, nodes
#   scripts/lab.sh status   # is it up; the controller's view when a config exists
#   scripts/lab.sh down     # stops and removes everything it made
# The lab lives in $PGFAILOVER_LAB_DIR (default: ./lab). Exit codes: 0 ok, 1 failed, 2 missing prerequisite.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/lib/prereqs.sh
. scripts/lib/build.sh
# Off EC2 the SDK must never reach for the instance metadata address: everything here talks to loopback.
export AWS_EC2_METADATA_DISABLED=true
LAB_DIR=${PGFAILOVER_LAB_DIR:-$repo/lab}
CP_FILE=$repo/test-support/target/lab-classpath.txt

alive() { [ -f "$LAB_DIR/supervisor.pid" ] && kill -0 "$(cat "$LAB_DIR/supervisor.pid")" 2>/dev/null; }

descendants() {
  local p=$1 c
  for c in $(pgrep -P "$p" 2>/dev/null); do descendants "$c"; echo "$c"; done
}

up() {
  if alive && [ -f "$LAB_DIR/state.json" ]; then
    echo "lab: already up in $LAB_DIR" >&2
    cat "$LAB_DIR/state.json"; echo
    return 0
  fi
  ensure_java_and_maven
  ensure_postgresql
  ensure_venv
  ensure_built lab
  down_quiet
  mkdir -p "$LAB_DIR"
  export PGFAILOVER_VENV=$repo/.venv
  # The supervisor is the parent of PostgreSQL and moto_server: it reaps them, and SIGTERM stops them all.
  nohup java -cp "$repo/test-support/target/classes:$(cat "$CP_FILE")" io.pgfailover.testsupport.lab.Lab "$LAB_DIR" \
    >"$LAB_DIR/supervisor.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/supervisor.pid"
  local deadline=$((SECONDS + 180))
  until [ -f "$LAB_DIR/state.json" ]; do
    if ! alive; then
      echo "lab: the supervisor died while starting; its log:" >&2
      tail -n 40 "$LAB_DIR/supervisor.log" >&2
      exit 1
    fi
    if [ $SECONDS -gt $deadline ]; then
      echo "lab: not up after 180 s; see $LAB_DIR/supervisor.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "lab: up in $LAB_DIR (supervisor pid $(cat "$LAB_DIR/supervisor.pid"), log $LAB_DIR/supervisor.log)" >&2
  echo "lab: controller config $LAB_DIR/controller.yaml; try: scripts/failoverctl status -c $LAB_DIR/controller.yaml" >&2
  cat "$LAB_DIR/state.json"; echo
}

down_quiet() {
  if alive; then
    local pid kids deadline
    pid=$(cat "$LAB_DIR/supervisor.pid")
    mapfile -t kids < <(descendants "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "lab: supervisor did not stop in 60 s; killing it and its children" >&2
      kill -KILL "$pid" "${kids[@]}" 2>/dev/null || true
    fi
  fi
  if [ -f "$LAB_DIR/controller.pid" ] && kill -0 "$(cat "$LAB_DIR/controller.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$LAB_DIR/controller.pid")" 2>/dev/null || true
  fi
  rm -rf "$LAB_DIR"
}

case "${1:-}" in
  up) up ;;
  down) down_quiet; echo "lab: down" >&2 ;;
  status)
    if alive && [ -f "$LAB_DIR/state.json" ]; then
      echo "lab: up (supervisor pid $(cat "$LAB_DIR/supervisor.pid"))"
      cat "$LAB_DIR/state.json"; echo
      scripts/failoverctl status -c "$LAB_DIR/controller.yaml" || true
    else
      echo "lab: down"
      exit 1
    fi
    ;;
  *) echo "usage: scripts/lab.sh up|down|status" >&2; exit 2 ;;
esac
