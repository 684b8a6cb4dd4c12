# What the benchmark scripts share; source it after `set -euo pipefail`. It
# moves to the repository root, makes a scratch directory ($bench_tmp) and, on
# exit, stops every process started through it (last started first), removes
# the scratch directory, and stops the private Postgres when asked to.
#
# Before sourcing: bench_tool (the benchmark executable with the wait-healthy
# and free-port subcommands) and optionally bench_scratch (the release build's
# scratch path; default .build-bench, a build of its own that does not block
# debug builds in .build).

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bench_scratch="${bench_scratch:-.build-bench}"
bench_name="$(basename "$0" .sh)"  # prefix of messages
bench_tmp="$(mktemp -d)"
bench_pids=()         # started processes, in start order
bench_ports=()        # ports handed out by bench_free_port
bench_health_interval=100  # milliseconds between health checks
bench_health_timeout=60    # seconds a service may take to answer SERVING
bench_stop_postgres=false  # set by bench_postgres ... stop-on-exit

# pid: SIGTERM, then wait up to 15 s, then SIGKILL; forgets the pid.
bench_stop() {
    local pid="$1" kept=() other
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    for other in "${bench_pids[@]}"; do [[ "$other" == "$pid" ]] || kept+=("$other"); done
    bench_pids=(${kept[@]+"${kept[@]}"})
}

# Every started process still running, last started first.
bench_stop_all() {
    local i
    for ((i = ${#bench_pids[@]} - 1; i >= 0; i--)); do bench_stop "${bench_pids[i]}"; done
}

bench_cleanup() {
    bench_stop_all
    rm -rf "$bench_tmp"
    if [[ "$bench_stop_postgres" == true ]]; then scripts/postgres.sh stop >/dev/null || true; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# products...: release build of each (quiet unless it fails); sets bench_bin.
bench_build() {
    local product
    for product in "$@"; do
        if ! swift build -c release --scratch-path "$bench_scratch" --product "$product" >"$bench_tmp/build.log" 2>&1; then
            tail -n 40 "$bench_tmp/build.log" >&2
            echo "$bench_name: building $product failed" >&2
            exit 1
        fi
    done
    bench_bin="$(swift build -c release --scratch-path "$bench_scratch" --show-bin-path)"
    # A build leaves hundreds of MB of objects for the kernel to write back;
    # flush them now so that writing does not share the measured seconds.
    sync
}

# database [stop-on-exit] [recreate]: starts the private Postgres (creating the
# database and applying db/bootstrap.sql when needed) and exports its PG_*
# variables. With stop-on-exit, a Postgres this run started is stopped again on
# exit; with recreate, the database is dropped first, so the run starts empty.
bench_postgres() {
    export PG_DATABASE="$1"
    shift
    if [[ " $* " == *" stop-on-exit "* ]] && ! scripts/postgres.sh status >/dev/null 2>&1; then
        bench_stop_postgres=true
    fi
    scripts/postgres.sh start >/dev/null
    eval "$(scripts/postgres.sh env)"
    pg_bin="${PG_BIN:-$(pg_config --bindir)}"
    if [[ " $* " == *" recreate "* ]]; then
        psql_admin -d postgres -v db="$PG_DATABASE" <<'SQL'
SELECT format('DROP DATABASE %I WITH (FORCE)', :'db') \gexec
SQL
        scripts/postgres.sh start >/dev/null
    fi
}

# psql as the superuser, in the benchmark's database.
psql_admin() {
    PGPASSWORD="$PG_ADMIN_PASSWORD" "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ADMIN_USER" -d "$PG_DATABASE" "$@"
}

# A throwaway token secret and credential key: nothing a run encrypts outlives it.
bench_secrets() {
    PHONE_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    PHONE_CREDENTIAL_KEYS="bench:$(head -c 32 /dev/urandom | base64)"
    export PHONE_JWT_SECRET PHONE_CREDENTIAL_KEYS PHONE_RPC_HOST=127.0.0.1 PHONE_LOG_LEVEL=warning
}

# variable: sets it to a free loopback port no earlier call of this run handed out.
bench_free_port() {
    local bench_candidate  # a name no caller passes (a local of the caller's name would hide its variable)
    while true; do
        bench_candidate="$("$bench_bin/$bench_tool" free-port)"
        [[ " ${bench_ports[*]-} " == *" $bench_candidate "* ]] || break
    done
    bench_ports+=("$bench_candidate")
    printf -v "$1" '%s' "$bench_candidate"
}

# log-name command [args...]: starts it in the background, output to
# $bench_tmp/<log-name>.log; sets bench_last_pid.
bench_spawn() {
    local name="$1"
    shift
    "$@" >"$bench_tmp/$name.log" 2>&1 &
    bench_last_pid=$!
    bench_pids+=("$bench_last_pid")
}

# name port [VAR=value ...]: starts service `name` (release build) as its own
# Postgres role on 127.0.0.1:port and waits until it answers SERVING; sets
# bench_last_pid. On failure prints its log and exits.
bench_start_service() {
    local name="$1" port="$2" password_var
    shift 2
    password_var="PG_PASSWORD_${name^^}"
    bench_spawn "$name" env PHONE_RPC_PORT="$port" PHONE_METRICS_PORT=0 PG_USER="$name" PG_PASSWORD="${!password_var:-$name}" "$@" "$bench_bin/$name"
    if ! timeout $((bench_health_timeout + 30)) "$bench_bin/$bench_tool" wait-healthy --port "$port" \
        --timeout "$bench_health_timeout" --interval "$bench_health_interval"; then
        echo "$bench_name: $name did not become healthy; its log:" >&2
        tail -n 40 "$bench_tmp/$name.log" >&2
        exit 1
    fi
}
