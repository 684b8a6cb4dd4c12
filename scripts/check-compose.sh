#!/usr/bin/env bash
# Validates compose.yaml (syntax, interpolation, references) without a Docker
# engine: `docker-compose config -q`. The secrets compose.yaml requires get
# placeholder values here; real ones come from the environment at `up` time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v docker-compose >/dev/null; then
    echo "check-compose: docker-compose is not installed (scripts/install-deps.sh installs it)" >&2
    exit 1
fi

# Placeholders for the check only, never used to run anything.
export PHONE_JWT_SECRET="${PHONE_JWT_SECRET:-compose-check-placeholder-secret}"
export PHONE_CREDENTIAL_KEYS="${PHONE_CREDENTIAL_KEYS:-check:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-placeholder}"
export INVENTORY_DB_PASSWORD="${INVENTORY_DB_PASSWORD:-placeholder}"
export ASSIGNMENT_DB_PASSWORD="${ASSIGNMENT_DB_PASSWORD:-placeholder}"
export LOOKUP_DB_PASSWORD="${LOOKUP_DB_PASSWORD:-placeholder}"

docker-compose -f compose.yaml config -q
echo "check-compose: compose.yaml is valid"
