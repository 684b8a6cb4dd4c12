#!/usr/bin/env bash
# Lookup beside Redis and Postgres, in one run on loopback, with a million
# numbers: resident memory per number, cold start, Resolve throughput and
# latency (1 and 16 calls in flight per connection, the 16 also in batches as
# redis-benchmark -P 16 sends them, and paced at half the 1-in-flight peak;
# also asking for the numbers' provider credentials, opened per call),
# CPU per request of each server, and how soon a write in assignment is
# resolvable in lookup. Lookup, Redis and Postgres are measured in alternating
# rounds, each ratio within its round. Redis is also driven paced at lookup's
# rate by the same load generator, and the machine's own stalls are measured
# first (the bounds of any tail here). Ends with a table marked against the
# targets.
#
#   scripts/bench-lookup.sh [numbers, default 1000000]
#
# Environment: BENCH_DATABASE (default phonenumbers_bench_lookup, a database of
# its own in the private Postgres), BENCH_SECONDS (measured seconds per load run,
# default 6), BENCH_ROUNDS (rounds of lookup, Redis and Postgres side by side,
# default 5), BENCH_CONNECTIONS (default 50).
#
# The projection is seeded straight into lookup's tables with COPY, as lookup
# would have built it from inventory's and assignment's events; every run
# truncates and reseeds them. Everything this run starts (services, Redis, and
# the private Postgres if it was not running) is stopped on exit.
set -euo pipefail
bench_tool=lookup-bench
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"
source scripts/lib/bench-compare.sh
source scripts/lib/bench-summary.sh

numbers="${1:-1000000}"
seconds="${BENCH_SECONDS:-6}"
rounds="${BENCH_ROUNDS:-5}"
connections="${BENCH_CONNECTIONS:-50}"
warmup=2
[[ "$numbers" =~ ^[1-9][0-9]*$ && "$seconds" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ && "$connections" =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: $0 [numbers]   (BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS: positive integers)" >&2
    exit 2
}
seed_args=(--numbers "$numbers" --organizations 2000 --agents 20000)
bench_health_timeout=120  # a large projection loads before SERVING

say() { echo "bench-lookup: $*"; }
now_ns() { date +%s%N; }
rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }
huge_bytes() { awk '/^AnonHugePages:/ { print $2 * 1024 }' "/proc/$1/smaps_rollup"; }
cpu_micros() { "$bench_bin/lookup-bench" cpu-micros --pid "$@"; }
# The median of the numbers on standard input, a line each.
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# 1. Setup ---------------------------------------------------------------------
scripts/install-deps.sh --bench
bench_postgres "${BENCH_DATABASE:-phonenumbers_bench_lookup}" stop-on-exit
postmaster="$(head -n 1 "$PG_DATA_DIR/postmaster.pid")"
say "building release lookup, inventory, assignment and lookup-bench (in $bench_scratch)"
bench_build lookup inventory assignment lookup-bench
bench_secrets
run_started="$(now_ns)"
say "$(nproc) cores; load average $(cut -d ' ' -f 1-3 /proc/loadavg) before the run (other work on the machine skews every figure)"
# Before anything else runs: how often the machine itself stops a thread for
# more than 250 µs, with one core and with every core busy (as at half peak).
"$bench_bin/lookup-bench" hiccups --seconds 3 --result-file "$bench_tmp/hiccups" | sed 's/^/bench-lookup: /'
bench_free_port inventory_port
bench_free_port assignment_port
bench_free_port lookup_port
# Inventory and assignment first: their outboxes exist before the seed, and they
# take the writes of the propagation run.
bench_start_service inventory "$inventory_port"
inventory_pid="$bench_last_pid"
bench_start_service assignment "$assignment_port" PHONE_INVENTORY_ADDR="127.0.0.1:$inventory_port"
assignment_pid="$bench_last_pid"
upstreams=(PHONE_INVENTORY_ADDR="127.0.0.1:$inventory_port" PHONE_ASSIGNMENT_ADDR="127.0.0.1:$assignment_port")

# 2. Lookup with an empty projection (following no stream, it stays empty) ------
psql_admin <<'SQL'
DO $$ BEGIN
    IF to_regclass('lookup.numbers') IS NOT NULL THEN
        TRUNCATE lookup.numbers, lookup.organizations, lookup.agents, lookup.schedules;
    END IF;
END $$;
SQL
bench_start_service lookup "$lookup_port"
sleep 1
rss_empty="$(rss_bytes "$bench_last_pid")"
bench_stop "$bench_last_pid"
say "lookup with an empty projection: RSS $((rss_empty / 1024)) KiB"

# 3. Seed ----------------------------------------------------------------------
say "seeding $numbers numbers straight into lookup's tables with COPY (2,000 organisations, 20,000 agents," \
    "1% with a schedule, 10% with sealed credentials): the projection as lookup would have built it from events"
started="$(now_ns)"
{
    echo "BEGIN;"
    echo "SET LOCAL lock_timeout = '60s';"
    echo "TRUNCATE lookup.numbers, lookup.organizations, lookup.agents, lookup.schedules;"
    "$bench_bin/lookup-bench" seed-sql "${seed_args[@]}"
    # Lookup resumes after the producers' current heads: nothing to replay.
    cat <<'SQL'
INSERT INTO lookup.consumer_positions (stream, position)
SELECT 'inventory', position FROM inventory.outbox_head
UNION ALL SELECT 'assignment', position FROM assignment.outbox_head
ON CONFLICT (stream) DO UPDATE SET position = EXCLUDED.position, updated_at = now();
COMMIT;
VACUUM (ANALYZE) lookup.numbers, lookup.organizations, lookup.agents, lookup.schedules;
CHECKPOINT;
SQL
} | psql_admin
say "seeded in $(((($(now_ns) - started) / 1000000))) ms (generation, COPY, VACUUM ANALYZE, CHECKPOINT)"

# 4. Cold start with the seeded projection -------------------------------------
bench_health_interval=5
postgres_cpu_before="$(cpu_micros "$postmaster" --with-children)"
started="$(now_ns)"
bench_start_service lookup "$lookup_port" "${upstreams[@]}"
cold_start_ms=$((($(now_ns) - started) / 1000000))
bench_health_interval=100
lookup_pid="$bench_last_pid"
# Whose CPU the start-up took: lookup's (decoding rows, building the maps) or Postgres'.
cold_start_cpu="lookup $(($(cpu_micros "$lookup_pid") / 1000)) ms, Postgres $((($(cpu_micros "$postmaster" --with-children) - postgres_cpu_before) / 1000)) ms"
timeout 60 "$bench_bin/lookup-bench" status --port "$lookup_port" "${seed_args[@]}" >"$bench_tmp/status"
status() { awk -v key="$1" '$1 == key { print $2 }' "$bench_tmp/status"; }
[[ "$(status numbers)" -eq "$numbers" ]] || { say "lookup holds $(status numbers) numbers, not $numbers" >&2; exit 1; }
sleep 1
rss_loaded="$(rss_bytes "$lookup_pid")"
say "cold start: ${cold_start_ms} ms from spawn to SERVING (load from Postgres $(($(status load_micros) / 1000)) ms;" \
    "CPU: $cold_start_cpu);" \
    "RSS $((rss_loaded / 1024 / 1024)) MiB ($(($(huge_bytes "$lookup_pid") / 1024 / 1024)) MiB on huge pages);" \
    "Resolve answers $(status response_bytes) bytes on average" \
    "($(status sample_to_agent) sampled routes to an agent)"

# 5. Write -> resolvable (through inventory and assignment, stopped after it) --
timeout 300 "$bench_bin/lookup-bench" propagation --inventory-port "$inventory_port" --assignment-port "$assignment_port" \
    --lookup-port "$lookup_port" --numbers 200 --samples 300 --result-file "$bench_tmp/propagation"
bench_stop "$assignment_pid"
bench_stop "$inventory_pid"

# 6. Redis, loaded with the same routes (scripts/lib/bench-compare.sh) ---------
redis_start
postgres_prepare

# 7. Side by side, in rounds ----------------------------------------------------
# The machine's speed drifts by a tenth or more within minutes (the load
# generator's own CPU per call drifts with lookup's), so servers measured
# minutes apart are not compared alike: each round runs lookup, Redis and
# Postgres one after the other within a minute, and each ratio is taken within
# its round. The targets are judged on the median round's ratio; every round is
# printed.
load() {  # in-flight rate result-name [--batched]
    timeout --kill-after=5 $((warmup + seconds + 60)) "$bench_bin/lookup-bench" load --port "$lookup_port" \
        --server-pid "$lookup_pid" "${seed_args[@]}" --connections "$connections" --in-flight "$1" --rate "$2" \
        --warmup "$warmup" --seconds "$seconds" --result-file "$bench_tmp/$3" "${@:4}"
}
say "Resolve of random seeded numbers, $connections connections, ${warmup} s warm-up + ${seconds} s per run;" \
    "$(nproc) cores shared by client and server; $rounds rounds"
for round in $(seq 1 "$rounds"); do
    say "round $round of $rounds"
    load 1 0 "lookup-1.$round"
    redis_run 1 "redis-1.$round"
    # 16 in flight in batches of 16 sent together, the next when all are
    # answered: what redis-benchmark -P 16 does.
    load 16 0 "lookup-16b.$round" --batched
    redis_run 16 "redis-16.$round"
    postgres_run "postgres.$round"
done

# 8. The rest of lookup's figures, and Redis paced alike ------------------------
# 16 in flight with each answered call replaced at once, and Resolve asking for
# the provider credentials as well, of numbers that have them (the credentials
# opened per call): no figure is set against either.
load 16 0 lookup-16
load 1 0 lookup-credentials --credentials
# Half of the peak for calls sent one at a time, as the paced run sends them
# (half the 16-in-flight peak would be past what unpipelined calls can reach).
half_rate="$(cat "$bench_tmp"/lookup-1.* | awk '{ print $1 }' | median | awk '{ printf "%.0f", $1 / 2 }')"
load 1 "$half_rate" lookup-half
redis_paced "$half_rate" redis-half
rss_after_load="$(rss_bytes "$lookup_pid")"
say "lookup RSS after the load runs: $((rss_after_load / 1024 / 1024)) MiB"
bench_stop_all

lookup_summary
say "load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end"
say "finished in $((($(now_ns) - run_started) / 1000000000)) s after the build"
