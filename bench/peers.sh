#!/usr/bin/env bash
# The failover drills of bench/failover.sh against this project, Patroni and pg_auto_failover, side by side.
#   bench/peers.sh --drills N --fault kill|cut|freeze [--system pgfailover|patroni|pg_auto_failover|all]
#                  [--settings default|fast] [--json]
# Each system runs on the netns lab's hosts: PostgreSQL on pgfo-a (first primary) and pgfo-b, the peers'
# coordinator (etcd for Patroni, the monitor for pg_auto_failover) on pgfo-ctl, this project's controller on
# pgfo-ctl as in bench/failover.sh. One client on pgfo-cli inserts numbered rows: through the virtual IP for this
# project, through pgjdbc multi-host (targetServerType=primary) for the peers. The fault hits the primary's host
# (kill: SIGKILL of PostgreSQL and the peer's agent, a host crash; cut: its link down; freeze: SIGSTOP of
# everything on it), is healed after the failover, and the client writes 2 s more. Each drill starts a fresh
# cluster. Measured alike for all: the longest pause between acknowledged writes that ends after the fault,
# acknowledged writes the new primary lacks, split brain (an ack from the old primary after one from the new).
# Prints a table, writes bench/out/peers-FAULT[-fast].svg and, with --json, a last line holding a JSON array
# with one object per system ("system", "drills", "write_downtime_ms_p50/p95/max", "lost_acked_writes",
# "split_brain_seen", "versions", "settings", ...).
# Installs what is missing (Patroni pinned from PyPI into .peers/, etcd-server and
# postgresql-<major>-auto-failover from Debian) and says so. Needs root.
# Exit codes: 0 every drill ran (a peer that does not fail over within 120 s is reported, not an error) and this
# project failed over without split brain in each; 1 otherwise; 2 bad arguments or cannot run here.
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="usage: bench/peers.sh --drills N --fault kill|cut|freeze [--system pgfailover|patroni|pg_auto_failover|all] [--settings default|fast] [--json]"
bad_usage() { echo "bench/peers: $*" >&2; echo "$USAGE" >&2; exit 2; }

# Arguments are checked before anything is installed or built.
drills="" fault="" system=all settings=default json=()
while [ $# -gt 0 ]; do
  case $1 in
    --drills|--fault|--system|--settings)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      case $1 in
        --drills) drills=$2 ;;
        --fault) fault=$2 ;;
        --system) system=$2 ;;
        --settings) settings=$2 ;;
      esac
      shift 2 ;;
    --json) json=(--json); shift ;;
    -h|--help) echo "$USAGE"; exit 0 ;;
    *) bad_usage "unknown argument $1" ;;
  esac
done
[ -n "$drills" ] || bad_usage "--drills N is required"
[ -n "$fault" ] || bad_usage "--fault kill|cut|freeze is required"
[[ $drills =~ ^[1-9][0-9]*$ ]] || bad_usage "--drills needs a whole number >= 1, got '$drills'"
case $fault in kill|cut|freeze) ;; *) bad_usage "--fault is kill, cut or freeze, got '$fault'" ;; esac
case $system in pgfailover|patroni|pg_auto_failover|all) ;; *) bad_usage "--system is pgfailover, patroni, pg_auto_failover or all, got '$system'" ;; esac
case $settings in default|fast) ;; *) bad_usage "--settings is default or fast, got '$settings'" ;; esac

. scripts/lib/prereqs.sh
. scripts/lib/netns.sh
. scripts/lib/peers.sh
if ! is_root; then
  echo "bench/peers: needs root: it builds network namespaces and runs PostgreSQL and the peers as the postgres user" >&2
  exit 2
fi
if ! netns_available; then
  echo "bench/peers: cannot create network namespaces here (ip netns add failed); the drills need the netns lab" >&2
  exit 2
fi
ensure_java_and_maven
ensure_postgresql
ensure_venv
case $system in all|patroni) ensure_etcd; ensure_patroni ;; esac
case $system in all|pg_auto_failover) ensure_pg_auto_failover ;; esac
netns_build
out=${PGFAILOVER_BENCH_OUT:-$PWD/bench/out}
mkdir -p "$out"
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# One lab at a time on this machine: the namespaces' names are fixed.
exec 9>"$NETNS_LOCK"
flock -w 1800 9 || { echo "bench/peers: another netns lab run holds $NETNS_LOCK" >&2; exit 1; }
trap 'netns_down; rm -rf "$LAB_SNAPSHOT"' EXIT
netns_lab_up "$out"
set +e
ip netns exec pgfo-cli java -cp "$LAB_CP" io.pgfailover.testsupport.lab.PeersBench \
  --out "$out" --jar "$LAB_JAR" --patroni-venv "$PEERS_VENV" --revision "$revision" \
  --drills "$drills" --fault "$fault" --system "$system" --settings "$settings" "${json[@]}"
rc=$?
set -e
exit $rc
