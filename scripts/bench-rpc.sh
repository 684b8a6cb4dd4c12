#!/usr/bin/env bash
# RPC layer benchmark over loopback: a trivial method, 50 connections, with 1
# and 16 calls in flight per connection, served as a task and inline.
#   scripts/bench-rpc.sh [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-5}"
swift build -c release --product rpc-bench >/dev/null
bin="$(swift build -c release --show-bin-path)/rpc-bench"

out="$(mktemp)"
"$bin" serve > "$out" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q listening "$out" && break; sleep 0.1; done
port="$(awk '/listening/ {print $2}' "$out")"

echo "RPC benchmark: $(nproc) cores, loopback, ${seconds}s per run; client and server share the machine"
for inline in false true; do
    for in_flight in 1 16; do
        "$bin" load --port "$port" --server-pid "$server" --connections 50 --in-flight "$in_flight" \
            --seconds "$seconds" $([[ $inline == true ]] && echo --inline)
    done
done
