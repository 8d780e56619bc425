#!/usr/bin/env bash
# pgcluster.sh: a private, throwaway PostgreSQL cluster for trendql's tests.
#
#   eval "$(scripts/pgcluster.sh start)"   # prints the exports below
#   TRENDQL_TEST_ENGINE=postgres go test ./...
#   scripts/pgcluster.sh stop              # stops it and removes its directory
#
# start initialises a cluster in a new temporary directory (data, socket and
# log all inside it), as an unprivileged user (initdb refuses root: as root a
# system user "trendql-pg" is created when missing), with trust
# authentication, fsync off and 300 connections, listening on 127.0.0.1 only,
# on the first free port from PGCLUSTER_PORT (default 55432) up. It prints
#   export TRENDQL_TEST_POSTGRES='postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable'
#   export TRENDQL_PGCLUSTER_DIR='/tmp/trendql-pg.XXXXXX'
# stop [DIR] stops the cluster in DIR (default $TRENDQL_PGCLUSTER_DIR) and
# removes DIR. Nothing else is touched: no system service, no files outside DIR.
#
# Needs PostgreSQL's server binaries: Debian's "postgresql" package
# (apt-get install postgresql), found in /usr/lib/postgresql/<version>/bin,
# or pg_ctl on PATH.
#
# PGCLUSTER_PASSWORD=SECRET makes a cluster that checks passwords on TCP
# (scram-sha-256; the socket in DIR still trusts): the printed URL carries
# the password. The wrong-password tests start one for themselves when
# TRENDQL_TEST_POSTGRES's cluster trusts every connection.
set -euo pipefail

PG_USER="${PGCLUSTER_USER:-trendql-pg}"

die() { echo "pgcluster: $*" >&2; exit 1; }

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
  die "PostgreSQL server binaries not found (apt-get install postgresql)"
}

# as runs a command as the cluster's owner: root cannot own a cluster.
as() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

port_free() {
  # Something answers on the port: taken. A refused connection: free.
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local bin dir port tries
  bin=$(bindir)
  if [ "$(id -u)" = 0 ] && ! id -u "$PG_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/trendql-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown "$PG_USER" "$dir"
  local auth=(-A trust) userinfo=postgres
  if [ -n "${PGCLUSTER_PASSWORD:-}" ]; then
    case "$PGCLUSTER_PASSWORD" in *[!A-Za-z0-9_-]*) die "PGCLUSTER_PASSWORD: letters, digits, - and _ only (it goes into a URL as it is)";; esac
    printf '%s\n' "$PGCLUSTER_PASSWORD" >"$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown "$PG_USER" "$dir/pwfile"
    auth=(--auth-local=trust --auth-host=scram-sha-256 "--pwfile=$dir/pwfile")
    userinfo="postgres:$PGCLUSTER_PASSWORD"
  fi
  if ! as "$bin/initdb" -D "$dir/data" -U postgres "${auth[@]}" --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"
  fi
  port="${PGCLUSTER_PORT:-55432}"
  # Another process may take a port between the probe and the bind: try
  # the next free one a few times.
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    while ! port_free "$port"; do port=$((port + 1)); done
    if as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null; then
      echo "export TRENDQL_TEST_POSTGRES='postgres://$userinfo@127.0.0.1:$port/postgres?sslmode=disable'"
      echo "export TRENDQL_PGCLUSTER_DIR='$dir'"
      echo "pgcluster: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, in $dir" >&2
      return 0
    fi
    port=$((port + 1))
  done
  cat "$dir/server.log" >&2 || true
  rm -rf "$dir"
  die "could not start PostgreSQL"
}

stop() {
  local dir="${1:-${TRENDQL_PGCLUSTER_DIR:-}}" bin
  [ -n "$dir" ] || die "stop: which cluster? pass its directory or set TRENDQL_PGCLUSTER_DIR"
  [ -d "$dir" ] || return 0
  case "$(basename "$dir")" in trendql-pg.*) ;; *) die "stop: $dir is not a pgcluster directory";; esac
  bin=$(bindir)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop [DIR]" >&2; exit 2 ;;
esac
