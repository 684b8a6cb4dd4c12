# The final table of scripts/bench-lookup.sh (sourced after it measured): the
# figures side by side, then the ratios marked against the targets.

# Result files hold `requests/s p50 p99 p99.9 server-cpu/request client-cpu/request ...` (µs).
field() { awk -v i="$2" '{ print $i }' "$bench_tmp/$1"; }

# Each round's ratio of `field` of result `a` to that of result `b` (one line each).
round_ratios() {  # a b field
    local round
    for round in $(seq 1 "$rounds"); do
        awk -v a="$(field "$1.$round" "$3")" -v b="$(field "$2.$round" "$3")" 'BEGIN { printf "%.3f\n", a / b }'
    done
}

# The lowest and highest of the numbers in $1 (a line each), as "low-high".
range() { sort -g <<<"$1" | awk 'NR == 1 { low = $1 } { high = $1 } END { print low "-" high }'; }

lookup_summary() {
    local row rps p50 p99 p999 cpu client round shown redis_ratios postgres_ratios batch_ratios
    redis_ratios="$(round_ratios lookup-1 redis-1 5)"
    postgres_ratios="$(round_ratios lookup-1 postgres 5)"
    batch_ratios="$(round_ratios lookup-16b redis-16 1)"
    # The table shows the round whose lookup : Redis CPU ratio is the median.
    shown="$(paste <(seq 1 "$rounds") <(echo "$redis_ratios") | sort -g -k 2 | awk -v n="$rounds" 'NR == int((n + 1) / 2) { print $1 }')"
    echo
    echo "Summary: $numbers numbers, $connections connections, loopback, $(nproc) cores shared by client and server"
    printf '  %-44s %12s %9s %9s %9s %14s %14s\n' "" "requests/s" "p50 us" "p99 us" "p99.9 us" "server CPU us" "client CPU us"
    for row in "lookup Resolve, 1 in flight:lookup-1.$shown" "lookup Resolve, 16 in flight:lookup-16" \
        "lookup Resolve, 16 in flight, batches:lookup-16b.$shown" \
        "lookup Resolve with credentials, 1 in flight:lookup-credentials" \
        "lookup Resolve, paced, half P1 peak:lookup-half" "Redis GET, no pipelining:redis-1.$shown" \
        "Redis GET, -P 16:redis-16.$shown" "Redis GET, paced as lookup (same client):redis-half" \
        "Postgres SELECT (pgbench):postgres.$shown"; do
        read -r rps p50 p99 p999 cpu client _ <"$bench_tmp/${row##*:}"
        printf '  %-44s %12.0f %9.0f %9.0f %9.0f %14.2f %14.2f\n' "${row%:*}" "$rps" "$p50" "$p99" "$p999" "$cpu" "$client"
    done
    echo "  (the 1-in-flight, batched, Redis and Postgres rows are round $shown of $rounds, the median round by lookup : Redis CPU)"
    echo
    echo "Rounds, each within a minute: server CPU us/request (1 in flight, no pipelining) and 16-in-flight batches' requests/s"
    printf '  %-6s %10s %10s %8s %10s %8s %12s %12s %8s\n' round lookup Redis ratio Postgres ratio "lookup 16b" "Redis P16" ratio
    for round in $(seq 1 "$rounds"); do
        awk -v r="$round" -v l1="$(cat "$bench_tmp/lookup-1.$round")" -v r1="$(cat "$bench_tmp/redis-1.$round")" \
            -v pg="$(cat "$bench_tmp/postgres.$round")" -v l16="$(cat "$bench_tmp/lookup-16b.$round")" \
            -v r16="$(cat "$bench_tmp/redis-16.$round")" 'BEGIN {
            split(l1, L1, " "); split(r1, R1, " "); split(pg, PG, " "); split(l16, L16, " "); split(r16, R16, " ")
            printf "  %-6d %10.2f %10.2f %8.3f %10.2f %8.3f %12.0f %12.0f %8.3f\n", r, L1[5], R1[5], L1[5] / R1[5],
                PG[5], L1[5] / PG[5], L16[1], R16[1], L16[1] / R16[1]
        }'
    done
    echo
    awk -v n="$numbers" -v empty="$rss_empty" -v loaded="$rss_loaded" -v cold="$cold_start_ms" \
        -v load_ms="$(($(status load_micros) / 1000))" -v half="$(cat "$bench_tmp/lookup-half")" \
        -v redis="$(echo "$redis_ratios" | median)" -v redis_range="$(range "$redis_ratios")" \
        -v postgres="$(echo "$postgres_ratios" | median)" -v postgres_range="$(range "$postgres_ratios")" \
        -v batch="$(echo "$batch_ratios" | median)" -v batch_range="$(range "$batch_ratios")" \
        -v prop="$(cat "$bench_tmp/propagation")" -v rhalf="$(cat "$bench_tmp/redis-half")" \
        -v hiccups="$(cat "$bench_tmp/hiccups")" -v failed="$(cat "$bench_tmp"/lookup-* | awk '{ s += $7 } END { print s + 0 }')" '
        function mark(ok) { return ok ? "MET" : "NOT MET" }
        function line(what, value, target, ok) { printf "  %-50s %-28s %-14s %s\n", what, value, target, mark(ok) }
        BEGIN {
            split(half, H, " "); split(prop, P, " "); split(rhalf, RH, " "); split(hiccups, HI, " ")
            printf "  %-50s %-28s %-14s %s\n", "", "measured (median; rounds)", "target", ""
            line("lookup CPU/request (1 in flight) : Redis GET (P1)", sprintf("%.3f (%s)", redis, redis_range), "<= 1", redis <= 1)
            line("lookup CPU/request (1 in flight) : Postgres SELECT", sprintf("%.3f (%s)", postgres, postgres_range), "<= 0.25", postgres <= 0.25)
            line("lookup 16 in flight, batches : Redis -P 16 (req/s)", sprintf("%.3f (%s)", batch, batch_range), ">= 0.5", batch >= 0.5)
            line(sprintf("p99 at half the 1-in-flight peak (%.0f/s)", H[1]), sprintf("%.0f us", H[3]), "<= 250 us", H[3] <= 250)
            printf "    beside it: Redis GET at that rate, same client, p99 %.0f us; the machine stopped threads\n", RH[3]
            printf "    for over 250 us %.2f%% of the time with every core busy (%.2f%% with one)\n", HI[2], HI[1]
            line("resident bytes per number, (loaded - empty) / N", sprintf("%.0f", (loaded - empty) / n), "<= 160", (loaded - empty) / n <= 160)
            line("resident bytes per number, loaded / N", sprintf("%.0f", loaded / n), "<= 160", loaded / n <= 160)
            line("cold start, spawn -> SERVING", sprintf("%.2f s (load %.2f s)", cold / 1000, load_ms / 1000), "<= 3 s", cold <= 3000)
            line("write -> resolvable, p50 / p99", sprintf("%.2f / %.2f ms", P[1], P[2]), "p99 <= 100 ms", P[2] <= 100 && P[4] == 0)
            if (P[4] > 0) printf "  (%d of %d propagation samples never resolved within the sample timeout)\n", P[4], P[5]
            if (failed > 0) printf "  (lookup calls that failed, all runs: %d)\n", failed
            if (RH[7] > 0) printf "  (Redis GETs that failed, paced: %d)\n", RH[7]
        }'
}
