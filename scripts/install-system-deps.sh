#!/usr/bin/env bash
# Installs Debian's PostgreSQL 15 + PostGIS 3 + pgRouting, Redis, Chromium and GDAL's tools when
# they are missing.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgresql-15-postgis-3)
ls /usr/share/postgresql/*/extension/pgrouting.control >/dev/null 2>&1 || need+=(postgresql-15-pgrouting)
# Redis holds the rate-limit counters every web worker shares (scripts/devredis.sh).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
# A CJK font, or Chromium draws the Chinese UI as empty boxes (screenshots, headless tests).
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
# Pango (with its FreeType backend): WeasyPrint prints the planners' PDF reports with it.
ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v npm >/dev/null 2>&1 || need+=(npm)
# GDAL's command-line tools: the interoperability tests read /ogc (OGC API Features driver) and
# the live server's vector tiles (MVT driver) with them.
command -v ogrinfo >/dev/null 2>&1 && command -v ogr2ogr >/dev/null 2>&1 || need+=(gdal-bin)
[ ${#need[@]} -eq 0 ] && exit 0

echo "install-system-deps: installing ${need[*]}"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's postgresql package starts a system cluster on 5432; ours is private, so stop that one.
if [ -n "$(ls /etc/postgresql/*/main 2>/dev/null)" ] && command -v pg_ctlcluster >/dev/null; then
  for v in $(ls /etc/postgresql); do $sudo pg_ctlcluster "$v" main stop 2>/dev/null || true; done
fi
