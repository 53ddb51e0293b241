#!/bin/sh
# Creates or upgrades the Temporal server's schemas in PostgreSQL (databases
# temporal and temporal_visibility, created by deploy/postgres/init-databases.sh).
# Runs in the temporalio/admin-tools image before the server starts; safe to repeat.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (database host) must be set}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_DIR="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}"
tries=0
until nc -z -w 2 "$POSTGRES_SEEDS" "$DB_PORT"; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "PostgreSQL did not answer" >&2; exit 1; }
    sleep 2
done

sql_tool() {
    # The password is read from $SQL_PASSWORD, so it never appears in a process list.
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

sql_tool --db temporal setup-schema -v 0.0
sql_tool --db temporal update-schema -d "$SCHEMA_DIR/temporal/versioned"
sql_tool --db temporal_visibility setup-schema -v 0.0
sql_tool --db temporal_visibility update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schemas are up to date"
