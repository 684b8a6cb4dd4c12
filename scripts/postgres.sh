#!/usr/bin/env bash
# A private Postgres for development and tests, listening on loopback only.
#
#   scripts/postgres.sh start    initialise if needed, start, create the database, apply db/bootstrap.sql
#   scripts/postgres.sh stop     fast shutdown
#   scripts/postgres.sh restart  fast restart (tests use it to simulate an outage)
#   scripts/postgres.sh status   exit 0 when running
#   scripts/postgres.sh env      print `export` lines for the PG_* variables
#
# Overrides: PG_DATA_DIR (default <repo>/.pgdata), PG_PORT (55432), PG_DATABASE
# (phonenumbers), PG_PASSWORD_INVENTORY / PG_PASSWORD_ASSIGNMENT / PG_PASSWORD_LOOKUP
# (development default: the role name), PG_BIN (default: `pg_config --bindir`).
#
# Authentication: the superuser `postgres` is trusted on loopback and on the socket
# (this instance is for one developer machine); service roles need their password
# (scram-sha-256).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_DATA_DIR="${PG_DATA_DIR:-$repo_root/.pgdata}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-55432}"
PG_DATABASE="${PG_DATABASE:-phonenumbers}"
PG_ADMIN_USER="${PG_ADMIN_USER:-postgres}"
PG_ADMIN_PASSWORD="${PG_ADMIN_PASSWORD:-}"

find_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        echo "$PG_BIN"
    elif command -v pg_config >/dev/null 2>&1; then
        pg_config --bindir
    else
        echo "postgres.sh: pg_config not found; install postgresql or set PG_BIN" >&2
        exit 1
    fi
}
bin="$(find_bin)"

# initdb and pg_ctl refuse to run as root, so as root they run as `postgres`.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

psql_admin() {
    PGPASSWORD="$PG_ADMIN_PASSWORD" "$bin/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ADMIN_USER" "$@"
}

# The server outlives this script, so it must not inherit descriptors our caller
# left open (a pipe or socket the caller waits on would never close). Called in
# the subshell that starts the server.
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd="${fd##*/}"
        if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then
            eval "exec $fd>&-" 2>/dev/null || true
        fi
    done
}

is_running() {
    as_owner "$bin/pg_ctl" -D "$PG_DATA_DIR" status >/dev/null 2>&1
}

init_cluster() {
    [[ -f "$PG_DATA_DIR/PG_VERSION" ]] && return 0
    echo "postgres.sh: initialising $PG_DATA_DIR"
    mkdir -p "$PG_DATA_DIR"
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$PG_DATA_DIR"
    fi
    chmod 700 "$PG_DATA_DIR"
    as_owner "$bin/initdb" -D "$PG_DATA_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    # Loopback only; the trusted superuser is never reachable from another host.
    as_owner tee "$PG_DATA_DIR/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
local   all       all                      scram-sha-256
host    all       postgres  127.0.0.1/32   trust
host    all       all       127.0.0.1/32   scram-sha-256
EOF
    as_owner tee -a "$PG_DATA_DIR/postgresql.conf" >/dev/null <<EOF

# Set by scripts/postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DATA_DIR'
max_connections = 300
password_encryption = 'scram-sha-256'
logging_collector = off
EOF
}

# A postmaster.pid left by a killed server blocks start; remove it only when its
# process is gone.
clear_stale_pid() {
    local pidfile="$PG_DATA_DIR/postmaster.pid"
    [[ -f "$pidfile" ]] || return 0
    local pid
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    # A live PID may belong to an unrelated process after a reboot or in a fresh container.
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null \
        || { [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q postgres; }; then
        echo "postgres.sh: removing stale $pidfile"
        rm -f "$pidfile"
    fi
}

wait_ready() {
    for _ in $(seq 1 100); do
        if "$bin/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT"; then
            return 0
        fi
        sleep 0.1
    done
    echo "postgres.sh: server did not become ready on $PG_HOST:$PG_PORT" >&2
    exit 1
}

bootstrap() {
    # psql variables quote the name, so an odd PG_DATABASE cannot break the SQL.
    psql_admin -d postgres -v db="$PG_DATABASE" >/dev/null <<'EOF'
SELECT format('CREATE DATABASE %I', :'db')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
EOF
    psql_admin -d "$PG_DATABASE" \
        -v inventory_password="${PG_PASSWORD_INVENTORY:-inventory}" \
        -v assignment_password="${PG_PASSWORD_ASSIGNMENT:-assignment}" \
        -v lookup_password="${PG_PASSWORD_LOOKUP:-lookup}" \
        -f "$repo_root/db/bootstrap.sql" >/dev/null
}

start() {
    init_cluster
    if ! is_running; then
        clear_stale_pid
        # The port is a start option (not in postgresql.conf) so PG_PORT can change
        # between runs; pg_ctl restart reuses it.
        (
            close_inherited_fds
            as_owner "$bin/pg_ctl" -D "$PG_DATA_DIR" -w -t 60 -l "$PG_DATA_DIR/server.log" \
                -o "-p $PG_PORT" start >/dev/null
        )
    fi
    wait_ready
    bootstrap
    echo "postgres.sh: running on $PG_HOST:$PG_PORT, database $PG_DATABASE (data: $PG_DATA_DIR)"
}

stop() {
    if is_running; then
        as_owner "$bin/pg_ctl" -D "$PG_DATA_DIR" -w -m fast stop >/dev/null
        echo "postgres.sh: stopped"
    else
        echo "postgres.sh: not running"
    fi
}

restart() {
    if is_running; then
        (
            close_inherited_fds
            as_owner "$bin/pg_ctl" -D "$PG_DATA_DIR" -w -t 60 -m fast -l "$PG_DATA_DIR/server.log" restart >/dev/null
        )
        wait_ready
    else
        start
    fi
}

status() {
    if is_running; then
        echo "postgres.sh: running on $PG_HOST:$PG_PORT (data: $PG_DATA_DIR)"
    else
        echo "postgres.sh: not running (data: $PG_DATA_DIR)"
        return 3
    fi
}

print_env() {
    printf 'export PG_HOST=%q\n' "$PG_HOST"
    printf 'export PG_PORT=%q\n' "$PG_PORT"
    printf 'export PG_DATABASE=%q\n' "$PG_DATABASE"
    printf 'export PG_ADMIN_USER=%q\n' "$PG_ADMIN_USER"
    printf 'export PG_ADMIN_PASSWORD=%q\n' "$PG_ADMIN_PASSWORD"
    printf 'export PG_DATA_DIR=%q\n' "$PG_DATA_DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) restart ;;
    status) status ;;
    env) print_env ;;
    *)
        echo "usage: $0 start|stop|restart|status|env" >&2
        exit 2
        ;;
esac
