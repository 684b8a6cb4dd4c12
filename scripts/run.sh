#!/usr/bin/env bash
# Starts the whole system locally: installs missing Debian packages, starts a
# private Postgres on loopback, builds, runs inventory, assignment and lookup
# as separate processes, loads the demo data (`phonectl demo`, idempotent) and
# prints three phonectl commands to try. Ctrl-C stops everything.
#
#   scripts/run.sh            BUILD_CONFIGURATION=release for an optimised build
#
# Overrides (scripts/smoke-run.sh uses them to stay out of a developer's way):
# RUN_DIR (default <repo>/.run), INVENTORY_PORT / ASSIGNMENT_PORT / LOOKUP_PORT
# (7101 / 7102 / 7103), and PG_PORT / PG_DATA_DIR as scripts/postgres.sh reads them.
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

run_dir="${RUN_DIR:-$repo_root/.run}"
mkdir -p "$run_dir"
inventory_port="${INVENTORY_PORT:-7101}" assignment_port="${ASSIGNMENT_PORT:-7102}" lookup_port="${LOOKUP_PORT:-7103}"
# A development secret, created once; production sets PHONE_JWT_SECRET itself.
[[ -f "$run_dir/jwt-secret" ]] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run_dir/jwt-secret"
export PHONE_JWT_SECRET="${PHONE_JWT_SECRET:-$(cat "$run_dir/jwt-secret")}"
# Likewise the AES key ring for provider credentials ("id:base64-32-byte-key").
[[ -f "$run_dir/credential-keys" ]] || echo "dev1:$(head -c 32 /dev/urandom | base64)" > "$run_dir/credential-keys"
export PHONE_CREDENTIAL_KEYS="${PHONE_CREDENTIAL_KEYS:-$(cat "$run_dir/credential-keys")}"
export PHONE_INVENTORY_ADDR="127.0.0.1:$inventory_port" PHONE_ASSIGNMENT_ADDR="127.0.0.1:$assignment_port" \
    PHONE_LOOKUP_ADDR="127.0.0.1:$lookup_port"

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
    shift 2
    env PHONE_RPC_PORT="$port" PG_USER="$name" PG_PASSWORD="$name" "$@" \
        "$bin/$name" >>"$run_dir/$name.log" 2>&1 &
    pids+=("$!")
    echo "$!" > "$run_dir/$name.pid"
}

start_service inventory "$inventory_port"
start_service assignment "$assignment_port"
start_service lookup "$lookup_port"

for _ in $(seq 1 100); do
    if "$bin/phonectl" health >/dev/null 2>&1; then break; fi
    sleep 0.2
done
"$bin/phonectl" health || { echo "run: services did not become healthy; logs in $run_dir" >&2; exit 1; }

echo "run: loading demo data"
demo="$("$bin/phonectl" demo)"
echo "$demo" | grep -v '^try: '

# What another shell needs for phonectl: the binary, the endpoints, the secret
# (phonectl mints a platform-admin token from it).
{
    printf 'export PATH=%q:"$PATH"\n' "$bin"
    printf 'export PHONE_INVENTORY_ADDR=%q PHONE_ASSIGNMENT_ADDR=%q PHONE_LOOKUP_ADDR=%q\n' \
        "$PHONE_INVENTORY_ADDR" "$PHONE_ASSIGNMENT_ADDR" "$PHONE_LOOKUP_ADDR"
    printf 'export PHONE_JWT_SECRET=%q\n' "$PHONE_JWT_SECRET"
} > "$run_dir/env"

cat <<MSG

The phone-number services are running (logs in $run_dir/*.log; metrics and health over HTTP):
  inventory   $PHONE_INVENTORY_ADDR   http://127.0.0.1:$((inventory_port + 1000))/metrics  /health
  assignment  $PHONE_ASSIGNMENT_ADDR   http://127.0.0.1:$((assignment_port + 1000))/metrics  /health
  lookup      $PHONE_LOOKUP_ADDR   http://127.0.0.1:$((lookup_port + 1000))/metrics  /health

Try, in another shell:
  source $run_dir/env
$(echo "$demo" | sed -n 's/^try: /  /p')

Press Ctrl-C to stop.
MSG
wait
