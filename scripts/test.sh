#!/usr/bin/env bash
# The one test command: installs what is missing (idempotently, saying what), then runs every test.
#   scripts/test.sh                    # everything on moto, then the LocalStack leg (below)
#   scripts/test.sh -pl pg-probe -am   # extra arguments go to Maven (moto only)
#   AWS_EMULATOR=localstack scripts/test.sh -pl aws-adapter -am   # those arguments, on LocalStack
#   AWS_EMULATOR=localstack scripts/test.sh   # the LocalStack leg alone
#   AWS_EMULATOR=moto scripts/test.sh         # moto only, no LocalStack leg
# The LocalStack leg runs the aws-adapter integration tests, the emulator's own test and the stack test
# (StackOnEmulatorIT) on LocalStack through Testcontainers. It needs a Docker engine: one that answers is used,
# otherwise one is started as root on Debian (scripts/lib/docker.sh), and the LocalStack image is built once
# (scripts/lib/localstack.sh). Where neither can be had, the leg is skipped with the reason and moto runs.
# Exit codes: 0 all green; 2 a prerequisite is missing and cannot be installed here; else Maven's code.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/prereqs.sh
. scripts/lib/docker.sh
. scripts/lib/localstack.sh

# What the LocalStack leg runs: Maven arguments.
LOCALSTACK_LEG=(-pl "aws-adapter,controller" -am
  "-Dit.test=io.pgfailover.aws.*IT,AwsEmulatorExtensionIT,StackOnEmulatorIT"
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false)

ensure_java_and_maven
ensure_postgresql
ensure_venv
ensure_shellcheck
ensure_promtool

# Seconds, before anything slower: a finding fails the build.
echo "test.sh: scripts/tests/shellcheck.sh (every shell script, and the stack's boot scripts)"
scripts/tests/shellcheck.sh

echo "test.sh: scripts/tests/prometheus.sh (promtool check and test the alerting rules in monitoring/)"
scripts/tests/prometheus.sh

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

echo "test.sh: scripts/tests/build.sh (ensure_built rebuilds exactly when needed; Maven's output is clean)"
scripts/tests/build.sh

# bench/peers.sh and bench/rejoin.sh are benchmarks (minutes, the netns lab; peers.sh installs the peers), not
# tests: check only that they reject bad arguments (usage, exit 2, before anything is installed) and say why they
# cannot run where they cannot. Fast, and installs nothing.
#   check_bench_cli SCRIPT "GOOD ARGS" "BAD ARGS"...
check_bench_cli() {
  local script=$1 good=$2 args argv out rc
  shift 2
  for args in "$@"; do
    read -r -a argv <<<"$args"
    out=$("$script" "${argv[@]}" 2>&1) && rc=0 || rc=$?
    if [ "$rc" != 2 ] || ! grep -q "^usage: $script" <<<"$out"; then
      echo "test.sh: $script $args: expected exit 2 and the usage, got exit $rc: $out" >&2
      return 1
    fi
  done
  # Unprivileged it must refuse before installing anything; as root, try as nobody (if nobody can read the tree).
  read -r -a argv <<<"$good"
  if is_root; then
    if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$script" 2>/dev/null; then
      echo "test.sh: $script unprivileged check skipped: user nobody cannot read this tree"
      return 0
    fi
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$script" "${argv[@]}" 2>&1) && rc=0 || rc=$?
  else
    out=$("$script" "${argv[@]}" 2>&1) && rc=0 || rc=$?
  fi
  if [ "$rc" != 2 ] || ! grep -q 'needs root' <<<"$out"; then
    echo "test.sh: $script unprivileged: expected exit 2 and 'needs root', got exit $rc: $out" >&2
    return 1
  fi
  echo "test.sh: $script rejects bad arguments and refuses to run unprivileged"
}
check_bench_cli bench/peers.sh "--drills 1 --fault kill" "--drills 0 --fault kill" "--drills 1 --fault explode" \
  "--drills 1 --fault kill --system nope" "--drills 1 --fault kill --settings slow" "--drills 1" "--frobnicate"
check_bench_cli bench/rejoin.sh "--sizes 100MB" "--sizes 2GB" "--sizes" "--methods copy" "--methods rewind,nope" \
  "--frobnicate"

# Off EC2 the SDK must never reach for the instance metadata address: everything here talks to loopback.
export AWS_EC2_METADATA_DISABLED=true
export PGFAILOVER_VENV="$PWD/.venv"

# Sets up Docker and the image for LocalStack; says why and returns 1 when it cannot.
localstack_ready() {
  localstack_prepare || return 1
  PGFAILOVER_RUN_ID="test-sh-$$-$(date +%s)"
  export PGFAILOVER_RUN_ID
  trap remove_run_containers EXIT
}

# shellcheck disable=SC2317 # called by the EXIT trap
remove_run_containers() {
  local left
  mapfile -t left < <(timeout 30 docker ps -aq --filter "label=io.pgfailover.run=$PGFAILOVER_RUN_ID" 2>/dev/null || true)
  if [ "${#left[@]}" -gt 0 ]; then
    echo "test.sh: removing containers this run left: ${left[*]}"
    timeout 60 docker rm -f "${left[@]}" >/dev/null || true
  fi
}

# Test counts of the reports written since the marker file: "tests failures errors skipped".
counts_since() {
  python3 - "$1" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
since = os.path.getmtime(sys.argv[1])
t = [0, 0, 0, 0]
for f in glob.glob("*/target/*-reports/TEST-*.xml"):
    if os.path.getmtime(f) >= since:
        s = ET.parse(f).getroot()
        for i, k in enumerate(("tests", "failures", "errors", "skipped")):
            t[i] += int(s.get(k, 0))
print(*t)
PY
}

# Runs one leg: leg name, then Maven arguments. Records its counts and exit code in SUMMARY and RC.
SUMMARY=()
RC=0
run_leg() {
  local leg=$1 marker rc=0 tests failures errors skipped
  shift
  marker=$(mktemp)
  echo "test.sh: [$leg] mvn -B verify $*"
  AWS_EMULATOR=$leg mvn -B verify "$@" || rc=$?
  read -r tests failures errors skipped < <(counts_since "$marker") || true
  rm -f "$marker"
  SUMMARY+=("$leg leg: Tests run: $tests, Failures: $failures, Errors: $errors, Skipped: $skipped (mvn exit $rc)")
  [ "$rc" = 0 ] || RC=$rc
}

chosen=$(echo "${AWS_EMULATOR:-}" | tr '[:upper:]' '[:lower:]')
case "$chosen" in
  "" | moto)
    if [ -z "$chosen" ] && [ $# = 0 ]; then
      # The engine and the image (minutes, mostly downloads, on a fresh machine) are prepared while the moto leg
      # runs; the second localstack_ready below then only finds them ready and exports what the leg needs.
      prepare_log=$(mktemp)
      echo "test.sh: preparing LocalStack in the background (log follows the moto leg)"
      (localstack_prepare) >"$prepare_log" 2>&1 &
      prepare_pid=$!
      run_leg moto "$@"
      wait "$prepare_pid" || true
      sed 's/^/test.sh: [localstack preparation] /' "$prepare_log"
      rm -f "$prepare_log"
      if localstack_ready; then
        run_leg localstack "${LOCALSTACK_LEG[@]}"
      else
        SUMMARY+=("localstack leg: skipped, no Docker engine could be had (see above); moto ran everything")
      fi
    else
      run_leg moto "$@"
    fi
    ;;
  localstack)
    if localstack_ready; then
      if [ $# = 0 ]; then set -- "${LOCALSTACK_LEG[@]}"; fi
      run_leg localstack "$@"
    else
      echo "test.sh: AWS_EMULATOR=localstack but no Docker engine could be had (see above): running on moto"
      SUMMARY+=("localstack: not run, no Docker engine could be had; moto instead")
      run_leg moto "$@"
    fi
    ;;
  *)
    echo "test.sh: AWS_EMULATOR=$AWS_EMULATOR is not known: use moto or localstack" >&2
    exit 2
    ;;
esac

for line in "${SUMMARY[@]}"; do echo "test.sh: $line"; done
exit "$RC"
