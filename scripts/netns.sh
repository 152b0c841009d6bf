#!/usr/bin/env bash
# The network-namespace lab's namespaces and emulator (see scripts/lib/netns.sh for the layout).
#   scripts/netns.sh up     # sweeps stale pgfo-* namespaces, builds pgfo-rtr/-a/-b/-cli/-ctl/-ctl2, starts moto on the router
#   scripts/netns.sh down   # stops every process inside them and deletes them
#   scripts/netns.sh check  # exit 0 when this machine can run the lab (root, ip, network namespaces)
# Used by bench/failover.sh, scripts/demo.sh and the fault-matrix ITs. Exit codes: 0 ok, 1 failed, 2 cannot run here.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/prereqs.sh
. scripts/lib/netns.sh
case "${1:-}" in
  check) netns_available ;;
  up)
    netns_available || { echo "netns: needs root and network namespaces (ip netns add failed)" >&2; exit 2; }
    ensure_venv
    ensure_nftables # the flapping-link and EC2-unavailable faults
    netns_lab_up "${PGFAILOVER_NETNS_LOGS:-$PWD/target/netns-lab}"
    ;;
  down) netns_down; netns_say "down" ;;
  *) echo "usage: scripts/netns.sh up|down|check" >&2; exit 2 ;;
esac
