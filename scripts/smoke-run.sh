#!/usr/bin/env bash
# Smoke test of scripts/run.sh, as a user would use it: start it, wait for the
# three phonectl commands it prints, run exactly those (each must exit 0),
# then press "Ctrl-C" (SIGINT to its process group) and check that run.sh,
# every service process and Postgres stopped.
#
#   scripts/smoke-run.sh      SMOKE_TIMEOUT (default 300) bounds the wait for run.sh
#
# It runs on its own Postgres, ports and run directory, so it never touches a
# developer's scripts/run.sh or the test cluster.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

export RUN_DIR="$repo_root/.run/smoke"
# Ports below the kernel's ephemeral range (32768 and up): the smoke test runs after
# thousands of test connections, any of which may hold a port in that range.
export PG_PORT="${SMOKE_PG_PORT:-25434}" PG_DATA_DIR="$repo_root/.pgdata-smoke"
export INVENTORY_PORT="${SMOKE_BASE_PORT:-17101}"
export ASSIGNMENT_PORT=$((INVENTORY_PORT + 1)) LOOKUP_PORT=$((INVENTORY_PORT + 2))
unset PHONE_JWT_SECRET PHONE_TOKEN PHONE_CREDENTIAL_KEYS
timeout="${SMOKE_TIMEOUT:-300}"
mkdir -p "$RUN_DIR"
output="$RUN_DIR/run-output.txt"
: > "$output"

fail() { echo "smoke-run: FAIL: $*" >&2; exit 1; }

# Job control gives run.sh its own process group (as a terminal would) and
# keeps SIGINT from being ignored in a background job.
set -m
scripts/run.sh > "$output" 2>&1 < /dev/null &
run_pid=$!
set +m

stop_run() {
    kill -INT -- "-$run_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$run_pid" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
trap 'stop_run || kill -KILL -- "-$run_pid" 2>/dev/null || true' EXIT

echo "smoke-run: waiting up to ${timeout}s for scripts/run.sh (output in $output)"
deadline=$((SECONDS + timeout))
until grep -q '^Press Ctrl-C to stop' "$output"; do
    kill -0 "$run_pid" 2>/dev/null || { cat "$output" >&2; fail "run.sh exited before it was ready"; }
    ((SECONDS < deadline)) || { tail -n 40 "$output" >&2; fail "run.sh printed no commands within ${timeout}s"; }
    sleep 1
done

mapfile -t commands < <(sed -n 's/^  \(phonectl .*\)$/\1/p' "$output")
[[ ${#commands[@]} -eq 3 ]] || { cat "$output" >&2; fail "expected 3 phonectl commands, found ${#commands[@]}"; }

failures=0
for command in "${commands[@]}"; do
    echo "smoke-run: \$ $command"
    # Exactly as printed, in a shell prepared the way run.sh says.
    if (source "$RUN_DIR/env" && eval "$command") > "$RUN_DIR/command.out" 2>&1; then
        head -n 5 "$RUN_DIR/command.out" | sed 's/^/    /'
    else
        sed 's/^/    /' "$RUN_DIR/command.out"
        echo "smoke-run: FAIL: '$command' exited non-zero" >&2
        failures=$((failures + 1))
    fi
done

pids=()
for name in inventory assignment lookup; do pids+=("$(cat "$RUN_DIR/$name.pid")"); done
echo "smoke-run: Ctrl-C"
trap - EXIT
stop_run || fail "run.sh did not exit within 30 s of SIGINT"
for pid in "${pids[@]}"; do
    ! kill -0 "$pid" 2>/dev/null || fail "service process $pid is still running"
done
if scripts/postgres.sh status >/dev/null 2>&1; then fail "Postgres is still running"; fi
grep -q 'run: stopping services' "$output" || fail "run.sh did not run its clean-up"

((failures == 0)) || fail "$failures of 3 printed commands failed"
echo "smoke-run: OK (3 commands ran; run.sh, the services and Postgres stopped)"
