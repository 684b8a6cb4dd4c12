#!/usr/bin/env bash
# Allocation benchmark under contention: inventory and assignment (their own
# processes, release build, loopback); a pool of fresh numbers is imported, then
# many clients allocate one number per call from that same pool until it is empty.
# Prints allocations/s, latency of the successful calls (p50/p99/p99.9), errors by
# code and a consistency check (no number allocated twice).
#
#   scripts/bench-allocate.sh [numbers in the pool, default 2000] [clients, default 50]
#
# Environment: BENCH_ORGANIZATIONS (organisations the clients act for, default 10),
# BENCH_DATABASE (default phonenumbers_bench_allocate: a database of its own in the
# private Postgres, so the benchmark's rows and events never reach a development
# database; not phonenumbers_bench, whose rows bench-import.sh deletes behind the
# outbox's back, so assignment's projection cannot follow that event history),
# BENCH_TIMEOUT (seconds for the whole run after start-up, default 900; two thirds of it
# may go to waiting for assignment to offer the pool: a first run on a database
# follows inventory's whole event history first).
#
# Each run imports a block of 10,000 numbers it picks at random (+1 AAA NXX xxxx,
# one the catalogue has no number of), so the pool is new; the rows of earlier
# runs stay (allocated to their benchmark organisations).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

numbers="${1:-2000}"
clients="${2:-50}"
organizations="${BENCH_ORGANIZATIONS:-10}"
run_timeout="${BENCH_TIMEOUT:-900}"
propagation_timeout=$((run_timeout * 2 / 3))
scratch=".build-bench"  # release build of its own: does not block debug builds in .build

[[ "$numbers" =~ ^[1-9][0-9]*$ && "$clients" =~ ^[1-9][0-9]*$ && "$organizations" =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: $0 [numbers] [clients]" >&2
    exit 2
}

export PG_DATABASE="${BENCH_DATABASE:-phonenumbers_bench_allocate}"
scripts/postgres.sh start >/dev/null  # creates the database and applies db/bootstrap.sql if needed
eval "$(scripts/postgres.sh env)"

tmp="$(mktemp -d)"
servers=()
stop_server() {  # pid: SIGTERM, then wait up to 15 s, then SIGKILL
    local pid="$1"
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    # Assignment (started last) first.
    for ((i = ${#servers[@]} - 1; i >= 0; i--)); do stop_server "${servers[i]}"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench-allocate: building release inventory, assignment and alloc-bench (in $scratch)"
for product in inventory assignment alloc-bench; do
    if ! swift build -c release --scratch-path "$scratch" --product "$product" >"$tmp/build.log" 2>&1; then
        tail -n 40 "$tmp/build.log" >&2
        exit 1
    fi
done
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"

# A throwaway secret and credential key: nothing this run encrypts outlives it.
inventory_port="$("$bin/alloc-bench" free-port)"
assignment_port="$("$bin/alloc-bench" free-port)"
while [[ "$assignment_port" == "$inventory_port" ]]; do assignment_port="$("$bin/alloc-bench" free-port)"; done
PHONE_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PHONE_JWT_SECRET
export PHONE_CREDENTIAL_KEYS="bench:$(head -c 32 /dev/urandom | base64)"
export PHONE_RPC_HOST=127.0.0.1 PHONE_LOG_LEVEL=warning

start_service() {  # name port [VAR=value ...]
    local name="$1" port="$2" password_var
    shift 2
    password_var="PG_PASSWORD_${name^^}"
    env PHONE_RPC_PORT="$port" PHONE_METRICS_PORT=0 PG_USER="$name" PG_PASSWORD="${!password_var:-$name}" "$@" \
        "$bin/$name" >"$tmp/$name.log" 2>&1 &
    servers+=($!)
    if ! timeout 90 "$bin/alloc-bench" wait-healthy --port "$port" --timeout 60; then
        echo "bench-allocate: $name did not become healthy; its log:" >&2
        cat "$tmp/$name.log" >&2
        exit 1
    fi
}
start_service inventory "$inventory_port"
start_service assignment "$assignment_port" \
    PHONE_INVENTORY_ADDR="127.0.0.1:$inventory_port" PHONE_RELEASE_COOLDOWN_SECONDS=0

if ! timeout "$run_timeout" "$bin/alloc-bench" run --assignment-port "$assignment_port" --inventory-port "$inventory_port" \
    --numbers "$numbers" --clients "$clients" --organizations "$organizations" \
    --propagation-timeout "$propagation_timeout" --run-timeout 300; then
    echo "bench-allocate: the run failed; the services' logs:" >&2
    tail -n 30 "$tmp/assignment.log" >&2
    tail -n 10 "$tmp/inventory.log" >&2
    exit 1
fi
