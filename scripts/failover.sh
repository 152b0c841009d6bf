#!/usr/bin/env bash
# Manual failover, the operator's path: promote a standby now and move the virtual IP's routes to it.
# Goes through the running daemon's admin API when one answers (so the daemon and you never race),
# else runs the same code directly.
#   scripts/failover.sh --config /etc/pgfailover/controller.yaml [--to pg-b] [--force]
# --force skips the witness and lag guards and fails over even from a reachable primary (writes stopped first).
# Exit codes: 0 done, 1 an action failed, 3 bad config, 4 permission, 5 refused by a guard (nothing changed).
set -euo pipefail
exec "$(dirname "$0")/failoverctl" failover "$@"
