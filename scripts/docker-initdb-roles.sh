#!/usr/bin/env bash
# docker compose's `db` service, first start only (an empty volume): the roles gridmap_owner
# (owns the database and its schema: migrations, demo loads) and gridmap_app (the web app: data
# only, no DDL). The postgis image's own init script has created PostGIS already, as superuser.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
  -v owner_pw="$GRIDMAP_OWNER_DB_PASSWORD" -v app_pw="$GRIDMAP_APP_DB_PASSWORD" \
  -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE gridmap_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE gridmap_app LOGIN PASSWORD :'app_pw';
ALTER DATABASE :"db" OWNER TO gridmap_owner;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
