#!/usr/bin/env bash
# Starts the whole system locally: installs missing Debian packages, starts a
# private Postgres on loopback, builds, and runs inventory, assignment and
# lookup as separate processes. Ctrl-C stops everything.
#
#   scripts/run.sh            BUILD_CONFIGURATION=release for an optimised build
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

scripts/install-deps.sh
scripts/postgres.sh start
eval "$(scripts/postgres.sh env)"

configuration="${BUILD_CONFIGURATION:-debug}"
echo "run: building ($configuration)"
swift build -c "$configuration" --product inventory
swift build -c "$configuration" --product assignment
swift build -c "$configuration" --product lookup
swift build -c "$configuration" --product phonectl
bin="$(swift build -c "$configuration" --show-bin-path)"

run_dir="$repo_root/.run"
mkdir -p "$run_dir"
# A development secret, created once; production sets PHONE_JWT_SECRET itself.
[[ -f "$run_dir/jwt-secret" ]] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run_dir/jwt-secret"
export PHONE_JWT_SECRET="${PHONE_JWT_SECRET:-$(cat "$run_dir/jwt-secret")}"
# Likewise the AES key ring for provider credentials ("id:base64-32-byte-key").
[[ -f "$run_dir/credential-keys" ]] || echo "dev1:$(head -c 32 /dev/urandom | base64)" > "$run_dir/credential-keys"
export PHONE_CREDENTIAL_KEYS="${PHONE_CREDENTIAL_KEYS:-$(cat "$run_dir/credential-keys")}"
export PHONE_INVENTORY_ADDR=127.0.0.1:7101 PHONE_ASSIGNMENT_ADDR=127.0.0.1:7102 PHONE_LOOKUP_ADDR=127.0.0.1:7103

pids=()
stop_all() {
    # A second Ctrl-C must not cut the clean-up short.
    trap '' INT TERM
    trap - EXIT
    echo
    echo "run: stopping services"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    scripts/postgres.sh stop
}
trap stop_all INT TERM EXIT

start_service() {
    local name="$1" port="$2"
    # A previous run killed without cleanup may still hold the port.
    if [[ -f "$run_dir/$name.pid" ]] && kill -0 "$(cat "$run_dir/$name.pid")" 2>/dev/null; then
        kill -TERM "$(cat "$run_dir/$name.pid")" 2>/dev/null || true
        sleep 1
    fi
    PHONE_RPC_PORT="$port" PG_USER="$name" PG_PASSWORD="$name" \
        "$bin/$name" >>"$run_dir/$name.log" 2>&1 &
    pids+=("$!")
    echo "$!" > "$run_dir/$name.pid"
}

start_service inventory 7101
start_service assignment 7102
start_service lookup 7103

for _ in $(seq 1 100); do
    if "$bin/phonectl" health >/dev/null 2>&1; then break; fi
    sleep 0.2
done
"$bin/phonectl" health || { echo "run: services did not become healthy; logs in $run_dir" >&2; exit 1; }

cat <<MSG

The phone-number services are running (logs in .run/*.log):
  inventory   127.0.0.1:7101   metrics and health: http://127.0.0.1:8101/metrics, /health
  assignment  127.0.0.1:7102   http://127.0.0.1:8102/metrics
  lookup      127.0.0.1:7103   http://127.0.0.1:8103/metrics

Try, in another shell from $repo_root:
  export PHONE_JWT_SECRET=\$(cat .run/jwt-secret)
  $bin/phonectl health
  $bin/phonectl methods inventory
  export PHONE_TOKEN=\$($bin/phonectl token --role platform_admin)

Press Ctrl-C to stop.
MSG
wait
