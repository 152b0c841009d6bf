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
echo "test.sh: systemd-analyze verify scripts/systemd/pgfailover.service"
if command -v systemd-analyze >/dev/null 2>&1; then
  if ! unit_problems=$(systemd-analyze verify scripts/systemd/pgfailover.service 2>&1) || [ -n "$unit_problems" ]; then
    echo "$unit_problems"
    echo "test.sh: the systemd unit has problems (above)" >&2
    exit 1
  fi
else
  echo "test.sh: skipping the unit check: systemd-analyze is missing (Debian's systemd package, a whole init" \
    "system: not installed by this script)"
fi

echo "test.sh: scripts/tests/build.sh (ensure_built rebuilds exactly when needed; Maven's output is clean)"
scripts/tests/build.sh

# bench/peers.sh is a benchmark (minutes, installs the peers), not a test: check only that it rejects bad
# arguments and says why it cannot run where it cannot. Fast, and installs nothing.
check_peers_cli() {
  local args out rc
  for args in "--drills 0 --fault kill" "--drills 1 --fault explode" "--drills 1 --fault kill --system nope" \
      "--drills 1 --fault kill --settings slow" "--drills 1" "--frobnicate"; do
    # shellcheck disable=SC2086 # word splitting of the argument list is meant
    out=$(bench/peers.sh $args 2>&1) && rc=0 || rc=$?
    if [ "$rc" != 2 ] || ! grep -q '^usage: bench/peers.sh' <<<"$out"; then
      echo "test.sh: bench/peers.sh $args: expected exit 2 and the usage, got exit $rc: $out" >&2
      return 1
    fi
  done
  # Unprivileged it must refuse before installing anything; as root, try as nobody (if nobody can read the tree).
  if is_root; then
    if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -r bench/peers.sh 2>/dev/null; then
      echo "test.sh: bench/peers.sh unprivileged check skipped: user nobody cannot read this tree"
      return 0
    fi
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups bench/peers.sh --drills 1 --fault kill 2>&1) && rc=0 || rc=$?
  else
    out=$(bench/peers.sh --drills 1 --fault kill 2>&1) && rc=0 || rc=$?
  fi
  if [ "$rc" != 2 ] || ! grep -q 'needs root' <<<"$out"; then
    echo "test.sh: bench/peers.sh unprivileged: expected exit 2 and 'needs root', got exit $rc: $out" >&2
    return 1
  fi
  echo "test.sh: bench/peers.sh rejects bad arguments and refuses to run unprivileged"
}
check_peers_cli

# Off EC2 the SDK must never reach for the instance metadata address: everything here talks to loopback.
export AWS_EC2_METADATA_DISABLED=true
echo "test.sh: mvn -B verify $*"
export PGFAILOVER_VENV="$PWD/.venv"
exec mvn -B verify "$@"
