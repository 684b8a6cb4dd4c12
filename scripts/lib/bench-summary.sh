# The final table of scripts/bench-lookup.sh (sourced after it measured): the
# figures side by side, then the ratios marked against the targets.

# Result files hold `requests/s p50 p99 p99.9 server-cpu/request client-cpu/request ...` (µs).
lookup_summary() {
    local row rps p50 p99 p999 cpu client
    echo
    echo "Summary: $numbers numbers, $connections connections, loopback, $(nproc) cores shared by client and server"
    printf '  %-40s %12s %9s %9s %9s %14s %14s\n' "" "requests/s" "p50 us" "p99 us" "p99.9 us" "server CPU us" "client CPU us"
    for row in "lookup Resolve, 1 in flight:lookup-1" "lookup Resolve, 16 in flight:lookup-16" \
        "lookup Resolve, 16 in flight, batches:lookup-16b" \
        "lookup Resolve, paced, half P1 peak:lookup-half" "Redis GET, no pipelining:redis-1" "Redis GET, -P 16:redis-16" \
        "Redis GET, paced as lookup (same client):redis-half" \
        "Postgres SELECT (pgbench):postgres"; do
        read -r rps p50 p99 p999 cpu client _ <"$bench_tmp/${row##*:}"
        printf '  %-40s %12.0f %9.0f %9.0f %9.0f %14.2f %14.2f\n' "${row%:*}" "$rps" "$p50" "$p99" "$p999" "$cpu" "$client"
    done
    echo
    awk -v n="$numbers" -v empty="$rss_empty" -v loaded="$rss_loaded" -v cold="$cold_start_ms" \
        -v load_ms="$(($(status load_micros) / 1000))" \
        -v l1="$(cat "$bench_tmp/lookup-1")" -v l16="$(cat "$bench_tmp/lookup-16b")" -v half="$(cat "$bench_tmp/lookup-half")" \
        -v r1="$(cat "$bench_tmp/redis-1")" -v r16="$(cat "$bench_tmp/redis-16")" -v pg="$(cat "$bench_tmp/postgres")" \
        -v prop="$(cat "$bench_tmp/propagation")" -v rhalf="$(cat "$bench_tmp/redis-half")" \
        -v hiccups="$(cat "$bench_tmp/hiccups")" '
        function mark(ok) { return ok ? "MET" : "NOT MET" }
        function line(what, value, target, ok) { printf "  %-50s %-24s %-14s %s\n", what, value, target, mark(ok) }
        BEGIN {
            split(l1, L1, " "); split(l16, L16, " "); split(half, H, " ")
            split(r1, R1, " "); split(r16, R16, " "); split(pg, PG, " "); split(prop, P, " ")
            split(rhalf, RH, " "); split(hiccups, HI, " ")
            printf "  %-50s %-24s %-14s %s\n", "", "measured", "target", ""
            line("lookup CPU/request (1 in flight) : Redis GET (P1)", sprintf("%.2f (%.2f : %.2f us)", L1[5] / R1[5], L1[5], R1[5]), "<= 1", L1[5] <= R1[5])
            line("lookup CPU/request (1 in flight) : Postgres SELECT", sprintf("%.3f (%.2f : %.2f us)", L1[5] / PG[5], L1[5], PG[5]), "<= 0.25", L1[5] <= PG[5] / 4)
            line("lookup 16 in flight, batches : Redis -P 16 (req/s)", sprintf("%.2f (%.0f : %.0f)", L16[1] / R16[1], L16[1], R16[1]), ">= 0.5", L16[1] >= R16[1] / 2)
            line(sprintf("p99 at half the 1-in-flight peak (%.0f/s)", H[1]), sprintf("%.0f us", H[3]), "<= 250 us", H[3] <= 250)
            printf "    beside it: Redis GET at that rate, same client, p99 %.0f us; the machine stopped threads\n", RH[3]
            printf "    for over 250 us %.2f%% of the time with every core busy (%.2f%% with one)\n", HI[2], HI[1]
            line("resident bytes per number, (loaded - empty) / N", sprintf("%.0f", (loaded - empty) / n), "<= 160", (loaded - empty) / n <= 160)
            line("resident bytes per number, loaded / N", sprintf("%.0f", loaded / n), "<= 160", loaded / n <= 160)
            line("cold start, spawn -> SERVING", sprintf("%.2f s (load %.2f s)", cold / 1000, load_ms / 1000), "<= 3 s", cold <= 3000)
            line("write -> resolvable, p50 / p99", sprintf("%.2f / %.2f ms", P[1], P[2]), "p99 <= 100 ms", P[2] <= 100 && P[4] == 0)
            if (P[4] > 0) printf "  (%d of %d propagation samples never resolved within the sample timeout)\n", P[4], P[5]
            if (L1[7] + L16[7] + H[7] > 0) printf "  (lookup calls that failed: %d, %d, %d)\n", L1[7], L16[7], H[7]
            if (RH[7] > 0) printf "  (Redis GETs that failed, paced: %d)\n", RH[7]
        }'
}
