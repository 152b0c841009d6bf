#!/usr/bin/env bash
# Failover drills on the netns lab: what an application sees when the primary dies.
#   bench/failover.sh --drills N --fault kill|cut|freeze|az --mode sync|async [--settings default|fast] [--json]
# Each drill builds a fresh PostgreSQL pair on hosts pgfo-a/pgfo-b, starts `failoverctl run` on pgfo-ctl, writes
# numbered rows through the virtual IP from pgfo-cli, injects the fault (kill: SIGKILL of the primary's postmaster
# and backends; cut: the primary host's link down; freeze: SIGSTOP; az: an AZ lost — a controller pair with a
# DynamoDB lease on moto, ctl-a leading on pgfo-ctl beside the primary, ctl-b following on pgfo-ctl2, and the
# links of pgfo-a and pgfo-ctl cut together), waits for the failover, heals the fault and
# checks that the old primary never answers through the virtual IP. Prints one row per drill, a summary
# (p50/p95/max), writes bench/out/FAULT-MODE.svg (the drills' timelines) and, with --json, as its last line:
#   {"fault","mode","drills","failovers_completed","write_downtime_ms_p50","write_downtime_ms_p95",
#    "write_downtime_ms_max","detected_ms_p50",...,"lost_acked_writes","split_brain_seen","chart"}
#   (az adds "takeover_ms_p50/p95/max": the follower's lease_acquired after the fault, and "old_leader_actions")
# Needs root (network namespaces). Exit codes: 0 every drill failed over, no split brain, nothing lost in sync
# mode, and (az) the cut-off leader started no action; 1 otherwise; 2 cannot run here.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/prereqs.sh
. scripts/lib/netns.sh
. scripts/lib/build.sh
netns_bench bench/failover FailoverBench "$@" && rc=0 || rc=$?
exit "$rc"
