#!/usr/bin/env bash
# Import benchmark, in one run: ImportNumbers of the inventory service (its own
# process, release build, loopback) beside psql \copy of the same rows into a
# plain table; prints numbers/s, per-call latency, the ratio and the target.
# The import runs in rounds of new numbers after an untimed warm-up (one full
# call per connection); every round is printed, and the median is the figure.
#
#   scripts/bench-import.sh [numbers, default 100000] [batch, default 5000]
#
# Environment: BENCH_CONNECTIONS (calls in flight, one per connection; default 4:
# with 2 cores one call is being validated while others wait on Postgres),
# BENCH_ROUNDS (default 3),
# BENCH_DATABASE (default phonenumbers_bench: a database of its own in the private
# Postgres, so the benchmark's rows and outbox events never reach a development
# database or its consumers), BENCH_TIMEOUT (seconds for the import, default 900).
#
# Every run recreates that database, so runs compare like with like: an outbox
# grown by earlier runs (about 1.1 events per number, never pruned) made later
# runs slower. The numbers are +1 415 200 0000 upwards (valid US numbers).
set -euo pipefail
bench_tool=import-bench
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

numbers="${1:-100000}"
batch="${2:-5000}"
connections="${BENCH_CONNECTIONS:-4}"
rounds="${BENCH_ROUNDS:-3}"
import_timeout="${BENCH_TIMEOUT:-900}"
target=50000

[[ "$numbers" =~ ^[1-9][0-9]*$ && "$batch" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ && "$connections" =~ ^[1-9][0-9]*$ ]] || {
    echo "usage: $0 [numbers] [batch]   (BENCH_ROUNDS and BENCH_CONNECTIONS: positive integers)" >&2
    exit 2
}
warmup=$((batch * connections))  # one full call per connection, untimed

bench_postgres "${BENCH_DATABASE:-phonenumbers_bench}" recreate

echo "bench-import: building release inventory and import-bench (in $bench_scratch)"
bench_build inventory import-bench
bench_secrets
bench_free_port port
bench_start_service inventory "$port"
server="$bench_last_pid"

# The measured numbers' range (the warm-up ones follow it).
read -r first last_measured _ < <("$bench_bin/import-bench" range --numbers "$numbers" --rounds "$rounds" --warmup "$warmup")
psql_admin -c "CHECKPOINT"

postmaster=""
[[ -r "$PG_DATA_DIR/postmaster.pid" ]] && postmaster="$(head -n 1 "$PG_DATA_DIR/postmaster.pid")"

echo "Import benchmark: $rounds rounds of $numbers numbers, batches of $batch, $connections connections; $(nproc) cores shared by" \
    "client, inventory and Postgres; loopback; database $PG_DATABASE"
if ! timeout "$import_timeout" "$bench_bin/import-bench" run --port "$port" --server-pid "$server" \
    ${postmaster:+--postgres-pid "$postmaster"} --numbers "$numbers" --batch "$batch" \
    --rounds "$rounds" --connections "$connections" --warmup "$warmup" --result-file "$bench_tmp/rpc-rate"; then
    echo "bench-import: the import failed; the service log:" >&2
    tail -n 40 "$bench_tmp/inventory.log" >&2
    exit 1
fi
rpc_rate="$(cat "$bench_tmp/rpc-rate")"

# The same rows, exactly as the service stored them, as CSV (not timed).
psql_admin -c "\\copy (SELECT * FROM inventory.numbers WHERE e164 BETWEEN '$first' AND '$last_measured' AND length(e164) = 12) TO '$bench_tmp/rows.csv' WITH (FORMAT csv)"
rows="$(wc -l <"$bench_tmp/rows.csv")"
if [[ "$rows" -ne "$numbers" ]]; then
    echo "bench-import: exported $rows rows, expected $numbers" >&2
    exit 1
fi

# Plain table: the same column types, no constraint but the primary key (and NOT NULL).
# Beside it, a table with everything inventory.numbers has (unique e164, checks, indexes).
psql_admin <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS bench_copy;
CREATE TABLE IF NOT EXISTS bench_copy.numbers (LIKE inventory.numbers INCLUDING DEFAULTS, PRIMARY KEY (id));
DROP TABLE IF EXISTS bench_copy.numbers_indexed;
CREATE TABLE bench_copy.numbers_indexed (LIKE inventory.numbers INCLUDING ALL);
TRUNCATE bench_copy.numbers;
CHECKPOINT;
SQL

now_ns() { date +%s%N; }
time_copy() {  # table -> seconds, psql start-up included
    local start end
    start="$(now_ns)"
    psql_admin -c "\\copy $1 FROM '$bench_tmp/rows.csv' WITH (FORMAT csv)"
    end="$(now_ns)"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }'
}
copy_seconds="$(time_copy bench_copy.numbers)"
psql_admin -c "CHECKPOINT"
indexed_seconds="$(time_copy bench_copy.numbers_indexed)"
psql_admin -c "DROP TABLE bench_copy.numbers_indexed"

awk -v n="$numbers" -v rpc="$rpc_rate" -v copy_s="$copy_seconds" -v indexed_s="$indexed_seconds" -v target="$target" 'BEGIN {
    copy = n / copy_s; indexed = n / indexed_s
    printf "COPY         %d rows into bench_copy.numbers (primary key only): %.0f rows/s (%.2f s)\n", n, copy, copy_s
    printf "             same rows into a table with all of inventory.numbers'"'"' constraints and indexes: %.0f rows/s (%.2f s)\n", indexed, indexed_s
    printf "ratio        RPC import (median) / COPY = %.3f (COPY is %.1fx faster)\n", rpc / copy, copy / rpc
    printf "target       >= %d numbers/s through the RPC (median round): %s (%.0f numbers/s)\n", target, (rpc >= target ? "MET" : "NOT MET"), rpc
}'
