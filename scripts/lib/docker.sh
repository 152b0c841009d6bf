# shellcheck shell=bash
# A Docker engine for the LocalStack leg of the tests, sourced after prereqs.sh.
# One that answers (DOCKER_HOST, or the default socket) is used as it is. Otherwise, as root on Debian, this
# starts one of its own, after installing from Debian's packages:
#   docker.io   dockerd, containerd and runc (Docker 20.10 on Debian 12): the engine Testcontainers talks to.
# The engine has its own data root (images survive between runs on one machine), exec root and socket, so it
# never touches a system Docker. It runs without iptables and without IP forwarding, and gives containers their
# own loopback as DNS server: a container reaches the ports this machine publishes to it and nothing beyond.
# It keeps running after the tests, for the next run: stop it with `kill "$(cat /run/pgfailover-docker/dockerd.pid)"`.
# Every wait here is bounded.
PGFO_DOCKER_DATA=${PGFO_DOCKER_DATA:-/var/lib/pgfailover/docker}
PGFO_DOCKER_RUN=/run/pgfailover-docker
PGFO_DOCKER_HOST=unix://$PGFO_DOCKER_RUN/docker.sock
PGFO_DOCKER_START_SECONDS=60

docker_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# Exports DOCKER_HOST for an engine that answers, starting ours if needed. Returns 1, having said why, when
# none can be had (not root, no apt-get, the install or the start failed): the caller stays on moto.
ensure_docker_engine() {
  if docker_answers; then
    say "Docker engine answers at ${DOCKER_HOST:-the default socket}"
    return 0
  fi
  if DOCKER_HOST=$PGFO_DOCKER_HOST docker_answers; then
    export DOCKER_HOST=$PGFO_DOCKER_HOST
    say "Docker engine answers at $DOCKER_HOST (started by an earlier run)"
    return 0
  fi
  if ! is_root; then
    say "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}) and not root, so none can be started here"
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no Docker engine answers and no apt-get to install one: install Docker, or export DOCKER_HOST"
    return 1
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    # A subshell: apt_install exits on failure, and a failed install must leave the caller on moto.
    (apt_install docker.io) || { say "installing docker.io failed"; return 1; }
  fi
  start_docker_engine
}

start_docker_engine() {
  local pidfile=$PGFO_DOCKER_RUN/dockerd.pid log=$PGFO_DOCKER_RUN/dockerd.log pid waited=0
  mkdir -p "$PGFO_DOCKER_DATA" "$PGFO_DOCKER_RUN"
  # dockerd refuses to start over the pid file of an engine that died with the machine or a kill -9.
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    rm -f "$pidfile"
  fi
  say "starting dockerd (data root $PGFO_DOCKER_DATA, socket $PGFO_DOCKER_HOST, log $log)"
  # setsid: the engine outlives this script and is not in its process group (a Ctrl-C of the tests leaves it).
  # 9>&-: it must not inherit the LocalStack lock's descriptor (localstack.sh), or it would hold the lock forever.
  setsid dockerd --data-root "$PGFO_DOCKER_DATA" --exec-root "$PGFO_DOCKER_RUN/exec" --pidfile "$pidfile" \
    -H "$PGFO_DOCKER_HOST" --iptables=false --ip-forward=false --ip-masq=false --dns 127.0.0.1 \
    </dev/null >"$log" 2>&1 9>&- &
  pid=$!
  while ! DOCKER_HOST=$PGFO_DOCKER_HOST docker_answers; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge "$PGFO_DOCKER_START_SECONDS" ]; then
      say "dockerd did not answer within ${PGFO_DOCKER_START_SECONDS}s; the end of its log:"
      tail -n 20 "$log" >&2
      kill "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  export DOCKER_HOST=$PGFO_DOCKER_HOST
  say "dockerd pid $pid answers after ${waited}s, storage driver $(docker info --format '{{.Driver}}' 2>/dev/null)"
}
