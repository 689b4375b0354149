#!/usr/bin/env bash
# Project-private PostgreSQL + PostGIS cluster under .gridmap/ (own port, loopback only).
# Usage: scripts/devdb.sh start|stop|status|url|psql
# As root the server runs as the `postgres` user, because initdb and postgres refuse root.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.gridmap"
pgdata="$state/pgdata"
sock="$state/run"
port="${GRIDMAP_PGPORT:-54329}"
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -x "$pgbin/initdb" ] || { echo "devdb: PostgreSQL server binaries not found (run scripts/install-system-deps.sh)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

init() {
  mkdir -p "$state" "$sock"
  if [ "$(id -u)" = 0 ]; then
    # postgres must be able to reach the data directory through every parent folder.
    d="$state"; while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
    chown postgres:postgres "$state" "$sock"
  fi
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    echo "devdb: initialising cluster in $pgdata"
    as_owner "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 256MB
max_connections = 200
fsync = on
synchronous_commit = on
jit = off
CONF
  fi
}

running() { as_owner "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; }

start() {
  init
  if ! running; then
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
      echo "devdb: port $port is taken by another server; set GRIDMAP_PGPORT to a free port" >&2
      exit 1
    fi
    as_owner "$pgbin/pg_ctl" -D "$pgdata" -l "$state/postgres.log" -w -t 60 start >/dev/null
  fi
  psql_() { "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
  for db in gridmap gridmap_test; do
    if [ -z "$(psql_ -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      psql_ -d postgres -c "CREATE DATABASE $db"
    fi
    psql_ -d "$db" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pgrouting;"
  done
  echo "devdb: running on 127.0.0.1:$port"
}

case "${1:-start}" in
  start) start ;;
  stop) running && as_owner "$pgbin/pg_ctl" -D "$pgdata" -m fast stop || true ;;
  status) running && echo running || { echo stopped; exit 3; } ;;
  url) echo "postgresql://postgres@127.0.0.1:$port/${2:-gridmap}" ;;
  psql) shift; exec "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d gridmap "$@" ;;
  *) echo "usage: $0 start|stop|status|url [db]|psql" >&2; exit 2 ;;
esac
