#!/usr/bin/env bash
# Project-private Redis under .gridmap/redis/ (own port, loopback only) holding the rate-limit
# counters that every web worker shares. Counters are worth nothing after a restart: no persistence.
# Usage: scripts/devredis.sh start|stop|status|url
# As root the server runs as Debian's `redis` user, as devdb.sh runs PostgreSQL as `postgres`.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.gridmap"
dir="$state/redis"
pidfile="$dir/redis.pid"
port="${GRIDMAP_REDIS_PORT:-54330}"
command -v redis-server >/dev/null || { echo "devredis: redis-server not found (run scripts/install-system-deps.sh)" >&2; exit 1; }

owner=""
if [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1; then owner=redis; fi
as_owner() {
  if [ -n "$owner" ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}

ping_() { redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; }
running() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  mkdir -p "$dir"
  if [ -n "$owner" ]; then
    # redis must be able to reach its directory through every parent folder.
    d="$state"; while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
    chown "$owner" "$dir"
  fi
  if ! running; then
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
      echo "devredis: port $port is taken by another server; set GRIDMAP_REDIS_PORT to a free port" >&2
      exit 1
    fi
    as_owner redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
      --save "" --appendonly no --dir "$dir" --daemonize yes \
      --pidfile "$pidfile" --logfile "$dir/redis.log"
    for _ in $(seq 50); do ping_ && break; sleep 0.1; done
  fi
  ping_ || { echo "devredis: redis did not answer on 127.0.0.1:$port (see $dir/redis.log)" >&2; exit 1; }
  echo "devredis: running on 127.0.0.1:$port"
}

stop() {
  running || return 0
  pid="$(cat "$pidfile")"
  kill "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "devredis: redis (pid $pid) did not stop" >&2; exit 1
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) running && echo running || { echo stopped; exit 3; } ;;
  url) echo "redis://127.0.0.1:$port/0" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
