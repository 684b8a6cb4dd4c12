# Redis and Postgres beside lookup (scripts/bench-lookup.sh sources this after
# lib/bench.sh): the same routes and rows, the same connections, and each
# server's CPU time per request read from /proc. Uses the caller's numbers,
# seconds, connections, seed_args and postmaster, and its say, now_ns,
# rss_bytes and cpu_micros. Each run writes `requests/s p50 p99 p99.9
# server-cpu/request client-cpu/request` (µs) to $bench_tmp/<name>.

# Redis: one key per seeded number holding its encoded route, loaded with
# redis-cli --pipe. Sets redis_port and redis_pid.
redis_start() {
    bench_free_port redis_port
    bench_spawn redis redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$bench_tmp" --daemonize no
    redis_pid="$bench_last_pid"
    for _ in $(seq 1 100); do
        redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    say "Redis $(redis-server --version | awk '{ sub("v=", "", $3); print $3 }'): loading $numbers keys (route:<index>, the encoded route) with redis-cli --pipe"
    local started
    started="$(now_ns)"
    "$bench_bin/lookup-bench" redis-protocol "${seed_args[@]}" 2>"$bench_tmp/redis-protocol.log" \
        | timeout 600 redis-cli -p "$redis_port" --pipe >"$bench_tmp/redis-pipe.log"
    if ! grep -q "errors: 0, replies: $numbers" "$bench_tmp/redis-pipe.log"; then
        cat "$bench_tmp/redis-pipe.log" >&2
        exit 1
    fi
    redis_rss="$(rss_bytes "$redis_pid")"
    say "Redis loaded in $((($(now_ns) - started) / 1000000)) ms; $(tail -n 1 "$bench_tmp/redis-protocol.log" | sed 's/^redis-protocol: //');" \
        "RSS $((redis_rss / 1024 / 1024)) MiB ($((redis_rss / numbers)) bytes per key)"
}

# pipeline name: redis-benchmark GET of random keys; a short run (also the
# warm-up) sizes a measured run of about $seconds.
redis_run() {
    local pipeline="$1" name="$2" out="$bench_tmp/redis-benchmark.out" requests before after client_before client_after
    local rps p50 p99 p999 cpu client
    redis_benchmark "$pipeline" $((pipeline == 1 ? 100000 : 1000000)) >"$out"
    requests="$(awk -v s="$seconds" '/throughput summary/ { printf "%.0f", $3 * s }' "$out")"
    before="$(cpu_micros "$redis_pid")"
    children_cpu_micros client_before
    redis_benchmark "$pipeline" "$requests" >"$out"
    children_cpu_micros client_after
    after="$(cpu_micros "$redis_pid")"
    # The summary's p50 and p99; p99.9 is the first percentile line at or above it.
    awk -v cpu=$((after - before)) -v client=$((client_after - client_before)) -v n="$requests" '
        /throughput summary/ { rps = $3 }
        /latency summary/ { getline; getline; p50 = $3 * 1000; p99 = $5 * 1000 }
        /Latency by percentile distribution/ { dist = 1; next }
        dist && /^[0-9.]+% <=/ { pct = $1; sub("%", "", pct); if (pct + 0 >= 99.9 && !p999) p999 = $3 * 1000 }
        END { printf "%.2f %.0f %.0f %.0f %.2f %.2f\n", rps, p50, p99, p999, cpu / n, client / n }
    ' <(tr '\r' '\n' <"$out") >"$bench_tmp/$name"
    read -r rps p50 p99 p999 cpu client <"$bench_tmp/$name"
    printf 'redis GET: %d connections, -P %d: %.0f requests/s  p50=%dus p99=%dus p99.9=%dus  server CPU %.2fus/request  client CPU %.2fus/request  (%d requests)\n' \
        "$connections" "$pipeline" "$rps" "$p50" "$p99" "$p999" "$cpu" "$client" "$requests"
}

redis_benchmark() {  # pipeline requests
    timeout $((seconds * 4 + 60)) redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$connections" -n "$2" \
        -r "$numbers" -P "$1" GET 'route:__rand_int__'
}

# rate name: lookup's own load generator sending GET at lookup's paced rate:
# the same pacing and timing on the same machine, so the two tails can be set
# side by side.
redis_paced() {
    timeout --kill-after=5 $((warmup + seconds + 60)) "$bench_bin/lookup-bench" load --redis --port "$redis_port" \
        --server-pid "$redis_pid" "${seed_args[@]}" --connections "$connections" --rate "$1" \
        --warmup "$warmup" --seconds "$seconds" --result-file "$bench_tmp/$2"
}

# Postgres: pgbench selecting the row of a random seeded number from lookup.numbers
# by E.164; latency percentiles from its per-transaction log; CPU of the whole
# cluster (backends that ended included).
postgres_prepare() {
    "$bench_bin/lookup-bench" pgbench-script "${seed_args[@]}" >"$bench_tmp/select.sql"
    say "Postgres $("$pg_bin/postgres" --version | awk '{ print $3 }'): pgbench -M prepared -c $connections -j 2," \
        "an indexed SELECT of one lookup.numbers row by random E.164 (2 s warm-up, then ${seconds} s)"
}

# name: one pgbench run (postgres_prepare first).
postgres_run() {
    local name="$1" out="$bench_tmp/pgbench.out" before after client_before client_after
    rm -f "$bench_tmp"/pgbench-log.*
    pgbench_run -T 2 >/dev/null
    before="$(cpu_micros "$postmaster" --with-children)"
    children_cpu_micros client_before
    pgbench_run -T "$seconds" --log --log-prefix="$bench_tmp/pgbench-log" >"$out"
    children_cpu_micros client_after
    sleep 1  # the backends exit after pgbench disconnects; their CPU then counts as reaped children's
    after="$(cpu_micros "$postmaster" --with-children)"
    local tps transactions rps p50 p99 p999 cpu client
    tps="$(awk '/^tps = / { print $3; exit }' "$out")"
    transactions="$(awk -F': ' '/number of transactions actually processed/ { print $2 }' "$out")"
    # Field 3 of each log line is the transaction's latency in µs.
    cat "$bench_tmp"/pgbench-log.* | awk '{ print $3 }' | sort -n | awk -v tps="$tps" -v cpu=$((after - before)) \
        -v client=$((client_after - client_before)) -v n="$transactions" '
        { latency[NR] = $1 }
        function at(p) { i = int(NR * p / 100 + 0.5); return latency[i < 1 ? 1 : i] }
        END { printf "%.2f %d %d %d %.2f %.2f\n", tps, at(50), at(99), at(99.9), cpu / n, client / n }
    ' >"$bench_tmp/$name"
    read -r rps p50 p99 p999 cpu client <"$bench_tmp/$name"
    printf 'postgres SELECT: %d connections: %.0f requests/s  p50=%dus p99=%dus p99.9=%dus  server CPU %.2fus/request  client CPU %.2fus/request  (%d transactions)\n' \
        "$connections" "$rps" "$p50" "$p99" "$p999" "$cpu" "$client" "$transactions"
}

pgbench_run() {
    PGPASSWORD="$PG_ADMIN_PASSWORD" timeout $((seconds + 60)) "$pg_bin/pgbench" -h "$PG_HOST" -p "$PG_PORT" \
        -U "$PG_ADMIN_USER" -M prepared -c "$connections" -j 2 -n -f "$bench_tmp/select.sql" "$@" "$PG_DATABASE"
}

# variable: sets it to the CPU time (µs) of this shell's children that have
# ended so far (bash's `times`, which must run in this shell, not a subshell).
children_cpu_micros() {
    times >"$bench_tmp/times"
    printf -v "$1" '%s' "$(awk 'NR == 2 {
        for (i = 1; i <= 2; i++) { split($i, part, "m"); sub("s", "", part[2]); total += part[1] * 60 + part[2] }
        printf "%.0f", total * 1e6 }' "$bench_tmp/times")"
}
