# shellcheck shell=bash
# The network-namespace lab's plumbing, sourced by scripts/netns.sh and bench/failover.sh (demo.sh and
# the fault-matrix ITs go through those). Needs root and `ip` (iproute2).
#
#   pgfo-rtr   the VPC router: one link per host, forwards, and sends the virtual IP where the emulator's
#              route tables say (the reflector applies `ip route replace VIP via <target ENI's IP>` here);
#              10.77.0.1 on its loopback is where the AWS emulator (moto) listens, "the EC2 API endpoint"
#   pgfo-a     PostgreSQL host in subnet A   10.77.1.10/24 (router 10.77.1.1, link ra)
#   pgfo-b     PostgreSQL host in subnet B   10.77.2.10/24 (router 10.77.2.1, link rb)
#   pgfo-cli   the application host          10.77.3.10/24 (router 10.77.3.1, link rcli)
#   pgfo-ctl   the controller host           10.77.4.10/24 (router 10.77.4.1, link rctl)
#   pgfo-ctl2  the second controller's host  10.77.5.10/24 (router 10.77.5.1, link rctl2): the controller pair's
#              other AZ; the AZ-lost drill takes AZ A (links ra and rctl) down together
# Both PostgreSQL hosts carry the virtual IP on their loopback, as EC2 hosts do in the overlay-IP pattern.
# Nothing links these namespaces to the host's own network: traffic stays inside them.
NETNS_PREFIX=pgfo-
NETNS_ROUTER=pgfo-rtr
NETNS_VIP=${NETNS_VIP:-192.168.240.10}
NETNS_EC2_ADDR=10.77.0.1
# shellcheck disable=SC2034 # the lock the scripts that source this file take (flock) around a lab run
NETNS_LOCK=/run/pgfo-netns.lock

netns_say() { echo "netns: $*" >&2; }

netns_available() {
  [ "$(id -u)" = 0 ] || return 1
  command -v ip >/dev/null 2>&1 || return 1
  ip netns add pgfo-check 2>/dev/null || return 1
  ip netns del pgfo-check
}

# Removes every pgfo-* namespace (left by a run that was SIGKILLed) and the processes still inside them.
netns_sweep() {
  local ns pids
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NETNS_PREFIX" || true); do
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null || true)
    if [ "${#pids[@]}" -gt 0 ]; then
      netns_say "stopping processes left in $ns: ${pids[*]}"
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
  done
}

# _netns_host NS LINK SUBNET_OCTET: a host namespace linked to the router, default route via the router.
_netns_host() {
  local ns=$1 link=$2 n=$3
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$NETNS_ROUTER" link add "$link" type veth peer name eth0 netns "$ns"
  ip -n "$NETNS_ROUTER" addr add "10.77.$n.1/24" dev "$link"
  ip -n "$NETNS_ROUTER" link set "$link" up
  ip -n "$ns" addr add "10.77.$n.10/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "10.77.$n.1"
}

netns_up() {
  netns_sweep
  ip netns add "$NETNS_ROUTER"
  ip -n "$NETNS_ROUTER" link set lo up
  ip -n "$NETNS_ROUTER" addr add "$NETNS_EC2_ADDR/32" dev lo
  ip netns exec "$NETNS_ROUTER" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  _netns_host pgfo-a ra 1
  _netns_host pgfo-b rb 2
  _netns_host pgfo-cli rcli 3
  _netns_host pgfo-ctl rctl 4
  _netns_host pgfo-ctl2 rctl2 5
  local ns
  for ns in pgfo-a pgfo-b; do
    ip -n "$ns" addr add "$NETNS_VIP/32" dev lo
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  done
  netns_say "up: $NETNS_ROUTER pgfo-a pgfo-b pgfo-cli pgfo-ctl pgfo-ctl2 (10.77.0.0/16, virtual IP $NETNS_VIP)"
}

netns_down() {
  netns_sweep
}

# nftables for the flapping-link fault (random loss with numgen); installed from Debian's packages when root.
ensure_nftables() {
  command -v nft >/dev/null 2>&1 && return 0
  apt_install nftables
}

# netns_lab_up LOGDIR: the namespaces, and moto from .venv on the router at $NETNS_EC2_ADDR:5000.
netns_lab_up() {
  local logdir=$1 deadline
  mkdir -p "$logdir"
  netns_up
  ip netns exec "$NETNS_ROUTER" "$PWD/.venv/bin/python" -m moto.server -H "$NETNS_EC2_ADDR" -p 5000 \
    >"$logdir/moto.log" 2>&1 </dev/null &
  disown $! # netns_down kills it with everything else in the namespaces
  deadline=$((SECONDS + 60))
  until ip netns exec pgfo-cli "$PWD/.venv/bin/python" -c \
      "import urllib.request; urllib.request.urlopen('http://$NETNS_EC2_ADDR:5000/moto-api/', timeout=1)" 2>/dev/null; do
    if [ $SECONDS -gt $deadline ]; then
      netns_say "moto did not answer on $NETNS_EC2_ADDR:5000 within 60 s; its log:"; tail -n 20 "$logdir/moto.log" >&2
      return 1
    fi
    sleep 0.2
  done
  netns_say "moto answers on http://$NETNS_EC2_ADDR:5000 (namespace $NETNS_ROUTER, log $logdir/moto.log)"
}

# Builds the controller jar and test-support's classes and classpath when missing or older than a source
# (ensure_built: the caller sources scripts/lib/build.sh); sets LAB_CP and LAB_JAR.
netns_build() {
  local cpfile=test-support/target/lab-classpath.txt
  ensure_built jar
  ensure_built lab
  # Run from a copy, so that a rebuild while drills run cannot change the classes or the jar under them.
  LAB_SNAPSHOT=$(mktemp -d /tmp/pgfo-build.XXXXXX)
  cp -r test-support/target/classes "$LAB_SNAPSHOT/classes"
  cp controller/target/failoverctl.jar "$LAB_SNAPSHOT/failoverctl.jar"
  # shellcheck disable=SC2034 # LAB_CP and LAB_JAR are this function's result, read by the sourcing script
  LAB_CP=$LAB_SNAPSHOT/classes:$(cat "$cpfile")
  # shellcheck disable=SC2034 # as above
  LAB_JAR=$LAB_SNAPSHOT/failoverctl.jar
}

# netns_bench NAME CLASS ARGS...: what a netns benchmark runs after checking its arguments: needs root (else exit 2
# naming NAME), installs and builds what is missing, takes the lab lock, brings the lab up, runs
# io.pgfailover.testsupport.lab.CLASS --out OUT --jar JAR ARGS... inside pgfo-cli, tears the lab down, and returns
# the program's exit code. OUT is $PGFAILOVER_BENCH_OUT, else bench/out.
netns_bench() {
  local name=$1 class=$2 out rc
  shift 2
  if ! netns_available; then
    echo "$name: needs root and network namespaces (ip netns add failed); scripts/demo.sh runs the loopback lab" >&2
    return 2
  fi
  ensure_java_and_maven
  ensure_postgresql
  ensure_venv
  netns_build
  out=${PGFAILOVER_BENCH_OUT:-$PWD/bench/out}
  mkdir -p "$out"
  # One lab at a time on this machine: the namespaces' names are fixed.
  exec 9>"$NETNS_LOCK"
  flock -w 1800 9 || { echo "$name: another netns lab run holds $NETNS_LOCK" >&2; return 1; }
  trap 'netns_down; rm -rf "$LAB_SNAPSHOT"' EXIT
  netns_lab_up "$out"
  ip netns exec pgfo-cli java -cp "$LAB_CP" "io.pgfailover.testsupport.lab.$class" --out "$out" --jar "$LAB_JAR" "$@" \
    && rc=0 || rc=$?
  return "$rc"
}
