#!/usr/bin/env bash
# Installs the Debian packages the project builds, tests and runs with, when any
# is missing. Safe to run repeatedly; needs root (or sudo) only when installing.
#
#   scripts/install-deps.sh           what building, testing and running need
#   scripts/install-deps.sh --bench   also what scripts/bench-lookup.sh compares with
set -euo pipefail

packages=(
    libprotobuf-c-dev protobuf-c-compiler   # message encoding, and protoc-c to regenerate
    libpq-dev                               # Postgres client library
    libphonenumber-dev                      # number parsing, validation, geocoding
    libicu-dev libprotobuf-dev              # ICU and protobuf, which the phone-number shim links too
    postgresql postgresql-client            # the private Postgres for tests and the local run (and pgbench)
    docker-compose                          # validates compose.yaml in the tests (no engine needed)
)
if [[ "${1:-}" == --bench ]]; then
    packages+=(redis-server redis-tools)    # redis-server, redis-cli, redis-benchmark
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[[ "$(id -u)" != 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
