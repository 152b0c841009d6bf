# shellcheck shell=bash
# Shared install steps for scripts/*.sh: each checks first, installs only what is missing, and says so.
# Pinned versions of what users get from PyPI (the machine's own moto/cfn-lint are never used).
MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
# flask-cors and friends come with moto[server]; pin the two we run.

say() { echo "prereqs: $*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get on this system: install these yourself, then run again: $*"
    exit 2
  fi
  if ! is_root; then
    say "missing: $*. Run as root, or: sudo apt-get install -y $*"
    exit 2
  fi
  # Another install (unattended upgrades, a parallel build) may hold dpkg's lock: wait for it rather
  # than fail at once.
  local wait_lock=(-o DPkg::Lock::Timeout=600)
  if [ -z "${PREREQS_APT_UPDATED:-}" ]; then
    say "apt-get update"
    apt-get "${wait_lock[@]}" update -qq >/dev/null
    PREREQS_APT_UPDATED=1
  fi
  say "installing from Debian's packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_java_and_maven() {
  command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 && return 0
  apt_install openjdk-17-jdk-headless maven
}

# Debian's shellcheck package (0.9 on Debian 12) lints every shell script, the
# stack's boot scripts included (scripts/tests/shellcheck.sh).
ensure_shellcheck() {
  command -v shellcheck >/dev/null 2>&1 && return 0
  apt_install shellcheck
}

# promtool checks and unit-tests the Prometheus alerting rules (monitoring/). Debian ships it in the
# prometheus package (2.42 on Debian 12): that installs the server too, unused here (no service is started
# where systemd does not run, as in CI containers).
ensure_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  say "promtool (for monitoring/*.rules.yml) comes with Debian's prometheus package"
  apt_install prometheus
}

# Prints the directory holding initdb/pg_ctl/postgres/pg_basebackup, installing PostgreSQL if none is found.
pg_bindir() {
  local d dirs
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return 0
  fi
  # The newest major first; an unmatched glob stays as it is and fails the test below.
  mapfile -t dirs < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
  for d in "${dirs[@]}"; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_basebackup" ] && { echo "$d"; return 0; }
  done
  return 1
}

ensure_postgresql() {
  if ! pg_bindir >/dev/null; then
    apt_install postgresql
  fi
  PG_BINDIR=$(pg_bindir) || { say "PostgreSQL server binaries not found after install"; exit 2; }
  export PG_BINDIR
  say "PostgreSQL binaries: $PG_BINDIR ($("$PG_BINDIR/postgres" --version))"
  # initdb refuses root: as root the test harness runs PostgreSQL as this unprivileged user.
  if is_root; then
    PGFAILOVER_PG_OS_USER=${PGFAILOVER_PG_OS_USER:-postgres}
    if ! id "$PGFAILOVER_PG_OS_USER" >/dev/null 2>&1; then
      say "creating system user $PGFAILOVER_PG_OS_USER to run PostgreSQL in tests"
      useradd --system --no-create-home --shell /usr/sbin/nologin "$PGFAILOVER_PG_OS_USER"
    fi
    export PGFAILOVER_PG_OS_USER
  fi
}

venv_has_pins() {
  [ -x .venv/bin/python ] || return 1
  .venv/bin/python - "$MOTO_VERSION" "$CFN_LINT_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
ok = version("moto") == sys.argv[1] and version("cfn-lint") == sys.argv[2]
import flask  # moto[server] extra
sys.exit(0 if ok else 1)
PY
}

ensure_venv() {
  if venv_has_pins; then
    say "venv .venv has moto $MOTO_VERSION and cfn-lint $CFN_LINT_VERSION"
    return 0
  fi
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
  fi
  [ -x .venv/bin/python ] || { say "creating Python venv at .venv"; python3 -m venv .venv; }
  say "installing into .venv: moto[server]==$MOTO_VERSION cfn-lint==$CFN_LINT_VERSION"
  .venv/bin/pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION"
  venv_has_pins || { say "venv check failed after install"; exit 2; }
}
