#!/bin/sh
# Creates the platform's roles and databases. Run by the postgres image's entrypoint
# (/docker-entrypoint-initdb.d) once, when the data volume is first initialised.
#
#   ipr       owns one database per service: intake, risk, holds, notify, disposal, guarantees, cases, identity, web
#   temporal  owns the Temporal server's databases: temporal, temporal_visibility
#
# Both roles log in with $POSTGRES_PASSWORD; each service only ever connects to its
# own database (DATABASE_URL=postgresql+asyncpg://ipr:...@postgres:5432/<service>).
set -eu

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v password="$POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE ipr LOGIN PASSWORD :'password';
CREATE ROLE temporal LOGIN PASSWORD :'password';

CREATE DATABASE intake OWNER ipr;
CREATE DATABASE risk OWNER ipr;
CREATE DATABASE holds OWNER ipr;
CREATE DATABASE notify OWNER ipr;
CREATE DATABASE disposal OWNER ipr;
CREATE DATABASE guarantees OWNER ipr;
CREATE DATABASE web OWNER ipr;
CREATE DATABASE cases OWNER ipr;
CREATE DATABASE identity OWNER ipr;

CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

-- Nobody but the owner (and superusers) may connect to a service's database.
REVOKE CONNECT ON DATABASE intake, risk, holds, notify, disposal, guarantees, cases, identity, web FROM PUBLIC;
REVOKE CONNECT ON DATABASE temporal, temporal_visibility FROM PUBLIC;
SQL
