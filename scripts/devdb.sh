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

superpw="$state/postgres.pw"
envfile="$state/env"

secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Clusters made before passwords (every checkout until issue 8) trust every local connection.
trusting() { grep -Eq '^[^#]*[[:space:]]trust[[:space:]]*$' "$pgdata/pg_hba.conf"; }

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
    echo "devdb: initialising cluster in $pgdata (password authentication, scram-sha-256)"
    # The superuser's password: only this script uses it (extensions, roles, databases).
    install -m 600 /dev/null "$superpw"
    secret > "$superpw"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$superpw"
    as_owner "$pgbin/initdb" -D "$pgdata" -U postgres --auth=scram-sha-256 --pwfile="$superpw" \
      -E UTF8 --locale=C.UTF-8 >/dev/null
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
  if trusting; then
    databases
    if [ ! -e "$state/trust-notice" ]; then
      echo "devdb: this cluster trusts local connections and runs everything as postgres;" \
           "\`make clean\` re-initialises it with passwords and separate owner/app roles" \
           "(until then tests/db/test_roles.py fails)"
      touch "$state/trust-notice"
    fi
  else
    export PGPASSWORD; PGPASSWORD="$(cat "$superpw")"
    roles
    databases gridmap_owner
  fi
  echo "devdb: running on 127.0.0.1:$port"
}

psql_() { "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

# The two databases (owned by $1 when given) with the extensions only a superuser may create;
# with roles, template1 gets them too, so databases the owner creates (tests) have PostGIS.
databases() {
  local owner="${1:-}" extensions="SET client_min_messages = warning;
    CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pgrouting;"
  for db in gridmap gridmap_test; do
    if [ -z "$(psql_ -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      psql_ -d postgres -c "CREATE DATABASE $db${owner:+ OWNER $owner}"
    fi
    [ -n "$owner" ] && psql_ -d postgres -c "ALTER DATABASE $db OWNER TO $owner"
    psql_ -d "$db" -c "$extensions"
  done
  [ -n "$owner" ] && psql_ -d template1 -c "$extensions"
  return 0
}

# gridmap_owner (schema, migrations, demo loads, test databases) and gridmap_app (data only).
# New passwords are set, and the URLs written to the env file, when it does not name them yet.
roles() {
  grep -q '^GRIDMAP_OWNER_DATABASE_URL=' "$envfile" 2>/dev/null && return 0
  local owner_pw app_pw; owner_pw="$(secret)"; app_pw="$(secret)"
  psql_ -d postgres -v owner_pw="$owner_pw" -v app_pw="$app_pw" <<'SQL'
SELECT 'CREATE ROLE gridmap_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridmap_owner') \gexec
SELECT 'CREATE ROLE gridmap_app' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridmap_app') \gexec
ALTER ROLE gridmap_owner LOGIN CREATEDB NOSUPERUSER PASSWORD :'owner_pw';
ALTER ROLE gridmap_app LOGIN NOCREATEDB NOSUPERUSER PASSWORD :'app_pw';
SQL
  local base="127.0.0.1:$port" tmp="$envfile.tmp"
  install -m 600 /dev/null "$tmp"
  { grep -v -e '^GRIDMAP_DATABASE_URL=' -e '^GRIDMAP_TEST_DATABASE_URL=' "$envfile" || true
    echo "GRIDMAP_DATABASE_URL=postgresql://gridmap_app:$app_pw@$base/gridmap"
    echo "GRIDMAP_OWNER_DATABASE_URL=postgresql://gridmap_owner:$owner_pw@$base/gridmap"
    echo "GRIDMAP_TEST_DATABASE_URL=postgresql://gridmap_app:$app_pw@$base/gridmap_test"
    echo "GRIDMAP_TEST_OWNER_DATABASE_URL=postgresql://gridmap_owner:$owner_pw@$base/gridmap_test"
  } > "$tmp"
  mv "$tmp" "$envfile"
  echo "devdb: roles gridmap_owner and gridmap_app (passwords in $envfile)"
}

case "${1:-start}" in
  start) start ;;
  stop) running && as_owner "$pgbin/pg_ctl" -D "$pgdata" -m fast stop || true ;;
  status) running && echo running || { echo stopped; exit 3; } ;;
  url) echo "postgresql://postgres@127.0.0.1:$port/${2:-gridmap}" ;;
  psql) shift; [ -s "$superpw" ] && export PGPASSWORD="$(cat "$superpw")"
        exec "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d gridmap "$@" ;;
  *) echo "usage: $0 start|stop|status|url [db]|psql" >&2; exit 2 ;;
esac
