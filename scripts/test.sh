#!/usr/bin/env bash
# Runs every test against a real, private Postgres that this script starts:
#   scripts/test.sh [extra swift test arguments]
# Installs missing Debian packages first. FUZZ_SECONDS (default 20) bounds the
# fuzz run that follows the tests; 0 skips it.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

scripts/install-deps.sh

# Tests get their own cluster so they never touch the local run's data.
export PG_DATA_DIR="${PG_DATA_DIR:-$repo_root/.pgdata-test}"
export PG_PORT="${PG_PORT:-55433}"
scripts/postgres.sh start
eval "$(scripts/postgres.sh env)"
trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT

echo "== generated code is up to date"
scripts/generate.sh --check

echo "== compose.yaml is valid"
scripts/check-compose.sh

echo "== build"
swift build --build-tests
export PHONE_BIN_DIR="$(swift build --show-bin-path)"

echo "== tests"
# Serially: some tests restart the shared Postgres or start service
# processes, and 2 cores are easily oversubscribed.
swift test --skip-build --no-parallel "$@"

echo "== smoke test of scripts/run.sh"
scripts/smoke-run.sh

if [[ "${FUZZ_SECONDS:-20}" != 0 ]]; then
    echo "== fuzz (${FUZZ_SECONDS:-20}s per target)"
    scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
