#!/usr/bin/env bash
# Planned switchover that loses nothing: stop writes on the primary, wait until the standby replayed
# everything, promote it, repoint every route table. Writes pause for about the catch-up time plus promotion.
#   scripts/switchover.sh --config /etc/pgfailover/controller.yaml --to pg-b
# Exit codes: 0 done, 1 an action failed (writes are re-enabled on the old primary if nothing was promoted),
# 3 bad config, 4 permission, 5 refused by a guard (nothing changed).
set -euo pipefail
exec "$(dirname "$0")/failoverctl" switchover "$@"
