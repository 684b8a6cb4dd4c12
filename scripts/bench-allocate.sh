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
bench_tool=alloc-bench
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

numbers="${1:-2000}"
clients="${2:-50}"
organizations="${BENCH_ORGANIZATIONS:-10}"
run_timeout="${BENCH_TIMEOUT:-900}"
propagation_timeout=$((run_timeout * 2 / 3))

[[ "$numbers" =~ ^[1-9][0-9]*$ && "$clients" =~ ^[1-9][0-9]*$ && "$organizations" =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: $0 [numbers] [clients]" >&2
    exit 2
}

bench_postgres "${BENCH_DATABASE:-phonenumbers_bench_allocate}"

echo "bench-allocate: building release inventory, assignment and alloc-bench (in $bench_scratch)"
bench_build inventory assignment alloc-bench
bench_secrets
bench_free_port inventory_port
bench_free_port assignment_port
bench_start_service inventory "$inventory_port"
bench_start_service assignment "$assignment_port" \
    PHONE_INVENTORY_ADDR="127.0.0.1:$inventory_port" PHONE_RELEASE_COOLDOWN_SECONDS=0

if ! timeout "$run_timeout" "$bench_bin/alloc-bench" run --assignment-port "$assignment_port" --inventory-port "$inventory_port" \
    --numbers "$numbers" --clients "$clients" --organizations "$organizations" \
    --propagation-timeout "$propagation_timeout" --run-timeout 300; then
    echo "bench-allocate: the run failed; the services' logs:" >&2
    tail -n 30 "$bench_tmp/assignment.log" >&2
    tail -n 10 "$bench_tmp/inventory.log" >&2
    exit 1
fi
