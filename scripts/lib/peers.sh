# shellcheck shell=bash
# Install steps for bench/peers.sh's other failover tools, sourced after scripts/lib/prereqs.sh (say,
# apt_install, PG_BINDIR, PGFAILOVER_PG_OS_USER): each checks first, installs only what is missing, and says so.
#   Patroni   from PyPI, pinned, with its etcd v3 client (the etcd3 extra) and psycopg 3, in a venv built on
#             the system Python at $PEERS_VENV (git-ignored); etcd from Debian's etcd-server
#   pg_auto_failover from Debian's postgresql-<major>-auto-failover (pg_autoctl and the monitor's extension)
PATRONI_VERSION=4.1.5
# Patroni runs as the PostgreSQL OS user, so that user must be able to read the venv and its Python: a venv
# on pyenv's or a home directory's Python (0700 homes) makes Patroni's child processes fail as postgres.
PEERS_VENV=${PGFAILOVER_PEERS_VENV:-$PWD/.peers/patroni-venv}

patroni_has_pin() {
  [ -x "$PEERS_VENV/bin/python" ] || return 1
  "$PEERS_VENV/bin/python" - "$PATRONI_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
import etcd, psycopg  # the etcd3 extra needs python-etcd; psycopg 3 is Patroni's driver here
sys.exit(0 if version("patroni") == sys.argv[1] else 1)
PY
}

ensure_patroni() {
  if ! patroni_has_pin; then
    if ! /usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
      apt_install python3-venv
    fi
    [ -x "$PEERS_VENV/bin/python" ] || { say "creating the Patroni venv at $PEERS_VENV (system Python /usr/bin/python3)"; /usr/bin/python3 -m venv "$PEERS_VENV"; }
    say "installing into $PEERS_VENV: patroni[etcd3,psycopg3]==$PATRONI_VERSION"
    "$PEERS_VENV/bin/pip" install -q --disable-pip-version-check "patroni[etcd3,psycopg3]==$PATRONI_VERSION"
    patroni_has_pin || { say "Patroni venv check failed after install"; exit 2; }
  fi
  if ! setpriv --reuid="$PGFAILOVER_PG_OS_USER" --regid="$(id -gn "$PGFAILOVER_PG_OS_USER")" --init-groups \
      "$PEERS_VENV/bin/patroni" --version >/dev/null 2>&1; then
    say "OS user $PGFAILOVER_PG_OS_USER cannot run $PEERS_VENV/bin/patroni (a parent directory it cannot enter?);"
    say "set PGFAILOVER_PEERS_VENV to a directory it can read, e.g. /opt/pgfailover-patroni"
    exit 2
  fi
  say "Patroni $PATRONI_VERSION in $PEERS_VENV"
}

ensure_etcd() {
  command -v etcd >/dev/null 2>&1 || apt_install etcd-server
  say "etcd: $(etcd --version | head -n 1)"
}

ensure_pg_auto_failover() {
  local major
  major=$("$PG_BINDIR/postgres" --version | grep -oE '[0-9]+' | head -n 1)
  if ! command -v pg_autoctl >/dev/null 2>&1 || [ ! -f "/usr/lib/postgresql/$major/lib/pgautofailover.so" ]; then
    apt_install "postgresql-$major-auto-failover"
  fi
  say "pg_auto_failover: $(pg_autoctl version | head -n 1) for PostgreSQL $major"
}
