#!/usr/bin/env bash
# The one test command: installs what is missing (idempotently, saying what), then runs every test.
#   scripts/test.sh            # install prerequisites, then mvn -B verify
#   scripts/test.sh -pl pg-probe -am   # extra arguments go to Maven
# Exit codes: 0 all green; 2 a prerequisite is missing and cannot be installed here; else Maven's code.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/prereqs.sh

ensure_java_and_maven
ensure_postgresql
ensure_venv

echo "test.sh: cfn-lint on cloudformation/"
if compgen -G "cloudformation/*.yaml" >/dev/null; then
  .venv/bin/cfn-lint cloudformation/*.yaml
else
  echo "test.sh: no templates yet under cloudformation/"
fi

# systemd-analyze verify only warns (exit 0) about unknown keys and bad values: any output fails the check.
for unit in scripts/systemd/pgfailover.service scripts/systemd/pgfailover-agent.service; do
  echo "test.sh: systemd-analyze verify $unit"
  if command -v systemd-analyze >/dev/null 2>&1; then
    if ! unit_problems=$(systemd-analyze verify "$unit" 2>&1) || [ -n "$unit_problems" ]; then
      echo "$unit_problems"
      echo "test.sh: the systemd unit $unit has problems (above)" >&2
      exit 1
    fi
  else
    echo "test.sh: skipping the unit check: systemd-analyze is missing (Debian's systemd package, a whole" \
      "init system: not installed by this script)"
  fi
done

# Off EC2 the SDK must never reach for the instance metadata address: everything here talks to loopback.
export AWS_EC2_METADATA_DISABLED=true
echo "test.sh: mvn -B verify $*"
export PGFAILOVER_VENV="$PWD/.venv"
exec mvn -B verify "$@"
