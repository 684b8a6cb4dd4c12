#!/usr/bin/env bash
# RPC layer benchmark over loopback: a trivial method, 50 connections, with 1
# and 16 calls in flight per connection, served as a task and inline.
#   scripts/bench-rpc.sh [seconds per run, default 5]
# Release build in the default scratch path. Each run is bounded (warm-up +
# measurement + a margin); the server is stopped on exit.
set -euo pipefail
bench_tool=rpc-bench
bench_scratch=.build
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"
seconds="${1:-5}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
    echo "usage: scripts/bench-rpc.sh [seconds per run, > 0]" >&2
    exit 2
fi

bench_build rpc-bench
bin="$bench_bin/rpc-bench"

bench_spawn server "$bin" serve
server="$bench_last_pid"
out="$bench_tmp/server.log"
for _ in $(seq 1 100); do
    grep -q listening "$out" && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
port="$(awk '/listening/ {print $2}' "$out")"
if [[ -z "$port" ]]; then
    cat "$out" >&2
    echo "bench-rpc.sh: the server did not start" >&2
    exit 1
fi

echo "RPC benchmark: $(nproc) cores, loopback, ${seconds}s per run; client and server share the machine"
for inline in false true; do
    for in_flight in 1 16; do
        args=(load --port "$port" --server-pid "$server" --connections 50 --in-flight "$in_flight" --seconds "$seconds")
        [[ $inline == true ]] && args+=(--inline)
        # Warm-up (1 s) + measurement + margin for connecting and closing.
        timeout --kill-after=5 $((seconds + 30)) "$bin" "${args[@]}"
    done
done
