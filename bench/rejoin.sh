#!/usr/bin/env bash
# Back to two nodes after a failover: how long the controller and the node agents take to rejoin the old primary.
#   bench/rejoin.sh [--sizes 100MB,1GB] [--methods rewind,reclone] [--json]
# For each database size (pgbench data: -s 7 ≈ 100 MB, -s 68 ≈ 1 GB) and rejoin method, a fresh netns lab pair
# (a node agent on pgfo-a and pgfo-b, `failoverctl run` on pgfo-ctl with rejoin: automatic): pgbench data loaded
# on the primary, the standby caught up, then the primary's host crashes (PostgreSQL and its agent SIGKILLed),
# the controller fails over, the host comes back (PostgreSQL as it was left, then its agent) and the controller
# rejoins it through its agent. rewind: wal_log_hints on, pg_rewind; reclone: wal_log_hints off and no checksums,
# so pg_rewind refuses and the agent re-clones (rejoin.reclone: true). Prints one row per case: from the fault
# until two nodes stream again, from the host being back until it streams, the agent's whole rejoin and its
# pg_rewind / pg_basebackup step; with --json, as its last line a JSON array with one object per case:
#   {"size","wanted_method","db_bytes","rejoined","rejoined_ms","streaming_after_host_back_ms","method",
#    "agent_rejoin_ms","copy_ms","finished"}
# Needs root (network namespaces). Exit codes: 0 every case rejoined; 1 otherwise; 2 bad arguments or cannot run here.
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="usage: bench/rejoin.sh [--sizes 100MB,1GB] [--methods rewind,reclone] [--json]"
bad_usage() { echo "bench/rejoin: $*" >&2; echo "$USAGE" >&2; exit 2; }

# Arguments are checked before anything is installed or built.
sizes=100MB,1GB methods=rewind,reclone json=()
while [ $# -gt 0 ]; do
  case $1 in
    --sizes|--methods)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      case $1 in
        --sizes) sizes=$2 ;;
        --methods) methods=$2 ;;
      esac
      shift 2 ;;
    --json) json=(--json); shift ;;
    -h|--help) echo "$USAGE"; exit 0 ;;
    *) bad_usage "unknown argument $1" ;;
  esac
done
IFS=, read -r -a list <<<"$sizes"
[ "${#list[@]}" -gt 0 ] || bad_usage "--sizes needs 100MB, 1GB or both, got '$sizes'"
for s in "${list[@]}"; do
  case $s in 100MB|1GB) ;; *) bad_usage "--sizes takes 100MB and 1GB (comma-separated), got '$s'" ;; esac
done
IFS=, read -r -a list <<<"$methods"
[ "${#list[@]}" -gt 0 ] || bad_usage "--methods needs rewind, reclone or both, got '$methods'"
for m in "${list[@]}"; do
  case $m in rewind|reclone) ;; *) bad_usage "--methods takes rewind and reclone (comma-separated), got '$m'" ;; esac
done

. scripts/lib/prereqs.sh
. scripts/lib/netns.sh
. scripts/lib/build.sh
netns_bench bench/rejoin RejoinBench --sizes "$sizes" --methods "$methods" "${json[@]}" && rc=0 || rc=$?
exit "$rc"
