#!/bin/sh
# Postgres container init step (runs once, on an empty data directory): creates
# the service roles and schemas with db/bootstrap.sql, passing each role's
# password from the environment as a psql variable (never spliced into SQL).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v inventory_password="${INVENTORY_DB_PASSWORD:?INVENTORY_DB_PASSWORD is not set}" \
    -v assignment_password="${ASSIGNMENT_DB_PASSWORD:?ASSIGNMENT_DB_PASSWORD is not set}" \
    -v lookup_password="${LOOKUP_DB_PASSWORD:?LOOKUP_DB_PASSWORD is not set}" \
    -f /bootstrap/bootstrap.sql
